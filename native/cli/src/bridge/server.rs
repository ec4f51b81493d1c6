//! The listening side: the tokio runtime, the accept loop with admission control, and each
//! connection's way to a tunnel (TLS, the request head, policy, the target connection,
//! `101`) or to an HTTP refusal that the client actually receives.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::timeout_at;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

use super::admission::{Admission, Full, Permit};
use super::client_stream::ClientStream;
use super::control;
use super::credentials::{self, Credentials};
use super::http_head::{self, HeadError, Upgrade};
use super::log::{Kind, Logger, Record, Sink};
use super::metrics::{self, Stats};
use super::options::{current_fd_limit, BridgeOptions, Limits};
use super::policy::{self, Refusal};
use super::progress::{Metered, Progress};
use super::response;
use super::tunnel::{self, Mode};

/// Bytes of the WebSocket read buffer per tunnel (tungstenite allocates it up front;
/// larger frames grow it while they are read).
pub const WS_READ_BUFFER: usize = 4 * 1024;
/// How long a refused connection is read (and discarded) after the answer, so that the
/// client's unsent request bytes do not turn our close into a reset that destroys the
/// answer before the client reads it.
const LINGER: Duration = Duration::from_secs(2);
/// Most bytes discarded while lingering (the 431 for a 1 MiB head is still delivered).
const LINGER_BYTES: usize = 4 << 20;
/// Time to write an HTTP answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// Everything the connection tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    opts: BridgeOptions,
    admission: Arc<Admission>,
    stats: Arc<Stats>,
    log: Arc<Logger>,
    creds: Arc<Credentials>,
    next_id: AtomicU64,
}

/// A bound bridge: [`Bridge::run`] serves it on this thread, [`Bridge::spawn`] on another.
#[derive(Debug)]
pub struct Bridge {
    listener: std::net::TcpListener,
    metrics: Option<std::net::TcpListener>,
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
}

/// Log lines kept in memory (see [`Bridge::capture_log`]).
#[derive(Debug, Clone)]
pub struct LogCapture(Arc<Mutex<Vec<String>>>);

impl LogCapture {
    /// The lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Bridge {
    /// Binds the listening sockets (port 0 picks a free port) and loads the certificate
    /// and tokens. Limits left open in `opts` are sized to the current soft
    /// `RLIMIT_NOFILE` (the CLI raises it to the hard limit first). A bad certificate, key
    /// or token file is an `InvalidInput` error naming the file.
    pub fn bind(opts: BridgeOptions) -> io::Result<Bridge> {
        let creds =
            Credentials::load(&opts).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = listen(opts.listen)?;
        let addr = listener.local_addr()?;
        let metrics = match opts.metrics {
            Some(a) => {
                let l = std::net::TcpListener::bind(a)?;
                l.set_nonblocking(true)?;
                Some(l)
            }
            None => None,
        };
        let metrics_addr = metrics.as_ref().map(|l| l.local_addr()).transpose()?;
        let limits = Limits::new(&opts, current_fd_limit());
        let shared = Arc::new(Shared {
            admission: Admission::new(limits),
            stats: Arc::new(Stats::new()),
            log: Arc::new(Logger::new(opts.log, Sink::Stderr)),
            creds: Arc::new(creds),
            next_id: AtomicU64::new(0),
            opts,
        });
        Ok(Bridge {
            listener,
            metrics,
            addr,
            metrics_addr,
            shared,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the metrics endpoint, with `--metrics`.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The limits it runs with.
    pub fn limits(&self) -> Limits {
        *self.shared.admission.limits()
    }

    /// `ws://ADDR/` or `wss://ADDR/`.
    pub fn url(&self) -> String {
        url(self.addr, self.shared.creds.is_tls())
    }

    /// Keeps the log lines in memory instead of writing them to stderr (for tests).
    pub fn capture_log(&mut self) -> LogCapture {
        let lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(s) = Arc::get_mut(&mut self.shared) {
            s.log = Arc::new(Logger::new(s.opts.log, Sink::Memory(lines.clone())));
        }
        LogCapture(lines)
    }

    /// A note on the bridge's log (stderr, or the capture).
    pub(crate) fn note(&self, message: &str) {
        self.shared.log.note(message);
    }

    /// Serves until the process ends (or, for a spawned bridge, until the handle is
    /// dropped), on a multi-threaded tokio runtime.
    pub fn run(self) -> io::Result<()> {
        self.run_until(Arc::new(Notify::new()))
    }

    fn run_until(self, stop: Arc<Notify>) -> io::Result<()> {
        let mut rt = tokio::runtime::Builder::new_multi_thread();
        rt.enable_all().thread_name("tlsferry-bridge");
        if let Some(n) = self.shared.opts.worker_threads {
            rt.worker_threads(n.max(1));
        }
        let rt = rt.build()?;
        let result = rt.block_on(self.serve(stop));
        // Open tunnels end with the runtime: their sockets close.
        rt.shutdown_timeout(Duration::from_secs(1));
        result
    }

    /// Serves on a background thread; the bridge stops, and its tunnels close, when the
    /// handle is dropped.
    pub fn spawn(self) -> BridgeHandle {
        let stop = Arc::new(Notify::new());
        let handle_stop = stop.clone();
        let (addr, metrics_addr, url) = (self.addr, self.metrics_addr, self.url());
        let shared = self.shared.clone();
        let thread = thread::Builder::new()
            .name("tlsferry-bridge-main".into())
            .spawn(move || {
                let _ = self.run_until(stop);
            })
            .ok();
        BridgeHandle {
            addr,
            metrics_addr,
            url,
            shared,
            stop: handle_stop,
            thread,
        }
    }

    async fn serve(self, stop: Arc<Notify>) -> io::Result<()> {
        let listener = TcpListener::from_std(self.listener)?;
        let sh = self.shared;
        if let Some(m) = self.metrics {
            let m = TcpListener::from_std(m)?;
            tokio::spawn(metrics::serve(m, sh.stats.clone(), sh.admission.clone()));
        }
        if sh.creds.is_reloadable() {
            let hup = credentials::hangup(&sh.log);
            tokio::spawn(credentials::watch(
                sh.creds.clone(),
                sh.opts.reload_interval,
                sh.log.clone(),
                sh.stats.clone(),
                hup,
            ));
        }
        let mut accept_errors: u64 = 0;
        loop {
            let accepted = tokio::select! {
                () = stop.notified() => return Ok(()),
                a = listener.accept() => a,
            };
            match accepted {
                Ok((tcp, peer)) => admit(&sh, tcp, peer),
                Err(e) => {
                    // Out of descriptors (EMFILE/ENFILE) or a connection reset before it
                    // was accepted: back off instead of spinning, say so now and then.
                    if accept_errors.is_multiple_of(1000) {
                        sh.log.note(&format!(
                            "accept failed ({e}); {} tunnels, {} handshakes open",
                            sh.admission.tunnels(),
                            sh.admission.handshakes()
                        ));
                    }
                    accept_errors += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

/// Connections the kernel queues before they are accepted (std's default is 128, too few
/// for a burst of clients; the kernel caps it at `net.core.somaxconn`).
const BACKLOG: i32 = 1024;

/// A non-blocking listening socket on `addr` with [`BACKLOG`].
fn listen(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

fn url(addr: SocketAddr, tls: bool) -> String {
    format!("{}://{addr}/", if tls { "wss" } else { "ws" })
}

/// A running bridge; dropping it stops the bridge and closes its tunnels.
#[derive(Debug)]
pub struct BridgeHandle {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    url: String,
    shared: Arc<Shared>,
    stop: Arc<Notify>,
    thread: Option<thread::JoinHandle<()>>,
}

impl BridgeHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `ws://` (or `wss://`) URL of the bridge.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The metrics endpoint's address, with `--metrics`.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Tunnels open right now (including those still connecting to their target).
    pub fn active_connections(&self) -> usize {
        self.shared.admission.tunnels()
    }

    /// Connections in the TLS or WebSocket handshake right now.
    pub fn handshakes_in_progress(&self) -> usize {
        self.shared.admission.handshakes()
    }

    /// The limits it runs with.
    pub fn limits(&self) -> Limits {
        *self.shared.admission.limits()
    }
}

impl Drop for BridgeHandle {
    fn drop(&mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Admission at accept time: a handshake slot and an address slot, or an immediate
/// 503/429.
fn admit(sh: &Arc<Shared>, tcp: TcpStream, peer: SocketAddr) {
    let id = sh.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let _ = tcp.set_nodelay(true);
    match sh.admission.admit(peer.ip()) {
        Ok(permits) => {
            tokio::spawn(connection(sh.clone(), tcp, peer, id, permits));
        }
        Err(full) => {
            sh.stats.refused(full.word());
            match sh.admission.refusing() {
                Some(permit) => {
                    tokio::spawn(refuse_at_once(sh.clone(), tcp, peer, id, full, permit));
                }
                None => {
                    // Even the answering slots are taken: drop without an answer.
                    sh.stats.refused("dropped");
                    log_refusal(
                        sh,
                        id,
                        peer,
                        None,
                        None,
                        None,
                        "dropped",
                        &full.reason(sh.admission.limits()),
                        Instant::now(),
                    );
                }
            }
        }
    }
}

/// What ended a connection before it became a tunnel.
struct Refused {
    /// The HTTP status answered (none: closed without an answer).
    status: Option<u16>,
    word: &'static str,
    reason: String,
}

impl Refused {
    fn http(status: u16, word: &'static str, reason: impl Into<String>) -> Refused {
        Refused {
            status: Some(status),
            word,
            reason: reason.into(),
        }
    }

    fn silent(word: &'static str, reason: impl Into<String>) -> Refused {
        Refused {
            status: None,
            word,
            reason: reason.into(),
        }
    }

    fn head(e: HeadError) -> Refused {
        let word = match e.status {
            431 => "too_large",
            _ => "bad_request",
        };
        Refused::http(e.status, word, e.reason)
    }
}

/// Answers an over-limit connection with 503/429 (over TLS for `wss://`) and lingers.
async fn refuse_at_once(
    sh: Arc<Shared>,
    tcp: TcpStream,
    peer: SocketAddr,
    id: u64,
    full: Full,
    _permit: Permit,
) {
    let started = Instant::now();
    let reason = full.reason(sh.admission.limits());
    let metered = Metered::new(tcp, Progress::new());
    let stream = match sh.creds.acceptor() {
        None => Some(ClientStream::Plain(metered)),
        Some(acceptor) => {
            match tokio::time::timeout(ANSWER_TIMEOUT, acceptor.accept(metered)).await {
                Ok(Ok(s)) => Some(ClientStream::Tls(Box::new(s))),
                _ => None,
            }
        }
    };
    let status = match stream {
        Some(mut s) => {
            answer_and_linger(&mut s, full.status(), &reason).await;
            Some(full.status())
        }
        None => None,
    };
    log_refusal(
        &sh,
        id,
        peer,
        status,
        None,
        None,
        full.word(),
        &reason,
        started,
    );
}

/// Writes an HTTP refusal, then reads and discards what the client still sends (bounded)
/// before closing, so that the answer is not destroyed by a reset.
async fn answer_and_linger<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    status: u16,
    reason: &str,
) {
    let answer = response::refusal(status, reason);
    let wrote = tokio::time::timeout(ANSWER_TIMEOUT, async {
        s.write_all(answer.as_bytes()).await?;
        s.shutdown().await
    })
    .await;
    if !matches!(wrote, Ok(Ok(()))) {
        return;
    }
    let _ = tokio::time::timeout(LINGER, async {
        let mut sink = [0u8; 4096];
        let mut seen = 0;
        while seen < LINGER_BYTES {
            match s.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen += n,
            }
        }
    })
    .await;
}

#[allow(clippy::too_many_arguments)]
fn log_refusal(
    sh: &Shared,
    id: u64,
    peer: SocketAddr,
    status: Option<u16>,
    origin: Option<&str>,
    target: Option<&str>,
    word: &str,
    reason: &str,
    started: Instant,
) {
    sh.log.record(&Record {
        id,
        peer,
        kind: Kind::Refused,
        status,
        origin,
        target,
        protocol: None,
        up: 0,
        down: 0,
        seconds: started.elapsed().as_secs_f64(),
        end: word,
        close_code: None,
        reason,
    });
}

/// One admitted connection, from the first byte to the end of its tunnel or refusal.
async fn connection(
    sh: Arc<Shared>,
    tcp: TcpStream,
    peer: SocketAddr,
    id: u64,
    permits: (Permit, Permit),
) {
    let started = Instant::now();
    let (_ip_permit, handshake_permit) = permits;
    let progress = Progress::new();
    let deadline = tokio::time::Instant::now() + sh.opts.handshake_timeout;
    let metered = Metered::new(tcp, progress.clone());

    // TLS, within the handshake time.
    let mut stream = match sh.creds.acceptor() {
        None => ClientStream::Plain(metered),
        Some(acceptor) => match timeout_at(deadline, acceptor.accept(metered)).await {
            Ok(Ok(s)) => ClientStream::Tls(Box::new(s)),
            Ok(Err(e)) => {
                sh.stats.refused("tls_handshake");
                let reason = format!("TLS handshake failed: {e}");
                log_refusal(
                    &sh,
                    id,
                    peer,
                    None,
                    None,
                    None,
                    "tls_handshake",
                    &reason,
                    started,
                );
                return;
            }
            Err(_) => {
                sh.stats.refused("handshake_timeout");
                log_refusal(
                    &sh,
                    id,
                    peer,
                    None,
                    None,
                    None,
                    "handshake_timeout",
                    "no TLS handshake in time",
                    started,
                );
                return;
            }
        },
    };

    // The request head, within the same time.
    let (request, leftover) = match timeout_at(deadline, read_head(&mut stream)).await {
        Ok(Ok(h)) => h,
        Ok(Err(refused)) => {
            return refuse(&sh, &mut stream, id, peer, None, None, refused, started).await
        }
        Err(_) => {
            let r = Refused::http(408, "handshake_timeout", "no complete request head in time");
            return refuse(&sh, &mut stream, id, peer, None, None, r, started).await;
        }
    };
    let origin = request.origin.clone();
    let requested = request.query("target");
    let requested_target = requested.as_ref().ok().cloned().flatten();
    let decided = decide(&sh, &request);
    let (target, protocol) = match decided {
        Ok(d) => d,
        Err(r) => {
            return refuse(
                &sh,
                &mut stream,
                id,
                peer,
                origin.as_deref(),
                requested_target.as_deref(),
                r,
                started,
            )
            .await;
        }
    };
    let tunnel_permit = match sh.admission.tunnel() {
        Ok(p) => p,
        Err(full) => {
            let r = Refused::http(
                full.status(),
                full.word(),
                full.reason(sh.admission.limits()),
            );
            return refuse(
                &sh,
                &mut stream,
                id,
                peer,
                origin.as_deref(),
                Some(&target),
                r,
                started,
            )
            .await;
        }
    };
    // A tunnel now: the handshake slot is free for the next client while we connect.
    drop(handshake_permit);
    let upstream = match connect(&target, sh.opts.connect_timeout).await {
        Ok(s) => s,
        Err(r) => {
            return refuse(
                &sh,
                &mut stream,
                id,
                peer,
                origin.as_deref(),
                Some(&target),
                r,
                started,
            )
            .await;
        }
    };
    let accepted = response::switching_protocols(&request.key, protocol);
    let wrote = tokio::time::timeout(ANSWER_TIMEOUT, async {
        stream.write_all(accepted.as_bytes()).await?;
        stream.flush().await
    })
    .await;
    if !matches!(wrote, Ok(Ok(()))) {
        let r = Refused::silent("other", "client gone before the upgrade was written");
        sh.stats.refused(r.word);
        log_refusal(
            &sh,
            id,
            peer,
            None,
            origin.as_deref(),
            Some(&target),
            r.word,
            &r.reason,
            started,
        );
        return;
    }
    drop(request);

    sh.stats.tunnel_opened();
    let ws = WebSocketStream::from_partially_read(
        stream,
        leftover,
        Role::Server,
        Some(ws_config(&sh.opts)),
    )
    .await;
    let limits = sh.admission.limits();
    let cx = tunnel::Context {
        mode: if protocol == Some(control::TLSFERRY_V1) {
            Mode::V1
        } else {
            Mode::Binary
        },
        idle_timeout: sh.opts.idle_timeout,
        write_timeout: limits.write_timeout,
        progress: &progress,
        stats: &sh.stats,
    };
    let ended = tunnel::run(ws, upstream, &cx).await;
    drop(tunnel_permit);
    let duration = started.elapsed();
    sh.stats.tunnel_ended(ended.word, duration);
    sh.log.record(&Record {
        id,
        peer,
        kind: Kind::Tunnel,
        status: None,
        origin: origin.as_deref(),
        target: Some(&target),
        protocol: Some(protocol.unwrap_or("none")),
        up: ended.up,
        down: ended.down,
        seconds: duration.as_secs_f64(),
        end: ended.word,
        close_code: ended.close_code,
        reason: &ended.reason,
    });
}

/// The WebSocket settings of a tunnel: a small read buffer (memory per idle tunnel),
/// frames written at once, messages bounded by `--max-frame-size`.
pub(crate) fn ws_config(opts: &BridgeOptions) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(WS_READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(opts.max_frame_size))
        .max_frame_size(Some(opts.max_frame_size))
}

/// Policy, in order: token, Origin, target, subprotocol.
fn decide(sh: &Shared, req: &Upgrade) -> Result<(String, Option<&'static str>), Refused> {
    let policy = |r: Refusal| Refused::http(r.status(), r.word(), r.reason());
    if let Some(tokens) = sh.creds.tokens() {
        let from_query = req.query("token").map_err(Refused::head)?;
        let presented = req.bearer.as_deref().or(from_query.as_deref());
        if !tokens.accepts(presented) {
            return Err(policy(Refusal::Unauthorized));
        }
    }
    policy::check_origin(req.origin.as_deref(), &sh.opts.allow_origins).map_err(policy)?;
    let requested = req.query("target").map_err(Refused::head)?;
    let target = policy::choose_target(requested.as_deref(), &sh.opts.allow).map_err(policy)?;
    let protocol = control::choose_subprotocol(&req.protocols)
        .map_err(|why| Refused::http(400, "subprotocol", why))?;
    Ok((target, protocol))
}

/// Reads the request head; returns it parsed, with the bytes that followed it.
async fn read_head(stream: &mut ClientStream) -> Result<(Upgrade, Vec<u8>), Refused> {
    let mut buf = Vec::with_capacity(1024);
    let mut from = 0;
    loop {
        let room = http_head::MAX_HEAD + 1 - buf.len().min(http_head::MAX_HEAD);
        let mut chunk = vec![0u8; room.min(4096)];
        let n = match stream.read(&mut chunk).await {
            Ok(0) => {
                return Err(Refused::silent(
                    "abandoned",
                    "client closed before sending a request",
                ))
            }
            Ok(n) => n,
            Err(e) => {
                return Err(Refused::silent(
                    "abandoned",
                    format!("read failed during the handshake: {e}"),
                ))
            }
        };
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        match http_head::scan(&buf, from) {
            Ok(Some(end)) => {
                let rest = buf.split_off(end);
                let req = http_head::parse_upgrade(&buf).map_err(Refused::head)?;
                return Ok((req, rest));
            }
            Ok(None) => from = http_head::resume_at(buf.len()),
            Err(e) => return Err(Refused::head(e)),
        }
    }
}

/// Connects to `target` (every address it resolves to, in order) within `timeout`.
async fn connect(target: &str, timeout: Duration) -> Result<TcpStream, Refused> {
    let attempt = async {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the name resolved to no address");
        for addr in tokio::net::lookup_host(target).await? {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(Refused::http(
            502,
            "target_unreachable",
            format!("cannot connect to {target}: {e}"),
        )),
        Err(_) => Err(Refused::http(
            504,
            "target_unreachable",
            format!(
                "cannot connect to {target}: no answer within {} s",
                timeout.as_secs_f64()
            ),
        )),
    }
}

/// Answers a refusal (if it has a status), lingers, counts and logs it.
#[allow(clippy::too_many_arguments)]
async fn refuse(
    sh: &Shared,
    stream: &mut ClientStream,
    id: u64,
    peer: SocketAddr,
    origin: Option<&str>,
    target: Option<&str>,
    r: Refused,
    started: Instant,
) {
    sh.stats.refused(r.word);
    if let Some(status) = r.status {
        answer_and_linger(stream, status, &r.reason).await;
    }
    log_refusal(
        sh, id, peer, r.status, origin, target, r.word, &r.reason, started,
    );
}
