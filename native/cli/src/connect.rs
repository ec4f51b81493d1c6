//! `tlsferry connect`: one session from the terminal, and the code path `tlsferry demo`
//! runs too. Steps: load local inputs → build the config → TCP → handshake → send →
//! receive until the peer closes (or the idle timeout) → report.
//!
//! `--record FILE` swaps in the recording's deterministic config and attaches its
//! [`Tap`](crate::Tap) before the ClientHello is written (`start_recording`).

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use tlsferry_core::{Config, ConfigError, ConnectionInfo, PemInput};

use crate::args::{ConnectArgs, SendSource};
use crate::json::Json;
use crate::report::{self, say, Exit, Failure};
use tlsferry::{tls_error, ConnectOptions, KeyLogFile, Stats, TlsStream};

/// How the session talks on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `tlsferry connect`: a brief summary, like `openssl s_client -brief`.
    Brief,
    /// `tlsferry demo`: narrates every step.
    Narrate,
}

/// Where received application bytes go.
enum Sink {
    Stdout(io::Stdout),
    File(File),
    Nowhere,
}

impl Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => {
                let mut s = s.lock();
                s.write_all(data)?;
                s.flush()
            }
            Sink::File(f) => f.write_all(data),
            Sink::Nowhere => Ok(()),
        }
    }
}

/// The local inputs, all read before any network traffic.
struct Inputs {
    roots_pem: Option<Vec<u8>>,
    client_auth: Option<(Vec<u8>, Vec<u8>)>,
    send: Option<Vec<u8>>,
    keylog: Option<Arc<KeyLogFile>>,
    sink: Sink,
}

/// How a session ended, for the summary and `--json` (`close_reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The server sent `close_notify` (and we answered).
    CloseNotify,
    /// Nothing arrived for the idle timeout after data: closed by us, normally.
    IdleTimeout,
    /// Nothing arrived at all within the timeout: a failure.
    Timeout,
    /// The transport ended without the server's `close_notify`.
    Truncated,
    /// Another failure.
    Error,
}

impl CloseReason {
    /// The `--json` value.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::CloseNotify => "close_notify",
            CloseReason::IdleTimeout => "idle_timeout",
            CloseReason::Timeout => "timeout",
            CloseReason::Truncated => "truncated",
            CloseReason::Error => "error",
        }
    }
}

/// What happened, for the final report and `--json`.
#[derive(Default)]
struct Record {
    addr: Option<SocketAddr>,
    info: Option<ConnectionInfo>,
    stats: Stats,
    close_reason: Option<CloseReason>,
    keying_material: Option<Vec<u8>>,
    trust: String,
}

/// Runs `tlsferry connect` with parsed arguments; returns the exit code.
pub fn run(args: &ConnectArgs, style: Style) -> ExitCode {
    let mut record = Record::default();
    let result = session(args, style, &mut record);
    let exit = match &result {
        Ok(()) => Exit::Ok,
        Err(f) => {
            say!("tlsferry: {}", f.message);
            if let Some(c) = &f.certificate {
                let mut err = io::stderr().lock();
                let _ = err.write_all(report::certificate_report(c, &record.trust).as_bytes());
            }
            f.exit
        }
    };
    if style == Style::Narrate {
        say!(
            "==> done: {} bytes sent, {} bytes received, exit code {}",
            record.stats.plaintext_sent,
            record.stats.plaintext_received,
            exit.code()
        );
    }
    if args.json {
        let json = session_json(args, &record, result.as_ref().err(), exit);
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{}", json.render());
        let _ = out.flush();
    }
    ExitCode::from(exit.code())
}

fn read_input(flag: &str, path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::usage(format!("cannot read {flag} {}: {e}", path.display())))
}

fn load_inputs(args: &ConnectArgs) -> Result<Inputs, Failure> {
    let roots_pem = match &args.cafile {
        Some(p) => Some(read_input("--cafile", p)?),
        None => None,
    };
    let client_auth = match (&args.cert, &args.key) {
        (Some(c), Some(k)) => Some((read_input("--cert", c)?, read_input("--key", k)?)),
        _ => None,
    };
    let send = match &args.send {
        SendSource::Text(t) => Some(t.clone().into_bytes()),
        SendSource::File(p) => Some(read_input("--send-file", p)?),
        SendSource::Stdin => None,
    };
    let keylog = match &args.keylog {
        Some(p) => Some(Arc::new(KeyLogFile::create(p).map_err(|e| {
            Failure::usage(format!("cannot open --keylog {}: {e}", p.display()))
        })?)),
        None => match KeyLogFile::from_env() {
            Some(Ok(k)) => Some(Arc::new(k)),
            Some(Err(e)) => {
                say!("tlsferry: warning: ignoring SSLKEYLOGFILE: {e}");
                None
            }
            None => None,
        },
    };
    let sink =
        match &args.output {
            Some(p) => Sink::File(File::create(p).map_err(|e| {
                Failure::usage(format!("cannot create --output {}: {e}", p.display()))
            })?),
            None if args.json => Sink::Nowhere,
            None => Sink::Stdout(io::stdout()),
        };
    Ok(Inputs {
        roots_pem,
        client_auth,
        send,
        keylog,
        sink,
    })
}

/// Names the command-line input a configuration error comes from.
fn config_failure(e: &ConfigError, args: &ConnectArgs) -> Failure {
    let path = |p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    let message = match e {
        ConfigError::Pem {
            input: PemInput::CaCertificates,
            ..
        } => format!("--cafile {}: {e}", path(&args.cafile)),
        ConfigError::Pem {
            input: PemInput::ClientCertificate,
            ..
        } => format!("--cert {}: {e}", path(&args.cert)),
        ConfigError::Pem {
            input: PemInput::ClientKey,
            ..
        } => format!("--key {}: {e}", path(&args.key)),
        ConfigError::ClientAuth(_) => format!(
            "--cert {} / --key {}: {e}",
            path(&args.cert),
            path(&args.key)
        ),
        ConfigError::EmptyTrustStore => {
            format!("--cafile {}: {e}", path(&args.cafile))
        }
        ConfigError::UnknownKeyExchangeGroup(_) => format!("--groups: {e}"),
        other => other.to_string(),
    };
    Failure::usage(message)
}

fn build_config(args: &ConnectArgs, inputs: &Inputs) -> Result<Config, Failure> {
    let mut b = Config::builder().crypto_provider(Arc::new(tlsferry::provider()));
    if let Some(pem) = &inputs.roots_pem {
        b = b.root_certificates_pem(pem);
    }
    if let Some(v) = args.version {
        b = b.versions(&[v]);
    }
    if !args.alpn.is_empty() {
        b = b.alpn(&args.alpn);
    }
    if !args.groups.is_empty() {
        b = b.key_exchange_groups(&args.groups);
    }
    if let Some((cert, key)) = &inputs.client_auth {
        b = b.client_auth_pem(cert, key);
    }
    if let Some(k) = &inputs.keylog {
        b = b.key_log(k.clone());
    }
    if args.insecure {
        b = b.dangerous_accept_any_certificate();
    }
    // The idle timeout is the CLI's own (non-fatal: see `idle_end`); a handshake that
    // stalls that long is a failure.
    b = b.handshake_timeout(args.timeout);
    b.build().map_err(|e| config_failure(&e, args))
}

fn session(args: &ConnectArgs, style: Style, rec: &mut Record) -> Result<(), Failure> {
    let name = args.server_name();
    let narrate = style == Style::Narrate;
    tlsferry::check_server_name(&args.host)
        .map_err(|_| Failure::usage(format!("invalid host name {:?}", args.host)))?;
    tlsferry::check_server_name(name).map_err(|_| {
        Failure::usage(format!(
            "invalid server name {name:?}: not a DNS name or IP address"
        ))
    })?;
    let mut inputs = load_inputs(args)?;
    let recording = start_recording(args, &inputs)?;
    let (config, tap) = match &recording {
        Some(r) => (record_config(args, &inputs, r)?, Some(r.tap())),
        None => (build_config(args, &inputs)?, None),
    };
    rec.trust = report::trust_text(
        args.cafile.as_deref(),
        config.trust_summary(),
        args.insecure,
    );
    if args.insecure {
        say!("tlsferry: WARNING: --insecure: the server's certificate is NOT verified; anyone on the path can impersonate {name}");
    }

    let target = format!("{}:{}", bracket(&args.host), args.port);
    let opts = ConnectOptions::default().with_write_timeout(args.timeout);
    let mut tcp = match &args.proxy {
        Some((phost, pport)) => {
            let proxy = format!("{}:{pport}", bracket(phost));
            if narrate {
                say!("==> connecting to the proxy {proxy} over TCP");
            }
            let mut tcp = tlsferry::connect_tcp((phost.as_str(), *pport), &opts)
                .map_err(|e| Failure::from_error(&e, phost))?;
            plaintext(&tcp, args.timeout)?;
            crate::starttls::http_connect(&mut tcp, &target).map_err(plaintext_failure)?;
            if narrate {
                say!("==> the proxy opened a tunnel to {target}");
            }
            tcp
        }
        None => {
            if narrate {
                say!("==> connecting to {target} over TCP");
            }
            tlsferry::connect_tcp((args.host.as_str(), args.port), &opts)
                .map_err(|e| Failure::from_error(&e, &args.host))?
        }
    };
    rec.addr = tcp.peer_addr().ok();
    if let Some(protocol) = args.starttls {
        plaintext(&tcp, args.timeout)?;
        crate::starttls::start_tls(&mut tcp, protocol, name).map_err(plaintext_failure)?;
        say!("tlsferry: {protocol:?} STARTTLS accepted; starting TLS");
    }
    if narrate {
        say!(
            "==> TCP connected to {}; starting the TLS handshake for {name:?}",
            rec.addr.map(|a| a.to_string()).unwrap_or(target.clone())
        );
    }

    let mut tls = TlsStream::new(tcp, name, &config)
        .map_err(|e| Failure::from_error(&e, &args.host))?
        .use_read_timeouts();
    if let Some(tap) = tap {
        tls = tls.with_tap(tap);
    }
    let result = exchange(args, style, rec, &mut inputs, tls);
    if let Some(r) = &recording {
        match r.save() {
            Ok(n) => say!(
                "tlsferry: recorded {n} steps to {} (replay: tlsferry replay {0})",
                r.path().display()
            ),
            Err(e) => {
                return Err(Failure::usage(format!(
                    "cannot write --record {}: {e}",
                    r.path().display()
                )))
            }
        }
    }
    result
}

/// Bounds the plaintext phase's reads by the CLI's timeout (the TLS stream sets its own).
fn plaintext(tcp: &std::net::TcpStream, timeout: Option<Duration>) -> Result<(), Failure> {
    tcp.set_read_timeout(timeout)
        .map_err(|e| Failure::network("IO", format!("cannot set a socket timeout: {e}")))
}

/// A failure of the proxy or STARTTLS exchange: the network class (exit 1), with its words.
fn plaintext_failure(e: crate::starttls::PlaintextError) -> Failure {
    use crate::starttls::PlaintextError as P;
    let code = match &e {
        P::Io(io)
            if matches!(
                io.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            "IO_TIMEOUT"
        }
        P::Io(_) | P::Closed(_) => "IO",
        P::Refused { .. } | P::TooLong(_) => "STARTTLS",
    };
    Failure::network(code, e.to_string())
}

/// `--record FILE`: the deterministic session to record, with its loud warning.
fn start_recording(
    args: &ConnectArgs,
    inputs: &Inputs,
) -> Result<Option<crate::record::Recording>, Failure> {
    let Some(path) = &args.record else {
        return Ok(None);
    };
    let session = crate::record::connect_session(
        args.seed,
        args.server_name(),
        args.version.as_slice(),
        &args.alpn,
        inputs.roots_pem.as_deref(),
        args.insecure,
    )
    .map_err(|e| config_failure(&e, args))?;
    let recording =
        crate::record::Recording::new(path, session).map_err(|e| config_failure(&e, args))?;
    say!("{}", recording.warning());
    Ok(Some(recording))
}

/// The recording's deterministic config, with the CLI's timeouts and key log.
fn record_config(
    args: &ConnectArgs,
    inputs: &Inputs,
    recording: &crate::record::Recording,
) -> Result<Config, Failure> {
    recording
        .config(|mut b| {
            if let Some(k) = &inputs.keylog {
                b = b.key_log(k.clone());
            }
            b.handshake_timeout(args.timeout)
        })
        .map_err(|e| config_failure(&e, args))
}

/// The session after the stream exists: handshake, report, send, receive.
fn exchange(
    args: &ConnectArgs,
    style: Style,
    rec: &mut Record,
    inputs: &mut Inputs,
    mut tls: TlsStream<std::net::TcpStream>,
) -> Result<(), Failure> {
    let narrate = style == Style::Narrate;
    let handshake = tls.handshake();
    rec.stats = tls.stats();
    handshake.map_err(|e| Failure::from_io(e, &args.host))?;
    let info = tls.info().cloned();
    rec.info = info.clone();
    if let Some((label, len)) = &args.keymatexport {
        let mut out = vec![0u8; *len];
        tls.export_keying_material(&mut out, label.as_bytes(), None)
            .map_err(|e| Failure::usage(format!("--keymatexport {label:?}: {e}")))?;
        rec.keying_material = Some(out);
    }
    if let Some(info) = &info {
        report_handshake(info, rec, style);
        if let (Some((label, len)), Some(km)) = (&args.keymatexport, &rec.keying_material) {
            say!(
                "  keying material  {label:?} ({len} bytes): {}",
                tlsferry_core::cert::hex(km).to_uppercase()
            );
        }
        if args.show_certs {
            let mut err = io::stderr().lock();
            let _ = err.write_all(report::chain_pem(info).as_bytes());
        }
    }

    let result = match inputs.send.take() {
        Some(data) => send_then_receive(&mut tls, &data, args, &mut inputs.sink, rec, style),
        None => copy_stdin(&mut tls, args, &mut inputs.sink, rec),
    };
    rec.stats = tls.stats();
    match &result {
        Ok(()) if narrate => {
            if rec.close_reason == Some(CloseReason::CloseNotify) {
                say!("==> the server closed the session (close_notify); sent ours");
            } else {
                say!("==> no data for the idle timeout; closed the session (close_notify)");
            }
        }
        Ok(()) => say!(
            "tlsferry: closed ({}); sent {} bytes, received {} bytes",
            match rec.close_reason {
                Some(CloseReason::CloseNotify) => "the server sent close_notify",
                _ => "idle timeout after the last byte",
            },
            rec.stats.plaintext_sent,
            rec.stats.plaintext_received
        ),
        Err(_) => {}
    }
    result
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn report_handshake(info: &ConnectionInfo, rec: &Record, style: Style) {
    match style {
        Style::Brief => {
            say!(
                "tlsferry: connected to {} as {:?}",
                rec.addr.map(|a| a.to_string()).unwrap_or_default(),
                info.server_name
            );
            let mut err = io::stderr().lock();
            let _ = err.write_all(report::summary(info, &rec.trust).as_bytes());
        }
        Style::Narrate => {
            say!(
                "==> TLS handshake done: {}, {}, key exchange {}, ALPN {}",
                info.version,
                info.cipher_suite,
                info.key_exchange_group.as_deref().unwrap_or("(unknown)"),
                report::alpn_text(info)
            );
            let chain = info.chain_summary();
            say!(
                "==> the server sent {} certificate(s), leaf first:",
                chain.len()
            );
            for (i, c) in chain.iter().enumerate() {
                say!("      {i}: {}", c.subject);
                say!("         issued by {}", c.issuer);
                if !c.names.is_empty() {
                    say!("         names     {}", c.names.join(", "));
                }
                say!("         valid     {}", c.validity());
                say!("         sha256    {}", c.sha256);
            }
            if info.verified {
                say!(
                    "==> verified: the chain leads to a trusted root ({}), the certificate covers {:?}, and it is valid now",
                    rec.trust,
                    info.server_name
                );
            } else {
                say!("==> NOT verified (--insecure)");
            }
        }
    }
}

/// `--send` / `--send-file`: write everything, then receive until the end.
fn send_then_receive(
    tls: &mut TlsStream<std::net::TcpStream>,
    data: &[u8],
    args: &ConnectArgs,
    sink: &mut Sink,
    rec: &mut Record,
    style: Style,
) -> Result<(), Failure> {
    tls.write_all(data)
        .and_then(|()| tls.flush())
        .map_err(|e| Failure::from_io(e, &args.host))?;
    if style == Style::Narrate {
        let shown = String::from_utf8_lossy(data.get(..200).unwrap_or(data));
        say!("==> sent {} bytes: {shown:?}", data.len());
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    tls.set_read_timeout(args.timeout);
    loop {
        match tls.read(&mut buf) {
            Ok(0) => {
                rec.close_reason = Some(CloseReason::CloseNotify);
                // The exchange is complete; a peer that already hung up may reject ours.
                let _ = tls.shutdown();
                break;
            }
            Ok(n) => {
                if style == Style::Narrate && received == 0 {
                    say!("==> receiving the reply (on stdout)");
                }
                received += n as u64;
                sink.write(buf.get(..n).unwrap_or_default()).map_err(|e| {
                    Failure::network("OUTPUT", format!("cannot write the received data: {e}"))
                })?;
            }
            Err(e) if is_idle(&e) => {
                idle_end(tls, received, args, rec)?;
                break;
            }
            Err(e) => {
                rec.close_reason = Some(failed_close(&e));
                return Err(Failure::from_io(e, &args.host));
            }
        }
    }
    Ok(())
}

/// How a session that failed with `e` ended, for the JSON record: `truncated` (EOF without
/// the peer's close_notify) or `error`.
fn failed_close(e: &io::Error) -> CloseReason {
    match tls_error(e) {
        Some(tlsferry_core::Error::Peer(tlsferry_core::PeerError::Truncated { .. })) => {
            CloseReason::Truncated
        }
        _ => CloseReason::Error,
    }
}

/// The stream's own read timeout fired (not a TLS failure).
fn is_idle(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::TimedOut && tls_error(e).is_none()
}

/// The idle timeout passed: after data it ends the session normally (close_notify),
/// before any it is a failure.
fn idle_end(
    tls: &mut TlsStream<std::net::TcpStream>,
    received: u64,
    args: &ConnectArgs,
    rec: &mut Record,
) -> Result<(), Failure> {
    let secs = args.timeout.map(|t| t.as_secs_f64()).unwrap_or(0.0);
    if received == 0 {
        rec.close_reason = Some(CloseReason::Timeout);
        return Err(Failure::network(
            "TIMEOUT",
            format!("timed out: no data from the peer for {secs} s"),
        ));
    }
    rec.close_reason = Some(CloseReason::IdleTimeout);
    let _ = tls.shutdown();
    Ok(())
}

/// Neither `--send` nor `--send-file`: copy stdin to the connection (closing with
/// close_notify at its end) while printing what arrives, like `openssl s_client`.
fn copy_stdin(
    tls: &mut TlsStream<std::net::TcpStream>,
    args: &ConnectArgs,
    sink: &mut Sink,
    rec: &mut Record,
) -> Result<(), Failure> {
    // How long a read may block before stdin is looked at again.
    const SLICE: Duration = Duration::from_millis(20);
    let (tx, rx) = mpsc::sync_channel::<Option<Vec<u8>>>(4);
    thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None);
                    break;
                }
                Ok(n) => {
                    if tx
                        .send(Some(buf.get(..n).unwrap_or_default().to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    let mut stdin_open = true;
    let mut last = Instant::now();
    let mut received = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    let fail = |e: io::Error, rec: &mut Record| {
        rec.close_reason = Some(failed_close(&e));
        Failure::from_io(e, &args.host)
    };
    // Piped input is usually there at once: give the reader thread a moment before the
    // first read blocks, instead of a whole SLICE.
    let mut first_wait = Some(Duration::from_millis(10));
    loop {
        while stdin_open {
            let next = match first_wait.take() {
                Some(t) => rx.recv_timeout(t).map_err(|e| match e {
                    mpsc::RecvTimeoutError::Timeout => mpsc::TryRecvError::Empty,
                    mpsc::RecvTimeoutError::Disconnected => mpsc::TryRecvError::Disconnected,
                }),
                None => rx.try_recv(),
            };
            match next {
                Ok(Some(chunk)) => {
                    tls.write_all(&chunk)
                        .and_then(|()| tls.flush())
                        .map_err(|e| fail(e, rec))?;
                    last = Instant::now();
                }
                Ok(None) | Err(mpsc::TryRecvError::Disconnected) => {
                    stdin_open = false;
                    // TLS 1.3 closes one direction at a time: close_notify now, and the
                    // reply still comes. TLS 1.2 has no half-close (RFC 5246 7.2.1: the
                    // peer answers close_notify by closing and may drop its pending
                    // reply), so there ours waits for the reply to end (its close_notify
                    // or the idle timeout).
                    let tls13 = tls
                        .info()
                        .is_some_and(|i| i.version == tlsferry::Version::Tls13);
                    if tls13 {
                        tls.shutdown().map_err(|e| fail(e, rec))?;
                    }
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        let idle_left = args.timeout.map(|t| t.saturating_sub(last.elapsed()));
        if idle_left.is_some_and(|t| t.is_zero()) {
            return idle_end(tls, received, args, rec);
        }
        let wait = match (stdin_open, idle_left) {
            (true, Some(t)) => Some(t.min(SLICE)),
            (true, None) => Some(SLICE),
            (false, t) => t,
        };
        tls.set_read_timeout(wait);
        match tls.read(&mut buf) {
            Ok(0) => {
                rec.close_reason = Some(CloseReason::CloseNotify);
                // Ours, unless already sent (shutdown is idempotent).
                let _ = tls.shutdown();
                return Ok(());
            }
            Ok(n) => {
                received += n as u64;
                last = Instant::now();
                sink.write(buf.get(..n).unwrap_or_default()).map_err(|e| {
                    Failure::network("OUTPUT", format!("cannot write the received data: {e}"))
                })?;
            }
            Err(e) if is_idle(&e) => {}
            Err(e) => return Err(fail(e, rec)),
        }
    }
}

/// The `--json` session summary.
fn session_json(args: &ConnectArgs, rec: &Record, failure: Option<&Failure>, exit: Exit) -> Json {
    let info = rec.info.as_ref();
    let chain = match (info, failure.and_then(|f| f.certificate.as_ref())) {
        (Some(i), _) => i.chain_summary(),
        (None, Some(c)) => c.chain_summary(),
        (None, None) => Vec::new(),
    };
    let verification = match (info, failure) {
        (Some(i), _) if !i.verified => "skipped",
        (Some(_), _) => "ok",
        (None, Some(f)) if f.certificate.is_some() => "failed",
        _ => "not_reached",
    };
    Json::obj()
        .with("host", Json::str(&args.host))
        .with("port", Json::Num(u64::from(args.port)))
        .with("address", Json::opt_str(rec.addr.map(|a| a.to_string())))
        .with("server_name", Json::str(args.server_name()))
        .with("connected", Json::Bool(info.is_some()))
        .with(
            "version",
            Json::opt_str(info.map(|i| i.version.to_string())),
        )
        .with(
            "cipher_suite",
            Json::opt_str(info.map(|i| i.cipher_suite.clone())),
        )
        .with(
            "kx_group",
            Json::opt_str(info.and_then(|i| i.key_exchange_group.clone())),
        )
        .with(
            "alpn",
            Json::opt_str(info.and_then(|i| i.alpn.as_ref().map(|_| report::alpn_text(i)))),
        )
        .with("resumed", Json::Bool(info.is_some_and(|i| i.resumed)))
        .with(
            "keying_material",
            match (&args.keymatexport, &rec.keying_material) {
                (Some((label, len)), Some(km)) => Json::obj()
                    .with("label", Json::str(label))
                    .with("length", Json::Num(*len as u64))
                    .with("hex", Json::str(tlsferry_core::cert::hex(km))),
                _ => Json::Null,
            },
        )
        .with(
            "verification",
            Json::obj()
                .with("result", Json::str(verification))
                .with("trust_store", Json::str(&rec.trust))
                .with(
                    "error",
                    failure
                        .and_then(|f| f.certificate.as_ref())
                        .map_or(Json::Null, |c| {
                            report::certificate_error_json(c, &rec.trust)
                        }),
                ),
        )
        .with(
            "chain",
            Json::Arr(chain.iter().map(report::cert_json).collect()),
        )
        .with("bytes_sent", Json::Num(rec.stats.plaintext_sent))
        .with("bytes_received", Json::Num(rec.stats.plaintext_received))
        .with(
            "close_reason",
            Json::opt_str(
                rec.close_reason
                    .or(failure.map(|_| CloseReason::Error))
                    .map(CloseReason::as_str),
            ),
        )
        .with(
            "error",
            failure.map_or(Json::Null, |f| {
                Json::obj()
                    .with("code", Json::str(f.code))
                    .with("message", Json::str(&f.message))
            }),
        )
        .with("exit_code", Json::Num(u64::from(exit.code())))
}
