//! `tlsferry bridge` over real loopback sockets: relaying, the allowlist, the Origin policy,
//! the limits, and hostile clients. The WebSocket client here is written by hand on
//! purpose, so tests can also send what no well-behaved client would.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tlsferry_cli::args::Command;
use tlsferry_cli::bridge::{Bridge, BridgeHandle, BridgeOptions};

/// `tlsferry bridge ARGS` parsed by the CLI's parser.
fn parse_args(args: &[String]) -> Result<BridgeOptions, String> {
    let all = std::iter::once("bridge".to_string()).chain(args.iter().cloned());
    match tlsferry_cli::args::parse(all) {
        Ok(Command::Bridge(o)) => Ok(o),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e.0),
    }
}

/// A TCP echo server on 127.0.0.1 that counts its connections; stops with the test process.
struct Echo {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

fn echo_server() -> Echo {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            thread::spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
    Echo { addr, accepted }
}

fn bridge(opts: BridgeOptions) -> BridgeHandle {
    let mut opts = opts;
    opts.listen = "127.0.0.1:0".parse().unwrap();
    opts.log = false;
    Bridge::bind(opts).unwrap().spawn()
}

/// A minimal WebSocket client.
struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

#[derive(Debug, PartialEq)]
enum Msg {
    Binary(Vec<u8>),
    Close(u16, String),
    Pong(Vec<u8>),
    Eof,
}

impl Client {
    fn open(bridge: &BridgeHandle, path: &str, extra_headers: &str) -> (Client, String) {
        let mut s = TcpStream::connect(bridge.local_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n{extra_headers}\r\n",
            bridge.local_addr()
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(
                s.read(&mut byte).unwrap(),
                1,
                "bridge closed during handshake"
            );
            head.push(byte[0]);
        }
        (
            Client { s, buf: Vec::new() },
            String::from_utf8(head).unwrap(),
        )
    }

    fn send_frame(&mut self, first: u8, payload: &[u8]) {
        let mask = [0x11u8, 0x22, 0x33, 0x44];
        let mut out = vec![first];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 65535 => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
        // The peer may close before reading everything; that is what some tests check.
        let _ = self.s.write_all(&out);
    }

    fn send_binary(&mut self, payload: &[u8]) {
        self.send_frame(0x82, payload);
    }

    fn fill(&mut self, n: usize) -> bool {
        let mut chunk = [0u8; 8192];
        while self.buf.len() < n {
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return false,
                Ok(k) => self.buf.extend_from_slice(&chunk[..k]),
            }
        }
        true
    }

    fn recv(&mut self) -> Msg {
        if !self.fill(2) {
            return Msg::Eof;
        }
        let opcode = self.buf[0] & 0x0f;
        assert_eq!(self.buf[1] & 0x80, 0, "server frames are never masked");
        let (len, hdr) = match self.buf[1] & 0x7f {
            126 => {
                assert!(self.fill(4));
                (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
            }
            127 => {
                assert!(self.fill(10));
                (
                    u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize,
                    10,
                )
            }
            n => (n as usize, 2),
        };
        assert!(self.fill(hdr + len), "truncated frame");
        let payload: Vec<u8> = self.buf[hdr..hdr + len].to_vec();
        self.buf.drain(..hdr + len);
        match opcode {
            0x2 => Msg::Binary(payload),
            0xA => Msg::Pong(payload),
            0x8 => Msg::Close(
                u16::from_be_bytes([payload[0], payload[1]]),
                String::from_utf8(payload[2..].to_vec()).unwrap(),
            ),
            other => panic!("unexpected opcode {other}"),
        }
    }

    /// Reads binary frames until `n` bytes arrived.
    fn recv_bytes(&mut self, n: usize) -> Vec<u8> {
        let mut got = Vec::new();
        while got.len() < n {
            match self.recv() {
                Msg::Binary(b) => got.extend(b),
                other => panic!("expected data, got {other:?}"),
            }
        }
        got
    }

    fn expect_close(&mut self) -> (u16, String) {
        loop {
            match self.recv() {
                Msg::Close(code, reason) => return (code, reason),
                Msg::Binary(_) | Msg::Pong(_) => continue,
                Msg::Eof => panic!("connection ended without a close frame"),
            }
        }
    }
}

#[test]
fn relays_bytes_both_ways_with_the_binary_subprotocol() {
    let echo = echo_server();
    let b = bridge(BridgeOptions::new(&[&echo.addr.to_string()]));
    let (mut c, head) = Client::open(&b, "/", "");
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert!(head.contains("Sec-WebSocket-Protocol: binary"));

    let payload: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    // Send in frames of different sizes, one of them fragmented.
    c.send_binary(&payload[..100]);
    c.send_frame(0x02, &payload[100..70_000]); // binary, not final
    c.send_frame(0x80, &payload[70_000..150_000]); // final continuation
    c.send_binary(&payload[150_000..]);
    assert_eq!(c.recv_bytes(payload.len()), payload);

    c.send_frame(0x89, b"are you there"); // ping
    assert_eq!(c.recv(), Msg::Pong(b"are you there".to_vec()));

    c.send_frame(0x88, &1000u16.to_be_bytes());
    assert_eq!(c.expect_close().0, 1000);
}

#[test]
fn chooses_among_several_targets_by_query() {
    let a = echo_server();
    let bb = echo_server();
    let b = bridge(BridgeOptions::new(&[
        &a.addr.to_string(),
        &bb.addr.to_string(),
    ]));
    let (mut c, _) = Client::open(&b, &format!("/?target={}", bb.addr), "");
    c.send_binary(b"hello");
    assert_eq!(c.recv_bytes(5), b"hello");
    assert_eq!(bb.accepted.load(Ordering::SeqCst), 1);
    assert_eq!(a.accepted.load(Ordering::SeqCst), 0);

    // Two targets allowed and none chosen: refused, with a reason.
    let (mut c, _) = Client::open(&b, "/", "");
    let (code, reason) = c.expect_close();
    assert_eq!(code, 1008);
    assert!(reason.contains("no target"), "{reason}");
}

#[test]
fn refuses_a_target_that_is_not_allowlisted() {
    let allowed = echo_server();
    let other = echo_server();
    let b = bridge(BridgeOptions::new(&[&allowed.addr.to_string()]));
    for target in [
        other.addr.to_string(),
        format!("localhost:{}", other.addr.port()),
        "example.com:443".to_string(),
        "%ZZ".to_string(),
    ] {
        let (mut c, head) = Client::open(&b, &format!("/?target={target}"), "");
        assert!(head.starts_with("HTTP/1.1 101"));
        let (code, reason) = c.expect_close();
        assert_eq!(code, 1008, "{target}");
        assert!(reason.starts_with("target not allowed"), "{reason}");
        assert_eq!(c.recv(), Msg::Eof);
    }
    assert_eq!(other.accepted.load(Ordering::SeqCst), 0, "never connected");
}

#[test]
fn origin_policy_defaults_to_loopback_pages() {
    let echo = echo_server();
    let b = bridge(BridgeOptions::new(&[&echo.addr.to_string()]));
    for ok in [
        "http://localhost:8000",
        "http://127.0.0.1:5173",
        "http://[::1]:80",
    ] {
        let (mut c, _) = Client::open(&b, "/", &format!("Origin: {ok}\r\n"));
        c.send_binary(b"x");
        assert_eq!(c.recv_bytes(1), b"x", "{ok}");
    }
    let (mut c, _) = Client::open(&b, "/", "Origin: https://evil.example\r\n");
    let (code, reason) = c.expect_close();
    assert_eq!(code, 1008);
    assert_eq!(reason, "origin not allowed: https://evil.example");
    assert_eq!(echo.accepted.load(Ordering::SeqCst), 3);
}

#[test]
fn allow_origin_lists_the_pages_allowed() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.addr.to_string()]);
    opts.allow_origins = vec!["https://app.example".into()];
    let b = bridge(opts);
    let (mut c, _) = Client::open(&b, "/", "Origin: https://app.example\r\n");
    c.send_binary(b"ok");
    assert_eq!(c.recv_bytes(2), b"ok");
    let (mut c, _) = Client::open(&b, "/", "Origin: http://localhost:8000\r\n");
    assert_eq!(c.expect_close().0, 1008);
}

#[test]
fn enforces_the_connection_limit() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.addr.to_string()]);
    opts.max_connections = 2;
    let b = bridge(opts);
    let (mut c1, _) = Client::open(&b, "/", "");
    let (mut c2, _) = Client::open(&b, "/", "");
    c1.send_binary(b"1");
    c2.send_binary(b"2");
    assert_eq!(c1.recv_bytes(1), b"1");
    assert_eq!(c2.recv_bytes(1), b"2");
    let (mut c3, _) = Client::open(&b, "/", "");
    let (code, reason) = c3.expect_close();
    assert_eq!(code, 1013);
    assert_eq!(reason, "too many connections (limit 2)");

    // A slot frees up once a connection ends.
    c1.send_frame(0x88, &1000u16.to_be_bytes());
    c1.expect_close();
    drop(c1);
    let deadline = Instant::now() + Duration::from_secs(5);
    while b.active_connections() > 1 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let (mut c4, _) = Client::open(&b, "/", "");
    c4.send_binary(b"4");
    assert_eq!(c4.recv_bytes(1), b"4");
}

#[test]
fn enforces_the_frame_size_limit() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.addr.to_string()]);
    opts.max_frame_size = 4096;
    let b = bridge(opts);
    let (mut c, _) = Client::open(&b, "/", "");
    c.send_binary(&[7u8; 4096]);
    assert_eq!(c.recv_bytes(4096), vec![7u8; 4096]);
    c.send_binary(&[7u8; 4097]);
    let (code, reason) = c.expect_close();
    assert_eq!(code, 1009);
    assert!(
        reason.contains("4097") && reason.contains("4096"),
        "{reason}"
    );
}

#[test]
fn closes_idle_connections() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.addr.to_string()]);
    opts.idle_timeout = Duration::from_millis(1200);
    let b = bridge(opts);
    let (mut c, _) = Client::open(&b, "/", "");
    // Activity keeps it open past the timeout.
    for _ in 0..4 {
        thread::sleep(Duration::from_millis(300));
        c.send_binary(b"k");
        assert_eq!(c.recv_bytes(1), b"k");
    }
    let started = Instant::now();
    let (code, reason) = c.expect_close();
    assert_eq!(code, 1001);
    assert!(reason.starts_with("idle timeout"), "{reason}");
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "not before the timeout"
    );
}

#[test]
fn target_closing_ends_the_websocket_cleanly() {
    // A target that sends a greeting and closes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(b"bye").unwrap();
    });
    let b = bridge(BridgeOptions::new(&[&addr.to_string()]));
    let (mut c, _) = Client::open(&b, "/", "");
    assert_eq!(c.recv_bytes(3), b"bye");
    let (code, reason) = c.expect_close();
    assert_eq!(code, 1000);
    assert_eq!(reason, "target closed the connection");
}

#[test]
fn unreachable_target_is_reported() {
    // Bind and drop to find a port with nothing listening.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let b = bridge(BridgeOptions::new(&[&format!("127.0.0.1:{port}")]));
    let (mut c, _) = Client::open(&b, "/", "");
    let (code, reason) = c.expect_close();
    assert_eq!(code, 1011);
    assert!(
        reason.starts_with("cannot connect to 127.0.0.1:"),
        "{reason}"
    );
}

#[test]
fn hostile_clients_never_break_the_bridge() {
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.addr.to_string()]);
    opts.handshake_timeout = Duration::from_millis(500);
    let b = bridge(opts);

    let raw = |bytes: &[u8]| -> String {
        let mut s = TcpStream::connect(b.local_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.write_all(bytes);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    };
    // Not HTTP, not a WebSocket upgrade, wrong version, binary garbage.
    assert!(raw(b"\x16\x03\x01\x00\x05hello\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(raw(b"DELETE / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
    assert!(raw(
        b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 8\r\n\r\n"
    )
    .starts_with("HTTP/1.1 426"));
    // An endless header: answered with 431, not buffered forever.
    let mut endless = b"GET / HTTP/1.1\r\nX: ".to_vec();
    endless.extend(std::iter::repeat_n(b'a', 20_000));
    assert!(raw(&endless).starts_with("HTTP/1.1 431"));
    // Silence: dropped after the handshake timeout.
    let started = Instant::now();
    assert_eq!(raw(b""), "");
    assert!(started.elapsed() < Duration::from_secs(4));

    // After the handshake: an unmasked frame, a text frame, a huge length, random bytes.
    for (bytes, code) in [
        (&[0x82u8, 0x01, 0x41][..], 1002u16),
        (&[0x81, 0x81, 0, 0, 0, 0, 0x41][..], 1003),
        (
            &[0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF][..],
            1009,
        ),
        (&[0x80, 0x81, 0, 0, 0, 0, 0x41][..], 1002), // continuation with no message
        (&[0xF3, 0x13, 0x37, 0x00, 0xFF, 0xAB][..], 1002),
    ] {
        let (mut c, _) = Client::open(&b, "/", "");
        c.s.write_all(bytes).unwrap();
        assert_eq!(c.expect_close().0, code, "{bytes:02x?}");
    }

    // Still serving.
    let (mut c, _) = Client::open(&b, "/", "");
    c.send_binary(b"alive");
    assert_eq!(c.recv_bytes(5), b"alive");
}

#[test]
fn refuses_to_start_without_an_allowlist() {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let err = parse_args(&args(&["--listen", "127.0.0.1:0"])).unwrap_err();
    assert!(err.contains("never an open proxy"), "{err}");
    assert_eq!(
        tlsferry_cli::run(["bridge", "--listen", "127.0.0.1:0"]),
        std::process::ExitCode::from(2)
    );
    assert!(parse_args(&args(&["--allow", "nohost"])).is_err());
    assert!(parse_args(&args(&["--allow", "h:0"])).is_err());
    assert!(parse_args(&args(&["--allow", "::1:443"])).is_err());
    let o = parse_args(&args(&[
        "--allow",
        "Example.COM:443",
        "--allow=[::1]:8443",
        "--max-connections",
        "3",
        "--idle-timeout",
        "1.5",
    ]))
    .unwrap();
    assert_eq!(o.allow, ["example.com:443", "[::1]:8443"]);
    assert_eq!(o.max_connections, 3);
    assert_eq!(o.idle_timeout, Duration::from_millis(1500));
    assert!(o.listen.ip().is_loopback());
}
