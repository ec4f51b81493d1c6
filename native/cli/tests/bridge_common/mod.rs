//! What the bridge test suites share: loopback targets (an echo server, a tokio echo server
//! for thousands of connections, a target that never reads), a hand-written WebSocket
//! client (so that tests can also send what no well-behaved client would), plain HTTP
//! exchanges, and the metrics scrape.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tlsferry_cli::bridge::{Bridge, BridgeHandle, BridgeOptions, LogCapture};

/// Raises this test process's soft descriptor limit to the hard one; returns it.
pub fn raise_fd_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024)
}

/// Waits until `cond` holds, up to `secs` seconds; false if it never did.
pub fn wait_until(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// A bridge on 127.0.0.1:0 with `opts`, its log kept in memory.
pub fn bridge(opts: BridgeOptions) -> (BridgeHandle, LogCapture) {
    let mut opts = opts;
    opts.listen = "127.0.0.1:0".parse().unwrap();
    opts.worker_threads = Some(2);
    let mut b = Bridge::bind(opts).unwrap();
    let log = b.capture_log();
    (b.spawn(), log)
}

/// A TCP echo server on 127.0.0.1 (a thread per connection) that counts connections.
pub struct Echo {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
}

impl Echo {
    pub fn target(&self) -> String {
        self.addr.to_string()
    }
}

pub fn echo_server() -> Echo {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            thread::spawn(move || {
                let mut buf = [0u8; 16384];
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

/// An echo server on its own small tokio runtime, for thousands of connections; counts
/// the connections open now.
pub struct TokioEcho {
    pub addr: SocketAddr,
    pub open: Arc<AtomicUsize>,
}

pub fn tokio_echo() -> TokioEcho {
    let std_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let open = Arc::new(AtomicUsize::new(0));
    let count = open.clone();
    thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let count = count.clone();
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    loop {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if s.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    count.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
    });
    TokioEcho { addr, open }
}

/// A target that accepts and never reads, and can tell which of its connections the
/// bridge has closed (by peeking, which leaves the unread bytes where they are).
pub struct Deaf {
    pub addr: SocketAddr,
    pub conns: Arc<Mutex<Vec<TcpStream>>>,
}

pub fn deaf_server() -> Deaf {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let conns = Arc::new(Mutex::new(Vec::new()));
    let keep = conns.clone();
    thread::spawn(move || {
        for s in listener.incoming().flatten() {
            keep.lock().unwrap().push(s);
        }
    });
    Deaf { addr, conns }
}

impl Deaf {
    /// How many connections it has accepted.
    pub fn accepted(&self) -> usize {
        self.conns.lock().unwrap().len()
    }

    /// Reads every connection it holds to its end: true if each one ended (FIN or reset
    /// from the bridge) within `secs` seconds, false if one is still open.
    pub fn all_closed_within(&self, secs: u64) -> bool {
        let conns = self.conns.lock().unwrap();
        let deadline = Instant::now() + Duration::from_secs(secs);
        conns.iter().all(|mut s| {
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return false;
                }
                s.set_read_timeout(Some(left)).unwrap();
                match s.read(&mut buf) {
                    Ok(0) => return true,
                    Ok(_) => continue,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        return false
                    }
                    Err(_) => return true,
                }
            }
        })
    }
}

/// A TCP connection to `addr` from source address `from` (e.g. 127.0.0.2).
pub fn tcp_from(from: IpAddr, addr: SocketAddr) -> TcpStream {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    let rt = RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    });
    let s = rt
        .block_on(async {
            let sock = tokio::net::TcpSocket::new_v4()?;
            sock.bind(SocketAddr::new(from, 0))?;
            sock.connect(addr).await
        })
        .unwrap();
    let s = s.into_std().unwrap();
    s.set_nonblocking(false).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s
}

/// The upgrade request a browser would send, with `protocols` and extra header lines.
pub fn upgrade_request(host: SocketAddr, path: &str, protocols: &[&str], extra: &str) -> String {
    let proto = if protocols.is_empty() {
        String::new()
    } else {
        format!("Sec-WebSocket-Protocol: {}\r\n", protocols.join(", "))
    };
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{proto}{extra}\r\n"
    )
}

/// Sends raw bytes, reads the answer to its end (the bridge closes after a refusal).
pub fn http_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The status code of an HTTP response.
pub fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// GET `path` from the metrics endpoint.
pub fn http_get(addr: SocketAddr, path: &str) -> String {
    http_exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    )
}

/// The value of one Prometheus sample (`name{labels}` exactly as rendered), 0 if absent.
pub fn metric(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// A minimal WebSocket client over any byte stream.
pub struct Client<S> {
    pub s: S,
    buf: Vec<u8>,
}

#[derive(Debug, PartialEq)]
pub enum Msg {
    Binary(Vec<u8>),
    Text(String),
    Close(u16, String),
    Pong(Vec<u8>),
    Eof,
}

impl Client<TcpStream> {
    /// Opens a WebSocket through the bridge at `addr`; panics unless it answers 101.
    pub fn open(
        addr: SocketAddr,
        path: &str,
        protocols: &[&str],
        extra: &str,
    ) -> (Client<TcpStream>, String) {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        // Small frames back to back: without this, Nagle waits for a delayed ACK each time.
        s.set_nodelay(true).unwrap();
        match Client::handshake(s, addr, path, protocols, extra) {
            Ok(c) => c,
            Err(resp) => panic!("no upgrade: {resp}"),
        }
    }
}

impl<S: Read + Write> Client<S> {
    /// Sends the upgrade request over `s`; the client and the response head on 101, the
    /// whole response otherwise.
    pub fn handshake(
        mut s: S,
        host: SocketAddr,
        path: &str,
        protocols: &[&str],
        extra: &str,
    ) -> Result<(Client<S>, String), String> {
        s.write_all(upgrade_request(host, path, protocols, extra).as_bytes())
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match s.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return Err(String::from_utf8_lossy(&head).into_owned()),
            }
        }
        let head = String::from_utf8(head).unwrap();
        if !head.starts_with("HTTP/1.1 101 ") {
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest);
            return Err(head + &String::from_utf8_lossy(&rest));
        }
        Ok((Client { s, buf: Vec::new() }, head))
    }

    pub fn send_frame(&mut self, first: u8, payload: &[u8]) {
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
        let _ = self.s.flush();
    }

    pub fn send_binary(&mut self, payload: &[u8]) {
        self.send_frame(0x82, payload);
    }

    pub fn send_text(&mut self, text: &str) {
        self.send_frame(0x81, text.as_bytes());
    }

    pub fn send_close(&mut self, code: u16) {
        self.send_frame(0x88, &code.to_be_bytes());
    }

    fn fill(&mut self, n: usize) -> bool {
        let mut chunk = [0u8; 16384];
        while self.buf.len() < n {
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return false,
                Ok(k) => self.buf.extend_from_slice(&chunk[..k]),
            }
        }
        true
    }

    pub fn recv(&mut self) -> Msg {
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
            0x1 => Msg::Text(String::from_utf8(payload).unwrap()),
            0x2 => Msg::Binary(payload),
            0xA => Msg::Pong(payload),
            0x8 if payload.len() >= 2 => Msg::Close(
                u16::from_be_bytes([payload[0], payload[1]]),
                String::from_utf8(payload[2..].to_vec()).unwrap(),
            ),
            0x8 => Msg::Close(1005, String::new()),
            other => panic!("unexpected opcode {other}"),
        }
    }

    /// Reads binary frames until `n` bytes arrived.
    pub fn recv_bytes(&mut self, n: usize) -> Vec<u8> {
        let mut got = Vec::new();
        while got.len() < n {
            match self.recv() {
                Msg::Binary(b) => got.extend(b),
                other => panic!("expected data, got {other:?}"),
            }
        }
        got
    }

    pub fn expect_close(&mut self) -> (u16, String) {
        loop {
            match self.recv() {
                Msg::Close(code, reason) => return (code, reason),
                Msg::Binary(_) | Msg::Pong(_) | Msg::Text(_) => continue,
                Msg::Eof => panic!("connection ended without a close frame"),
            }
        }
    }
}

impl Client<TcpStream> {
    pub fn set_read_timeout(&self, d: Duration) {
        self.s.set_read_timeout(Some(d)).unwrap();
    }
}

/// The log line of connection `#id`… or any line matching `pred`, waiting up to 10 s
/// for it (lines are written when a connection ends).
pub fn log_line(log: &LogCapture, pred: impl Fn(&str) -> bool) -> String {
    let mut found = None;
    wait_until(10, || {
        found = log.lines().into_iter().find(|l| pred(l));
        found.is_some()
    });
    found.unwrap_or_else(|| panic!("no such log line in {:#?}", log.lines()))
}
