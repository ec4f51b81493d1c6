//! The command line, parsed by one parser ([`parse`], on `lexopt`) for every subcommand:
//! `--flag VALUE` and `--flag=VALUE` everywhere, paths kept as OS strings (non-UTF-8
//! paths work), each option at most once unless it is a list, and every usage error
//! naming the offending input.

use std::ffi::OsString;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use lexopt::prelude::*;
use tlsferry_core::Version;

use crate::bridge::BridgeOptions;
use crate::starttls::StartTls;
use crate::verify::VerifyArgs;
use crate::webdemo::WebDemoOptions;

/// A usage error: the message names the offending input; exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl From<lexopt::Error> for UsageError {
    fn from(e: lexopt::Error) -> Self {
        UsageError(match e {
            lexopt::Error::MissingValue { option: Some(o) } => format!("{o} needs a value"),
            lexopt::Error::MissingValue { option: None } => "a value is missing".into(),
            lexopt::Error::UnexpectedOption(o) => format!("unknown option {o}"),
            lexopt::Error::UnexpectedArgument(a) => format!("unexpected argument {a:?}"),
            lexopt::Error::UnexpectedValue { option, .. } => format!("{option} takes no value"),
            lexopt::Error::NonUnicodeValue(v) => format!("{v:?} is not valid UTF-8"),
            lexopt::Error::ParsingFailed { value, error } => format!("{value:?}: {error}"),
            other => other.to_string(),
        })
    }
}

fn usage(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `tlsferry connect`.
    Connect(ConnectArgs),
    /// `tlsferry demo` (a connect with target, trust and name filled in by the demo).
    Demo(ConnectArgs),
    /// `tlsferry demo --web`.
    WebDemo(WebDemoOptions),
    /// `tlsferry bridge`.
    Bridge(BridgeOptions),
    /// `tlsferry replay`.
    Replay(ReplayArgs),
    /// `tlsferry verify`.
    Verify(VerifyArgs),
    /// `--help` of the tool or of a subcommand.
    Help(Topic),
    /// `--version`.
    Version,
}

/// Which help text to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// `tlsferry --help`.
    Main,
    /// `tlsferry connect --help`.
    Connect,
    /// `tlsferry demo --help`.
    Demo,
    /// `tlsferry demo --web --help`.
    WebDemo,
    /// `tlsferry bridge --help`.
    Bridge,
    /// `tlsferry replay --help`.
    Replay,
    /// `tlsferry verify --help`.
    Verify,
}

/// What to send after the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendSource {
    /// `--send TEXT`.
    Text(String),
    /// `--send-file PATH`.
    File(PathBuf),
    /// Neither: copy stdin to the connection until it ends.
    Stdin,
}

/// Parsed `tlsferry connect` arguments.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConnectArgs {
    /// Host name or IP address to connect to.
    pub host: String,
    /// TCP port (default 443).
    pub port: u16,
    /// Name for SNI and verification (default: `host`).
    pub servername: Option<String>,
    /// Trust only the PEM roots in this file.
    pub cafile: Option<PathBuf>,
    /// Client certificate chain (PEM).
    pub cert: Option<PathBuf>,
    /// Client private key (PEM).
    pub key: Option<PathBuf>,
    /// ALPN protocols, most preferred first.
    pub alpn: Vec<String>,
    /// `--groups LIST`: key-exchange groups to offer, most preferred first (empty: the
    /// default, X25519MLKEM768 first).
    pub groups: Vec<String>,
    /// Allow only this version.
    pub version: Option<Version>,
    /// What to send.
    pub send: SendSource,
    /// Idle timeout after the last byte (`None`: wait forever).
    pub timeout: Option<Duration>,
    /// Print the peer chain as PEM on stderr.
    pub show_certs: bool,
    /// Print a JSON summary on stdout.
    pub json: bool,
    /// Write received bytes here instead of stdout.
    pub output: Option<PathBuf>,
    /// NSS key log file.
    pub keylog: Option<PathBuf>,
    /// Skip certificate verification.
    pub insecure: bool,
    /// `--record FILE`: record a deterministic session into this transcript.
    pub record: Option<PathBuf>,
    /// `--seed HEX`: the recording's seed (random if absent).
    pub seed: Option<tlsferry_core::testing::Seed>,
    /// `--starttls PROTOCOL`: the plaintext exchange before TLS.
    pub starttls: Option<StartTls>,
    /// `--proxy HOST:PORT`: an HTTP proxy to `CONNECT` through.
    pub proxy: Option<(String, u16)>,
    /// `--keymatexport LABEL [--keymatexportlen N]`: keying material to export.
    pub keymatexport: Option<(String, usize)>,
}

impl ConnectArgs {
    /// The defaults for `host:port`.
    pub fn new(host: &str, port: u16) -> ConnectArgs {
        ConnectArgs {
            host: host.into(),
            port,
            servername: None,
            cafile: None,
            cert: None,
            key: None,
            alpn: Vec::new(),
            groups: Vec::new(),
            version: None,
            send: SendSource::Stdin,
            timeout: Some(DEFAULT_TIMEOUT),
            show_certs: false,
            json: false,
            output: None,
            keylog: None,
            insecure: false,
            record: None,
            seed: None,
            starttls: None,
            proxy: None,
            keymatexport: None,
        }
    }

    /// The name verified and sent in SNI.
    pub fn server_name(&self) -> &str {
        self.servername.as_deref().unwrap_or(&self.host)
    }
}

/// Parsed `tlsferry replay` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplayArgs {
    /// The transcript.
    pub file: PathBuf,
    /// `--time UNIX`: the wall clock for certificate checks (default: the recorded one).
    pub time: Option<u64>,
    /// `--seed HEX`: another seed (the replay then diverges).
    pub seed: Option<tlsferry_core::testing::Seed>,
    /// `--ignore-fingerprint`.
    pub ignore_fingerprint: bool,
}

/// Default `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Parses a whole command line (without the program name).
pub fn parse<I>(args: I) -> Result<Command, UsageError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut p = lexopt::Parser::from_iter(
        std::iter::once(OsString::from("tlsferry")).chain(args.into_iter().map(Into::into)),
    );
    match p.next()? {
        None => Err(usage("missing a command")),
        Some(Short('h') | Long("help")) => Ok(Command::Help(Topic::Main)),
        Some(Short('V') | Long("version")) => Ok(Command::Version),
        Some(Value(cmd)) => match cmd.to_str() {
            Some("help") => Ok(Command::Help(Topic::Main)),
            Some("connect") => parse_connect(&mut p),
            Some("demo") => parse_demo(&mut p),
            Some("bridge") => parse_bridge(&mut p),
            Some("replay") => parse_replay(&mut p),
            Some("verify") => parse_verify(&mut p),
            _ => Err(usage(format!("unknown command {cmd:?}"))),
        },
        Some(other) => Err(usage(format!("unknown option {}", other.unexpected()))),
    }
}

/// Sets `slot` once; a second occurrence of the option is an error.
fn once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), UsageError> {
    if slot.is_some() {
        return Err(usage(format!("{name} is given twice")));
    }
    *slot = Some(value);
    Ok(())
}

/// A switch given at most once.
fn switch(flag: &mut bool, name: &str) -> Result<(), UsageError> {
    if *flag {
        return Err(usage(format!("{name} is given twice")));
    }
    *flag = true;
    Ok(())
}

fn string(p: &mut lexopt::Parser, name: &str) -> Result<String, UsageError> {
    p.value()?
        .into_string()
        .map_err(|v| usage(format!("{name} {v:?}: not valid UTF-8")))
}

fn path(p: &mut lexopt::Parser) -> Result<PathBuf, UsageError> {
    Ok(PathBuf::from(p.value()?))
}

/// Seconds as a duration; 0 means "none" when `zero_is_none`.
fn seconds(text: &str, name: &str, zero_is_none: bool) -> Result<Option<Duration>, UsageError> {
    match text.parse::<f64>() {
        Ok(s) if s == 0.0 && zero_is_none => Ok(None),
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(Some(Duration::from_secs_f64(s))),
        _ => Err(usage(if zero_is_none {
            format!("{name} {text:?}: expected a number of seconds (0 waits forever)")
        } else {
            format!("{name} {text:?}: expected a positive number of seconds")
        })),
    }
}

/// The options `connect` and `demo` share, gathered before they are checked together.
#[derive(Default)]
struct ConnectFlags {
    target: Option<String>,
    servername: Option<String>,
    cafile: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    alpn: Option<String>,
    groups: Option<String>,
    tls12: bool,
    tls13: bool,
    send: Option<String>,
    send_file: Option<PathBuf>,
    timeout: Option<String>,
    show_certs: bool,
    json: bool,
    output: Option<PathBuf>,
    keylog: Option<PathBuf>,
    insecure: bool,
    record: Option<PathBuf>,
    seed: Option<String>,
    starttls: Option<String>,
    proxy: Option<String>,
    keymatexport: Option<String>,
    keymatexportlen: Option<String>,
    web: bool,
    help: bool,
}

/// Options only `tlsferry connect` takes (the demo supplies target, trust and name).
const CONNECT_ONLY: &[&str] = &[
    "--servername",
    "--cafile",
    "--cert",
    "--key",
    "--insecure",
    "--record",
    "--seed",
    "--starttls",
    "--proxy",
];

/// Reads the connect/demo options; `demo` refuses the connect-only ones.
fn connect_flags(p: &mut lexopt::Parser, demo: bool) -> Result<ConnectFlags, UsageError> {
    let mut f = ConnectFlags::default();
    while let Some(arg) = p.next()? {
        if let Long(name) = arg {
            let flag = format!("--{name}");
            if demo && CONNECT_ONLY.contains(&flag.as_str()) {
                return Err(usage(format!("unknown option {flag} (not for the demo)")));
            }
        }
        match arg {
            Short('h') | Long("help") => f.help = true,
            Long("servername") => {
                let v = string(p, "--servername")?;
                once(&mut f.servername, "--servername", v)?
            }
            Long("cafile") => {
                let v = path(p)?;
                once(&mut f.cafile, "--cafile", v)?
            }
            Long("cert") => {
                let v = path(p)?;
                once(&mut f.cert, "--cert", v)?
            }
            Long("key") => {
                let v = path(p)?;
                once(&mut f.key, "--key", v)?
            }
            Long("alpn") => {
                let v = string(p, "--alpn")?;
                once(&mut f.alpn, "--alpn", v)?
            }
            Long("groups") => {
                let v = string(p, "--groups")?;
                once(&mut f.groups, "--groups", v)?
            }
            Long("tls1.2") => switch(&mut f.tls12, "--tls1.2")?,
            Long("tls1.3") => switch(&mut f.tls13, "--tls1.3")?,
            Long("send") => {
                let v = string(p, "--send")?;
                once(&mut f.send, "--send", v)?
            }
            Long("send-file") => {
                let v = path(p)?;
                once(&mut f.send_file, "--send-file", v)?
            }
            Long("timeout") => {
                let v = string(p, "--timeout")?;
                once(&mut f.timeout, "--timeout", v)?
            }
            Long("show-certs") => switch(&mut f.show_certs, "--show-certs")?,
            Long("json") => switch(&mut f.json, "--json")?,
            Long("output") => {
                let v = path(p)?;
                once(&mut f.output, "--output", v)?
            }
            Long("keylog") => {
                let v = path(p)?;
                once(&mut f.keylog, "--keylog", v)?
            }
            Long("insecure") => switch(&mut f.insecure, "--insecure")?,
            Long("record") => {
                let v = path(p)?;
                once(&mut f.record, "--record", v)?
            }
            Long("seed") => {
                let v = string(p, "--seed")?;
                once(&mut f.seed, "--seed", v)?
            }
            Long("starttls") => {
                let v = string(p, "--starttls")?;
                once(&mut f.starttls, "--starttls", v)?
            }
            Long("proxy") => {
                let v = string(p, "--proxy")?;
                once(&mut f.proxy, "--proxy", v)?
            }
            Long("keymatexport") => {
                let v = string(p, "--keymatexport")?;
                once(&mut f.keymatexport, "--keymatexport", v)?
            }
            Long("keymatexportlen") => {
                let v = string(p, "--keymatexportlen")?;
                once(&mut f.keymatexportlen, "--keymatexportlen", v)?
            }
            Long("web") if demo => f.web = true,
            Value(v) if !demo => {
                let v = v
                    .into_string()
                    .map_err(|v| usage(format!("target {v:?}: not valid UTF-8")))?;
                if f.target.is_some() {
                    return Err(usage(format!("unexpected argument {v:?}")));
                }
                f.target = Some(v);
            }
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(f)
}

/// Checks the combinations and fills `a`.
fn apply(f: ConnectFlags, a: &mut ConnectArgs) -> Result<(), UsageError> {
    let contradict = |x: &str, y: &str| {
        usage(format!(
            "{x} and {y} contradict each other: give at most one"
        ))
    };
    if f.tls12 && f.tls13 {
        return Err(contradict("--tls1.2", "--tls1.3"));
    }
    if f.send.is_some() && f.send_file.is_some() {
        return Err(contradict("--send", "--send-file"));
    }
    if f.insecure && f.cafile.is_some() {
        return Err(usage(
            "--insecure and --cafile contradict each other: --insecure trusts nothing and checks nothing",
        ));
    }
    if f.cert.is_some() != f.key.is_some() {
        return Err(usage("--cert and --key go together: give both or neither"));
    }
    if f.servername.as_deref() == Some("") {
        return Err(usage("--servername: empty name"));
    }
    if let Some(list) = &f.alpn {
        let protocols: Vec<String> = list.split(',').map(String::from).collect();
        if protocols.iter().any(|p| p.is_empty() || p.len() > 255) {
            return Err(usage(format!(
                "--alpn {list:?}: expected comma-separated protocol names, e.g. h2,http/1.1"
            )));
        }
        a.alpn = protocols;
    }
    if let Some(list) = &f.groups {
        // OpenSSL separates them with colons (-groups X25519:P-256); commas work too.
        let groups: Vec<String> = list.split([',', ':']).map(String::from).collect();
        if groups.iter().any(String::is_empty) {
            return Err(usage(format!(
                "--groups {list:?}: expected comma-separated group names, e.g. X25519MLKEM768,X25519"
            )));
        }
        if f.record.is_some() {
            return Err(usage(
                "--record and --groups do not go together: a recording offers the default groups",
            ));
        }
        a.groups = groups;
    }
    if f.tls12 {
        a.version = Some(Version::Tls12);
    }
    if f.tls13 {
        a.version = Some(Version::Tls13);
    }
    if let Some(text) = f.send {
        a.send = SendSource::Text(text);
    }
    if let Some(path) = f.send_file {
        a.send = SendSource::File(path);
    }
    if let Some(v) = &f.timeout {
        a.timeout = seconds(v, "--timeout", true)?;
    }
    if let Some(hex) = &f.seed {
        if f.record.is_none() {
            return Err(usage("--seed needs --record FILE"));
        }
        a.seed = Some(seed(hex)?);
    }
    if f.record.is_some() && f.cert.is_some() {
        return Err(usage(
            "--record and --cert/--key do not go together: a replay could not sign for the client",
        ));
    }
    if let Some(name) = &f.starttls {
        a.starttls = Some(StartTls::from_name(name).ok_or_else(|| {
            usage(format!(
                "--starttls {name:?}: expected one of {}",
                StartTls::NAMES
            ))
        })?);
    }
    if let Some(proxy) = &f.proxy {
        a.proxy = Some(parse_target(proxy).map_err(|e| usage(format!("--proxy: {}", e.0)))?);
    }
    match (&f.keymatexport, &f.keymatexportlen) {
        (None, Some(_)) => return Err(usage("--keymatexportlen needs --keymatexport LABEL")),
        (Some(label), len) => {
            if label.is_empty() {
                return Err(usage("--keymatexport: empty label"));
            }
            let len = match len {
                None => 20,
                Some(v) => v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=16_384).contains(n))
                    .ok_or_else(|| {
                        usage(format!(
                            "--keymatexportlen {v:?}: expected 1 to 16384 bytes"
                        ))
                    })?,
            };
            a.keymatexport = Some((label.clone(), len));
        }
        (None, None) => {}
    }
    a.servername = f.servername.or(a.servername.take());
    a.cafile = f.cafile.or(a.cafile.take());
    a.cert = f.cert;
    a.key = f.key;
    a.show_certs = f.show_certs;
    a.json = f.json;
    a.output = f.output;
    a.keylog = f.keylog;
    a.insecure = f.insecure;
    a.record = f.record;
    Ok(())
}

fn seed(hex: &str) -> Result<tlsferry_core::testing::Seed, UsageError> {
    tlsferry_core::testing::Seed::from_hex(hex)
        .ok_or_else(|| usage(format!("--seed {hex:?}: expected 64 hex digits (32 bytes)")))
}

fn parse_connect(p: &mut lexopt::Parser) -> Result<Command, UsageError> {
    let mut f = connect_flags(p, false)?;
    if f.help {
        return Ok(Command::Help(Topic::Connect));
    }
    let target = f
        .target
        .take()
        .ok_or_else(|| usage("missing HOST[:PORT]"))?;
    let (host, port) = parse_target(&target)?;
    let mut a = ConnectArgs::new(&host, port);
    apply(f, &mut a)?;
    Ok(Command::Connect(a))
}

/// `tlsferry demo ARGS`: connect arguments whose target, trust and name the demo fills
/// in; the default exchange is the seed's (`--send 'Hello, World!'`). With `--web`, the
/// browser demo's options.
fn parse_demo(p: &mut lexopt::Parser) -> Result<Command, UsageError> {
    // `--web` switches to another set of options: look ahead for it.
    let rest: Vec<OsString> = p.raw_args()?.collect();
    if rest.iter().any(|a| a == "--web") {
        let others = rest.into_iter().filter(|a| a != "--web");
        let mut q =
            lexopt::Parser::from_iter(std::iter::once(OsString::from("demo")).chain(others));
        return parse_web_demo(&mut q);
    }
    let mut q = lexopt::Parser::from_iter(std::iter::once(OsString::from("demo")).chain(rest));
    let f = connect_flags(&mut q, true)?;
    if f.help {
        return Ok(Command::Help(Topic::Demo));
    }
    let mut a = ConnectArgs::new("127.0.0.1", 443);
    a.send = SendSource::Text("Hello, World!".into());
    apply(f, &mut a)?;
    Ok(Command::Demo(a))
}

fn parse_web_demo(p: &mut lexopt::Parser) -> Result<Command, UsageError> {
    let mut port = None;
    let mut dir = None;
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help(Topic::WebDemo)),
            Long("port") => {
                let v: u16 = p
                    .value()?
                    .parse()
                    .map_err(|_| usage("--port: expected a port number (0 picks a free one)"))?;
                once(&mut port, "--port", v)?
            }
            Long("dir") => {
                let v = path(p)?;
                once(&mut dir, "--dir", v)?
            }
            other => return Err(other.unexpected().into()),
        }
    }
    let mut opts = WebDemoOptions::default();
    if let Some(port) = port {
        opts.port = port;
    }
    if let Some(dir) = dir {
        opts.dir = dir;
    }
    opts.dir = std::fs::canonicalize(&opts.dir).unwrap_or(opts.dir);
    Ok(Command::WebDemo(opts))
}

fn parse_bridge(p: &mut lexopt::Parser) -> Result<Command, UsageError> {
    let mut opts = BridgeOptions::new(&[]);
    let mut listen = None;
    let mut max_connections = None;
    let mut max_handshakes = None;
    let mut max_per_ip = None;
    let mut frame = None;
    let mut timeouts: [Option<Duration>; 4] = [None; 4];
    let mut cert = None;
    let mut key = None;
    let mut tokens = None;
    let mut metrics = None;
    let mut log = None;
    let count = |p: &mut lexopt::Parser, name: &str, min: usize| -> Result<usize, UsageError> {
        let v = string(p, name)?;
        v.parse::<usize>()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| {
                usage(format!(
                    "{name} {v:?}: expected a whole number, at least {min}"
                ))
            })
    };
    let addr = |p: &mut lexopt::Parser, name: &str| -> Result<SocketAddr, UsageError> {
        let v = string(p, name)?;
        v.to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| usage(format!("{name} {v}: not an ADDR:PORT")))
    };
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help(Topic::Bridge)),
            Long("listen") => once(&mut listen, "--listen", addr(p, "--listen")?)?,
            Long("allow") => {
                let v = string(p, "--allow")?;
                opts.allow
                    .push(crate::bridge::normalize_target(&v).ok_or_else(|| {
                        usage(format!(
                            "--allow {v}: expected HOST:PORT (IPv6 as [ADDR]:PORT)"
                        ))
                    })?);
            }
            Long("allow-origin") => {
                let v = string(p, "--allow-origin")?;
                if v != "*" && !v.contains("://") && v != "null" {
                    return Err(usage(format!(
                        "--allow-origin {v}: expected an origin such as https://app.example (or *)"
                    )));
                }
                opts.allow_origins.push(v.trim_end_matches('/').to_string());
            }
            Long("max-connections") => once(
                &mut max_connections,
                "--max-connections",
                count(p, "--max-connections", 1)?,
            )?,
            Long("max-handshakes") => once(
                &mut max_handshakes,
                "--max-handshakes",
                count(p, "--max-handshakes", 1)?,
            )?,
            Long("max-per-ip") => once(
                &mut max_per_ip,
                "--max-per-ip",
                count(p, "--max-per-ip", 0)?,
            )?,
            Long("max-frame-size") => once(
                &mut frame,
                "--max-frame-size",
                count(p, "--max-frame-size", 1024)?,
            )?,
            Long(
                name @ ("idle-timeout" | "write-timeout" | "handshake-timeout" | "connect-timeout"),
            ) => {
                let flag = format!("--{name}");
                let i = match name {
                    "idle-timeout" => 0,
                    "write-timeout" => 1,
                    "handshake-timeout" => 2,
                    _ => 3,
                };
                let v = string(p, &flag)?;
                let d = seconds(&v, &flag, false)?.unwrap_or_default();
                if let Some(slot) = timeouts.get_mut(i) {
                    once(slot, &flag, d)?;
                }
            }
            Long("cert") => once(&mut cert, "--cert", path(p)?)?,
            Long("key") => once(&mut key, "--key", path(p)?)?,
            Long("auth-token-file") => once(&mut tokens, "--auth-token-file", path(p)?)?,
            Long("metrics") => once(&mut metrics, "--metrics", addr(p, "--metrics")?)?,
            Long("log-format") => {
                let v = string(p, "--log-format")?;
                let f = match v.as_str() {
                    "text" => crate::bridge::LogFormat::Text,
                    "json" => crate::bridge::LogFormat::Json,
                    "off" => crate::bridge::LogFormat::Off,
                    _ => {
                        return Err(usage(format!(
                            "--log-format {v}: expected text, json or off"
                        )))
                    }
                };
                once(&mut log, "--log-format", f)?
            }
            other => return Err(other.unexpected().into()),
        }
    }
    if let Some(l) = listen {
        opts.listen = l;
    }
    opts.max_connections = max_connections;
    opts.max_handshakes = max_handshakes;
    if let Some(n) = max_per_ip {
        opts.max_per_ip = n;
    }
    if let Some(n) = frame {
        opts.max_frame_size = n;
    }
    let [idle, write, handshake, connect] = timeouts;
    opts.idle_timeout = idle.unwrap_or(opts.idle_timeout);
    opts.write_timeout = write.unwrap_or(opts.write_timeout);
    opts.handshake_timeout = handshake.unwrap_or(opts.handshake_timeout);
    opts.connect_timeout = connect.unwrap_or(opts.connect_timeout);
    opts.tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(crate::bridge::TlsFiles { cert, key }),
        (None, None) => None,
        _ => return Err(usage("--cert and --key go together (wss://)")),
    };
    opts.auth_token_file = tokens;
    opts.metrics = metrics;
    if let Some(f) = log {
        opts.log = f;
    }
    if opts.allow.is_empty() {
        return Err(usage(
            "refusing to start without --allow HOST:PORT: the bridge is never an open proxy",
        ));
    }
    Ok(Command::Bridge(opts))
}

fn parse_replay(p: &mut lexopt::Parser) -> Result<Command, UsageError> {
    let mut file = None;
    let mut time = None;
    let mut seed_hex = None;
    let mut ignore = false;
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help(Topic::Replay)),
            Long("time") => {
                let v = string(p, "--time")?;
                let t = v
                    .parse::<u64>()
                    .map_err(|_| usage(format!("--time {v:?}: expected a Unix time in seconds")))?;
                once(&mut time, "--time", t)?
            }
            Long("seed") => {
                let v = string(p, "--seed")?;
                once(&mut seed_hex, "--seed", v)?
            }
            Long("ignore-fingerprint") => switch(&mut ignore, "--ignore-fingerprint")?,
            Value(v) if file.is_none() => file = Some(PathBuf::from(v)),
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(Command::Replay(ReplayArgs {
        file: file.ok_or_else(|| usage("missing the transcript FILE"))?,
        time,
        seed: seed_hex.as_deref().map(seed).transpose()?,
        ignore_fingerprint: ignore,
    }))
}

fn parse_verify(p: &mut lexopt::Parser) -> Result<Command, UsageError> {
    let mut chain = None;
    let mut servername = None;
    let mut cafile = None;
    let mut time = None;
    let mut json = false;
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help(Topic::Verify)),
            Long("servername") => {
                let v = string(p, "--servername")?;
                once(&mut servername, "--servername", v)?
            }
            Long("cafile") => {
                let v = path(p)?;
                once(&mut cafile, "--cafile", v)?
            }
            Long("time") => {
                let v = string(p, "--time")?;
                let t = v
                    .parse::<u64>()
                    .map_err(|_| usage(format!("--time {v:?}: expected a Unix time in seconds")))?;
                once(&mut time, "--time", t)?
            }
            Long("json") => switch(&mut json, "--json")?,
            Value(v) if chain.is_none() => chain = Some(PathBuf::from(v)),
            other => return Err(other.unexpected().into()),
        }
    }
    let servername = servername
        .ok_or_else(|| usage("missing --servername NAME: the name the certificate must cover"))?;
    if servername.is_empty() {
        return Err(usage("--servername: empty name"));
    }
    Ok(Command::Verify(VerifyArgs {
        chain: chain.ok_or_else(|| usage("missing the CHAIN.pem file"))?,
        servername,
        cafile,
        time,
        json,
    }))
}

/// Parses `HOST[:PORT]`, `[IPv6]:PORT` or a bare IPv6 address (port 443).
pub fn parse_target(target: &str) -> Result<(String, u16), UsageError> {
    let bad = |why: &str| usage(format!("invalid target {target:?}: {why}"));
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| bad("missing ']' after an IPv6 address"))?;
        match after {
            "" => (host, None),
            p => (
                host,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad("expected ':PORT' after ']'"))?,
                ),
            ),
        }
    } else if target.matches(':').count() == 1 {
        let (h, p) = target.split_once(':').unwrap_or((target, ""));
        (h, Some(p))
    } else {
        (target, None)
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port = match port {
        None => 443,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(bad("the port must be a number from 1 to 65535")),
        },
    };
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(s: &[&str]) -> Result<Command, UsageError> {
        parse(s.iter().map(|a| a.to_string()))
    }

    fn run(s: &[&str]) -> Result<ConnectArgs, UsageError> {
        let mut all = vec!["connect"];
        all.extend_from_slice(s);
        match cmd(&all)? {
            Command::Connect(a) => Ok(a),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("example.com").unwrap(),
            ("example.com".into(), 443)
        );
        assert_eq!(
            parse_target("example.com:8443").unwrap(),
            ("example.com".into(), 8443)
        );
        assert_eq!(parse_target("::1").unwrap(), ("::1".into(), 443));
        assert_eq!(parse_target("[::1]:4433").unwrap(), ("::1".into(), 4433));
        assert_eq!(parse_target("[::1]").unwrap(), ("::1".into(), 443));
        for bad in [
            "",
            ":443",
            "host:",
            "host:0",
            "host:65536",
            "host:x",
            "[::1",
            "[::1]x",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_seed_command_line() {
        let a = run(&[
            "127.0.0.1:4433",
            "--cafile",
            "root.pem",
            "--servername=localhost",
            "--send",
            "Hello, World!",
        ])
        .unwrap();
        assert_eq!((a.host.as_str(), a.port), ("127.0.0.1", 4433));
        assert_eq!(a.server_name(), "localhost");
        assert_eq!(a.cafile, Some(PathBuf::from("root.pem")));
        assert_eq!(a.send, SendSource::Text("Hello, World!".into()));
        assert_eq!(a.timeout, Some(DEFAULT_TIMEOUT));
    }

    #[test]
    fn defaults_and_switches() {
        let a = run(&["example.com"]).unwrap();
        assert_eq!(a.server_name(), "example.com");
        assert_eq!(a.send, SendSource::Stdin);
        let a = run(&[
            "h",
            "--tls1.2",
            "--alpn",
            "h2,http/1.1",
            "--timeout=0.5",
            "--json",
            "--groups",
            "X25519:P-256",
        ])
        .unwrap();
        assert_eq!(a.groups, ["X25519", "P-256"]);
        assert_eq!(a.version, Some(Version::Tls12));
        assert_eq!(a.alpn, vec!["h2".to_string(), "http/1.1".into()]);
        assert_eq!(a.timeout, Some(Duration::from_millis(500)));
        assert!(a.json);
        assert_eq!(run(&["h", "--timeout", "0"]).unwrap().timeout, None);
    }

    #[test]
    fn usage_errors_name_the_input() {
        let err = |s: &[&str]| run(s).unwrap_err().0;
        assert!(err(&["h", "--frobnicate"]).contains("--frobnicate"));
        assert!(err(&["h", "--tls1.2", "--tls1.3"]).contains("contradict"));
        assert!(err(&["h", "--send", "a", "--send-file", "b"]).contains("contradict"));
        assert!(err(&["h", "--cert", "c.pem"]).contains("--key"));
        assert!(err(&["h", "--cafile"]).contains("needs a value"));
        assert!(err(&["h", "--timeout", "soon"]).contains("--timeout"));
        assert!(err(&["h", "--timeout", "-1"]).contains("--timeout"));
        assert!(err(&["h", "--alpn", "h2,,x"]).contains("--alpn"));
        assert!(err(&["h", "--groups", "X25519,"]).contains("--groups"));
        assert!(err(&["h", "--groups", "X25519", "--record", "f"]).contains("--record"));
        assert!(err(&["h", "--json", "--json"]).contains("twice"));
        assert!(err(&["h", "--cafile", "a", "--cafile=b"]).contains("twice"));
        assert!(err(&["h", "--json=yes"]).contains("no value"));
        assert!(err(&[]).contains("HOST"));
        assert!(err(&["a", "b"]).contains("\"b\""));
        assert!(err(&["h", "--insecure", "--cafile", "x"]).contains("contradict"));
        assert!(err(&["h", "--seed", "00"]).contains("--record"));
    }

    #[test]
    fn help_and_version_anywhere() {
        assert_eq!(
            cmd(&["connect", "h", "--help"]).unwrap(),
            Command::Help(Topic::Connect)
        );
        assert_eq!(cmd(&["demo", "-h"]).unwrap(), Command::Help(Topic::Demo));
        assert_eq!(
            cmd(&["demo", "--web", "-h"]).unwrap(),
            Command::Help(Topic::WebDemo)
        );
        assert_eq!(
            cmd(&["bridge", "--help"]).unwrap(),
            Command::Help(Topic::Bridge)
        );
        assert_eq!(
            cmd(&["replay", "--help"]).unwrap(),
            Command::Help(Topic::Replay)
        );
        assert_eq!(cmd(&["--help"]).unwrap(), Command::Help(Topic::Main));
        assert_eq!(cmd(&["-V"]).unwrap(), Command::Version);
        assert!(cmd(&["frob"]).unwrap_err().0.contains("frob"));
        assert!(cmd(&[]).is_err());
    }

    #[test]
    fn demo_fills_in_the_seed_exchange() {
        let Command::Demo(a) = cmd(&["demo"]).unwrap() else {
            panic!()
        };
        assert_eq!(a.send, SendSource::Text("Hello, World!".into()));
        assert!(cmd(&["demo", "--cafile", "x"])
            .unwrap_err()
            .0
            .contains("--cafile"));
        assert!(cmd(&["demo", "host"]).is_err());
        let Command::Demo(a) = cmd(&["demo", "--tls1.2", "--json"]).unwrap() else {
            panic!()
        };
        assert_eq!(a.version, Some(Version::Tls12));
        let Command::WebDemo(w) = cmd(&["demo", "--port=0", "--web"]).unwrap() else {
            panic!()
        };
        assert_eq!(w.port, 0);
    }

    #[test]
    fn replay_takes_inline_values() {
        let Command::Replay(r) = cmd(&["replay", "t.transcript", "--time=1700000000"]).unwrap()
        else {
            panic!()
        };
        assert_eq!(r.time, Some(1_700_000_000));
        assert_eq!(r.file, PathBuf::from("t.transcript"));
        assert!(cmd(&["replay", "--time", "soon", "f"])
            .unwrap_err()
            .0
            .contains("--time"));
        assert!(cmd(&["replay"]).unwrap_err().0.contains("FILE"));
        assert!(cmd(&["replay", "a", "b"]).unwrap_err().0.contains("\"b\""));
    }

    #[test]
    fn starttls_proxy_and_exporter_options() {
        let a = run(&[
            "mail.example:25",
            "--starttls=SMTP",
            "--proxy",
            "proxy.example:3128",
            "--keymatexport",
            "EXPORTER-x",
            "--keymatexportlen=32",
        ])
        .unwrap();
        assert_eq!(a.starttls, Some(StartTls::Smtp));
        assert_eq!(a.proxy, Some(("proxy.example".into(), 3128)));
        assert_eq!(a.keymatexport, Some(("EXPORTER-x".into(), 32)));
        let a = run(&["h", "--keymatexport", "L"]).unwrap();
        assert_eq!(a.keymatexport, Some(("L".into(), 20)));
        let err = |s: &[&str]| run(s).unwrap_err().0;
        assert!(err(&["h", "--starttls", "gopher"]).contains("smtp, imap"));
        assert!(err(&["h", "--proxy", "x:0"]).contains("--proxy"));
        assert!(err(&["h", "--keymatexportlen", "8"]).contains("--keymatexport LABEL"));
        assert!(err(&["h", "--keymatexport", "L", "--keymatexportlen", "0"]).contains("1 to 16384"));
        assert!(cmd(&["demo", "--starttls", "smtp"]).is_err());
    }

    #[test]
    fn verify_options() {
        let Command::Verify(v) = cmd(&[
            "verify",
            "chain.pem",
            "--servername=example.com",
            "--time",
            "1700000000",
            "--json",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            (v.servername.as_str(), v.time, v.json),
            ("example.com", Some(1_700_000_000), true)
        );
        assert!(cmd(&["verify", "c.pem"])
            .unwrap_err()
            .0
            .contains("--servername"));
        assert!(cmd(&["verify", "--servername", "x"])
            .unwrap_err()
            .0
            .contains("CHAIN"));
        assert_eq!(
            cmd(&["verify", "--help"]).unwrap(),
            Command::Help(Topic::Verify)
        );
    }

    #[test]
    fn bridge_options() {
        let Command::Bridge(b) = cmd(&[
            "bridge",
            "--listen=127.0.0.1:0",
            "--allow",
            "Example.COM:443",
            "--allow=[::1]:8443",
            "--idle-timeout",
            "2.5",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            b.allow,
            vec!["example.com:443".to_string(), "[::1]:8443".into()]
        );
        assert_eq!(b.idle_timeout, Duration::from_millis(2500));
        assert_eq!(b.max_connections, None, "sized to the descriptor limit");
        let Command::Bridge(b) = cmd(&[
            "bridge",
            "--allow=h:1",
            "--cert=c.pem",
            "--key",
            "k.pem",
            "--auth-token-file",
            "t",
            "--metrics",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--max-per-ip",
            "0",
            "--max-handshakes",
            "9",
            "--write-timeout",
            "4",
            "--handshake-timeout",
            "0.5",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(b.tls.unwrap().key, PathBuf::from("k.pem"));
        assert_eq!(b.auth_token_file, Some(PathBuf::from("t")));
        assert!(b.metrics.is_some());
        assert_eq!(b.log, crate::bridge::LogFormat::Json);
        assert_eq!((b.max_per_ip, b.max_handshakes), (0, Some(9)));
        assert_eq!(b.write_timeout, Duration::from_secs(4));
        assert_eq!(b.handshake_timeout, Duration::from_millis(500));
        let err = |a: &[&str]| cmd(a).unwrap_err().0;
        assert!(err(&["bridge", "--allow=h:1", "--cert", "c"]).contains("--key"));
        assert!(err(&["bridge", "--allow=h:1", "--log-format", "xml"]).contains("--log-format"));
        assert!(
            err(&["bridge", "--allow=h:1", "--allow-origin", "evil.example"]).contains("origin")
        );
        assert!(
            err(&["bridge", "--allow=h:1", "--max-connections", "0"]).contains("--max-connections")
        );
        assert!(err(&[
            "bridge",
            "--allow=h:1",
            "--idle-timeout",
            "1",
            "--idle-timeout=2"
        ])
        .contains("twice"));
        assert!(cmd(&["bridge"]).unwrap_err().0.contains("open proxy"));
        assert!(cmd(&["bridge", "--allow", "x"])
            .unwrap_err()
            .0
            .contains("--allow"));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_paths_are_kept() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(b"ca-\xff.pem".to_vec());
        let args = vec![
            OsString::from("connect"),
            OsString::from("h"),
            OsString::from("--cafile"),
            odd.clone(),
        ];
        let Command::Connect(a) = parse(args).unwrap() else {
            panic!()
        };
        assert_eq!(a.cafile, Some(PathBuf::from(odd)));
    }
}
