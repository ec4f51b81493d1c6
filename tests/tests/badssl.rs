//! The certificate-verification matrix, in the spirit of badssl.com: `openssl s_server`
//! on 127.0.0.1 presents certificates from a PKI generated at test time (rcgen, plus the
//! openssl CLI for what rcgen cannot make: SHA-1 signatures, RSA-1024 keys), and the
//! native stack (`tlsferry::connect`, TLS 1.3 and 1.2) and the `tlsferry` CLI give their
//! verdicts: the error code and the message a person reads, exit code 4 and the forensic
//! report, or a verified connection.

use std::process::Command;

use time::Duration;
use tlsferry_core::{CertificateDer, ConnectionInfo, Error, Version};
use tlsferry_tests::pki::{KeyKind, Leaf, LeafSpec, TempDir, TestPki};
use tlsferry_tests::servers::{run_cli, CliOutput, OpenSslServer};
use tlsferry_tests::tlsferry_cli;

/// Connects to `openssl s_server` on 127.0.0.1 presenting `chain` (leaf first) with
/// `key_pem`, trusting only `trust_pem`, asking for `name` (the socket always goes to
/// 127.0.0.1: the name is only verified). Runs TLS 1.3 and TLS 1.2, whose verdicts must
/// agree, and returns the TLS 1.3 one.
fn verdict(
    chain: &[CertificateDer<'static>],
    key_pem: &str,
    trust_pem: &str,
    name: &str,
) -> Verdict {
    let cfg = tlsferry::Config::builder()
        .crypto_provider(std::sync::Arc::new(tlsferry::provider()))
        .root_certificates_pem(trust_pem.as_bytes())
        .build()
        .expect("client config");
    let mut verdicts = Vec::new();
    let mut cli = None;
    for tls13 in [true, false] {
        // Security level 0: let openssl serve the SHA-1 and RSA-1024 certificates
        // the client must refuse.
        let builder =
            OpenSslServer::builder_with_chain(chain.iter().map(|c| c.to_vec()).collect(), key_pem)
                .args(["-cipher", "DEFAULT:@SECLEVEL=0"]);
        let server = if tls13 {
            builder.tls13()
        } else {
            builder.tls12()
        }
        .start();
        // The native stack: tlsferry::connect (TCP + TlsStream over the core).
        let conn = tlsferry::connect(server.addr(), name, &cfg);
        verdicts.push(match &conn {
            Ok(stream) => Ok(stream.info().expect("connected").clone()),
            Err(e) => Err(e
                .tls()
                .unwrap_or_else(|| {
                    panic!("not a TLS error: {e}; server said:\n{}", server.output())
                })
                .clone()),
        });
        // s_server serves one client at a time: hang up before the next one.
        drop(conn);
        if tls13 {
            // The same server again, through the CLI (s_server takes one client after
            // another). Empty stdin: after the handshake the CLI sends close_notify.
            let dir = TempDir::new("tlsferry-badssl-cli");
            let cafile = dir.write("trust.pem", trust_pem);
            let target = server.addr();
            cli = Some(run_cli(
                tlsferry_cli!(),
                &[
                    "connect",
                    &target,
                    "--cafile",
                    cafile.to_str().expect("utf-8 path"),
                    "--servername",
                    name,
                    "--timeout",
                    "5",
                    "--json",
                ],
                b"",
                &[],
            ));
        }
    }
    let tls12 = verdicts.pop().expect("two verdicts");
    let tls13 = verdicts.pop().expect("two verdicts");
    assert_eq!(
        tls13.as_ref().map_err(Error::code).err(),
        tls12.as_ref().map_err(Error::code).err(),
        "TLS 1.3 and 1.2 verdicts differ"
    );
    if let Ok(info) = &tls12 {
        assert_eq!(info.version, Version::Tls12);
    }
    Verdict {
        core: tls13,
        cli: cli.expect("the CLI ran"),
    }
}

/// The core's verdict (TLS 1.3) and the CLI's run against the same server.
struct Verdict {
    core: Result<ConnectionInfo, Error>,
    cli: CliOutput,
}

/// Asserts a refusal with `code` whose message contains `words`, by the core and by the
/// CLI (exit code 4, the cause and the forensic report on stderr, the evidence in
/// `--json`); returns the core's error.
fn refused(v: Verdict, code: &str, words: &str) -> Error {
    let err = match v.core {
        Ok(info) => panic!(
            "accepted ({} {}), expected {code}",
            info.version, info.cipher_suite
        ),
        Err(e) => e,
    };
    assert_eq!(err.code(), code, "{err}");
    assert!(
        err.to_string().contains(words),
        "message {:?} lacks {words:?}",
        err.to_string()
    );
    let cert = err.certificate().expect("a certificate error");
    assert!(!cert.chain.is_empty(), "the chain as sent is kept");
    assert!(cert.report().contains("chain as sent"), "{}", cert.report());

    let cli = &v.cli;
    assert_eq!(cli.code, Some(4), "CLI exit code; stderr:\n{}", cli.stderr);
    for needle in [
        words,
        "server name asked for:",
        "names in certificate:",
        "clock used:",
        "chain as sent (",
        "sha256",
        "trust store used:",
    ] {
        assert!(
            cli.stderr.contains(needle),
            "CLI stderr lacks {needle:?}:\n{}",
            cli.stderr
        );
    }
    let json = cli.stdout_text();
    assert!(
        json.contains(&format!("\"{code}\"")),
        "--json lacks the code {code}:\n{json}"
    );
    err
}

fn accepted(v: Verdict) -> ConnectionInfo {
    let info = match v.core {
        Ok(info) => {
            assert!(info.verified);
            info
        }
        Err(e) => panic!(
            "refused: {e}\n{}",
            e.certificate().map(|c| c.report()).unwrap_or_default()
        ),
    };
    assert_eq!(
        v.cli.code,
        Some(0),
        "CLI exit code; stderr:\n{}",
        v.cli.stderr
    );
    info
}

fn serve(pki: &TestPki, spec: &LeafSpec, name: &str) -> Verdict {
    let leaf = pki.intermediate.issue(spec);
    verdict(&leaf.chain_der, &leaf.key_pem, &pki.root.pem, name)
}

fn localhost() -> LeafSpec {
    LeafSpec::server(&["localhost"])
}

// ----- must fail -----

#[test]
fn expired() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let spec = localhost().validity(Duration::days(-30), Duration::days(-1));
    let err = refused(
        serve(&pki, &spec, "localhost"),
        "CERT_EXPIRED",
        "certificate has expired (notAfter",
    );
    assert!(err.certificate().unwrap().report().contains("clock used:"));
}

#[test]
fn not_yet_valid() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let spec = localhost().validity(Duration::days(1), Duration::days(30));
    refused(
        serve(&pki, &spec, "localhost"),
        "CERT_NOT_YET_VALID",
        "certificate is not yet valid (notBefore",
    );
}

#[test]
fn wrong_host_name() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let spec = LeafSpec::server(&["right.example.test"]);
    refused(
        serve(&pki, &spec, "wrong.example.test"),
        "CERT_HOSTNAME_MISMATCH",
        "certificate is for right.example.test, not wrong.example.test",
    );
}

#[test]
fn ip_address_not_in_the_certificate() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let spec = LeafSpec::server(&["localhost", "127.0.0.1"]);
    refused(
        serve(&pki, &spec, "127.0.0.2"),
        "CERT_HOSTNAME_MISMATCH",
        "certificate is for localhost, 127.0.0.1, not 127.0.0.2",
    );
}

#[test]
fn self_signed_leaf() {
    let leaf = Leaf::self_signed(&localhost());
    // Trust some other root: the self-signed leaf is not in the trust store.
    let pki = TestPki::new(KeyKind::EcdsaP256);
    refused(
        verdict(&leaf.chain_der, &leaf.key_pem, &pki.root.pem, "localhost"),
        "CERT_SELF_SIGNED",
        "self-signed certificate (CN=localhost,O=tlsferry test PKI): no trusted CA issued it",
    );
}

#[test]
fn root_not_trusted() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let other = TestPki::new(KeyKind::EcdsaP256);
    refused(
        verdict(
            &pki.server.chain_der,
            &pki.server.key_pem,
            &other.root.pem,
            "localhost",
        ),
        "CERT_UNKNOWN_ISSUER",
        "the chain ends at CN=tlsferry test root ",
    );
}

#[test]
fn missing_intermediate() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    refused(
        verdict(
            &pki.server.chain_der[..1],
            &pki.server.key_pem,
            &pki.root.pem,
            "localhost",
        ),
        "CERT_UNKNOWN_ISSUER",
        "its issuer (CN=tlsferry test intermediate,O=tlsferry test PKI) is not a trusted root and the server sent no intermediate certificate (is the server missing an intermediate",
    );
}

#[test]
fn intermediate_without_the_ca_bit() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let not_ca = pki
        .root
        .non_ca_intermediate("tlsferry not-a-CA intermediate");
    let leaf = not_ca.issue(&localhost());
    refused(
        verdict(&leaf.chain_der, &leaf.key_pem, &pki.root.pem, "localhost"),
        "CERT_INVALID",
        "an intermediate certificate is not a CA (basicConstraints CA bit missing)",
    );
}

#[test]
fn leaf_only_for_client_authentication() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let spec = LeafSpec::client("localhost");
    refused(
        serve(&pki, &spec, "localhost"),
        "CERT_INVALID_PURPOSE",
        "not valid for TLS server authentication",
    );
}

#[test]
fn name_constraints_violated() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let constrained = pki
        .root
        .constrained_intermediate("tlsferry constrained intermediate", "allowed.test");
    let leaf = constrained.issue(&LeafSpec::server(&["localhost"]));
    refused(
        verdict(&leaf.chain_der, &leaf.key_pem, &pki.root.pem, "localhost"),
        "CERT_INVALID",
        "name constraints",
    );
    // The same intermediate may issue inside its subtree.
    let ok = constrained.issue(&LeafSpec::server(&["www.allowed.test"]));
    accepted(verdict(
        &ok.chain_der,
        &ok.key_pem,
        &pki.root.pem,
        "www.allowed.test",
    ));
}

#[test]
fn rsa_1024_key() {
    // rcgen (ring) refuses to sign with a 1024-bit key: openssl makes this leaf.
    let (root, chain, key) = openssl_pki("rsa:1024", "-sha256");
    refused(
        verdict(&chain, &key, &root, "localhost"),
        "CERT_WEAK_KEY",
        "the chain contains a 1024-bit RSA key; at least 2048 bits are required",
    );
}

/// badssl.com's rsa8192 must succeed: the default provider verifies RSA moduli up to 8192
/// bits (`rsa` 0.10; rustls-rustcrypto's verifier, which the provider first used, stopped
/// at 4096).
#[test]
fn rsa_8192_key() {
    let (root, chain, key) = openssl_pki("rsa:8192", "-sha256");
    accepted(verdict(&chain, &key, &root, "localhost"));
}

#[test]
fn sha1_signature() {
    let (root, chain, key) = openssl_pki("rsa:2048", "-sha1");
    refused(
        verdict(&chain, &key, &root, "localhost"),
        "CERT_UNSUPPORTED_ALGORITHM",
        "sha1WithRSAEncryption: SHA-1 signatures are not accepted",
    );
    // The same PKI with SHA-256 is accepted: SHA-1 is what is refused.
    let (root, chain, key) = openssl_pki("rsa:2048", "-sha256");
    accepted(verdict(&chain, &key, &root, "localhost"));
}

/// Runs openssl in `dir`; panics with its stderr on failure.
fn openssl(dir: &TempDir, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir.path())
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// With the openssl CLI, for what rcgen cannot make: a root (RSA 2048, SHA-256) and a
/// `localhost` leaf with key `leaf_key` (e.g. `rsa:1024`) signed with `digest` (e.g.
/// `-sha1`). Returns the root PEM, the leaf chain and the leaf key PEM.
fn openssl_pki(leaf_key: &str, digest: &str) -> (String, Vec<CertificateDer<'static>>, String) {
    let dir = TempDir::new("tlsferry-openssl-pki");
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-days",
            "30",
            "-subj",
            "/CN=tlsferry openssl test root",
            "-sha256",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    openssl(
        &dir,
        &[
            "req",
            "-newkey",
            leaf_key,
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    dir.write(
        "ext.cnf",
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n",
    );
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "30",
            digest,
            "-extfile",
            "ext.cnf",
        ],
    );
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).expect("openssl output");
    let leaf = tlsferry_core::parse_certificates(
        read("leaf.pem").as_bytes(),
        tlsferry_core::PemInput::Certificates,
    )
    .expect("leaf PEM");
    (read("root.pem"), leaf, read("leaf.key"))
}

// ----- must succeed -----

#[test]
fn key_types_rsa_2048_4096_ecdsa_p256_p384_ed25519() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for key in [
        KeyKind::Rsa2048,
        KeyKind::Rsa4096,
        KeyKind::EcdsaP256,
        KeyKind::EcdsaP384,
        KeyKind::Ed25519,
    ] {
        let info = accepted(serve(&pki, &localhost().key(key), "localhost"));
        assert_eq!(info.peer_certificates.len(), 2, "{key:?}");
    }
}

#[test]
fn wildcard_name() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let spec = LeafSpec::server(&["*.example.test"]);
    accepted(serve(&pki, &spec, "www.example.test"));
    // A wildcard covers one label only.
    refused(
        serve(&pki, &spec, "a.b.example.test"),
        "CERT_HOSTNAME_MISMATCH",
        "not a.b.example.test",
    );
}

#[test]
fn ip_address_san() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let spec = LeafSpec::server(&["127.0.0.1", "::1"]);
    assert_eq!(
        accepted(serve(&pki, &spec, "127.0.0.1")).server_name,
        "127.0.0.1"
    );
    accepted(serve(&pki, &spec, "::1"));
}

#[test]
fn intermediates_sent_in_reverse_order() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let lower = pki
        .intermediate
        .intermediate("tlsferry lower intermediate", KeyKind::EcdsaP256);
    let leaf = lower.issue(&localhost());
    assert_eq!(leaf.chain_der.len(), 3, "leaf, lower, upper");
    let reversed = vec![
        leaf.chain_der[0].clone(),
        leaf.chain_der[2].clone(),
        leaf.chain_der[1].clone(),
    ];
    accepted(verdict(
        &reversed,
        &leaf.key_pem,
        &pki.root.pem,
        "localhost",
    ));
}

#[test]
fn no_common_name_san_only() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let spec = LeafSpec {
        common_name: None,
        ..localhost()
    };
    let info = accepted(serve(&pki, &spec, "localhost"));
    let summary = tlsferry_core::CertSummary::from_der(&info.peer_certificates[0]);
    assert!(!summary.subject.contains("CN="), "{}", summary.subject);
}
