//! Hand-written argument parsing for `tlsferry connect` and `tlsferry demo` (no clap:
//! build time). Accepts `--flag VALUE` and `--flag=VALUE`.

use std::path::PathBuf;
use std::time::Duration;

use tlsferry_core::Version;

/// A usage error: the message names the offending input; exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

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
        }
    }

    /// The name verified and sent in SNI.
    pub fn server_name(&self) -> &str {
        self.servername.as_deref().unwrap_or(&self.host)
    }
}

/// Default `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The options that take a value.
const VALUE_OPTIONS: &[&str] = &[
    "--servername",
    "--cafile",
    "--cert",
    "--key",
    "--alpn",
    "--send",
    "--send-file",
    "--timeout",
    "--output",
    "--keylog",
    "--record",
    "--seed",
];

/// The options without a value.
const SWITCHES: &[&str] = &[
    "--tls1.2",
    "--tls1.3",
    "--show-certs",
    "--json",
    "--insecure",
];

/// Options `tlsferry demo` accepts (it supplies host, trust and name itself).
pub const DEMO_OPTIONS: &[&str] = &[
    "--alpn",
    "--send",
    "--send-file",
    "--timeout",
    "--output",
    "--keylog",
    "--tls1.2",
    "--tls1.3",
    "--show-certs",
    "--json",
];

/// Splits `args` into (option, value) pairs and positionals; checks names and values.
fn tokenize(args: &[String], allowed: Option<&[&str]>) -> Result<Tokens, UsageError> {
    let mut out = Tokens::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            out.help = true;
            continue;
        }
        if !arg.starts_with('-') || arg == "-" {
            out.positionals.push(arg.clone());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let known = VALUE_OPTIONS.contains(&name.as_str()) || SWITCHES.contains(&name.as_str());
        if !known || allowed.is_some_and(|a| !a.contains(&name.as_str())) {
            return Err(UsageError(format!("unknown option {name}")));
        }
        if VALUE_OPTIONS.contains(&name.as_str()) {
            let value = match inline {
                Some(v) => v,
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| UsageError(format!("{name} needs a value")))?,
            };
            out.push(name, Some(value))?;
        } else {
            if inline.is_some() {
                return Err(UsageError(format!("{name} takes no value")));
            }
            out.push(name, None)?;
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Tokens {
    help: bool,
    positionals: Vec<String>,
    options: Vec<(String, Option<String>)>,
}

impl Tokens {
    fn push(&mut self, name: String, value: Option<String>) -> Result<(), UsageError> {
        if self.options.iter().any(|(n, _)| *n == name) {
            return Err(UsageError(format!("{name} is given twice")));
        }
        self.options.push((name, value));
        Ok(())
    }

    fn has(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Parses `HOST[:PORT]`, `[IPv6]:PORT` or a bare IPv6 address (port 443).
pub fn parse_target(target: &str) -> Result<(String, u16), UsageError> {
    let bad = |why: &str| UsageError(format!("invalid target {target:?}: {why}"));
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

fn parse_timeout(v: &str) -> Result<Option<Duration>, UsageError> {
    match v.parse::<f64>() {
        Ok(0.0) => Ok(None),
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(Some(Duration::from_secs_f64(s))),
        _ => Err(UsageError(format!(
            "--timeout {v:?}: expected a number of seconds (0 waits forever)"
        ))),
    }
}

/// Applies the options of `t` to `a`, checking combinations.
fn apply(t: &Tokens, a: &mut ConnectArgs) -> Result<(), UsageError> {
    if t.has("--tls1.2") && t.has("--tls1.3") {
        return Err(UsageError(
            "--tls1.2 and --tls1.3 contradict each other: give at most one".into(),
        ));
    }
    if t.has("--send") && t.has("--send-file") {
        return Err(UsageError(
            "--send and --send-file contradict each other: give at most one".into(),
        ));
    }
    if t.has("--insecure") && t.has("--cafile") {
        return Err(UsageError(
            "--insecure and --cafile contradict each other: --insecure trusts nothing and checks nothing".into(),
        ));
    }
    if t.has("--cert") != t.has("--key") {
        return Err(UsageError(
            "--cert and --key go together: give both or neither".into(),
        ));
    }
    a.servername = t.value("--servername").map(String::from);
    a.cafile = t.value("--cafile").map(PathBuf::from);
    a.cert = t.value("--cert").map(PathBuf::from);
    a.key = t.value("--key").map(PathBuf::from);
    if let Some(list) = t.value("--alpn") {
        let protocols: Vec<String> = list.split(',').map(String::from).collect();
        if protocols.iter().any(|p| p.is_empty() || p.len() > 255) {
            return Err(UsageError(format!(
                "--alpn {list:?}: expected comma-separated protocol names, e.g. h2,http/1.1"
            )));
        }
        a.alpn = protocols;
    }
    if t.has("--tls1.2") {
        a.version = Some(Version::Tls12);
    }
    if t.has("--tls1.3") {
        a.version = Some(Version::Tls13);
    }
    if let Some(text) = t.value("--send") {
        a.send = SendSource::Text(text.into());
    }
    if let Some(path) = t.value("--send-file") {
        a.send = SendSource::File(path.into());
    }
    if let Some(v) = t.value("--timeout") {
        a.timeout = parse_timeout(v)?;
    }
    a.show_certs = t.has("--show-certs");
    a.json = t.has("--json");
    a.output = t.value("--output").map(PathBuf::from);
    a.keylog = t.value("--keylog").map(PathBuf::from);
    a.insecure = t.has("--insecure");
    a.record = t.value("--record").map(PathBuf::from);
    if let Some(hex) = t.value("--seed") {
        if a.record.is_none() {
            return Err(UsageError("--seed needs --record FILE".into()));
        }
        a.seed = Some(tlsferry_core::testing::Seed::from_hex(hex).ok_or_else(|| {
            UsageError(format!("--seed {hex:?}: expected 64 hex digits (32 bytes)"))
        })?);
    }
    if a.record.is_some() && a.cert.is_some() {
        return Err(UsageError(
            "--record and --cert/--key do not go together: a replay could not sign for the client"
                .into(),
        ));
    }
    if a.servername.as_deref() == Some("") {
        return Err(UsageError("--servername: empty name".into()));
    }
    Ok(())
}

/// Parsed command line of a subcommand: help wanted, or the arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed<T> {
    /// `-h`/`--help` was given.
    Help,
    /// The arguments.
    Run(T),
}

/// Parses `tlsferry connect ARGS`.
pub fn parse_connect(args: &[String]) -> Result<Parsed<ConnectArgs>, UsageError> {
    let t = tokenize(args, None)?;
    if t.help {
        return Ok(Parsed::Help);
    }
    let target = match t.positionals.as_slice() {
        [one] => one,
        [] => return Err(UsageError("missing HOST[:PORT]".into())),
        [_, extra, ..] => return Err(UsageError(format!("unexpected argument {extra:?}"))),
    };
    let (host, port) = parse_target(target)?;
    let mut a = ConnectArgs::new(&host, port);
    apply(&t, &mut a)?;
    Ok(Parsed::Run(a))
}

/// Parses `tlsferry demo ARGS` into connect arguments whose target, trust and name the
/// demo fills in. The default exchange is the seed's: `--send 'Hello, World!'`.
pub fn parse_demo(args: &[String]) -> Result<Parsed<ConnectArgs>, UsageError> {
    let t = tokenize(args, Some(DEMO_OPTIONS))?;
    if t.help {
        return Ok(Parsed::Help);
    }
    if let Some(extra) = t.positionals.first() {
        return Err(UsageError(format!("unexpected argument {extra:?}")));
    }
    let mut a = ConnectArgs::new("127.0.0.1", 443);
    a.send = SendSource::Text("Hello, World!".into());
    apply(&t, &mut a)?;
    Ok(Parsed::Run(a))
}

/// The outcome of a flag parser whose `Err("")` means `--help`: the options, or the exit
/// code after printing the usage (to stdout for `--help`, with the error to stderr, exit 2).
pub fn options_or_exit<T>(
    command: &str,
    usage: &str,
    parsed: Result<T, String>,
) -> Result<T, std::process::ExitCode> {
    match parsed {
        Ok(o) => Ok(o),
        Err(e) if e.is_empty() => {
            println!("{usage}");
            Err(std::process::ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{command}: {e}\n{usage}");
            Err(std::process::ExitCode::from(2))
        }
    }
}

/// Walks `--flag value` and `--flag=value` arguments, for the subcommands that parse their
/// own flags (`bridge`, `demo --web`).
#[derive(Debug)]
pub struct FlagArgs<'a> {
    it: std::slice::Iter<'a, String>,
    flag: String,
    inline: Option<String>,
}

impl<'a> FlagArgs<'a> {
    /// Starts at the first argument.
    pub fn new(args: &'a [String]) -> Self {
        FlagArgs {
            it: args.iter(),
            flag: String::new(),
            inline: None,
        }
    }

    /// The next flag (the part before any `=`), or `None` at the end.
    pub fn next_flag(&mut self) -> Option<String> {
        let arg = self.it.next()?;
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        self.flag = flag.clone();
        self.inline = inline;
        Some(flag)
    }

    /// The current flag's value: after its `=`, else the next argument.
    pub fn value(&mut self) -> Result<String, String> {
        self.inline
            .take()
            .or_else(|| self.it.next().cloned())
            .ok_or_else(|| format!("{} needs a value", self.flag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    fn run(s: &[&str]) -> Result<ConnectArgs, UsageError> {
        match parse_connect(&args(s))? {
            Parsed::Run(a) => Ok(a),
            Parsed::Help => panic!("help"),
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
        assert_eq!(
            parse_target("127.0.0.1:1").unwrap(),
            ("127.0.0.1".into(), 1)
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
        assert_eq!(a.host, "127.0.0.1");
        assert_eq!(a.port, 4433);
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
            "--timeout",
            "0.5",
            "--json",
        ])
        .unwrap();
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
        assert!(err(&["h", "--json", "--json"]).contains("twice"));
        assert!(err(&["h", "--json=yes"]).contains("no value"));
        assert!(err(&[]).contains("HOST"));
        assert!(err(&["a", "b"]).contains("\"b\""));
        assert!(err(&["h", "--insecure", "--cafile", "x"]).contains("contradict"));
    }

    #[test]
    fn help_anywhere() {
        assert_eq!(
            parse_connect(&args(&["h", "--help"])).unwrap(),
            Parsed::Help
        );
        assert_eq!(parse_demo(&args(&["-h"])).unwrap(), Parsed::Help);
    }

    #[test]
    fn demo_fills_in_the_seed_exchange() {
        let Parsed::Run(a) = parse_demo(&[]).unwrap() else {
            panic!()
        };
        assert_eq!(a.send, SendSource::Text("Hello, World!".into()));
        assert!(parse_demo(&args(&["--cafile", "x"])).is_err());
        assert!(parse_demo(&args(&["host"])).is_err());
        let Parsed::Run(a) = parse_demo(&args(&["--tls1.2", "--json"])).unwrap() else {
            panic!()
        };
        assert_eq!(a.version, Some(Version::Tls12));
    }

    #[test]
    fn flag_args_take_inline_and_separate_values() {
        let args: Vec<String> = ["--port=8", "--dir", "x", "--port"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut f = FlagArgs::new(&args);
        assert_eq!(f.next_flag().as_deref(), Some("--port"));
        assert_eq!(f.value().as_deref(), Ok("8"));
        assert_eq!(f.next_flag().as_deref(), Some("--dir"));
        assert_eq!(f.value().as_deref(), Ok("x"));
        assert_eq!(f.next_flag().as_deref(), Some("--port"));
        assert_eq!(f.value(), Err("--port needs a value".to_string()));
        assert_eq!(f.next_flag(), None);
    }
}
