//! `tlsferry bridge`: a WebSocket↔TCP bridge so that a browser page can reach a TLS server.
//! The TLS session stays end to end between the page and the server: the bridge only moves
//! ciphertext.
//!
//! ```text
//! tlsferry bridge --listen 127.0.0.1:8080 --allow HOST:PORT [--allow HOST:PORT ...]
//!                 [--allow-origin ORIGIN ...] [--max-connections N] [--idle-timeout SECS]
//!                 [--max-frame-size BYTES]
//! ```
//!
//! - Never an open proxy: the client names its target with `?target=HOST:PORT`, which must
//!   be on the allowlist; with exactly one `--allow` that one is the default. Refusals are
//!   WebSocket close frames with code 1008 and a reason that says why.
//! - Binary frames only (text: close 1003); accepts the `binary` subprotocol, as websockify
//!   does, so one client works with either bridge.
//! - Browsers are held to an Origin policy: `--allow-origin` lists the pages allowed (or
//!   `*`); without it only loopback pages (and clients that send no Origin) may connect,
//!   so a web site you visit cannot use your bridge.
//! - Limits: concurrent connections (close 1013), frame size (close 1009), idle time
//!   (close 1001), handshake time and size. One log line per connection on stderr.
//!
//! The WebSocket server is hand-written ([`ws`]): the bridge needs both directions at once
//! on blocking sockets (one thread each), which a single-owner WebSocket object cannot give
//! without an async runtime, and only a small server-side subset of RFC 6455.

pub mod ws;

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ws::{FrameError, Opcode};

/// Close codes (RFC 6455 §7.4.1).
mod code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const PROTOCOL: u16 = 1002;
    pub const UNSUPPORTED: u16 = 1003;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    pub const TRY_AGAIN: u16 = 1013;
}

/// Bridge settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeOptions {
    /// Address to listen on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Allowed targets, `host:port` (lowercase host; IPv6 in brackets).
    pub allow: Vec<String>,
    /// Allowed browser origins (`*` for any); empty: loopback origins only.
    pub allow_origins: Vec<String>,
    /// Most connections at once (default 64).
    pub max_connections: usize,
    /// Close a connection when neither side sent anything for this long (default 300 s).
    pub idle_timeout: Duration,
    /// Largest frame payload accepted from a client (default 1 MiB).
    pub max_frame_size: usize,
    /// Time allowed for the opening handshake (default 10 s).
    pub handshake_timeout: Duration,
    /// Time allowed to connect to the target (default 10 s).
    pub connect_timeout: Duration,
    /// Write one line per connection to stderr (default true).
    pub log: bool,
}

impl BridgeOptions {
    /// Defaults with the given allowlist.
    pub fn new(allow: &[&str]) -> BridgeOptions {
        BridgeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            allow: allow
                .iter()
                .map(|a| normalize_target(a).unwrap_or_default())
                .collect(),
            allow_origins: Vec::new(),
            max_connections: 64,
            idle_timeout: Duration::from_secs(300),
            max_frame_size: 1024 * 1024,
            handshake_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            log: true,
        }
    }
}

/// Help for `tlsferry bridge`.
pub const HELP: &str =
    "usage: tlsferry bridge --listen ADDR:PORT --allow HOST:PORT [--allow HOST:PORT ...]
                       [--allow-origin ORIGIN ...] [--max-connections N]
                       [--idle-timeout SECS] [--max-frame-size BYTES]

A WebSocket-to-TCP bridge for TLS clients in browsers (binary frames, `binary` subprotocol,
websockify-compatible). Clients pick the target with ws://ADDR:PORT/?target=HOST:PORT;
only --allow'ed targets are reachable, and one --allow is the default target.";

/// Runs `tlsferry bridge` with parsed options and returns the process exit code.
pub fn cli(opts: BridgeOptions) -> ExitCode {
    let bridge = match Bridge::bind(opts) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("tlsferry bridge: cannot listen: {e}");
            return ExitCode::from(1);
        }
    };
    if !bridge.addr.ip().is_loopback() {
        eprintln!(
            "tlsferry bridge: warning: listening on {}, not loopback: anyone who reaches it can use the allowed targets",
            bridge.addr
        );
    }
    // The one line on stdout: scripts read the URL from it.
    println!("listening on ws://{}/", bridge.addr);
    let _ = io::stdout().flush();
    eprintln!(
        "tlsferry bridge: allowed targets: {}{}",
        bridge.opts.allow.join(", "),
        if bridge.opts.allow.len() == 1 {
            " (the default)"
        } else {
            ""
        }
    );
    match bridge.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tlsferry bridge: {e}");
            ExitCode::from(1)
        }
    }
}

/// `host:port` with a lowercase host, or `None` if it is not one.
pub fn normalize_target(s: &str) -> Option<String> {
    let (host, port) = s.trim().rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|p| *p > 0)?;
    let host = host.to_ascii_lowercase();
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(&host);
    if bare.is_empty()
        || (bare.contains(':') && !host.starts_with('['))
        || !bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
    {
        return None;
    }
    Some(format!("{host}:{port}"))
}

/// True if a page at `origin` (e.g. `http://localhost:8000`) is served from this machine.
fn is_loopback_origin(origin: &str) -> bool {
    let Some((_, rest)) = origin.split_once("://") else {
        return false;
    };
    let hostport = rest.split('/').next().unwrap_or_default();
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        hostport.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A bound bridge; [`Bridge::run`] serves it, [`Bridge::spawn`] serves it on a thread.
#[derive(Debug)]
pub struct Bridge {
    listener: TcpListener,
    addr: SocketAddr,
    opts: Arc<BridgeOptions>,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    active: AtomicUsize,
    next_id: AtomicU64,
    stop: AtomicBool,
}

impl Bridge {
    /// Binds the listening socket (port 0 picks a free port).
    pub fn bind(opts: BridgeOptions) -> io::Result<Bridge> {
        let listener = TcpListener::bind(opts.listen)?;
        let addr = listener.local_addr()?;
        Ok(Bridge {
            listener,
            addr,
            opts: Arc::new(opts),
            shared: Arc::new(Shared::default()),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Accepts connections until stopped (see [`BridgeHandle`]), one thread each.
    pub fn run(self) -> io::Result<()> {
        for stream in self.listener.incoming() {
            if self.shared.stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else {
                // E.g. out of file descriptors: back off instead of spinning.
                thread::sleep(Duration::from_millis(50));
                continue;
            };
            let active = self.shared.active.fetch_add(1, Ordering::SeqCst) + 1;
            // Far over the limit: drop at once rather than spend a thread on a refusal.
            if active
                > self
                    .opts
                    .max_connections
                    .saturating_mul(2)
                    .saturating_add(16)
            {
                self.shared.active.fetch_sub(1, Ordering::SeqCst);
                drop(stream);
                continue;
            }
            let opts = self.opts.clone();
            let shared = self.shared.clone();
            let id = shared.next_id.fetch_add(1, Ordering::SeqCst) + 1;
            let spawned = thread::Builder::new()
                .name(format!("bridge-{id}"))
                .spawn(move || {
                    let outcome = serve(stream, &opts, &shared, active);
                    shared.active.fetch_sub(1, Ordering::SeqCst);
                    if opts.log {
                        eprintln!("tlsferry bridge: #{id} {outcome}");
                    }
                });
            if spawned.is_err() {
                self.shared.active.fetch_sub(1, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    /// Serves on a background thread; the bridge stops when the handle is dropped.
    pub fn spawn(self) -> BridgeHandle {
        let addr = self.addr;
        let shared = self.shared.clone();
        let thread = thread::spawn(move || {
            let _ = self.run();
        });
        BridgeHandle {
            addr,
            shared,
            thread: Some(thread),
        }
    }
}

/// A running bridge; dropping it stops accepting (open connections finish on their own).
#[derive(Debug)]
pub struct BridgeHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<thread::JoinHandle<()>>,
}

impl BridgeHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `ws://` URL of the bridge.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Connections open right now.
    pub fn active_connections(&self) -> usize {
        self.shared.active.load(Ordering::SeqCst)
    }
}

impl Drop for BridgeHandle {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The WebSocket's sending half, shared by both directions; frames are written whole.
struct Sender {
    stream: TcpStream,
    close_sent: bool,
}

impl Sender {
    fn send(&mut self, opcode: Opcode, payload: &[u8]) -> io::Result<()> {
        if self.close_sent {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "close sent"));
        }
        self.stream.write_all(&ws::encode_frame(opcode, payload))
    }

    fn close(&mut self, code: u16, reason: &str) {
        if !self.close_sent {
            self.close_sent = true;
            let _ = self.stream.write_all(&ws::close_frame(code, reason));
        }
    }
}

fn lock(sender: &Mutex<Sender>) -> std::sync::MutexGuard<'_, Sender> {
    sender.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads the opening handshake head within the handshake timeout and size limit.
fn read_head(stream: &mut TcpStream, opts: &BridgeOptions) -> Result<(Vec<u8>, Vec<u8>), String> {
    let deadline = Instant::now() + opts.handshake_timeout;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = ws::head_end(&buf) {
            let rest = buf.split_off(end);
            return Ok((buf, rest));
        }
        if buf.len() > ws::MAX_REQUEST {
            let e = ws::HandshakeError {
                status: 431,
                reason: format!("handshake larger than {} bytes", ws::MAX_REQUEST),
            };
            let _ = stream.write_all(ws::error_response(&e).as_bytes());
            return Err(e.reason);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("no complete handshake in time".into());
        }
        let _ = stream.set_read_timeout(Some(left));
        match stream.read(&mut chunk) {
            Ok(0) => return Err("client closed during the handshake".into()),
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if is_timeout(&e) => return Err("no complete handshake in time".into()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("handshake read failed: {e}")),
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Serves one client connection; returns its log line.
fn serve(mut stream: TcpStream, opts: &BridgeOptions, shared: &Shared, active: usize) -> String {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_string(), |a| a.to_string());
    let started = Instant::now();
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let (head, leftover) = match read_head(&mut stream, opts) {
        Ok(h) => h,
        Err(e) => return format!("{peer} rejected: {e}"),
    };
    let req = match ws::parse_request(&head) {
        Ok(r) => r,
        Err(e) => {
            let _ = stream.write_all(ws::error_response(&e).as_bytes());
            return format!("{peer} rejected: HTTP {} {}", e.status, e.reason);
        }
    };
    if stream
        .write_all(ws::accept_response(&req).as_bytes())
        .is_err()
    {
        return format!("{peer} gone during the handshake");
    }
    let origin = req.origin.clone().unwrap_or_else(|| "-".into());
    let refuse = |stream: &mut TcpStream, code: u16, reason: String| {
        let _ = stream.write_all(&ws::close_frame(code, &reason));
        linger_close(stream);
        format!("{peer} origin {origin} refused: {reason}")
    };

    // Policy, in order: origin, capacity, target.
    if let Some(o) = &req.origin {
        let o = o.trim_end_matches('/');
        let allowed = if opts.allow_origins.is_empty() {
            is_loopback_origin(o)
        } else {
            opts.allow_origins.iter().any(|a| a == "*" || a == o)
        };
        if !allowed {
            return refuse(
                &mut stream,
                code::POLICY,
                format!("origin not allowed: {o}"),
            );
        }
    }
    if active > opts.max_connections || shared.stop.load(Ordering::SeqCst) {
        return refuse(
            &mut stream,
            code::TRY_AGAIN,
            format!("too many connections (limit {})", opts.max_connections),
        );
    }
    let target = match req.query("target") {
        Some(t) => match normalize_target(&t) {
            Some(n) if opts.allow.contains(&n) => n,
            _ => {
                return refuse(
                    &mut stream,
                    code::POLICY,
                    format!("target not allowed: {t}"),
                )
            }
        },
        None => match opts.allow.as_slice() {
            [only] => only.clone(),
            _ => {
                return refuse(
                    &mut stream,
                    code::POLICY,
                    "no target: add ?target=HOST:PORT to the URL".into(),
                )
            }
        },
    };
    let upstream = match connect(&target, opts.connect_timeout) {
        Ok(s) => s,
        Err(e) => {
            return refuse(
                &mut stream,
                code::INTERNAL,
                format!("cannot connect to {target}: {e}"),
            )
        }
    };
    let (up, down, ended) = relay(stream, upstream, leftover, opts);
    format!(
        "{peer} origin {origin} -> {target}: {up} B up, {down} B down, {:.1} s, {ended}",
        started.elapsed().as_secs_f64()
    )
}

fn connect(target: &str, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "name resolved to no address");
    for addr in target.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// After a close frame: stop sending, give the client a moment to read it, then close.
fn linger_close(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 1024];
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// Milliseconds since `epoch`, for the shared last-activity stamp.
fn millis(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Moves bytes both ways until either side ends; returns (bytes up, bytes down, why it ended).
fn relay(
    mut client: TcpStream,
    upstream: TcpStream,
    leftover: Vec<u8>,
    opts: &BridgeOptions,
) -> (u64, u64, String) {
    let tick = opts.idle_timeout.min(Duration::from_millis(250));
    let epoch = Instant::now();
    let last_activity = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let (Ok(client_w), Ok(mut upstream_r)) = (client.try_clone(), upstream.try_clone()) else {
        return (0, 0, "failed: cannot clone sockets".into());
    };
    let sender = Arc::new(Mutex::new(Sender {
        stream: client_w,
        close_sent: false,
    }));
    let upstream_end: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));

    // Target → client: one binary frame per read.
    let down_thread = {
        let sender = sender.clone();
        let done = done.clone();
        let last_activity = last_activity.clone();
        let upstream_end = upstream_end.clone();
        thread::spawn(move || {
            let _ = upstream_r.set_read_timeout(Some(tick));
            let mut buf = vec![0u8; 16 * 1024];
            let mut down = 0u64;
            let reason = loop {
                if done.load(Ordering::SeqCst) {
                    break None;
                }
                match upstream_r.read(&mut buf) {
                    Ok(0) => break Some("target closed the connection".to_string()),
                    Ok(n) => {
                        last_activity.store(millis(epoch), Ordering::SeqCst);
                        let data = buf.get(..n).unwrap_or_default();
                        if lock(&sender).send(Opcode::Binary, data).is_err() {
                            break Some("client write failed".to_string());
                        }
                        down += n as u64;
                    }
                    Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Some(format!("target read failed: {e}")),
                }
            };
            if let Some(r) = reason {
                lock(&sender).close(code::NORMAL, &r);
                *upstream_end.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            }
            down
        })
    };

    // Client → target, in this thread.
    let mut upstream_w = upstream;
    let _ = client.set_read_timeout(Some(tick));
    let mut buf = leftover;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut up = 0u64;
    let mut in_message = false;
    let mut close_deadline: Option<Instant> = None;
    let ended: String = 'outer: loop {
        // Decode every complete frame buffered so far.
        loop {
            match ws::parse_frame(&buf, opts.max_frame_size) {
                Ok(None) => break,
                Ok(Some((frame, used))) => {
                    buf.drain(..used);
                    match frame.opcode {
                        Opcode::Binary | Opcode::Continuation => {
                            let cont = frame.opcode == Opcode::Continuation;
                            if cont != in_message {
                                let why = "fragmented message out of order";
                                lock(&sender).close(code::PROTOCOL, why);
                                break 'outer format!("protocol error: {why}");
                            }
                            in_message = !frame.fin;
                            if close_deadline.is_none() {
                                if upstream_w.write_all(&frame.payload).is_err() {
                                    lock(&sender).close(code::INTERNAL, "target write failed");
                                    break 'outer "target write failed".into();
                                }
                                up += frame.payload.len() as u64;
                            }
                        }
                        Opcode::Text => {
                            let why = "binary frames only";
                            lock(&sender).close(code::UNSUPPORTED, why);
                            break 'outer format!("refused a text frame ({why})");
                        }
                        Opcode::Ping => {
                            let _ = lock(&sender).send(Opcode::Pong, &frame.payload);
                        }
                        Opcode::Pong => {}
                        Opcode::Close => {
                            let echo = ws::close_code(&frame.payload).unwrap_or(code::NORMAL);
                            let echo = if echo == 1005 || echo == 1006 || echo == 1015 {
                                code::NORMAL
                            } else {
                                echo
                            };
                            lock(&sender).close(echo, "");
                            break 'outer match upstream_end
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .clone()
                            {
                                Some(r) => r,
                                None => format!("client closed ({echo})"),
                            };
                        }
                    }
                    last_activity.store(millis(epoch), Ordering::SeqCst);
                }
                Err(FrameError::TooBig { len, limit }) => {
                    let why = format!("frame of {len} bytes is over the {limit}-byte limit");
                    lock(&sender).close(code::TOO_BIG, &why);
                    break 'outer why;
                }
                Err(FrameError::Protocol(why)) => {
                    lock(&sender).close(code::PROTOCOL, why);
                    break 'outer format!("protocol error: {why}");
                }
            }
        }
        // The target ended: we sent close; wait briefly for the client's close.
        if close_deadline.is_none() {
            let target_ended = upstream_end
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some();
            if target_ended {
                let _ = upstream_w.shutdown(Shutdown::Both);
                close_deadline = Some(Instant::now() + Duration::from_secs(2));
            }
        }
        if let Some(d) = close_deadline {
            if Instant::now() >= d {
                break upstream_end
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
                    .unwrap_or_default();
            }
        }
        match client.read(&mut chunk) {
            Ok(0) => {
                break match upstream_end
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
                {
                    Some(r) => r,
                    None => "client disconnected without a close frame".into(),
                }
            }
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {
                let idle = millis(epoch).saturating_sub(last_activity.load(Ordering::SeqCst));
                if close_deadline.is_none() && u128::from(idle) >= opts.idle_timeout.as_millis() {
                    let why = format!("idle timeout ({} s)", opts.idle_timeout.as_secs_f64());
                    lock(&sender).close(code::GOING_AWAY, &why);
                    break why;
                }
            }
            Err(e) => break format!("client read failed: {e}"),
        }
    };
    done.store(true, Ordering::SeqCst);
    let _ = upstream_w.shutdown(Shutdown::Both);
    let down = down_thread.join().unwrap_or(0);
    linger_close(&mut client);
    (up, down, ended)
}
