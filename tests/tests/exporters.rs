//! Keying-material exporters (RFC 8446 §7.5, RFC 5705): the client's bytes equal what
//! `openssl s_server -keymatexport` prints, and what a rustls server exports for the same
//! label and context, on TLS 1.3 and TLS 1.2; misuse is a local error, never a panic.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use rustls::version::{TLS12, TLS13};
use tlsferry::{Config, TlsStream, Version};
use tlsferry_tests::pair::{client_config, server_config, Pair};
use tlsferry_tests::pki::{KeyKind, TestPki};
use tlsferry_tests::servers::OpenSslServer;

#[test]
fn equals_openssl_s_server_keymatexport() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for (version, len) in [
        (Version::Tls13, 32),
        (Version::Tls12, 48),
        (Version::Tls13, 1),
    ] {
        let server = OpenSslServer::builder(&pki.server)
            .args([
                "-keymatexport",
                "EXPORTER-tlsferry-test",
                "-keymatexportlen",
            ])
            .args([len.to_string()])
            .start();
        let cfg = Config::builder()
            .root_certificates_pem(pki.root.pem.as_bytes())
            .versions(&[version])
            .build()
            .unwrap();
        let tcp = TcpStream::connect(server.addr()).unwrap();
        let mut tls = TlsStream::new(tcp, "localhost", &cfg)
            .unwrap()
            .use_read_timeouts();
        tls.handshake().unwrap();
        let mut out = vec![0u8; len];
        tls.export_keying_material(&mut out, b"EXPORTER-tlsferry-test", None)
            .unwrap();
        let hex = tlsferry_core::cert::hex(&out).to_uppercase();
        assert!(
            server.wait_for_output(
                &format!("Keying material: {hex}\n"),
                Duration::from_secs(10)
            ),
            "{version:?}: ours {hex}; the server printed:\n{}",
            server.output()
        );
        tls.write_all(b"bye\n").unwrap();
        let _ = tls.shutdown();
        let mut rest = Vec::new();
        let _ = tls.read_to_end(&mut rest);
    }
}

fn pair(version: Version) -> Pair {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    static V12: [&rustls::SupportedProtocolVersion; 1] = [&TLS12];
    static V13: [&rustls::SupportedProtocolVersion; 1] = [&TLS13];
    let v: &'static [&'static rustls::SupportedProtocolVersion] = match version {
        Version::Tls12 => &V12,
        _ => &V13,
    };
    let cfg = client_config(&pki).build().unwrap();
    let mut pair = Pair::new(&cfg, server_config(&pki.server, v, &[], None), "localhost").unwrap();
    pair.handshake().unwrap();
    pair
}

#[test]
fn equals_a_rustls_server_with_and_without_context() {
    for version in [Version::Tls13, Version::Tls12] {
        let p = pair(version);
        for (label, context, len) in [
            (&b"EXPERIMENTAL-a"[..], None, 32usize),
            (b"EXPERIMENTAL-a", Some(&b""[..]), 32),
            (b"EXPERIMENTAL-a", Some(&b"context bytes"[..]), 64),
            (b"EXPORTER-Channel-Binding", None, 32),
            (b"x", Some(&[7u8; 200][..]), 17),
        ] {
            let mut ours = vec![0u8; len];
            p.client
                .export_keying_material(&mut ours, label, context)
                .unwrap();
            let theirs = p
                .server
                .export_keying_material(vec![0u8; len], label, context)
                .unwrap();
            assert_eq!(ours, theirs, "{version:?} {label:?} {context:?}");
        }
        // An empty context differs from no context on TLS 1.2 (RFC 5705), not on 1.3.
        let mut none = [0u8; 16];
        let mut empty = [0u8; 16];
        p.client
            .export_keying_material(&mut none, b"l", None)
            .unwrap();
        p.client
            .export_keying_material(&mut empty, b"l", Some(b""))
            .unwrap();
        assert_eq!(none == empty, version == Version::Tls13, "{version:?}");
    }
}

#[test]
fn misuse_is_a_local_error() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = client_config(&pki).build().unwrap();
    let p = Pair::new(
        &cfg,
        server_config(&pki.server, &[&TLS13], &[], None),
        "localhost",
    )
    .unwrap();
    let mut out = [0u8; 8];
    let err = p
        .client
        .export_keying_material(&mut out, b"EXPERIMENTAL", None)
        .unwrap_err();
    assert!(err.is_local(), "{err}");
    assert!(
        err.to_string().contains("handshake has not completed"),
        "{err}"
    );

    let p = pair(Version::Tls13);
    for (out_len, label) in [
        (0, &b"EXPERIMENTAL"[..]),
        (8, b"master secret"),
        (8, b"client finished"),
    ] {
        let mut out = vec![0u8; out_len];
        let err = p
            .client
            .export_keying_material(&mut out, label, None)
            .unwrap_err();
        assert_eq!(err.code(), "LOCAL", "{err}");
    }
    // Too long for HKDF (255 hash blocks): refused, not a panic.
    let mut huge = vec![0u8; 255 * 32 + 1];
    assert!(p
        .client
        .export_keying_material(&mut huge, b"x", None)
        .is_err());
}
