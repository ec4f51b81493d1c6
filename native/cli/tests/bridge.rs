//! `tlsferry bridge` over real loopback sockets: relaying, the allowlist, the Origin policy
//! and the limits (answered as HTTP statuses before the upgrade), hostile clients, the
//! `tlsferry.v1` subprotocol (receive credit, half-close), log lines and metrics.

mod bridge_common;

use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use bridge_common::*;
use tlsferry_cli::args::Command;
use tlsferry_cli::bridge::{BridgeOptions, LogFormat};

/// `tlsferry bridge ARGS` parsed by the CLI's parser.
fn parse_args(args: &[&str]) -> Result<BridgeOptions, String> {
    let all = std::iter::once("bridge".to_string()).chain(args.iter().map(|s| s.to_string()));
    match tlsferry_cli::args::parse(all) {
        Ok(Command::Bridge(o)) => Ok(o),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e.0),
    }
}

fn refused(b: &tlsferry_cli::bridge::BridgeHandle, path: &str, extra: &str) -> String {
    http_exchange(
        b.local_addr(),
        upgrade_request(b.local_addr(), path, &["binary"], extra).as_bytes(),
    )
}

#[test]
fn relays_bytes_both_ways_with_the_binary_subprotocol() {
    let echo = echo_server();
    let (b, log) = bridge(BridgeOptions::new(&[&echo.target()]));
    let (mut c, head) = Client::open(b.local_addr(), "/", &["binary"], "");
    assert!(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert!(head.contains("Sec-WebSocket-Protocol: binary"));

    let payload: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    // Frames of different sizes, one message fragmented.
    c.send_binary(&payload[..100]);
    c.send_frame(0x02, &payload[100..70_000]); // binary, not final
    c.send_frame(0x80, &payload[70_000..150_000]); // final continuation
    c.send_binary(&payload[150_000..]);
    assert_eq!(c.recv_bytes(payload.len()), payload);

    c.send_frame(0x89, b"are you there"); // ping
    assert_eq!(c.recv(), Msg::Pong(b"are you there".to_vec()));

    c.send_close(1000);
    assert_eq!(c.expect_close().0, 1000);
    assert_eq!(c.recv(), Msg::Eof);
    let line = log_line(&log, |l| l.contains(" tunnel "));
    assert!(line.contains(" up=200000 down=200000 "), "{line}");
    assert!(line.contains("end=client_closed close=1000"), "{line}");
    assert!(line.contains("protocol=binary"), "{line}");
}

#[test]
fn subprotocols_binary_none_and_unknown() {
    let echo = echo_server();
    let (b, _log) = bridge(BridgeOptions::new(&[&echo.target()]));
    // No subprotocol offered: plain binary frames, no Sec-WebSocket-Protocol answered.
    let (mut c, head) = Client::open(b.local_addr(), "/", &[], "");
    assert!(!head.contains("Sec-WebSocket-Protocol"), "{head}");
    c.send_binary(b"x");
    assert_eq!(c.recv_bytes(1), b"x");
    // tlsferry.v1 wherever it is offered (clients put binary first for websockify).
    let (_c, head) = Client::open(
        b.local_addr(),
        "/",
        &["base64", "binary", "tlsferry.v1"],
        "",
    );
    assert!(
        head.contains("Sec-WebSocket-Protocol: tlsferry.v1\r\n"),
        "{head}"
    );
    let (_c, head) = Client::open(b.local_addr(), "/", &["base64", "binary"], "");
    assert!(
        head.contains("Sec-WebSocket-Protocol: binary\r\n"),
        "{head}"
    );
    let (_c, head) = Client::open(b.local_addr(), "/", &["tlsferry.v1", "binary"], "");
    assert!(
        head.contains("Sec-WebSocket-Protocol: tlsferry.v1\r\n"),
        "{head}"
    );
    // Only unknown ones: refused before the upgrade.
    let r = http_exchange(
        b.local_addr(),
        upgrade_request(b.local_addr(), "/", &["base64"], "").as_bytes(),
    );
    assert_eq!(status_of(&r), 400, "{r}");
    assert!(r.contains("tlsferry.v1, binary"), "{r}");
}

#[test]
fn chooses_among_several_targets_by_query() {
    let a = echo_server();
    let bb = echo_server();
    let (b, _log) = bridge(BridgeOptions::new(&[&a.target(), &bb.target()]));
    let (mut c, _) = Client::open(
        b.local_addr(),
        &format!("/?target={}", bb.addr),
        &["binary"],
        "",
    );
    c.send_binary(b"hello");
    assert_eq!(c.recv_bytes(5), b"hello");
    assert_eq!(bb.accepted.load(Ordering::SeqCst), 1);
    assert_eq!(a.accepted.load(Ordering::SeqCst), 0);

    // Two targets allowed and none chosen: refused before the upgrade, with the reason.
    let r = refused(&b, "/", "");
    assert!(r.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{r}");
    assert!(
        r.ends_with("\r\n\r\nno target: add ?target=HOST:PORT to the URL\n"),
        "{r}"
    );
}

#[test]
fn refuses_targets_off_the_allowlist_with_403_before_the_upgrade() {
    let allowed = echo_server();
    let other = echo_server();
    let (b, log) = bridge(BridgeOptions::new(&[&allowed.target()]));
    for (target, shown) in [
        (other.addr.to_string(), other.addr.to_string()),
        (
            format!("localhost:{}", other.addr.port()),
            format!("localhost:{}", other.addr.port()),
        ),
        ("example.com:443".to_string(), "example.com:443".to_string()),
        (
            "evil%0D%0AX-Forged:%201%1B[31m".to_string(),
            "evil\\r\\nX-Forged: 1\\u{1b}[31m".to_string(),
        ),
    ] {
        let r = refused(&b, &format!("/?target={target}"), "");
        assert!(r.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{r}");
        assert!(
            r.contains(&format!("\r\n\r\ntarget not allowed: {shown}\n")),
            "{r}"
        );
        assert!(!r.contains("\r\nX-Forged"), "{r}");
    }
    let r = refused(&b, "/?target=%ZZ", "");
    assert_eq!(status_of(&r), 400, "{r}");
    assert_eq!(other.accepted.load(Ordering::SeqCst), 0, "never connected");
    // The log line escapes the decoded target: one line, no escape character.
    let line = log_line(&log, |l| l.contains("X-Forged"));
    assert!(line.contains("refused status=403"), "{line}");
    assert!(
        line.contains("target=\"evil\\r\\nX-Forged: 1\\u{1b}[31m\""),
        "{line}"
    );
    assert!(!line.contains('\u{1b}') && !line.contains('\r'));
}

#[test]
fn origin_policy_defaults_to_loopback_pages() {
    let echo = echo_server();
    let (b, _log) = bridge(BridgeOptions::new(&[&echo.target()]));
    for ok in [
        "http://localhost:8000",
        "http://127.0.0.1:5173",
        "http://[::1]:80",
    ] {
        let (mut c, _) = Client::open(
            b.local_addr(),
            "/",
            &["binary"],
            &format!("Origin: {ok}\r\n"),
        );
        c.send_binary(b"x");
        assert_eq!(c.recv_bytes(1), b"x", "{ok}");
    }
    let r = refused(&b, "/", "Origin: https://evil.example\r\n");
    assert!(r.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{r}");
    assert!(
        r.ends_with("\r\n\r\norigin not allowed: https://evil.example\n"),
        "{r}"
    );
    assert_eq!(echo.accepted.load(Ordering::SeqCst), 3);
}

#[test]
fn allow_origin_lists_the_pages_allowed() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.target()]);
    opts.allow_origins = vec!["https://app.example".into()];
    let (b, _log) = bridge(opts);
    let (mut c, _) = Client::open(
        b.local_addr(),
        "/",
        &["binary"],
        "Origin: https://app.example\r\n",
    );
    c.send_binary(b"ok");
    assert_eq!(c.recv_bytes(2), b"ok");
    assert_eq!(
        status_of(&refused(&b, "/", "Origin: http://localhost:8000\r\n")),
        403
    );
}

#[test]
fn over_the_tunnel_limit_clients_get_503_with_retry_after() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.target()]);
    opts.max_connections = Some(2);
    let (b, _log) = bridge(opts);
    let (mut c1, _) = Client::open(b.local_addr(), "/", &["binary"], "");
    let (mut c2, _) = Client::open(b.local_addr(), "/", &["binary"], "");
    c1.send_binary(b"1");
    c2.send_binary(b"2");
    assert_eq!(c1.recv_bytes(1), b"1");
    assert_eq!(c2.recv_bytes(1), b"2");
    let r = refused(&b, "/", "");
    assert!(r.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{r}");
    assert!(r.contains("\r\nRetry-After: 2\r\n"), "{r}");
    assert!(r.contains("too many tunnels (limit 2)"), "{r}");
    assert_eq!(echo.accepted.load(Ordering::SeqCst), 2);

    // A slot frees up once a tunnel ends.
    c1.send_close(1000);
    c1.expect_close();
    drop(c1);
    assert!(wait_until(10, || b.active_connections() == 1));
    let (mut c4, _) = Client::open(b.local_addr(), "/", &["binary"], "");
    c4.send_binary(b"4");
    assert_eq!(c4.recv_bytes(1), b"4");
}

#[test]
fn per_address_cap_answers_429_and_spares_other_addresses() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.target()]);
    opts.max_per_ip = 2;
    let (b, _log) = bridge(opts);
    let addr = b.local_addr();
    let _c1 = Client::open(addr, "/", &["binary"], "");
    let _c2 = Client::open(addr, "/", &["binary"], "");
    let r = refused(&b, "/", "");
    assert!(r.starts_with("HTTP/1.1 429 Too Many Requests\r\n"), "{r}");
    assert!(r.contains("\r\nRetry-After: 2\r\n"), "{r}");
    let other: IpAddr = "127.0.0.2".parse().unwrap();
    let s = tcp_from(other, addr);
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let (mut c3, _) =
        Client::handshake(s, addr, "/", &["binary"], "").expect("another address is served");
    c3.send_binary(b"3");
    assert_eq!(c3.recv_bytes(1), b"3");
}

#[test]
fn enforces_the_message_size_limit() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.target()]);
    opts.max_frame_size = 4096;
    let (b, log) = bridge(opts);
    let (mut c, _) = Client::open(b.local_addr(), "/", &["binary"], "");
    c.send_binary(&[7u8; 4096]);
    assert_eq!(c.recv_bytes(4096), vec![7u8; 4096]);
    c.send_binary(&[7u8; 4097]);
    let (code, reason) = c.expect_close();
    assert_eq!(code, 1009);
    assert!(
        reason.contains("4097") && reason.contains("4096"),
        "{reason}"
    );
    let line = log_line(&log, |l| l.contains(" tunnel "));
    assert!(line.contains("end=too_big close=1009"), "{line}");
}

#[test]
fn closes_idle_tunnels_but_not_busy_ones() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.target()]);
    opts.idle_timeout = Duration::from_secs(2);
    let (b, log) = bridge(opts);
    let (mut c, _) = Client::open(b.local_addr(), "/", &["binary"], "");
    // Activity keeps it open past the timeout.
    for _ in 0..6 {
        thread::sleep(Duration::from_millis(500));
        c.send_binary(b"k");
        assert_eq!(c.recv_bytes(1), b"k");
    }
    let (code, reason) = c.expect_close();
    assert_eq!(code, 1001);
    assert!(reason.starts_with("idle timeout"), "{reason}");
    let line = log_line(&log, |l| l.contains(" tunnel "));
    assert!(line.contains("end=idle close=1001"), "{line}");
    assert!(wait_until(10, || b.active_connections() == 0));
}

#[test]
fn binary_subprotocol_ends_the_tunnel_when_the_target_closes() {
    // A target that sends a greeting, half-closes, and would still read: with `binary`
    // there is no half-close, so the tunnel ends (README: "The bridge protocol").
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(b"bye").unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    });
    let (b, log) = bridge(BridgeOptions::new(&[&addr.to_string()]));
    let (mut c, _) = Client::open(b.local_addr(), "/", &["binary"], "");
    assert_eq!(c.recv_bytes(3), b"bye");
    assert_eq!(
        c.expect_close(),
        (1000, "target closed the connection".into())
    );
    let line = log_line(&log, |l| l.contains(" tunnel "));
    assert!(line.contains("end=target_closed close=1000"), "{line}");
}

#[test]
fn unreachable_target_is_a_502_before_the_upgrade() {
    // Bind and drop to find a port with nothing listening.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (b, _log) = bridge(BridgeOptions::new(&[&format!("127.0.0.1:{port}")]));
    let r = refused(&b, "/", "");
    assert!(r.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{r}");
    assert!(
        r.contains(&format!("cannot connect to 127.0.0.1:{port}")),
        "{r}"
    );
    assert!(wait_until(10, || b.active_connections() == 0));
}

#[test]
fn hostile_request_heads_get_a_status_never_a_hang() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.target()]);
    opts.handshake_timeout = Duration::from_millis(700);
    let (b, _log) = bridge(opts);
    let raw = |bytes: &[u8]| http_exchange(b.local_addr(), bytes);
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let up =
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nHost: x\r\n";
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (b"\x16\x03\x01\x00\x05hello\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400),
        (b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 405),
        (b"GET / HTTP/1.0\r\nHost: x\r\n\r\n".to_vec(), 505),
        (
            format!("GET / HTTP/1.1\r\n{up}{key}\r\n")
                .replace("Version: 13", "Version: 8")
                .into_bytes(),
            426,
        ),
        (
            format!("GET / HTTP/1.1\r\n{up}Sec-WebSocket-Key: x\r\n\r\n").into_bytes(),
            400,
        ),
        (
            format!("GET / HTTP/1.1\r\n{up}{key}\r\n")
                .replace("Host: x\r\n", "Host: x\n")
                .into_bytes(),
            400,
        ),
        (format!("GET / HTTP/1.1\n{up}{key}\n").into_bytes(), 400),
    ];
    for (bytes, want) in cases {
        let r = raw(&bytes);
        assert_eq!(
            status_of(&r),
            want,
            "{:?} -> {r}",
            String::from_utf8_lossy(&bytes)
        );
        assert!(r.contains("\r\nContent-Length: "), "{r}");
    }
    let r = raw(format!("GET / HTTP/1.1\r\n{up}{key}\r\n")
        .replace("Host: x\r\n", "")
        .as_bytes());
    assert_eq!(status_of(&r), 400, "missing Host: {r}");
    // A 1 MiB request head: answered 431, and the answer is not lost to a reset.
    let mut huge = b"GET / HTTP/1.1\r\nX: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 1 << 20));
    let r = raw(&huge);
    assert!(
        r.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{r:.200}"
    );
    // Silence: 408 after the handshake timeout.
    let r = raw(b"GET / HT");
    assert_eq!(status_of(&r), 408, "{r}");
    assert!(wait_until(10, || b.handshakes_in_progress() == 0));

    // After the upgrade: broken frames get the close code RFC 6455 asks for.
    for (bytes, code) in [
        (&[0x82u8, 0x01, 0x41][..], 1002u16),        // unmasked
        (&[0x81, 0x81, 0, 0, 0, 0, 0x41][..], 1003), // text in `binary`
        (
            &[
                0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4,
            ][..],
            1009,
        ), // 2^63 - 1 bytes
        (&[0x80, 0x81, 0, 0, 0, 0, 0x41][..], 1002), // continuation, no message
        (&[0xF3, 0x13, 0x37, 0x00, 0xFF, 0xAB][..], 1002), // reserved bits
        (&[0x88, 0x81, 0, 0, 0, 0, 0x03][..], 1002), // close with a 1-byte body
        (&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xED][..], 1002), // close code 1005 on the wire
        (&[0x88, 0x83, 0, 0, 0, 0, 0x03, 0xE8, 0xFF][..], 1007), // close reason not UTF-8
        (&[0x09, 0x80, 0, 0, 0, 0][..], 1002),       // fragmented ping
    ] {
        let (mut c, _) = Client::open(b.local_addr(), "/", &["binary"], "");
        c.s.write_all(bytes).unwrap();
        assert_eq!(c.expect_close().0, code, "{bytes:02x?}");
    }

    // Still serving.
    let (mut c, _) = Client::open(b.local_addr(), "/", &["binary"], "");
    c.send_binary(b"alive");
    assert_eq!(c.recv_bytes(5), b"alive");
}

/// A target that writes a counter pattern as fast as the bridge reads it, counting what
/// the kernel took; it never reads.
fn firehose() -> (std::net::SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let written = Arc::new(AtomicU64::new(0));
    let w = written.clone();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let chunk: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
        // 256 MiB at most: far more than every socket buffer on the way together.
        for _ in 0..4096 {
            if s.write_all(&chunk).is_err() {
                break;
            }
            w.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        }
    });
    (addr, written)
}

#[test]
fn tlsferry_v1_reads_the_target_only_within_the_credit() {
    let (target, written) = firehose();
    let (b, _log) = bridge(BridgeOptions::new(&[&target.to_string()]));
    let (mut c, head) = Client::open(b.local_addr(), "/", &["tlsferry.v1", "binary"], "");
    assert!(head.contains("Sec-WebSocket-Protocol: tlsferry.v1\r\n"));
    // No credit yet: nothing may arrive.
    c.set_read_timeout(Duration::from_millis(500));
    assert!(matches!(c.recv(), Msg::Eof), "no data without credit");
    // `recv` timed out; the socket is fine. Grant 100,000 bytes.
    c.set_read_timeout(Duration::from_secs(15));
    c.send_text("credit 100000");
    let got = c.recv_bytes(100_000);
    assert_eq!(got.len(), 100_000, "never more than granted");
    assert!(got
        .iter()
        .enumerate()
        .all(|(i, b)| *b == ((i % 65536) % 251) as u8));
    c.set_read_timeout(Duration::from_millis(700));
    assert!(matches!(c.recv(), Msg::Eof), "nothing beyond the credit");

    // TCP back-pressure reaches the target: its writes block, far short of what it wants
    // to write, and stay blocked.
    assert!(wait_until(15, || {
        let a = written.load(Ordering::SeqCst);
        thread::sleep(Duration::from_millis(300));
        a == written.load(Ordering::SeqCst)
    }));
    let blocked_at = written.load(Ordering::SeqCst);
    assert!(
        blocked_at < 64 << 20,
        "the target wrote {blocked_at} bytes: not held back"
    );
    thread::sleep(Duration::from_millis(500));
    assert_eq!(written.load(Ordering::SeqCst), blocked_at, "still blocked");

    // More credit: exactly that much more arrives, and the target moves on.
    c.set_read_timeout(Duration::from_secs(15));
    c.send_text("credit 8388608");
    let more = c.recv_bytes(8 << 20);
    assert_eq!(more.len(), 8 << 20);
    assert!(wait_until(15, || written.load(Ordering::SeqCst) > blocked_at));
    c.set_read_timeout(Duration::from_millis(500));
    assert!(matches!(c.recv(), Msg::Eof), "nothing beyond the credit");
}

#[test]
fn tlsferry_v1_half_close_keeps_the_other_direction_open() {
    // The target sends a greeting and half-closes, then reads until the client's eof.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(b"hello").unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut got = Vec::new();
        let r = s.read_to_end(&mut got).map(|_| got);
        tx.send(r.map_err(|e| e.to_string())).unwrap();
    });
    let (b, log) = bridge(BridgeOptions::new(&[&addr.to_string()]));
    let (mut c, _) = Client::open(b.local_addr(), "/", &["tlsferry.v1"], "");
    c.send_text("credit 65536");
    assert_eq!(c.recv(), Msg::Binary(b"hello".to_vec()));
    assert_eq!(
        c.recv(),
        Msg::Text("eof".into()),
        "the target's FIN, as eof"
    );
    // Issue 17 item 6: the client→target direction stays open.
    c.send_binary(b"still ");
    c.send_binary(b"talking");
    c.send_text("eof");
    let got = rx.recv_timeout(Duration::from_secs(15)).unwrap().unwrap();
    assert_eq!(got, b"still talking", "the target read both, then our FIN");
    assert_eq!(c.expect_close(), (1000, "both sides sent eof".into()));
    let line = log_line(&log, |l| l.contains(" tunnel "));
    assert!(
        line.contains("protocol=tlsferry.v1 up=13 down=5 "),
        "{line}"
    );
    assert!(line.contains("end=completed close=1000"), "{line}");
}

#[test]
fn tlsferry_v1_client_eof_reaches_the_target_as_fin() {
    // An echo target: after our eof it sees EOF, closes, and the bridge sends eof back.
    let echo = echo_server();
    let (b, _log) = bridge(BridgeOptions::new(&[&echo.target()]));
    let (mut c, _) = Client::open(b.local_addr(), "/", &["tlsferry.v1"], "");
    c.send_text("credit 1000");
    c.send_binary(b"ping");
    c.send_text("eof");
    assert_eq!(c.recv(), Msg::Binary(b"ping".to_vec()));
    assert_eq!(c.recv(), Msg::Text("eof".into()));
    assert_eq!(c.expect_close().0, 1000);
}

#[test]
fn tlsferry_v1_protocol_errors_close_with_1002() {
    let echo = echo_server();
    let (b, _log) = bridge(BridgeOptions::new(&[&echo.target()]));
    let cases: &[&[&str]] = &[
        &["credit 0"],
        &["credit -5"],
        &["hello"],
        &["credit 67108864", "credit 1"],
        &["eof", "eof"],
    ];
    for msgs in cases {
        let (mut c, _) = Client::open(b.local_addr(), "/", &["tlsferry.v1"], "");
        for m in *msgs {
            c.send_text(m);
        }
        assert_eq!(c.expect_close().0, 1002, "{msgs:?}");
    }
    let (mut c, _) = Client::open(b.local_addr(), "/", &["tlsferry.v1"], "");
    c.send_text("eof");
    c.send_binary(b"late");
    assert_eq!(c.expect_close(), (1002, "data after eof".into()));
    let (mut c, _) = Client::open(b.local_addr(), "/", &["tlsferry.v1"], "");
    c.send_frame(0x81, &[0xff, 0xfe]);
    assert_eq!(c.expect_close().0, 1007, "text that is not UTF-8");
}

#[test]
fn json_log_lines_are_escaped_and_carry_the_true_reason() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.target()]);
    opts.log = LogFormat::Json;
    let (b, log) = bridge(opts);
    let (mut c, _) = Client::open(
        b.local_addr(),
        "/",
        &["binary"],
        "Origin: http://localhost:1\r\n",
    );
    c.send_binary(b"abc");
    assert_eq!(c.recv_bytes(3), b"abc");
    drop(c); // gone without a close frame
    let line = log_line(&log, |l| l.contains("\"event\":\"tunnel\""));
    assert!(line.starts_with("{\"ts\":\""), "{line}");
    assert!(line.contains("\"origin\":\"http://localhost:1\""), "{line}");
    assert!(line.contains("\"bytes_up\":3,\"bytes_down\":3"), "{line}");
    assert!(line.contains("\"end\":\"client_gone\""), "{line}");
    let r = refused(&b, "/", "Origin: http://x\u{1b}]0;pwned\u{7}\r\n");
    assert_eq!(status_of(&r), 400, "control characters in a header: {r}");
    let r = refused(&b, "/?target=a%22b%0A%E2%80%A8", "");
    assert_eq!(status_of(&r), 403);
    let line = log_line(&log, |l| l.contains("\"status\":403"));
    assert!(line.contains("\"target\":\"a\\\"b\\n\\u2028\""), "{line}");
    assert!(line.bytes().all(|b| (0x20..0x7f).contains(&b)), "{line}");
}

#[test]
fn metrics_after_a_known_sequence() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.target()]);
    opts.metrics = Some("127.0.0.1:0".parse().unwrap());
    let (b, _log) = bridge(opts);
    let m = b.metrics_addr().unwrap();
    let health = http_get(m, "/healthz");
    assert!(
        health.starts_with("HTTP/1.1 200 OK\r\n") && health.ends_with("ok\n"),
        "{health}"
    );

    for n in [10usize, 5] {
        let (mut c, _) = Client::open(b.local_addr(), "/", &["binary"], "");
        c.send_binary(&vec![1u8; n]);
        assert_eq!(c.recv_bytes(n).len(), n);
        c.send_close(1000);
        c.expect_close();
    }
    assert_eq!(
        status_of(&refused(&b, "/", "Origin: https://evil.example\r\n")),
        403
    );
    assert_eq!(status_of(&refused(&b, "/?target=elsewhere:1", "")), 403);
    assert_eq!(
        status_of(&http_exchange(
            b.local_addr(),
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        )),
        400
    );
    let (_open, _) = Client::open(b.local_addr(), "/", &["binary"], "");
    assert!(wait_until(10, || b.active_connections() == 1));

    let text = http_get(m, "/metrics");
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4"),
        "{text}"
    );
    let v = |s: &str| metric(&text, s);
    assert_eq!(v("tlsferry_bridge_tunnels_opened_total"), 3.0, "{text}");
    assert_eq!(v("tlsferry_bridge_tunnels_active"), 1.0);
    assert_eq!(v("tlsferry_bridge_handshakes_in_progress"), 0.0);
    assert_eq!(v("tlsferry_bridge_refusals_total{reason=\"origin\"}"), 1.0);
    assert_eq!(v("tlsferry_bridge_refusals_total{reason=\"target\"}"), 1.0);
    assert_eq!(
        v("tlsferry_bridge_refusals_total{reason=\"bad_request\"}"),
        1.0
    );
    assert_eq!(
        v("tlsferry_bridge_refusals_total{reason=\"tunnels_full\"}"),
        0.0
    );
    assert_eq!(v("tlsferry_bridge_bytes_total{direction=\"up\"}"), 15.0);
    assert_eq!(v("tlsferry_bridge_bytes_total{direction=\"down\"}"), 15.0);
    assert_eq!(
        v("tlsferry_bridge_tunnel_ends_total{reason=\"client_closed\"}"),
        2.0
    );
    assert_eq!(v("tlsferry_bridge_tunnel_duration_seconds_count"), 2.0);
    assert_eq!(
        v("tlsferry_bridge_tunnel_duration_seconds_bucket{le=\"+Inf\"}"),
        2.0
    );
    assert_eq!(
        v("tlsferry_bridge_tunnel_duration_seconds_bucket{le=\"86400\"}"),
        2.0
    );
    assert!(v("tlsferry_bridge_tunnel_duration_seconds_sum") > 0.0);
    assert!(text.contains("# TYPE tlsferry_bridge_tunnel_duration_seconds histogram\n"));
    assert_eq!(status_of(&http_get(m, "/nope")), 404);
}

#[test]
fn refuses_to_start_without_an_allowlist() {
    let err = parse_args(&["--listen", "127.0.0.1:0"]).unwrap_err();
    assert!(err.contains("never an open proxy"), "{err}");
    assert_eq!(
        tlsferry_cli::run(["bridge", "--listen", "127.0.0.1:0"]),
        std::process::ExitCode::from(2)
    );
    assert!(parse_args(&["--allow", "nohost"]).is_err());
    assert!(parse_args(&["--allow", "h:0"]).is_err());
    assert!(parse_args(&["--allow", "::1:443"]).is_err());
    let o = parse_args(&[
        "--allow",
        "Example.COM:443",
        "--allow=[::1]:8443",
        "--max-connections",
        "3",
        "--idle-timeout",
        "1.5",
    ])
    .unwrap();
    assert_eq!(o.allow, ["example.com:443", "[::1]:8443"]);
    assert_eq!(o.max_connections, Some(3));
    assert_eq!(o.idle_timeout, Duration::from_millis(1500));
    assert!(o.listen.ip().is_loopback());
    // A certificate that is not there: exit 2, naming the file.
    assert_eq!(
        tlsferry_cli::run([
            "bridge",
            "--listen",
            "127.0.0.1:0",
            "--allow",
            "h:1",
            "--cert",
            "/nonexistent/c.pem",
            "--key",
            "/nonexistent/k.pem"
        ]),
        std::process::ExitCode::from(2)
    );
}
