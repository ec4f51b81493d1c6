//! Hostile or broken peers over real sockets on 127.0.0.1: each ends in a clear typed
//! error, never a panic or a hang. The raw-record server (`tlsferry_tests::rawserver`)
//! plays what openssl cannot; an in-process rustls server plays a real TLS peer that
//! misbehaves after the handshake; openssl `s_server` sends renegotiation requests and
//! KeyUpdates. The fuzz drivers (core/fuzz/src/drive.rs) are included and replayed here.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use tlsferry_core::{Config, Error, PeerError, TimeoutPhase, Version};
use tlsferry_tests::pair::{client_config, server_config};
use tlsferry_tests::pki::{KeyKind, TestPki};
use tlsferry_tests::rawserver::{
    alert, handshake, record, records, server_hello, ClientHello, Conn, RawServer, ServerHelloSpec,
    Step, ALERT, HANDSHAKE, VERDICT_WITHIN,
};
use tlsferry_tests::servers::OpenSslServer;

#[path = "../../core/fuzz/src/drive.rs"]
#[allow(dead_code)]
mod drive;

/// Any client configuration: the raw server never gets far enough to be verified.
fn any_config() -> Config {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    client_config(&pki).build().expect("config")
}

fn raw(script: Vec<Step>) -> (RawServer, Error) {
    raw_with(&any_config(), script)
}

fn raw_with(config: &Config, script: Vec<Step>) -> (RawServer, Error) {
    let server = RawServer::start(script);
    let err = Conn::open(config, server.addr(), "localhost").expect_error();
    (server, err)
}

fn protocol_message(err: &Error) -> String {
    match err {
        Error::Peer(PeerError::Misbehaved(m)) => m.clone(),
        other => panic!("expected a protocol error, got {other:?} ({other})"),
    }
}

// ----- EOF and truncation -----

#[test]
fn eof_of_zero_bytes_mid_handshake() {
    let (server, err) = raw(vec![Step::ReadClientHello, Step::CloseWrite]);
    assert_eq!(
        err,
        Error::Peer(PeerError::Truncated {
            during_handshake: true
        })
    );
    assert_eq!(err.code(), "HANDSHAKE_EOF");
    assert_eq!(
        err.to_string(),
        "connection closed by peer during the TLS handshake"
    );
    // The server really got a ClientHello first.
    assert!(tlsferry_tests::rawserver::first_handshake_message(&server.received()).is_some());
    server.finish().expect("script ran");
}

#[test]
fn eof_in_the_middle_of_a_record() {
    let (server, err) = raw(vec![
        Step::ReadClientHello,
        Step::Reply(Box::new(|hello| {
            let sh = server_hello(hello, &tls13_hello(0x1301, 29, vec![9; 32]));
            let rec = record(HANDSHAKE, &sh);
            rec[..rec.len() / 2].to_vec()
        })),
        Step::CloseWrite,
    ]);
    assert_eq!(err.code(), "HANDSHAKE_EOF");
    assert!(matches!(
        err,
        Error::Peer(PeerError::Truncated {
            during_handshake: true
        })
    ));
    server.finish().expect("script ran");
}

/// A real TLS server in-process (rustls over a socket) that runs `then` after the
/// handshake and then drops the connection without close_notify.
fn rustls_server(
    pki: &TestPki,
    version: &'static rustls::SupportedProtocolVersion,
    then: impl FnOnce(&mut rustls::StreamOwned<rustls::ServerConnection, TcpStream>) + Send + 'static,
) -> (SocketAddr, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let cfg = server_config(&pki.server, &[version], &[], None);
    let thread = std::thread::spawn(move || {
        let (sock, _) = listener.accept().expect("accept");
        sock.set_read_timeout(Some(VERDICT_WITHIN))
            .expect("timeout");
        let conn = rustls::ServerConnection::new(cfg).expect("server");
        let mut tls = rustls::StreamOwned::new(conn, sock);
        while tls.conn.is_handshaking() {
            if tls.conn.complete_io(&mut tls.sock).is_err() {
                return;
            }
        }
        then(&mut tls);
        // Dropped here: TCP FIN without close_notify.
    });
    (addr, thread)
}

#[test]
fn eof_after_data_without_close_notify_is_truncation() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let (addr, server) = rustls_server(&pki, version, |tls| {
            tls.write_all(b"partial answer").expect("write");
            tls.flush().expect("flush");
        });
        let config = client_config(&pki).build().unwrap();
        let conn = Conn::open(&config, addr, "localhost");
        let mut conn_ = conn;
        conn_.run_until(|c| c.received.len() >= 14);
        let received = conn_.received.clone();
        let err = conn_.expect_error();
        assert_eq!(
            err,
            Error::Peer(PeerError::Truncated {
                during_handshake: false
            }),
            "{version:?}"
        );
        assert_eq!(
            received, b"partial answer",
            "data before the EOF is delivered"
        );
        assert!(err.to_string().contains("without close_notify"), "{err}");
        server.join().expect("server thread");
    }
}

// ----- not TLS at all -----

#[test]
fn plain_http_reply_to_the_client_hello() {
    let (server, err) = raw(vec![
        Step::ReadClientHello,
        Step::Send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec()),
        Step::CloseWrite,
    ]);
    assert_eq!(err.code(), "PROTOCOL", "{err:?}");
    let msg = protocol_message(&err);
    assert_eq!(
        msg,
        "the server's reply is not TLS (plain HTTP or another protocol on this port?)"
    );
    assert!(err.is_peer());
    // The client told the server why: a fatal alert record after its ClientHello.
    let hello = server.received();
    let hello_len = 5 + usize::from(u16::from_be_bytes([hello[3], hello[4]]));
    let sent = server.received_more_than(hello_len, Duration::from_secs(5));
    assert_eq!(sent.get(hello_len), Some(&ALERT), "alert record sent back");
    server.finish().expect("script ran");
}

fn pseudo_random(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

#[test]
fn random_bytes_reply_to_the_client_hello() {
    for seed in [1u64, 2, 3, 0xdead_beef] {
        let (_server, err) = raw(vec![
            Step::ReadClientHello,
            Step::Send(pseudo_random(2048, seed)),
            Step::Stall,
        ]);
        assert!(err.is_peer(), "{err:?}");
        assert_eq!(err.code(), "PROTOCOL", "seed {seed}: {err:?}");
    }
}

// ----- alerts -----

#[test]
fn fatal_alert_is_named() {
    let (_s, err) = raw(vec![
        Step::ReadClientHello,
        Step::Send(alert(2, 40)),
        Step::Stall,
    ]);
    let Error::Peer(PeerError::AlertReceived(a)) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((a.code, a.name()), (40, "handshake_failure"));
    assert_eq!(err.code(), "ALERT");
    // The message says what happened, what we offered, and what to try.
    let text = err.to_string();
    assert!(
        text.starts_with(
            "the peer sent a fatal alert, handshake_failure: it accepts none of what we offered"
        ),
        "{text}"
    );
    assert!(
        text.contains("we offered TLSv1.3 and TLSv1.2; cipher suites TLS_"),
        "{text}"
    );
    assert!(text.contains("key exchange X25519"), "{text}");
}

#[test]
fn unknown_fatal_alert_is_reported_with_its_number() {
    let (_s, err) = raw(vec![
        Step::ReadClientHello,
        Step::Send(alert(2, 0xfe)),
        Step::Stall,
    ]);
    assert_eq!(err.code(), "ALERT");
    assert_eq!(
        err.to_string(),
        "the peer sent a fatal alert, an unknown alert (number 254)"
    );
}

#[test]
fn alert_with_unknown_level_is_refused() {
    let (_s, err) = raw(vec![
        Step::ReadClientHello,
        Step::Send(alert(7, 40)),
        Step::Stall,
    ]);
    assert_eq!(err.code(), "ALERT", "{err:?}");
}

#[test]
fn a_flood_of_warning_alerts_is_cut_off() {
    // One unknown warning is tolerated before the version is known…
    let flood: Vec<u8> = (0..2000).flat_map(|_| alert(1, 0xfe)).collect();
    let (_s, err) = raw(vec![Step::ReadClientHello, Step::Send(flood), Step::Stall]);
    // …but not an endless stream of them.
    let msg = protocol_message(&err);
    assert_eq!(msg, "the server sent too many warning alerts");
}

// ----- records and messages too large -----

#[test]
fn oversized_record_is_refused() {
    // 2^14 + 2048 + 1: larger than any TLS record may be, even encrypted.
    let payload = vec![0u8; 16 * 1024 + 2048 + 1];
    let (_s, err) = raw(vec![
        Step::ReadClientHello,
        Step::Send(record(HANDSHAKE, &payload)),
        Step::Stall,
    ]);
    let msg = protocol_message(&err);
    assert_eq!(
        msg,
        "malformed message from the server: a message is larger than TLS allows"
    );
}

#[test]
fn handshake_message_over_64_kib_is_refused() {
    // A "Certificate" message of 70 000 bytes, in legal 16 KiB records.
    let msg = handshake(11, &vec![0u8; 70_000]);
    let (_s, err) = raw(vec![
        Step::ReadClientHello,
        Step::Send(records(HANDSHAKE, &msg)),
        Step::Stall,
    ]);
    let msg = protocol_message(&err);
    assert_eq!(
        msg,
        "malformed message from the server: a handshake message is larger than the 64 KiB tlsferry accepts"
    );
}

#[test]
fn handshake_message_just_under_64_kib_is_reassembled_then_judged() {
    // 65 000 bytes fit the receive buffer (MIN_RECEIVE_BUFFER): the core reassembles the
    // message instead of stalling on a full buffer, then parses it and finds it corrupt.
    let msg = handshake(11, &vec![0u8; 65_000]);
    let (_s, err) = raw(vec![
        Step::ReadClientHello,
        Step::Send(records(HANDSHAKE, &msg)),
        Step::Stall,
    ]);
    let msg = protocol_message(&err);
    assert_eq!(
        msg,
        "malformed message from the server: a message has bytes after its end"
    );
}

// ----- stalls -----

#[test]
fn a_server_that_stalls_in_the_handshake_times_out_naming_the_phase() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let config = client_config(&pki)
        .handshake_timeout(Some(Duration::from_millis(600)))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let (_s, err) = raw_with(&config, vec![Step::ReadClientHello, Step::Stall]);
    assert_eq!(err, Error::Timeout(TimeoutPhase::Handshake));
    assert_eq!(err.code(), "TIMEOUT");
    assert_eq!(err.to_string(), "timed out during the TLS handshake");
    assert!(started.elapsed() >= Duration::from_millis(600));
}

#[test]
fn a_server_that_stalls_mid_message_times_out_too() {
    // Half a ServerHello, then nothing: the core waits for the rest until the deadline.
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let config = client_config(&pki)
        .handshake_timeout(Some(Duration::from_millis(600)))
        .build()
        .unwrap();
    let (_s, err) = raw_with(
        &config,
        vec![
            Step::ReadClientHello,
            Step::Reply(Box::new(|hello| {
                let sh = server_hello(hello, &tls13_hello(0x1301, 29, vec![9; 32]));
                record(HANDSHAKE, &sh)[..20].to_vec()
            })),
            Step::Stall,
        ],
    );
    assert_eq!(err, Error::Timeout(TimeoutPhase::Handshake));
}

#[test]
fn a_server_that_stalls_after_the_handshake_hits_the_idle_timeout() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let (addr, server) = rustls_server(&pki, &rustls::version::TLS13, |tls| {
        let mut ping = [0u8; 4];
        tls.read_exact(&mut ping).expect("client request");
        assert_eq!(&ping, b"ping");
        let _ = tls.write_all(b"hello");
        let _ = tls.flush();
        // Stall: read until the client gives up.
        let mut buf = [0u8; 1024];
        while matches!(tls.sock.read(&mut buf), Ok(n) if n > 0) {}
    });
    let config = client_config(&pki)
        .idle_timeout(Some(Duration::from_millis(500)))
        .build()
        .unwrap();
    let mut conn = Conn::open(&config, addr, "localhost");
    conn.send(b"ping");
    conn.run_until(|c| c.received == b"hello");
    assert!(conn.connected());
    let err = conn.expect_error();
    assert_eq!(err, Error::Timeout(TimeoutPhase::Idle));
    assert_eq!(err.to_string(), "timed out waiting for data from the peer");
    server.join().expect("server thread");
}

// ----- a ServerHello choosing what the client did not offer -----

fn tls13_hello(suite: u16, group: u16, share: Vec<u8>) -> ServerHelloSpec {
    ServerHelloSpec {
        cipher_suite: suite,
        tls13: true,
        key_share_group: group,
        key_share: share,
    }
}

fn hello_reply(check: fn(&ClientHello), spec: ServerHelloSpec) -> Step {
    Step::Reply(Box::new(move |hello| {
        check(hello);
        record(HANDSHAKE, &server_hello(hello, &spec))
    }))
}

#[test]
fn server_choosing_an_unoffered_cipher_suite() {
    // TLS 1.3 TLS_AES_128_CCM_SHA256 and TLS 1.2 TLS_RSA_WITH_AES_128_GCM_SHA256:
    // rustls offers neither.
    for spec in [
        tls13_hello(0x1304, 29, vec![9; 32]),
        ServerHelloSpec {
            cipher_suite: 0x009c,
            tls13: false,
            key_share_group: 0,
            key_share: Vec::new(),
        },
    ] {
        let (_s, err) = raw(vec![
            Step::ReadClientHello,
            hello_reply(
                |h| {
                    assert!(!h.cipher_suites.contains(&0x1304));
                    assert!(!h.cipher_suites.contains(&0x009c));
                },
                spec,
            ),
            Step::Stall,
        ]);
        let msg = protocol_message(&err);
        assert_eq!(msg, "the server chose a cipher suite we did not offer");
    }
}

#[test]
fn server_choosing_an_unoffered_group() {
    // secp521r1 (0x0019) is not among the default provider's groups.
    let (_s, err) = raw(vec![
        Step::ReadClientHello,
        hello_reply(
            |h| assert!(!h.groups.is_empty() && !h.groups.contains(&0x0019)),
            tls13_hello(0x1301, 0x0019, vec![4; 133]),
        ),
        Step::Stall,
    ]);
    let msg = protocol_message(&err);
    assert_eq!(
        msg,
        "the server chose a key-exchange group we did not offer"
    );
}

#[test]
fn tls12_only_client_refuses_a_tls13_server_hello() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let config = client_config(&pki)
        .versions(&[Version::Tls12])
        .build()
        .unwrap();
    let (_s, err) = raw_with(
        &config,
        vec![
            Step::ReadClientHello,
            hello_reply(|_| {}, tls13_hello(0x1301, 29, vec![9; 32])),
            Step::Stall,
        ],
    );
    assert!(err.is_peer(), "{err:?}");
    assert!(
        matches!(err.code(), "PROTOCOL" | "INCOMPATIBLE"),
        "{err:?}: {err}"
    );
}

// ----- the fuzz driver, replayed -----

/// Mutations of a recorded real server flight (truncations, bit flips, re-chunking) go
/// through the fuzz driver: the driver's invariants hold (no panic, outputs drain, sticky
/// errors, bounded memory) and every failure is a typed peer-side error.
#[test]
fn mutated_real_flights_through_the_fuzz_driver() {
    use tlsferry_tests::pair::Pair;
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for (version, vbit) in [
        (&rustls::version::TLS12, drive::SEL_TLS12),
        (&rustls::version::TLS13, drive::SEL_TLS13),
    ] {
        let cfg = client_config(&pki).build().unwrap();
        let mut pair = Pair::new(
            &cfg,
            server_config(&pki.server, &[version], &[], None),
            "localhost",
        )
        .unwrap();
        pair.handshake().unwrap();
        pair.server_send(b"reply");
        pair.server_close();
        pair.run().unwrap();
        let flight: Vec<u8> = pair.fed.concat();
        let mut cases = 0;
        for selector in [vbit | drive::SEL_DANGEROUS, vbit] {
            for cut in (0..flight.len()).step_by(97) {
                let mut input = vec![selector];
                input.extend(drive::op_receive(&flight[..cut]));
                input.push(drive::OP_EOF);
                check_outcome(&drive::server_bytes(&input));
                cases += 1;
            }
            for flip in (5..flight.len()).step_by(61) {
                let mut bytes = flight.clone();
                bytes[flip] ^= 0x5a;
                let mut input = vec![selector];
                for piece in bytes.chunks(13) {
                    // kind 1 with param 12: a 13-byte fragment
                    input.push(1 | (12 << 3));
                    input.extend_from_slice(piece);
                }
                input.push(drive::OP_EOF);
                check_outcome(&drive::server_bytes(&input));
                cases += 1;
            }
        }
        assert!(cases > 50, "{cases}");
    }
}

fn check_outcome(out: &drive::Outcome) {
    // The replayed flight answers another ClientHello, so it can never complete.
    assert!(!out.connected);
    let err = out.error.as_ref().expect("a mutated flight fails");
    assert!(err.is_peer(), "{err:?}");
}

// ----- renegotiation and KeyUpdate from openssl s_server -----

fn openssl_conn(tls12: bool) -> (TestPki, OpenSslServer, Conn) {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let builder = OpenSslServer::builder(&pki.server);
    let mut server = if tls12 {
        builder.tls12()
    } else {
        builder.tls13()
    }
    .start();
    let config = client_config(&pki).build().unwrap();
    let mut conn = Conn::open(&config, server.addr().parse().unwrap(), "localhost");
    conn.run_until(Conn::connected);
    assert!(conn.connected(), "{:?}", conn.error);
    // Data both ways before anything else happens.
    server.send_line("from server 0");
    conn.run_until(|c| c.received.ends_with(b"from server 0\n"));
    conn.send(b"from client 0\n");
    assert!(server.wait_for_output("from client 0", Duration::from_secs(10)));
    (pki, server, conn)
}

#[test]
fn key_updates_from_the_server_are_handled() {
    let (_pki, mut server, mut conn) = openssl_conn(false);
    // `k`: the server updates its keys; `K`: it also asks the client to update its own.
    for (round, command) in [(1, 'k'), (2, 'K'), (3, 'k'), (4, 'K')] {
        // The line after the command is encrypted under the server's new keys.
        let before = conn.ciphertext_in;
        server.command(command);
        // Wait for the KeyUpdate record: s_server reads its next stdin line after it.
        conn.run_until(|c| c.ciphertext_in > before);
        let line = format!("from server {round}");
        server.send_line(&line);
        conn.run_until(|c| c.received.ends_with(format!("{line}\n").as_bytes()));
        assert!(
            conn.received.ends_with(format!("{line}\n").as_bytes()),
            "{:?}",
            conn.error
        );
        assert!(conn.error.is_none(), "{:?}", conn.error);
        // The client's own (possibly updated) keys still work for the server.
        let reply = format!("from client {round}\n");
        conn.send(reply.as_bytes());
        assert!(
            server.wait_for_output(reply.trim_end(), Duration::from_secs(10)),
            "{}",
            server.output()
        );
    }
    assert!(conn.error.is_none(), "{:?}", conn.error);
}

#[test]
fn renegotiation_request_is_declined_without_a_hang() {
    let (_pki, mut server, conn) = openssl_conn(true);
    server.command('R');
    // The client answers the HelloRequest with a no_renegotiation warning; OpenSSL treats
    // a refused renegotiation as fatal and ends the connection with handshake_failure.
    let err = conn.expect_error();
    assert!(
        matches!(&err, Error::Peer(PeerError::AlertReceived(a)) if a.name() == "handshake_failure"),
        "{err}; server said:\n{}",
        server.output()
    );
}

/// The fuzz target's deterministic clients (`SEL_SEEDED`) send the same bytes on every
/// run, so a flight recorded against one replays through the driver to the end: the
/// fuzzer starts from inside the encrypted handshake and the data phase.
#[test]
fn a_recorded_deterministic_flight_replays_to_the_end_through_the_fuzz_driver() {
    use tlsferry_tests::pair::Pair;
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for (version, vbit) in [
        (&rustls::version::TLS13, drive::SEL_TLS13),
        (&rustls::version::TLS12, drive::SEL_TLS12),
    ] {
        let sel = vbit | drive::SEL_DANGEROUS | drive::SEL_SEEDED;
        let mut pair = Pair::new(
            &drive::config_for_run(sel),
            server_config(&pki.server, &[version], &[], None),
            drive::server_name_for(sel),
        )
        .unwrap();
        assert_eq!(pair.now, drive::FUZZ_START);
        pair.handshake().unwrap();
        pair.server_send(b"reply");
        pair.server_close();
        pair.run().unwrap();
        let flight: Vec<u8> = pair.fed.concat();
        let input = |bytes: &[u8]| {
            let mut input = vec![sel];
            for piece in bytes.chunks(usize::from(u16::MAX)) {
                input.extend(drive::op_receive(piece));
            }
            input.push(drive::OP_EOF);
            input
        };
        let out = drive::server_bytes(&input(&flight));
        assert!(out.connected, "{version:?}: {:?}", out.error);
        assert_eq!(out.received, b"reply");
        assert_eq!(out.error, None, "close_notify came before the EOF");
        // One flipped bit in the last record (the close_notify): caught, not delivered.
        // All of it arrives in one input, so the handshake completes, "reply" decrypts and
        // the fault follows in the same call: Connected still comes before the data.
        let mut tampered = flight.clone();
        *tampered.last_mut().unwrap() ^= 1;
        let out = drive::server_bytes(&input(&tampered));
        assert!(out.connected);
        assert_eq!(out.received, b"reply");
        let err = out.error.expect("tampering detected");
        assert_eq!(err.code(), "PROTOCOL", "{err}");
    }
}

// ----- stalls through the native driver (tlsferry::connect / TlsStream) -----

#[test]
fn native_connect_to_a_stalling_server_times_out_in_the_handshake() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let config = client_config(&pki)
        .handshake_timeout(Some(Duration::from_millis(700)))
        .build()
        .unwrap();
    let server = RawServer::start(vec![Step::ReadClientHello, Step::Stall]);
    let started = std::time::Instant::now();
    let err = match tlsferry::connect(server.addr(), "localhost", &config) {
        Ok(_) => panic!("a stalling server completed a handshake"),
        Err(e) => e,
    };
    assert_eq!(
        err.tls(),
        Some(&Error::Timeout(TimeoutPhase::Handshake)),
        "{err}"
    );
    assert_eq!(err.code(), "TIMEOUT");
    assert_eq!(err.to_string(), "timed out during the TLS handshake");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(700), "{waited:?}");
    assert!(waited < VERDICT_WITHIN, "{waited:?}");
}

#[test]
fn native_stream_reading_from_a_stalled_server_hits_the_idle_timeout() {
    use std::io::Read as _;
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let (addr, server) = rustls_server(&pki, &rustls::version::TLS13, |tls| {
        let _ = tls.write_all(b"hello");
        let _ = tls.flush();
        let mut buf = [0u8; 1024];
        while matches!(tls.sock.read(&mut buf), Ok(n) if n > 0) {}
    });
    let config = client_config(&pki)
        .idle_timeout(Some(Duration::from_millis(500)))
        .build()
        .unwrap();
    let mut tls = tlsferry::connect(addr, "localhost", &config).expect("handshake");
    let mut buf = [0u8; 5];
    tls.read_exact(&mut buf).expect("greeting");
    assert_eq!(&buf, b"hello");
    let err = tls.read(&mut buf).expect_err("the server stalls");
    let tls_err = tlsferry::tls_error(&err).expect("a TLS error inside");
    assert_eq!(tls_err, &Error::Timeout(TimeoutPhase::Idle), "{err}");
    assert_eq!(err.to_string(), "timed out waiting for data from the peer");
    drop(tls);
    server.join().expect("server thread");
}
