//! The public in-memory `tlsferry_core::testing::Pair` (issue 12), used as a user would:
//! every scripted server behaviour, every certificate verdict of the built-in PKI, client
//! certificates, HelloRetryRequest, KeyUpdate, timeouts on a jumping clock, resumption,
//! fragmentation, and the same bytes on every run.

use std::time::Duration;

use tlsferry_core::testing::{pki, Pair, Scenario, Seed, ServerBehaviour, TestCertificate};
use tlsferry_core::{Event, Output, PeerError, TimeoutPhase, Version};

fn both_versions() -> [Version; 2] {
    [Version::Tls13, Version::Tls12]
}

fn only(v: Version) -> Scenario {
    Scenario::new()
        .server_versions(&[v])
        .client_config(move |b| b.versions(&[v]))
}

#[test]
fn reply_then_close_notify_on_both_versions() {
    for v in both_versions() {
        let mut p = Pair::new(only(v)).unwrap();
        p.client.send(b"Hello, World!").unwrap();
        p.drive().unwrap();
        let info = p.connected().expect("connected");
        assert_eq!(info.version, v);
        assert!(info.verified);
        assert_eq!(info.server_name, pki::SERVER_NAME);
        assert_eq!(info.peer_certificates, TestCertificate::Valid.chain());
        assert_eq!(p.server_received(), b"Hello, World!");
        assert_eq!(p.client_received(), b"hello from server.test");
        assert!(p.events().contains(&Event::PeerClosed));
        // Our close_notify answers the server's: both directions closed.
        p.client.close().unwrap();
        p.drive().unwrap();
        assert!(p.closed(), "{:?}", p.events());
    }
}

#[test]
fn echo_moves_a_mebibyte_each_way_in_small_fragments() {
    let data: Vec<u8> = (0..1024 * 1024).map(|i| (i * 31 + 7) as u8).collect();
    let mut p = Pair::new(Scenario::new().behaviour(ServerBehaviour::Echo)).unwrap();
    p.fragment = 1000;
    let mut off = 0;
    while off < data.len() {
        off += p.client.send(&data[off..]).unwrap();
        p.drive().unwrap();
    }
    assert_eq!(p.server_received(), &data[..]);
    assert_eq!(p.client_received(), &data[..]);
    p.client.close().unwrap();
    p.drive().unwrap();
    assert!(p.closed());
}

#[test]
fn close_notify_without_data() {
    let mut p = Pair::new(Scenario::new().behaviour(ServerBehaviour::CloseNotify)).unwrap();
    p.drive().unwrap();
    assert!(p.client_received().is_empty());
    assert!(p.events().contains(&Event::PeerClosed));
}

#[test]
fn close_without_notify_is_truncation_after_the_data() {
    for v in both_versions() {
        let mut p =
            Pair::new(only(v).behaviour(ServerBehaviour::CloseWithoutNotify(b"partial".to_vec())))
                .unwrap();
        p.client.send(b"go").unwrap();
        let err = p.drive().unwrap_err();
        assert_eq!(
            err,
            tlsferry_core::Error::Peer(PeerError::Truncated {
                during_handshake: false
            })
        );
        assert_eq!(err.code(), "TRUNCATED");
        assert_eq!(
            p.client_received(),
            b"partial",
            "the data before it is delivered"
        );
    }
}

#[test]
fn a_fatal_alert_says_what_we_offered() {
    let mut p = Pair::new(Scenario::new().behaviour(ServerBehaviour::FatalAlert(40))).unwrap();
    let err = p.drive().unwrap_err();
    assert_eq!(err.code(), "ALERT");
    let text = err.to_string();
    assert!(
        text.contains("handshake_failure: it accepts none of what we offered"),
        "{text}"
    );
    assert!(text.contains("we offered TLSv1.3 and TLSv1.2"), "{text}");
}

#[test]
fn a_stalled_server_times_out_on_the_simulated_clock() {
    let mut p = Pair::new(
        Scenario::new()
            .behaviour(ServerBehaviour::Stall)
            .client_config(|b| b.handshake_timeout(Some(Duration::from_secs(5)))),
    )
    .unwrap();
    p.drive().unwrap();
    assert!(p.client.is_handshaking());
    let deadline = p.next_deadline().expect("a handshake deadline");
    assert_eq!(
        deadline.saturating_duration_since(p.now),
        Duration::from_secs(5)
    );
    let err = p.advance_to_next_deadline().unwrap_err();
    assert_eq!(err, tlsferry_core::Error::Timeout(TimeoutPhase::Handshake));
    assert_eq!(p.now, deadline, "the clock jumped, nobody slept");
}

#[test]
fn idle_timeout_after_the_handshake() {
    let mut p = Pair::new(
        Scenario::new()
            .behaviour(ServerBehaviour::Echo)
            .client_config(|b| b.idle_timeout(Some(Duration::from_secs(30)))),
    )
    .unwrap();
    p.drive().unwrap();
    p.advance(Duration::from_secs(29)).unwrap();
    let err = p.advance_to_next_deadline().unwrap_err();
    assert_eq!(err.code(), "TIMEOUT");
}

#[test]
fn a_key_update_is_followed() {
    let mut p = Pair::new(
        only(Version::Tls13).behaviour(ServerBehaviour::KeyUpdate(b"after the update".to_vec())),
    )
    .unwrap();
    p.client.send(b"x").unwrap();
    p.drive().unwrap();
    assert_eq!(p.client_received(), b"after the update");
    // The client still talks after the server changed its keys (its own update, if
    // asked for, is rustls' business).
    assert!(p.client.error().is_none());
}

#[test]
fn hello_retry_request_then_a_normal_session() {
    let mut p = Pair::new(
        only(Version::Tls13).behaviour(ServerBehaviour::HelloRetryRequest(b"retried".to_vec())),
    )
    .unwrap();
    p.client.send(b"x").unwrap();
    p.drive().unwrap();
    assert_eq!(p.client_received(), b"retried");
    assert_eq!(
        p.connected().unwrap().key_exchange_group.as_deref(),
        Some("secp384r1")
    );
}

#[test]
fn every_certificate_gets_its_verdict_with_the_chain_kept() {
    for c in TestCertificate::ALL {
        for v in both_versions() {
            let mut p = Pair::new(only(v).certificate(c)).unwrap();
            p.client.send(b"x").unwrap();
            let result = p.drive();
            assert_eq!(
                result.as_ref().err().map(|e| e.code()),
                c.expected_code(),
                "{c:?} {v:?}"
            );
            if let Err(e) = result {
                let cert = e.certificate().expect("a certificate error");
                assert_eq!(cert.chain, c.chain(), "the chain as sent is kept");
                assert_eq!(cert.server_name, pki::SERVER_NAME);
                assert!(
                    p.server_received().is_empty(),
                    "no data reached a refused server"
                );
            }
        }
    }
    // The IP address the certificate also covers.
    let mut p = Pair::new(Scenario::new().server_name("127.0.0.1")).unwrap();
    p.drive().unwrap();
    assert!(p.connected().is_some());
}

#[test]
fn client_certificate_required_given_and_missing() {
    for v in both_versions() {
        let mut p = Pair::new(only(v).require_client_certificate(true)).unwrap();
        p.client.send(b"x").unwrap();
        p.drive().unwrap();
        assert_eq!(p.client_received(), b"hello from server.test", "{v:?}");

        let mut p = Pair::new(only(v).require_client_certificate(false)).unwrap();
        p.client.send(b"x").unwrap();
        let err = p.drive().unwrap_err();
        assert_eq!(err.code(), "ALERT", "{v:?}: {err}");
        assert!(p.server.error().is_some(), "the server refused");
    }
}

#[test]
fn alpn_is_negotiated() {
    let mut p = Pair::new(
        Scenario::new()
            .server_alpn(["http/1.1"])
            .client_config(|b| b.alpn(["h2", "http/1.1"])),
    )
    .unwrap();
    p.drive().unwrap();
    assert_eq!(p.connected().unwrap().alpn_str(), Some("http/1.1"));
}

#[test]
fn reconnect_resumes_the_session() {
    for v in both_versions() {
        let mut first = Pair::new(only(v)).unwrap();
        first.client.send(b"x").unwrap();
        first.drive().unwrap();
        assert!(!first.connected().unwrap().resumed);
        let mut second = first.reconnect().unwrap();
        second.client.send(b"y").unwrap();
        second.drive().unwrap();
        let info = second.connected().unwrap();
        assert!(info.resumed, "{v:?}");
        assert_eq!(info.peer_certificates, TestCertificate::Valid.chain());
        assert_eq!(second.client_received(), b"hello from server.test");
    }
}

#[test]
fn same_scenario_same_bytes_both_directions() {
    let run = |seed: [u8; 32], fragment: usize| {
        let mut p = Pair::new(Scenario::new().seed(Seed(seed))).unwrap();
        p.fragment = fragment;
        p.client.send(b"deterministic").unwrap();
        p.drive().unwrap();
        p.client.close().unwrap();
        p.drive().unwrap();
        p.wire_digest()
    };
    assert_eq!(run([9; 32], usize::MAX), run([9; 32], usize::MAX));
    // Fragmenting what the client is fed does not change what crosses the wire.
    assert_eq!(run([9; 32], usize::MAX), run([9; 32], 7));
    assert_ne!(run([9; 32], usize::MAX), run([10; 32], usize::MAX));
}

/// The canonical scenario's wire digest, checked in (and checked by the wasm tests too,
/// `wasm/tests/pair_golden.rs`): the Pair gives the same bytes on every run and target.
/// `TLSFERRY_BLESS=1` rewrites it when the ClientHello must change.
#[test]
fn canonical_scenario_matches_the_golden_digest() {
    let mut p = Pair::new(Scenario::new()).unwrap();
    p.client.send(b"Hello, World!").unwrap();
    p.drive().unwrap();
    p.client.close().unwrap();
    p.drive().unwrap();
    let hex = tlsferry_core::testing::hex_encode(&p.wire_digest());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/pair-golden.txt");
    if std::env::var_os("TLSFERRY_BLESS").is_some() {
        std::fs::write(&path, format!("{hex}\n")).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap();
    assert_eq!(hex, golden.trim());
}

/// Sends `data` through an echo server, closes, checks it all came back; returns the
/// digest of the bytes on the wire.
fn echo_all(p: &mut Pair, data: &[u8]) -> [u8; 32] {
    let mut off = 0;
    while off < data.len() {
        off += p.client.send(&data[off..]).unwrap();
        p.drive().unwrap();
    }
    p.client.close().unwrap();
    p.drive().unwrap();
    assert!(p.client_received() == data, "the data came back changed");
    p.wire_digest()
}

/// The no-copy input path (`receive_buffer` + `Input::Received`) gives the same session,
/// byte for byte, fragmented or not; misuse of it is a typed local error.
#[test]
fn reading_into_the_receive_buffer_is_the_same_session() {
    let run = |in_place: bool, fragment: usize| {
        let mut p = Pair::new(Scenario::new().behaviour(ServerBehaviour::Echo)).unwrap();
        p.in_place = in_place;
        p.fragment = fragment;
        let data: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        echo_all(&mut p, &data)
    };
    let copied = run(false, usize::MAX);
    assert_eq!(run(true, usize::MAX), copied);
    assert_eq!(run(true, 333), copied);

    let mut p = Pair::new(Scenario::new()).unwrap();
    let room = p.client.receive_buffer().len();
    assert_eq!(room, 17 * 1024, "the first offer is one record's worth");
    // Asking twice before committing keeps what was written.
    p.client.receive_buffer()[0] = 22;
    assert_eq!(p.client.receive_buffer()[0], 22);
    let err = p
        .client
        .handle_input(tlsferry_core::Input::Received(p.now, room + 1))
        .unwrap_err();
    assert!(matches!(
        err,
        tlsferry_core::Error::Local(tlsferry_core::LocalError::ReceiveBufferFull { .. })
    ));
    // Room offered, then a call that runs rustls first (and may move what the room was
    // next to): the room is gone, and committing it is refused (typed), not taken as
    // shifted bytes.
    p.client.receive_buffer()[0] = 22;
    p.client.close().unwrap();
    let err = p
        .client
        .handle_input(tlsferry_core::Input::Received(p.now, 1))
        .unwrap_err();
    assert!(
        matches!(
            err,
            tlsferry_core::Error::Local(tlsferry_core::LocalError::ReceiveBufferFull {
                capacity: 0
            })
        ),
        "{err:?}"
    );
    // Not fatal: the session goes on.
    p.drive().unwrap();
    assert!(p.connected().is_some());
}

/// `decrypt_on_read` + `Client::read` give the same data and the same session as `Data`
/// events, whatever the read size, fragmentation and input path.
#[test]
fn decrypting_on_read_gives_the_same_data_and_session() {
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let run = |read_chunk: Option<usize>, in_place: bool, fragment: usize| {
        let mut p = Pair::new(Scenario::new().behaviour(ServerBehaviour::Echo)).unwrap();
        p.read_chunk = read_chunk;
        p.in_place = in_place;
        p.fragment = fragment;
        let digest = echo_all(&mut p, &data);
        assert!(
            p.closed(),
            "{read_chunk:?} {in_place} {fragment}: {:?}",
            p.events()
        );
        digest
    };
    let reference = run(None, false, usize::MAX);
    for chunk in [1, 7, 16_384, 1 << 20] {
        for in_place in [false, true] {
            assert_eq!(run(Some(chunk), in_place, usize::MAX), reference, "{chunk}");
        }
    }
    assert_eq!(run(Some(1000), true, 333), reference);
    assert_eq!(run(Some(5), false, 1), reference);
}

/// Records left for `read` occupy the receive buffer: a client that does not read stops
/// taking input (nothing piles up), then gets everything, in order, once it reads; no
/// `Data` event is needed when it reads as fast as it can.
#[test]
fn unread_records_hold_the_receive_buffer() {
    let mut p = Pair::new(Scenario::new().behaviour(ServerBehaviour::Echo)).unwrap();
    p.client.decrypt_on_read();
    let limit = p.client.receive_capacity();
    // Up to here the handshake: from now on the server's bytes are echoes.
    p.drive().unwrap();
    let data: Vec<u8> = (0..400_000u32).map(|i| (i % 241) as u8).collect();
    // Everything the client got, in the order it got it: `Data` events (what was in the
    // way of a send) and `read`.
    let mut all = Vec::new();
    let mut seen = 0;
    let mut buf = vec![0u8; 10_000];
    let mut off = 0;
    let mut starved = false;
    for _ in 0..10_000 {
        if off < data.len() {
            off += p.client.send(&data[off..]).unwrap();
        }
        p.drive().unwrap();
        assert!(
            p.client.buffered_capacity() <= 2 * limit,
            "buffers grew to {}",
            p.client.buffered_capacity()
        );
        starved |= p.client.receive_capacity() == 0;
        all.extend_from_slice(&p.client_received()[seen..]);
        seen = p.client_received().len();
        // A little at a time: the buffer fills up before it drains.
        let n = p.client.read(&mut buf).unwrap();
        all.extend_from_slice(&buf[..n]);
        if all.len() >= data.len() {
            break;
        }
    }
    assert!(starved, "the receive buffer never filled up");
    assert_eq!(all.len(), data.len());
    assert!(all == data, "the data came out of order");
    assert!(
        seen < data.len() / 2,
        "most data came from read, {seen} bytes as events"
    );

    // Reading as fast as it can, a client gets everything from `read`.
    let mut p = Pair::new(Scenario::new().behaviour(ServerBehaviour::Reply(data.clone()))).unwrap();
    p.read_chunk = Some(4096);
    p.client.send(b"go").unwrap();
    p.drive().unwrap();
    assert_eq!(p.client_received(), &data[..]);
    assert!(
        !p.events().iter().any(|e| matches!(e, Event::Data(_))),
        "no Data events"
    );
    assert!(p.events().contains(&Event::PeerClosed));
}

/// With `decrypt_on_read`, the peer's `close_notify` and a bad record are reported in
/// stream order, after the data before them; a transport EOF right after close_notify
/// is not truncation.
#[test]
fn close_and_faults_follow_the_data_when_decrypting_on_read() {
    for v in both_versions() {
        let mut p = Pair::new(only(v)).unwrap();
        p.client.decrypt_on_read();
        p.client.send(b"Hello, World!").unwrap();
        p.drive().unwrap();
        assert!(!p.events().contains(&Event::PeerClosed), "{:?}", p.events());
        let mut buf = [0u8; 5];
        let mut got = Vec::new();
        loop {
            let n = p.client.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"hello from server.test");
        p.drive().unwrap();
        assert!(p.events().contains(&Event::PeerClosed), "{:?}", p.events());
        assert!(p.client.error().is_none());
    }
    // The server closes the transport without close_notify: the data, then truncation.
    let mut p = Pair::new(
        Scenario::new().behaviour(ServerBehaviour::CloseWithoutNotify(b"partial".to_vec())),
    )
    .unwrap();
    p.read_chunk = Some(3);
    p.client.send(b"x").unwrap();
    let err = p.drive().unwrap_err();
    assert!(
        matches!(err, tlsferry_core::Error::Peer(PeerError::Truncated { .. })),
        "{err:?}"
    );
    assert_eq!(p.client_received(), b"partial");
}

/// A record larger than the buffer `read` is given leaves its rest in the client's
/// queue; small reads take that a few bytes at a time, a `Data` event then carries exactly
/// what is left, and `read` goes on decrypting: nothing lost, doubled or reordered.
#[test]
fn small_reads_then_an_event_take_queued_data_exactly_once() {
    let data: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    let scenario = Scenario::new()
        .behaviour(ServerBehaviour::Echo)
        .client_config(|b| b.limits(tlsferry_core::Limits::default().with_send_buffer(200_000)));
    let mut p = Pair::new(scenario).unwrap();
    p.client.decrypt_on_read();
    p.drive().unwrap();
    // All of it in one send, so no later send has to get past the echoes: they wait
    // encrypted until `read`.
    assert_eq!(p.client.send(&data).unwrap(), data.len());
    p.drive().unwrap();
    assert!(p.client_received().is_empty(), "no data events yet");
    let mut got = Vec::new();
    let mut small = [0u8; 7];
    for _ in 0..1000 {
        let n = p.client.read(&mut small).unwrap();
        got.extend_from_slice(&small[..n]);
    }
    assert_eq!(got.len(), 7000, "each read took 7 bytes");
    // The rest of the queue as one event (no output is pending before it).
    match p.client.poll_output() {
        Output::Event(Event::Data(d)) => got.extend_from_slice(&d),
        other => panic!("expected the queued data, got {other:?}"),
    }
    let mut seen = 0;
    let mut buf = vec![0u8; 4096];
    for _ in 0..10_000 {
        let n = p.client.read(&mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
        // (The pair turns data in the way of its own traffic into events.)
        p.drive().unwrap();
        got.extend_from_slice(&p.client_received()[seen..]);
        seen = p.client_received().len();
        if got.len() >= data.len() {
            break;
        }
    }
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the data came out of order or doubled");
}

/// Read in place, the receive buffer is kept between reads and freed by
/// `release_receive_buffer` (the driver's "nothing to read now") after a small read; the
/// first offers are one record's worth and grow after a full read. Fed by copies, it is
/// freed whenever it is empty.
#[test]
fn reading_in_place_keeps_the_receive_buffer_until_released() {
    let mut p = Pair::new(Scenario::new().behaviour(ServerBehaviour::Echo)).unwrap();
    p.client.send(b"ping").unwrap();
    p.drive().unwrap();
    assert_eq!(p.client_received(), b"ping");
    assert_eq!(p.client.buffered_capacity(), 0, "fed by copies, idle");

    let capacity = |p: &Pair| p.client.buffered_capacity();
    let mut p = Pair::new(Scenario::new().behaviour(ServerBehaviour::Echo)).unwrap();
    p.in_place = true;
    p.client.send(b"hello").unwrap();
    p.drive().unwrap();
    assert_eq!(p.client_received(), b"hello");
    assert!(capacity(&p) >= 1024, "kept between reads");
    p.client.release_receive_buffer();
    let idle = capacity(&p);
    assert!(idle < 4096, "released after a small exchange: {idle} bytes");
    // The first offer is one record's worth, not the whole capacity, and taking it back
    // frees it again.
    let offered = p.client.receive_buffer().len();
    assert_eq!(offered, 17 * 1024);
    assert!(offered < p.client.receive_capacity());
    p.client.release_receive_buffer();
    assert!(capacity(&p) < 4096, "an offer given back is freed");

    // Bulk: after a read of a full record the offers grow to the whole capacity (the
    // pair delivers as much as the client offers).
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut off = 0;
    while off < data.len() {
        off += p.client.send(&data[off..]).unwrap();
        p.drive().unwrap();
    }
    p.drive().unwrap();
    assert!(
        p.client_received()[5..] == data[..],
        "the data came back changed"
    );
    let largest = p.flights().iter().map(Vec::len).max().unwrap_or(0);
    assert!(largest > 64 * 1024, "largest read {largest} bytes");
    assert!(largest <= p.client.receive_capacity());

    // Small again: freed when the driver finds nothing more to read.
    p.client.send(b"ping").unwrap();
    p.drive().unwrap();
    assert!(p.client_received().ends_with(b"ping"));
    assert!(capacity(&p) >= 17 * 1024, "kept between reads");
    p.client.release_receive_buffer();
    let idle = capacity(&p);
    assert!(
        idle < 4096,
        "released after bulk, then a small read: {idle} bytes"
    );
}
