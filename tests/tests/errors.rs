//! Error messages as people meet them (issues 12 and 15): every error path the suites
//! reach says what happened in words — no rustls or webpki identifier — and a chain of
//! errors printed with anyhow's `{:#}` says each thing once.

use std::time::Duration;

use tlsferry::{Config, Version};
use tlsferry_core::testing::{Pair, Scenario, ServerBehaviour, TestCertificate};
use tlsferry_tests::pki::{KeyKind, TestPki};
use tlsferry_tests::servers::{refused_port, OpenSslServer};

/// An identifier in rustls' CamelCase style (`HandshakeFailure`, `BadDer`) in `text`.
fn leaked_identifier(text: &str) -> Option<&str> {
    // Protocol message names are how RFCs and Wireshark say them.
    const ALLOWED: &[&str] = &[
        "ChangeCipherSpec",
        "HelloRequest",
        "ClientHello",
        "ServerHello",
        "NewSessionTicket",
        "HelloRetryRequest",
        "KeyUpdate",
        "CertificateRequest",
        "CertificateVerify",
        "EncryptedExtensions",
        "TLSv1",
        "KiB",
        "MiB",
    ];
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !ALLOWED.contains(w))
        .find(|w| {
            w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && w.chars().skip(1).any(|c| c.is_ascii_lowercase())
                && w.chars().skip(1).any(|c| c.is_ascii_uppercase())
        })
}

#[track_caller]
fn in_words(err: &dyn std::error::Error) {
    let mut e: Option<&dyn std::error::Error> = Some(err);
    while let Some(cur) = e {
        let text = cur.to_string();
        assert!(!text.is_empty());
        assert_eq!(leaked_identifier(&text), None, "{text}");
        e = cur.source();
    }
}

/// Splits anyhow's `{:#}` output into its `: `-separated sentences; none may repeat.
#[track_caller]
fn said_once(text: &str) {
    let parts: Vec<&str> = text.split(": ").collect();
    for (i, p) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..].contains(p),
            "{p:?} is said twice in {text:?}"
        );
    }
}

#[test]
fn every_pair_scenario_fails_in_words() {
    let mut scenarios: Vec<Scenario> = TestCertificate::ALL
        .into_iter()
        .filter(|c| c.expected_code().is_some())
        .map(|c| Scenario::new().certificate(c))
        .collect();
    scenarios.push(Scenario::new().behaviour(ServerBehaviour::FatalAlert(40)));
    scenarios.push(Scenario::new().behaviour(ServerBehaviour::FatalAlert(70)));
    scenarios.push(Scenario::new().behaviour(ServerBehaviour::FatalAlert(254)));
    scenarios.push(Scenario::new().behaviour(ServerBehaviour::CloseWithoutNotify(b"x".to_vec())));
    scenarios.push(Scenario::new().require_client_certificate(false));
    scenarios.push(
        Scenario::new()
            .server_versions(&[Version::Tls12])
            .client_config(|b| b.versions(&[Version::Tls13])),
    );
    scenarios.push(
        Scenario::new()
            .server_alpn(["h2"])
            .client_config(|b| b.alpn(["http/1.1"])),
    );
    let mut seen = Vec::new();
    for s in scenarios {
        let mut p = Pair::new(s.clone()).unwrap();
        p.client.send(b"x").unwrap();
        let err = p.drive().expect_err(&format!("{s:?}"));
        in_words(&err);
        let report = err.certificate().map(|c| c.report()).unwrap_or_default();
        assert_eq!(leaked_identifier(&report), None, "{report}");
        said_once(&format!("{:#}", anyhow::Error::new(err.clone())));
        seen.push(err.code());
    }
    for code in ["CERT_EXPIRED", "CERT_SELF_SIGNED", "ALERT", "TRUNCATED"] {
        assert!(seen.contains(&code), "{code} not reached: {seen:?}");
    }
    // A stalled server: the timeout names the phase.
    let mut p = Pair::new(
        Scenario::new()
            .behaviour(ServerBehaviour::Stall)
            .client_config(|b| b.handshake_timeout(Some(Duration::from_secs(1)))),
    )
    .unwrap();
    p.drive().unwrap();
    let err = p.advance_to_next_deadline().unwrap_err();
    in_words(&err);
}

#[test]
fn configuration_mistakes_name_the_input() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cases: Vec<(tlsferry::ConfigError, &str)> = vec![
        (
            Config::builder()
                .root_certificates_pem(b"junk")
                .build()
                .unwrap_err(),
            "CA certificates: no \"BEGIN CERTIFICATE\" block found",
        ),
        (
            Config::builder()
                .client_auth_pem(
                    pki.client.chain_pem.as_bytes(),
                    pki.server.key_pem.as_bytes(),
                )
                .build()
                .unwrap_err(),
            "client certificate/key: the private key does not match the certificate",
        ),
        (
            Config::builder()
                .cipher_suites(["TLS_NOPE"])
                .build()
                .unwrap_err(),
            "unknown cipher suite \"TLS_NOPE\"",
        ),
    ];
    for (err, text) in cases {
        assert_eq!(err.to_string(), text);
        in_words(&err);
        // `?` into tlsferry::Error works and keeps the words.
        let e: tlsferry::Error = err.into();
        assert_eq!(e.to_string(), text);
        assert_eq!(e.code(), "CONFIG");
    }
}

#[test]
fn network_errors_are_said_once_through_anyhow() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = Config::builder()
        .root_certificates_pem(pki.root.pem.as_bytes())
        .build()
        .unwrap();
    let port = refused_port();
    let err = tlsferry::connect(("127.0.0.1", port), "localhost", &cfg).unwrap_err();
    assert_eq!(err.code(), "CONNECT_REFUSED");
    let text = format!(
        "{:#}",
        anyhow::Error::new(err).context("fetching the report")
    );
    said_once(&text);
    assert!(
        text.starts_with(&format!(
            "fetching the report: cannot connect to 127.0.0.1:{port}: "
        )),
        "{text}"
    );

    let err = tlsferry::connect("no-such-host.invalid:443", "x", &cfg).unwrap_err();
    assert_eq!(err.code(), "RESOLVE");
    said_once(&format!("{:#}", anyhow::Error::new(err)));

    // A certificate failure through the whole stack.
    let server = OpenSslServer::builder(&pki.server).tls13().start();
    let err = tlsferry::connect(server.addr().as_str(), "wrong.example", &cfg).unwrap_err();
    in_words(&err);
    let text = format!("{:#}", anyhow::Error::new(err));
    said_once(&text);
    assert_eq!(
        text,
        "certificate verify failed: certificate is for localhost, 127.0.0.1, ::1, not wrong.example"
    );

    // A version the server does not speak: the alert says what we offered.
    let server12 = OpenSslServer::builder(&pki.server).tls12().start();
    let only13 = Config::builder()
        .root_certificates_pem(pki.root.pem.as_bytes())
        .versions(&[Version::Tls13])
        .build()
        .unwrap();
    let err = tlsferry::connect(server12.addr().as_str(), "localhost", &only13).unwrap_err();
    in_words(&err);
    let text = err.to_string();
    assert!(
        text.contains("protocol_version") && text.contains("we offered TLSv1.3;"),
        "{text}"
    );
}
