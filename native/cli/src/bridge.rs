//! `tlsferry bridge`: a WebSocket↔TCP bridge so that a browser page can reach a TLS server.
//! The TLS session stays end to end between the page and the server: the bridge only moves
//! ciphertext. It is built to sit in front of the internet:
//!
//! - **Never an open proxy.** The client names its target with `?target=HOST:PORT`, which
//!   must be on the allowlist (one `--allow` is the default target); pages are held to an
//!   Origin policy (`--allow-origin`, loopback pages only by default); optional bearer
//!   tokens (`--auth-token-file`). Refusals are HTTP statuses before the upgrade (401,
//!   403, 400, …), with the reason in the body.
//! - **Admission.** Handshakes in progress have their own cap and a short timeout, each
//!   client address its own cap; over a limit the answer is 503 (or 429) with
//!   `Retry-After`, at once. The soft file-descriptor limit is raised to the hard limit
//!   and the default limits are sized to it.
//! - **Teardown.** A tunnel ends when either side ends or fails, when no byte moved for
//!   `--idle-timeout`, or when a write to either side made no progress for
//!   `--write-timeout`; both sides are closed then, and one log line says why.
//! - **Protocol.** Subprotocols `binary` (websockify's) and `tlsferry.v1` (receive credit
//!   and half-close; README, "The bridge protocol"). WebSocket frames by tungstenite; the
//!   HTTP request head is checked here ([`http_head`], fuzzed) so that refusals can be HTTP.
//! - **Operations.** `wss://` (`--cert`/`--key`, reloaded on SIGHUP or file change),
//!   Prometheus metrics and `/healthz` (`--metrics`), JSON log lines (`--log-format json`).
//!
//! Everything runs on one multi-threaded tokio runtime; a tunnel is one task.

mod admission;
mod client_stream;
pub mod control;
mod credentials;
pub mod http_head;
mod log;
mod metrics;
mod options;
mod policy;
mod progress;
mod response;
mod server;
mod tunnel;

use std::io::{self, Write};
use std::process::ExitCode;

pub use log::LogFormat;
pub use options::{BridgeOptions, Limits, TlsFiles};
pub use policy::normalize_target;
pub use server::{Bridge, BridgeHandle, LogCapture};

/// Help for `tlsferry bridge`.
pub const HELP: &str = "usage: tlsferry bridge --allow HOST:PORT [--allow HOST:PORT ...] [OPTIONS]

A WebSocket-to-TCP bridge for TLS clients in browsers. Clients pick the target with
ws://ADDR/?target=HOST:PORT; only --allow'ed targets are reachable, and a single --allow
is the default target. Subprotocols: tlsferry.v1 (receive credit, half-close) and binary
(websockify-compatible). Refusals are HTTP statuses before the upgrade.

  --listen ADDR:PORT        where to listen (default 127.0.0.1:8080)
  --allow HOST:PORT         a target clients may reach (repeatable; required)
  --allow-origin ORIGIN     a page origin allowed to connect, or * (repeatable; default:
                            loopback pages, and clients that send no Origin)
  --cert PATH --key PATH    serve wss:// with this PEM chain and key; reloaded on SIGHUP
                            and when the files change
  --auth-token-file PATH    require a token from PATH (one per line), sent as
                            `Authorization: Bearer TOKEN` or `?token=TOKEN`
  --max-connections N       tunnels at once (default: sized to the file-descriptor limit)
  --max-handshakes N        connections in the handshake at once (default: 256-1024,
                            sized to the file-descriptor limit)
  --max-per-ip N            connections from one address, IPv6 per /64 (default 256;
                            0 = no cap)
  --handshake-timeout SECS  TLS + HTTP upgrade (default 5)
  --idle-timeout SECS       close a tunnel when no byte moved either way (default 300)
  --write-timeout SECS      close a tunnel when a write to either side makes no progress
                            (default 30, at most the idle timeout)
  --connect-timeout SECS    connecting to the target (default 10)
  --max-frame-size BYTES    largest message from a client (default 1048576)
  --metrics ADDR:PORT       Prometheus text at /metrics, and /healthz
  --log-format text|json|off  one line per tunnel and per refusal on stderr (default text)

At start the soft RLIMIT_NOFILE is raised to the hard limit. The URL is printed on
stdout (`listening on ws://…/`).";

/// Runs `tlsferry bridge` with parsed options and returns the process exit code.
pub fn cli(opts: BridgeOptions) -> ExitCode {
    let (fd_limit, fd_error) = options::raise_fd_limit();
    let bridge = match Bridge::bind(opts.clone()) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            eprintln!("tlsferry bridge: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("tlsferry bridge: cannot listen on {}: {e}", opts.listen);
            return ExitCode::from(1);
        }
    };
    if let Some(e) = fd_error {
        bridge.note(&format!("could not raise the file-descriptor limit: {e}"));
    }
    let limits = bridge.limits();
    bridge.note(&format!(
        "limits: {} tunnels, {} handshakes, {} per address{}; file descriptors: {fd_limit}",
        limits.tunnels,
        limits.handshakes,
        limits.per_ip,
        if limits.per_ip == 0 { " (no cap)" } else { "" },
    ));
    if limits.fds_needed() > fd_limit {
        bridge.note(&format!(
            "warning: these limits need up to {} file descriptors but the limit is {fd_limit}; raise it (ulimit -n, LimitNOFILE=) or lower --max-connections",
            limits.fds_needed()
        ));
    }
    if !bridge.local_addr().ip().is_loopback() {
        bridge.note(&format!(
            "listening on {}, not loopback: anyone who reaches it can use the allowed targets{}",
            bridge.local_addr(),
            if opts.auth_token_file.is_some() {
                " with a token"
            } else {
                ""
            }
        ));
    }
    bridge.note(&format!(
        "allowed targets: {}{}",
        opts.allow.join(", "),
        if opts.allow.len() == 1 {
            " (the default)"
        } else {
            ""
        }
    ));
    if let Some(m) = bridge.metrics_addr() {
        bridge.note(&format!("metrics on http://{m}/metrics"));
    }
    // The one line on stdout: scripts read the URL from it.
    println!("listening on {}", bridge.url());
    let _ = io::stdout().flush();
    match bridge.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tlsferry bridge: {e}");
            ExitCode::from(1)
        }
    }
}
