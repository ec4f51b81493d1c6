//! The core against an in-memory rustls server: versions × key types, ALPN, client auth,
//! data both ways, closure, truncation, certificate failures, fragmentation, limits and
//! API misuse. No sockets.

use std::time::Duration;

use rustls::version::{TLS12, TLS13};
use tlsferry_core::{
    CertificateFailure, Config, Error, Event, Input, Limits, LocalError, Output, PeerError,
    TimeoutPhase, Version,
};
use tlsferry_tests::pair::{client_config, server_config, Pair};
use tlsferry_tests::pki::{KeyKind, LeafSpec, TestPki};

fn versions(v: Version) -> &'static [&'static rustls::SupportedProtocolVersion] {
    static V12: [&rustls::SupportedProtocolVersion; 1] = [&TLS12];
    static V13: [&rustls::SupportedProtocolVersion; 1] = [&TLS13];
    match v {
        Version::Tls12 => &V12,
        _ => &V13,
    }
}

fn connect(pki: &TestPki, v: Version, name: &str) -> Pair {
    let cfg = client_config(pki).build().unwrap();
    let mut pair = Pair::new(
        &cfg,
        server_config(&pki.server, versions(v), &[], None),
        name,
    )
    .unwrap();
    pair.handshake().expect("handshake");
    pair
}

fn echo_roundtrip(pair: &mut Pair, size: usize) {
    let data: Vec<u8> = (0..size).map(|i| (i * 7 + 3) as u8).collect();
    // client → server, respecting back-pressure
    let mut off = 0;
    while off < data.len() {
        off += pair.client.send(&data[off..]).unwrap();
        pair.run().unwrap();
    }
    assert_eq!(pair.server_received, data, "server got client bytes");
    // server → client
    pair.server_send(&data);
    pair.run().unwrap();
    assert_eq!(pair.client_received, data, "client got server bytes");
    pair.server_received.clear();
    pair.client_received.clear();
}

#[test]
fn versions_and_key_types_handshake_and_move_data() {
    for key in [KeyKind::EcdsaP256, KeyKind::Rsa2048, KeyKind::Ed25519] {
        let pki = TestPki::new(key);
        for v in [Version::Tls13, Version::Tls12] {
            let mut pair = connect(&pki, v, "localhost");
            let info = pair.connected().expect("connected event").clone();
            assert_eq!(info.version, v, "{key:?}");
            assert!(info.verified);
            assert_eq!(info.peer_certificates.len(), 2, "leaf + intermediate");
            assert_eq!(info.peer_certificates[0], pki.server.der);
            assert!(info.key_exchange_group.is_some());
            if v == Version::Tls13 {
                assert!(
                    info.cipher_suite.starts_with("TLS_AES_")
                        || info.cipher_suite.starts_with("TLS_CHACHA20_"),
                    "{}",
                    info.cipher_suite
                );
            } else {
                assert!(
                    info.cipher_suite.starts_with("TLS_ECDHE_"),
                    "{}",
                    info.cipher_suite
                );
            }
            for size in [1, 16 * 1024] {
                echo_roundtrip(&mut pair, size);
            }
        }
    }
}

#[test]
fn one_mebibyte_both_ways_on_both_versions() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for v in [Version::Tls13, Version::Tls12] {
        let mut pair = connect(&pki, v, "localhost");
        echo_roundtrip(&mut pair, 1024 * 1024);
    }
}

#[test]
fn ip_address_server_name_is_verified() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let pair = connect(&pki, Version::Tls13, "127.0.0.1");
    assert_eq!(pair.connected().unwrap().server_name, "127.0.0.1");
}

#[test]
fn data_sent_before_handshake_is_queued_then_delivered() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for v in [Version::Tls13, Version::Tls12] {
        let cfg = client_config(&pki).build().unwrap();
        let mut pair = Pair::new(
            &cfg,
            server_config(&pki.server, versions(v), &[], None),
            "localhost",
        )
        .unwrap();
        assert_eq!(pair.client.send(b"Hello, World!").unwrap(), 13);
        assert!(pair.client.is_handshaking());
        pair.handshake().unwrap();
        pair.run().unwrap();
        assert_eq!(pair.server_received, b"Hello, World!");
        // Connected comes before any data event.
        assert!(matches!(pair.events[0], Event::Connected(_)));
    }
}

#[test]
fn alpn_agreed_and_refused() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = client_config(&pki)
        .alpn(["h2", "http/1.1"])
        .build()
        .unwrap();
    let server = server_config(&pki.server, &[&TLS13], &["http/1.1"], None);
    let mut pair = Pair::new(&cfg, server, "localhost").unwrap();
    pair.handshake().unwrap();
    assert_eq!(pair.connected().unwrap().alpn_str(), Some("http/1.1"));

    // The server insists on a protocol the client does not offer: the server refuses.
    let cfg = client_config(&pki).alpn(["h2"]).build().unwrap();
    let server = server_config(&pki.server, &[&TLS13], &["http/1.1"], None);
    let mut pair = Pair::new(&cfg, server, "localhost").unwrap();
    let err = pair.handshake().unwrap_err();
    assert_eq!(err.code(), "ALERT", "{err}");
    assert!(
        err.to_string().contains("no_application_protocol: it supports none of the application protocols (ALPN) we offered"),
        "{err}"
    );
}

#[test]
fn client_certificate_requested_and_supplied() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for v in [Version::Tls13, Version::Tls12] {
        let server = server_config(&pki.server, versions(v), &[], Some(&pki.root.pem));
        let cfg = client_config(&pki)
            .client_auth_pem(
                pki.client.chain_pem.as_bytes(),
                pki.client.key_pem.as_bytes(),
            )
            .build()
            .unwrap();
        let mut pair = Pair::new(&cfg, server.clone(), "localhost").unwrap();
        pair.handshake().unwrap();
        echo_roundtrip(&mut pair, 100);
        let peer = pair
            .server
            .peer_certificates()
            .expect("server saw client cert");
        assert_eq!(peer[0], pki.client.der);

        // Without a certificate the server refuses.
        let cfg = client_config(&pki).build().unwrap();
        let mut pair = Pair::new(&cfg, server, "localhost").unwrap();
        let err = match pair.handshake() {
            Err(e) => e,
            Ok(()) => {
                // TLS 1.3: the client finishes first and learns of the refusal after.
                pair.run().ok();
                pair.client
                    .error()
                    .cloned()
                    .expect("refusal reaches the client")
            }
        };
        assert_eq!(err.code(), "ALERT", "{err}");
    }
}

#[test]
fn client_key_of_other_certificate_is_a_config_error() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let err = client_config(&pki)
        .client_auth_pem(
            pki.client.chain_pem.as_bytes(),
            pki.server.key_pem.as_bytes(),
        )
        .build()
        .unwrap_err();
    assert!(
        err.to_string().starts_with("client certificate/key"),
        "{err}"
    );
}

#[test]
fn close_notify_client_first_then_server() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for v in [Version::Tls13, Version::Tls12] {
        let mut pair = connect(&pki, v, "localhost");
        pair.client.send(b"bye").unwrap();
        pair.client.close().unwrap();
        assert_eq!(
            pair.client.send(b"more"),
            Err(Error::Local(LocalError::SendAfterClose))
        );
        pair.run().unwrap();
        assert_eq!(pair.server_received, b"bye");
        // The server saw close_notify: a clean EOF on its reader.
        let mut buf = [0u8; 1];
        assert_eq!(
            std::io::Read::read(&mut pair.server.reader(), &mut buf).unwrap(),
            0
        );
        // Half-closed: the server may still send before closing.
        pair.server_send(b"last words");
        pair.server_close();
        pair.run().unwrap();
        assert_eq!(pair.client_received, b"last words");
        let tail: Vec<_> = pair.events.iter().skip(1).collect();
        assert!(
            matches!(tail[..], [Event::Data(_), Event::PeerClosed, Event::Closed]),
            "{tail:?}"
        );
        assert!(pair.client.is_finished());
    }
}

#[test]
fn close_notify_server_first_then_client() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let mut pair = connect(&pki, Version::Tls13, "localhost");
    pair.server_send(b"reply");
    pair.server_close();
    pair.run().unwrap();
    assert!(matches!(pair.events.last(), Some(Event::PeerClosed)));
    // After the peer closed we can still send, then close.
    pair.client.send(b"ack").unwrap();
    pair.client.close().unwrap();
    pair.run().unwrap();
    assert_eq!(pair.server_received, b"ack");
    assert!(matches!(pair.events.last(), Some(Event::Closed)));
    // EOF after a clean close is fine.
    pair.client.handle_input(Input::Eof(pair.now)).unwrap();
}

#[test]
fn eof_without_close_notify_is_truncation_and_keeps_data() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let mut pair = connect(&pki, Version::Tls13, "localhost");
    pair.server_send(b"partial");
    pair.run().unwrap();
    let err = pair.client.handle_input(Input::Eof(pair.now)).unwrap_err();
    assert_eq!(
        err,
        Error::Peer(PeerError::Truncated {
            during_handshake: false
        })
    );
    assert_eq!(err.code(), "TRUNCATED");
    assert_eq!(
        pair.client_received, b"partial",
        "data before the EOF was delivered"
    );
    assert!(!pair
        .events
        .iter()
        .any(|e| matches!(e, Event::Closed | Event::PeerClosed)));
    // Sticky: later calls report the same error.
    assert_eq!(pair.client.send(b"x").unwrap_err(), err);
}

#[test]
fn eof_during_handshake_is_reported_as_such() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = client_config(&pki).build().unwrap();
    let mut pair = Pair::new(
        &cfg,
        server_config(&pki.server, &[&TLS13], &[], None),
        "localhost",
    )
    .unwrap();
    let err = pair.client.handle_input(Input::Eof(pair.now)).unwrap_err();
    assert_eq!(
        err,
        Error::Peer(PeerError::Truncated {
            during_handshake: true
        })
    );
}

fn cert_failure(pki: &TestPki, leaf_spec: &LeafSpec, name: &str) -> Error {
    let leaf = pki.intermediate.issue(leaf_spec);
    let cfg = client_config(pki).build().unwrap();
    let mut pair = Pair::new(&cfg, server_config(&leaf, &[&TLS13], &[], None), name).unwrap();
    let err = pair.handshake().unwrap_err();
    // The client tells the server why, with a fatal alert.
    pair.drain_client();
    let mut alert = &pair.to_server[..];
    assert!(!alert.is_empty(), "an alert is transmitted");
    pair.server.read_tls(&mut alert).unwrap();
    let server_err = pair.server.process_new_packets().unwrap_err();
    assert!(
        matches!(server_err, rustls::Error::AlertReceived(_)),
        "{server_err:?}"
    );
    err
}

#[test]
fn expired_certificate_says_when() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let spec = LeafSpec::server(&["localhost"])
        .validity(time::Duration::days(-30), time::Duration::days(-2));
    let err = cert_failure(&pki, &spec, "localhost");
    assert_eq!(err.code(), "CERT_EXPIRED");
    let cert = err.certificate().unwrap();
    match &cert.reason {
        CertificateFailure::Expired { not_after, now } => assert!(not_after < now),
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("certificate has expired (notAfter 20"),
        "{text}"
    );
    assert!(text.contains(", now 20"), "{text}");
    assert_eq!(cert.chain.len(), 2, "unverified chain kept");
    assert!(cert.report().contains("chain as sent (2 certificates)"));
}

#[test]
fn not_yet_valid_certificate() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let spec = LeafSpec::server(&["localhost"])
        .validity(time::Duration::days(2), time::Duration::days(30));
    let err = cert_failure(&pki, &spec, "localhost");
    assert_eq!(err.code(), "CERT_NOT_YET_VALID");
    assert!(
        err.to_string().contains("not yet valid (notBefore"),
        "{err}"
    );
}

#[test]
fn wrong_host_lists_the_names_covered() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let spec = LeafSpec::server(&["a.example", "b.example"]);
    let err = cert_failure(&pki, &spec, "c.example");
    assert_eq!(err.code(), "CERT_HOSTNAME_MISMATCH");
    assert!(
        err.to_string()
            .contains("certificate is for a.example, b.example, not c.example"),
        "{err}"
    );
}

#[test]
fn unknown_ca_is_refused() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let other = TestPki::new(KeyKind::EcdsaP256);
    let cfg = client_config(&other).build().unwrap();
    let mut pair = Pair::new(
        &cfg,
        server_config(&pki.server, &[&TLS12], &[], None),
        "localhost",
    )
    .unwrap();
    let err = pair.handshake().unwrap_err();
    assert_eq!(err.code(), "CERT_UNKNOWN_ISSUER");
    assert!(
        err.to_string()
            .contains("unable to get local issuer certificate"),
        "{err}"
    );
    assert!(err.is_peer() && !err.is_local());
}

#[test]
fn default_mozilla_roots_refuse_a_private_ca() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = tlsferry::Config::builder()
        .crypto_provider(std::sync::Arc::new(tlsferry::provider()))
        .build()
        .unwrap();
    let mut pair = Pair::new(
        &cfg,
        server_config(&pki.server, &[&TLS13], &[], None),
        "localhost",
    )
    .unwrap();
    assert_eq!(pair.handshake().unwrap_err().code(), "CERT_UNKNOWN_ISSUER");
}

#[test]
fn dangerous_mode_accepts_but_says_unverified() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = tlsferry::Config::builder()
        .crypto_provider(std::sync::Arc::new(tlsferry::provider()))
        .dangerous_accept_any_certificate()
        .build()
        .unwrap();
    assert!(!cfg.verifies_certificates());
    let mut pair = Pair::new(
        &cfg,
        server_config(&pki.server, &[&TLS13], &[], None),
        "wrong.example",
    )
    .unwrap();
    pair.handshake().unwrap();
    assert!(!pair.connected().unwrap().verified);
}

#[test]
fn server_flight_one_byte_at_a_time_and_all_at_once() {
    let pki = TestPki::new(KeyKind::Rsa2048);
    for v in [Version::Tls13, Version::Tls12] {
        for fragment in [1usize, 7, usize::MAX] {
            let cfg = client_config(&pki).build().unwrap();
            let mut pair = Pair::new(
                &cfg,
                server_config(&pki.server, versions(v), &[], None),
                "localhost",
            )
            .unwrap();
            pair.fragment = fragment;
            pair.handshake().unwrap();
            pair.server_send(b"fragmented reply");
            pair.run().unwrap();
            assert_eq!(
                pair.client_received, b"fragmented reply",
                "{v:?} {fragment}"
            );
            if fragment == 1 {
                assert!(pair.fed.len() > 500, "really fed byte by byte");
            }
        }
    }
}

#[test]
fn send_buffer_limit_pushes_back() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = client_config(&pki)
        .limits(
            Limits::default()
                .with_send_buffer(1000)
                .with_receive_buffer(0),
        )
        .build()
        .unwrap();
    let mut pair = Pair::new(
        &cfg,
        server_config(&pki.server, &[&TLS13], &[], None),
        "localhost",
    )
    .unwrap();
    // Before the handshake everything queues, and the queue is bounded (untransmitted
    // ciphertext counts too, so transmit the ClientHello first).
    pair.drain_client();
    assert_eq!(pair.client.send(&[1u8; 4000]).unwrap(), 1000);
    assert_eq!(pair.client.send(&[1u8; 10]).unwrap(), 0);
    assert_eq!(pair.client.send_capacity(), 0);
    pair.handshake().unwrap();
    pair.run().unwrap();
    assert_eq!(pair.server_received.len(), 1000);
    assert_eq!(pair.client.send_capacity(), 1000);
}

#[test]
fn receive_buffer_limit_is_enforced_without_consuming() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = client_config(&pki).build().unwrap();
    let mut pair = Pair::new(
        &cfg,
        server_config(&pki.server, &[&TLS13], &[], None),
        "localhost",
    )
    .unwrap();
    let cap = pair.client.receive_capacity();
    assert_eq!(cap, 96 * 1024);
    let too_much = vec![0x17u8; cap + 1];
    let err = pair
        .client
        .handle_input(Input::Receive(pair.now, &too_much))
        .unwrap_err();
    assert_eq!(
        err,
        Error::Local(LocalError::ReceiveBufferFull { capacity: cap })
    );
    // Not fatal: the handshake still completes.
    pair.handshake().unwrap();
}

#[test]
fn handshake_timeout_fires_on_tick_and_idle_timeout_after() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = client_config(&pki)
        .handshake_timeout(Some(Duration::from_secs(5)))
        .idle_timeout(Some(Duration::from_secs(60)))
        .build()
        .unwrap();
    let mut pair = Pair::new(
        &cfg,
        server_config(&pki.server, &[&TLS13], &[], None),
        "localhost",
    )
    .unwrap();
    let deadline = loop {
        match pair.client.poll_output() {
            Output::Wait(d) => break d.expect("handshake deadline"),
            _ => continue,
        }
    };
    assert_eq!(deadline, pair.now + Duration::from_secs(5));
    pair.advance(Duration::from_secs(4)).unwrap();
    assert_eq!(
        pair.advance(Duration::from_secs(1)),
        Err(Error::Timeout(TimeoutPhase::Handshake))
    );

    let mut pair = Pair::new(
        &cfg,
        server_config(&pki.server, &[&TLS13], &[], None),
        "localhost",
    )
    .unwrap();
    pair.handshake().unwrap();
    pair.advance(Duration::from_secs(59)).unwrap();
    assert_eq!(
        pair.advance(Duration::from_secs(1)),
        Err(Error::Timeout(TimeoutPhase::Idle))
    );
}

#[test]
fn api_misuse_gives_typed_errors() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg: Config = client_config(&pki).build().unwrap();
    let err = tlsferry_core::Client::new("not a host name!", &cfg, pair_now()).unwrap_err();
    assert!(matches!(
        err,
        Error::Local(LocalError::InvalidServerName(_))
    ));
    assert_eq!(err.code(), "INVALID_SERVER_NAME");

    let mut pair = Pair::new(
        &cfg,
        server_config(&pki.server, &[&TLS13], &[], None),
        "localhost",
    )
    .unwrap();
    pair.handshake().unwrap();
    pair.server_close();
    pair.run().unwrap();
    pair.client.handle_input(Input::Eof(pair.now)).unwrap();
    assert_eq!(
        pair.client.handle_input(Input::Receive(pair.now, b"x")),
        Err(Error::Local(LocalError::InputAfterEof))
    );
}

fn pair_now() -> tlsferry_core::Instant {
    tlsferry_core::Instant::from_millis(1)
}

#[test]
fn garbage_from_the_server_is_a_protocol_error_and_an_alert_goes_back() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = client_config(&pki).build().unwrap();
    for garbage in [
        &b"HTTP/1.1 400 Bad Request\r\n\r\n"[..],
        &[0x16, 0x03, 0x03, 0xff, 0xff][..],
        &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28][..],
    ] {
        let mut client = tlsferry_core::Client::new("localhost", &cfg, pair_now()).unwrap();
        while !matches!(client.poll_output(), Output::Wait(_)) {}
        let err = client
            .handle_input(Input::Receive(pair_now(), garbage))
            .unwrap_err();
        assert!(err.is_peer(), "{err:?}");
        // The alert the client sends back.
        match client.poll_output() {
            Output::Transmit(alert) => assert_eq!(alert[0], 0x15, "alert record"),
            other if garbage[0] == 0x15 => assert!(matches!(other, Output::Wait(None))),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn close_before_handshake_sends_queued_data_then_close_notify() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for v in [Version::Tls13, Version::Tls12] {
        let cfg = client_config(&pki).build().unwrap();
        let mut pair = Pair::new(
            &cfg,
            server_config(&pki.server, versions(v), &[], None),
            "localhost",
        )
        .unwrap();
        pair.client.send(b"early").unwrap();
        pair.client.close().unwrap();
        pair.handshake().unwrap();
        pair.run().unwrap();
        assert_eq!(pair.server_received, b"early", "{v:?}");
        let mut buf = [0u8; 1];
        assert_eq!(
            std::io::Read::read(&mut pair.server.reader(), &mut buf).unwrap(),
            0,
            "server saw close_notify ({v:?})"
        );
    }
}

#[test]
fn server_key_update_is_followed_and_data_keeps_flowing() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let mut pair = connect(&pki, Version::Tls13, "localhost");
    for round in 0..3 {
        pair.server.refresh_traffic_keys().unwrap();
        pair.server_send(format!("after update {round}").as_bytes());
        pair.run().unwrap();
        assert_eq!(
            pair.client_received,
            format!("after update {round}").as_bytes()
        );
        pair.client_received.clear();
        // The client's own direction still works (it answered update_requested).
        pair.client.send(b"pong").unwrap();
        pair.run().unwrap();
        assert_eq!(pair.server_received, b"pong");
        pair.server_received.clear();
    }
}
