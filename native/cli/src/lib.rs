//! # tlsferry-cli
//!
//! The `tlsferry` command line. The binary (`src/main.rs`) only calls [`main`]; the
//! code lives in the library so that tests run exactly what the binary runs, and so that
//! the test suites can reuse its throw-away PKI ([`pki`]) and local servers
//! ([`demo_server`]). Programs that want a TLS client depend on the `tlsferry` crate.
//!
//! Exit codes: 0 success; 1 network/IO error (refused, reset, timeout); 2 usage or bad
//! local input; 3 TLS failure other than certificates (protocol error, alert,
//! version/suite mismatch, truncation); 4 certificate verification failed.

use std::io::Write as _;
use std::process::ExitCode;

pub mod args;
pub mod bridge;
pub mod connect;
pub mod demo;
pub mod demo_server;
pub mod json;
pub mod pki;
pub mod record;
pub mod report;
pub mod starttls;
pub mod verify;
pub mod webdemo;

use args::{Command, Topic};
use report::{say, Exit};

/// `tlsferry --help`.
pub const HELP: &str = "\
tlsferry: a TLS client that runs wherever bytes can move

USAGE:
  tlsferry connect HOST[:PORT] [OPTIONS]  connect, verify, exchange bytes (like openssl s_client)
  tlsferry verify CHAIN.pem --servername NAME [OPTIONS]   verify a chain offline
  tlsferry demo                           offline: local CA + local TLS server + the seed's exchange
  tlsferry demo --web [ARGS]              the browser demo
  tlsferry bridge [ARGS]                  WebSocket-to-TCP bridge for browsers
  tlsferry replay [ARGS]                  replay a recorded session offline
  tlsferry --help | --version

`tlsferry connect --help` lists the connect options.

EXIT CODES:
  0  success
  1  network or I/O error (refused, reset, unresolvable, timeout)
  2  usage or bad local input (bad flag, unreadable or invalid PEM, bad host name)
  3  TLS failure other than certificates (protocol error, alert, version/suite mismatch,
     truncation)
  4  certificate verification failed
";

/// `tlsferry connect --help`.
pub const CONNECT_HELP: &str = "\
tlsferry connect: connect to HOST:PORT over TLS, verify it, exchange bytes

USAGE:
  tlsferry connect HOST[:PORT] [OPTIONS]     PORT defaults to 443; HOST may be an IP
                                             ([::1]:443 for IPv6 with a port)
OPTIONS:
  --servername NAME     name for SNI and verification (default HOST)
  --cafile PATH         trust only the PEM roots in PATH (instead of the Mozilla roots)
  --cert PATH --key PATH  client certificate chain and private key (PEM)
  --alpn LIST           comma-separated protocols, e.g. h2,http/1.1
  --tls1.2 | --tls1.3   allow only that version
  --groups LIST         key-exchange groups to offer, most preferred first, e.g.
                        X25519:P-256 (default X25519MLKEM768,X25519,secp256r1,secp384r1;
                        leaving out X25519MLKEM768 gives up post-quantum protection)
  --send TEXT           send TEXT after the handshake
  --send-file PATH      send a file's bytes
                        (neither: copy stdin to the connection; its end sends close_notify)
  --timeout SECS        idle timeout after the last byte (default 10; 0 waits forever).
                        After data was received it ends the session normally (exit 0);
                        with no data at all it is a timeout (exit 1). The handshake
                        must finish within SECS too.
  --show-certs          print the peer chain as PEM on stderr
  --json                print one JSON object with the session summary on stdout after
                        closing; received bytes then go nowhere unless --output is given
  --output PATH         write received bytes to PATH instead of stdout
  --keylog PATH         append TLS secrets in NSS key log format (also SSLKEYLOGFILE)
  --insecure            skip certificate verification (prints a warning)
  --starttls PROTOCOL   speak PROTOCOL in plaintext first, then start TLS on the same
                        connection: smtp, imap, pop3, ftp, xmpp, postgres
  --proxy HOST:PORT     reach HOST[:PORT] through an HTTP proxy (CONNECT)
  --keymatexport LABEL  export keying material for LABEL (RFC 5705 / RFC 8446 7.5),
                        printed in the summary and --json
  --keymatexportlen N   its length in bytes (default 20)
  --record FILE         record the session into a transcript for `tlsferry replay FILE`;
                        TESTING ONLY: the client's keys derive from a seed stored in FILE
  --seed HEX            the recording's 32-byte seed (64 hex digits; default random)

Received bytes go to stdout, byte-exact; the summary and errors go to stderr. A peer
that closes without close_notify after sending data: the data is printed, then the
truncation is reported (exit 3). Exit codes: see `tlsferry --help`.
";

/// Entry point of the `tlsferry` binary.
pub fn main() -> ExitCode {
    run(std::env::args_os().skip(1))
}

/// Runs the command line `args` (without the program name); returns the exit code.
pub fn run<I>(args: I) -> ExitCode
where
    I: IntoIterator,
    I::Item: Into<std::ffi::OsString>,
{
    let mut args = args.into_iter().map(Into::into).peekable();
    if args.peek().is_none() {
        let _ = std::io::stderr().write_all(HELP.as_bytes());
        return ExitCode::from(Exit::Usage.code());
    }
    let command = match args::parse(args) {
        Ok(c) => c,
        Err(e) => return usage_failure(&e.0, "tlsferry --help"),
    };
    match command {
        Command::Help(topic) => {
            print_stdout(match topic {
                Topic::Main => HELP,
                Topic::Connect => CONNECT_HELP,
                Topic::Demo => demo::HELP,
                Topic::WebDemo => webdemo::HELP,
                Topic::Bridge => bridge::HELP,
                Topic::Replay => record::REPLAY_HELP,
                Topic::Verify => verify::HELP,
            });
            ExitCode::SUCCESS
        }
        Command::Version => {
            print_stdout(&format!(
                "tlsferry {} (rustls 0.23, {})\n",
                env!("CARGO_PKG_VERSION"),
                tlsferry::provider_name()
            ));
            ExitCode::SUCCESS
        }
        Command::Connect(a) => connect::run(&a, connect::Style::Brief),
        Command::Demo(a) => demo::run(a),
        Command::WebDemo(o) => webdemo::cli(&o),
        Command::Bridge(o) => bridge::cli(o),
        Command::Replay(r) => record::replay_cli(&r),
        Command::Verify(v) => verify::run(&v),
    }
}

/// Prints a usage error (exit 2) with a pointer to the help.
pub(crate) fn usage_failure(message: &str, help: &str) -> ExitCode {
    say!("tlsferry: {message} (see `{help}`)");
    ExitCode::from(Exit::Usage.code())
}

/// Writes `text` to stdout, ignoring a closed stdout.
pub(crate) fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
