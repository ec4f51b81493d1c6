//! `tlsferry bridge` under load and abuse, on loopback: a thousand idle tunnels while new
//! clients are served, peers that stop reading (released within the idle timeout after
//! the client leaves, with the true reason), slow-header connections under the default
//! settings, and the handshake cap. Bounded: every wait has a generous deadline; speed is
//! measured by `tests/bench`, not asserted here.

mod bridge_common;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bridge_common::*;
use tlsferry_cli::bridge::BridgeOptions;

/// Client source addresses 127.0.1.1 … 127.0.1.n (loopback is a /8).
fn source(i: usize, n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1 + (i % n) as u8))
}

#[test]
fn a_thousand_idle_tunnels_and_new_clients_are_still_served() {
    let fds = raise_fd_limit();
    // Four descriptors per tunnel live in this process: client, bridge ×2, target.
    assert!(
        fds >= 4_600,
        "needs a hard RLIMIT_NOFILE of at least 4600, have {fds}"
    );
    let echo = tokio_echo();
    let mut opts = BridgeOptions::new(&[&echo.addr.to_string()]);
    opts.metrics = Some("127.0.0.1:0".parse().unwrap());
    let (b, _log) = bridge(opts);
    assert!(b.limits().tunnels >= 1_000, "{:?}", b.limits());
    let addr = b.local_addr();

    // From 8 addresses, 125 each: within the default per-address cap.
    let mut idle = Vec::with_capacity(1000);
    for i in 0..1000 {
        let s = tcp_from(source(i, 8), addr);
        let (mut c, _) = Client::handshake(s, addr, "/", &["tlsferry.v1"], "").expect("upgrade");
        c.send_text("credit 65536");
        c.send_binary(&[i as u8]);
        assert_eq!(c.recv_bytes(1), [i as u8]);
        idle.push(c);
    }
    assert!(wait_until(10, || b.active_connections() == 1000));
    assert_eq!(echo.open.load(Ordering::SeqCst), 1000);

    // While they are held, new clients are served, each well within the bound.
    for _ in 0..10 {
        let started = Instant::now();
        let (mut c, _) = Client::open(addr, "/", &["binary"], "");
        c.send_binary(b"new");
        assert_eq!(c.recv_bytes(3), b"new");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(5), "a new client took {took:?}");
        c.send_close(1000);
        c.expect_close();
    }
    let text = http_get(b.metrics_addr().unwrap(), "/metrics");
    assert!(
        metric(&text, "tlsferry_bridge_tunnels_active") >= 1000.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, "tlsferry_bridge_client_addresses"),
        8.0,
        "{text}"
    );

    // The idle ones still work, and all of them are released when they leave.
    for (i, c) in idle.iter_mut().enumerate().step_by(97) {
        c.send_binary(b"still");
        assert_eq!(c.recv_bytes(5), b"still", "tunnel {i}");
    }
    drop(idle);
    assert!(
        wait_until(30, || b.active_connections() == 0),
        "{} left",
        b.active_connections()
    );
    assert!(wait_until(30, || echo.open.load(Ordering::SeqCst) == 0));
}

#[test]
fn a_target_that_stops_reading_is_released_within_the_idle_timeout() {
    let deaf = deaf_server();
    let mut opts = BridgeOptions::new(&[&deaf.addr.to_string()]);
    opts.idle_timeout = Duration::from_secs(2);
    let (b, log) = bridge(opts);
    let (mut c, _) = Client::open(b.local_addr(), "/", &["binary"], "");
    // Send until the back-pressure reaches us (the target never reads).
    c.s.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let frame = vec![0u8; 64 * 1024];
    let mut sent = 0usize;
    while sent < (512 << 20) {
        let mut wire = vec![0x82u8, 0xFF];
        wire.extend_from_slice(&(frame.len() as u64).to_be_bytes());
        wire.extend_from_slice(&[0, 0, 0, 0]);
        wire.extend_from_slice(&frame);
        if c.s.write_all(&wire).is_err() {
            break;
        }
        sent += frame.len();
    }
    assert!(sent < 512 << 20, "never blocked");
    // The client leaves (its socket closes; the bridge may or may not see it while stuck
    // writing to the target).
    let left = Instant::now();
    drop(c);
    assert!(
        wait_until(12, || b.active_connections() == 0),
        "tunnel still open {:?} after the client left",
        left.elapsed()
    );
    let took = left.elapsed();
    assert!(took < Duration::from_secs(2 + 6), "released after {took:?}");
    let line = log_line(&log, |l| l.contains(" tunnel "));
    assert!(
        line.contains("end=target_stalled") || line.contains("end=client_gone"),
        "{line}"
    );
    assert!(
        deaf.all_closed_within(10),
        "the target connection was closed too"
    );
}

#[test]
fn a_tunnel_to_a_target_that_stalls_says_so() {
    // Client stays connected: the only thing wrong is the target, and the log says so.
    let deaf = deaf_server();
    let mut opts = BridgeOptions::new(&[&deaf.addr.to_string()]);
    opts.idle_timeout = Duration::from_secs(2);
    let (b, log) = bridge(opts);
    let (mut c, _) = Client::open(b.local_addr(), "/", &["binary"], "");
    let writer = {
        let mut s = c.s.try_clone().unwrap();
        thread::spawn(move || {
            let mut wire = vec![0x82u8, 0xFF];
            wire.extend_from_slice(&(65536u64).to_be_bytes());
            wire.extend_from_slice(&[0, 0, 0, 0]);
            wire.extend_from_slice(&[0u8; 65536]);
            for _ in 0..8192 {
                if s.write_all(&wire).is_err() {
                    break;
                }
            }
        })
    };
    let (code, reason) = c.expect_close();
    assert_eq!(code, 1011);
    assert!(
        reason.starts_with("target stopped reading (no write progress for 2 s)"),
        "{reason}"
    );
    let line = log_line(&log, |l| l.contains(" tunnel "));
    assert!(line.contains("end=target_stalled close=1011"), "{line}");
    drop(c);
    let _ = writer.join();
    assert!(wait_until(10, || b.active_connections() == 0));
    assert!(deaf.all_closed_within(10));
}

#[test]
fn a_client_that_stops_reading_is_released_within_the_idle_timeout() {
    // A target that writes without end; the client reads nothing.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    let target_done = Arc::new(AtomicBool::new(false));
    let done = target_done.clone();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let chunk = vec![7u8; 65536];
        while s.write_all(&chunk).is_ok() {}
        done.store(true, Ordering::SeqCst);
    });
    let mut opts = BridgeOptions::new(&[&target.to_string()]);
    opts.idle_timeout = Duration::from_secs(2);
    let (b, log) = bridge(opts);
    let (c, _) = Client::open(b.local_addr(), "/", &["binary"], "");
    let opened = Instant::now();
    assert!(
        wait_until(15, || b.active_connections() == 0),
        "a client that does not read holds its tunnel"
    );
    assert!(
        opened.elapsed() < Duration::from_secs(2 + 8),
        "{:?}",
        opened.elapsed()
    );
    let line = log_line(&log, |l| l.contains(" tunnel "));
    assert!(line.contains("end=client_stalled"), "{line}");
    assert!(
        line.contains("client stopped reading (no write progress for 2 s)"),
        "{line}"
    );
    assert!(
        wait_until(10, || target_done.load(Ordering::SeqCst)),
        "target connection closed"
    );
    // The client's socket was closed too: reading it reaches an end.
    let mut s: &TcpStream = &c.s;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

#[test]
fn a_client_that_sends_without_reading_through_an_echo_target_then_leaves() {
    // Issue 14's leak: send to an echo target without reading, disconnect.
    let echo = tokio_echo();
    let mut opts = BridgeOptions::new(&[&echo.addr.to_string()]);
    opts.idle_timeout = Duration::from_secs(2);
    let (b, _log) = bridge(opts);
    for _ in 0..8 {
        let (mut c, _) = Client::open(b.local_addr(), "/", &["binary"], "");
        c.s.set_write_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut wire = vec![0x82u8, 0xFF];
        wire.extend_from_slice(&(65536u64).to_be_bytes());
        wire.extend_from_slice(&[0, 0, 0, 0]);
        wire.extend_from_slice(&[1u8; 65536]);
        for _ in 0..8192 {
            if c.s.write_all(&wire).is_err() {
                break;
            }
        }
    }
    let left = Instant::now();
    assert!(
        wait_until(12, || b.active_connections() == 0),
        "{} still open",
        b.active_connections()
    );
    assert!(
        left.elapsed() < Duration::from_secs(2 + 6),
        "{:?}",
        left.elapsed()
    );
    assert!(wait_until(10, || echo.open.load(Ordering::SeqCst) == 0));
}

#[test]
fn slow_header_connections_under_default_settings_do_not_lock_out_good_clients() {
    raise_fd_limit();
    let echo = echo_server();
    let (b, log) = bridge(BridgeOptions::new(&[&echo.target()]));
    let addr = b.local_addr();
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
        slow.push(s);
    }
    assert!(wait_until(10, || b.handshakes_in_progress() == 200));
    for i in 0..20 {
        let (mut c, _) = Client::open(addr, "/", &["binary"], "");
        c.send_binary(&[i]);
        assert_eq!(c.recv_bytes(1), [i], "good client {i}");
    }
    assert_eq!(echo.accepted.load(Ordering::SeqCst), 20);
    // …while the slow ones were all still held (none timed out to make room).
    assert_eq!(b.handshakes_in_progress(), 200);
    // The slow ones are answered 408 at the (default, 5 s) handshake timeout and closed.
    assert!(wait_until(20, || b.handshakes_in_progress() == 0));
    for s in slow.iter_mut().step_by(40) {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = String::new();
        let _ = s.read_to_string(&mut r);
        assert_eq!(status_of(&r), 408, "{r}");
    }
    let line = log_line(&log, |l| l.contains("status=408"));
    assert!(line.contains("end=handshake_timeout"), "{line}");
}

#[test]
fn the_handshake_cap_answers_503_at_once() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.target()]);
    opts.max_handshakes = Some(5);
    opts.handshake_timeout = Duration::from_secs(30);
    let (b, _log) = bridge(opts);
    let addr = b.local_addr();
    let silent: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(addr).unwrap()).collect();
    assert!(wait_until(10, || b.handshakes_in_progress() == 5));
    let started = Instant::now();
    let r = http_exchange(addr, upgrade_request(addr, "/", &["binary"], "").as_bytes());
    assert!(r.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{r}");
    assert!(r.contains("\r\nRetry-After: 2\r\n"), "{r}");
    assert!(
        r.contains("too many handshakes in progress (limit 5)"),
        "{r}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered at once, not at a timeout"
    );
    drop(silent);
    assert!(wait_until(10, || b.handshakes_in_progress() == 0));
    let (mut c, _) = Client::open(addr, "/", &["binary"], "");
    c.send_binary(b"ok");
    assert_eq!(c.recv_bytes(2), b"ok");
}
