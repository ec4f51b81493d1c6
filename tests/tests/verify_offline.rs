//! `Config::verify_server_chain`: a chain verified offline gets the verdict and the
//! evidence a handshake would give (issue 15), with the clock of the caller's choosing.

use time::Duration as Days;
use tlsferry::{CertificateFailure, Config};
use tlsferry_tests::pki::{KeyKind, LeafSpec, TestPki};

fn config(pki: &TestPki) -> Config {
    Config::builder()
        .root_certificates_pem(pki.root.pem.as_bytes())
        .build()
        .unwrap()
}

#[test]
fn a_good_chain_verifies_and_a_wrong_name_does_not() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = config(&pki);
    cfg.verify_server_chain(&pki.server.chain_der, "localhost", None)
        .unwrap();
    cfg.verify_server_chain(&pki.server.chain_der, "127.0.0.1", None)
        .unwrap();
    let err = cfg
        .verify_server_chain(&pki.server.chain_der, "example.com", None)
        .unwrap_err();
    assert_eq!(err.code(), "CERT_HOSTNAME_MISMATCH");
    assert!(
        err.to_string().contains("certificate is for localhost"),
        "{err}"
    );
    let cert = err.certificate().unwrap();
    assert_eq!(
        cert.chain, pki.server.chain_der,
        "the chain as given is kept"
    );
    assert!(cert.report().contains("chain as sent (2 certificates)"));
}

#[test]
fn the_time_is_the_callers() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = config(&pki);
    let leaf = tlsferry::CertSummary::from_der(&pki.server.der);
    let (nb, na) = (leaf.not_before.unwrap(), leaf.not_after.unwrap());
    cfg.verify_server_chain(&pki.server.chain_der, "localhost", Some(nb + 60))
        .unwrap();
    let err = cfg
        .verify_server_chain(&pki.server.chain_der, "localhost", Some(na + 1))
        .unwrap_err();
    assert_eq!(
        err.certificate().unwrap().reason,
        CertificateFailure::Expired {
            not_after: Some(na),
            now: Some(na + 1)
        }
    );
    let err = cfg
        .verify_server_chain(&pki.server.chain_der, "localhost", Some(nb - 1))
        .unwrap_err();
    assert_eq!(err.code(), "CERT_NOT_YET_VALID");
}

#[test]
fn untrusted_incomplete_and_empty_chains() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let other = TestPki::new(KeyKind::EcdsaP256);
    // Another CA's chain, and the default Mozilla roots: unknown issuer.
    let err = config(&other)
        .verify_server_chain(&pki.server.chain_der, "localhost", None)
        .unwrap_err();
    assert_eq!(err.code(), "CERT_UNKNOWN_ISSUER");
    let err = Config::builder()
        .build()
        .unwrap()
        .verify_server_chain(&pki.server.chain_der, "localhost", None)
        .unwrap_err();
    assert_eq!(err.code(), "CERT_UNKNOWN_ISSUER");
    // The leaf alone: the message says an intermediate may be missing.
    let err = config(&pki)
        .verify_server_chain(&pki.server.chain_der[..1], "localhost", None)
        .unwrap_err();
    assert!(err.to_string().contains("sent no intermediate"), "{err}");
    // Nothing at all.
    let err = config(&pki)
        .verify_server_chain(&[], "localhost", None)
        .unwrap_err();
    assert_eq!(err.code(), "CERT_MISSING");
    // A bad name is the caller's mistake.
    let err = config(&pki)
        .verify_server_chain(&pki.server.chain_der, "not a name!", None)
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_SERVER_NAME");
}

#[test]
fn an_expired_leaf_gives_its_dates() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = config(&pki);
    let past = pki
        .intermediate
        .issue(&LeafSpec::server(&["localhost"]).validity(Days::days(-30), Days::days(-2)));
    let err = cfg
        .verify_server_chain(&past.chain_der, "localhost", None)
        .unwrap_err();
    assert_eq!(err.code(), "CERT_EXPIRED");
    let text = err.to_string();
    assert!(
        text.contains("notAfter 20") && text.contains("now 20"),
        "{text}"
    );
}
