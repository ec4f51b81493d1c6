//! The bridge's settings ([`BridgeOptions`]) and the limits derived from them and from the
//! process's file-descriptor budget ([`Limits`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::log::LogFormat;
use super::policy::normalize_target;

/// Bridge settings. Construct with [`BridgeOptions::new`] and change fields as needed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BridgeOptions {
    /// Address to listen on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Allowed targets, `host:port` (lowercase host; IPv6 in brackets).
    pub allow: Vec<String>,
    /// Allowed browser origins (`*` for any); empty: loopback origins only.
    pub allow_origins: Vec<String>,
    /// Most tunnels at once (`None`: sized to the file-descriptor limit, see [`Limits`]).
    pub max_connections: Option<usize>,
    /// Most connections still in the TLS or WebSocket handshake (`None`: sized to the
    /// file-descriptor limit, 256 … 1024).
    pub max_handshakes: Option<usize>,
    /// Most connections (handshakes and tunnels) from one client address, IPv6 counted
    /// per /64 (default 256; 0: no cap).
    pub max_per_ip: usize,
    /// Close a tunnel when no byte moved either way for this long (default 300 s).
    pub idle_timeout: Duration,
    /// Close a tunnel when a write to either side made no progress for this long (default
    /// 30 s; never more than the idle timeout).
    pub write_timeout: Duration,
    /// Time allowed for the TLS and WebSocket handshakes (default 5 s).
    pub handshake_timeout: Duration,
    /// Time allowed to connect to the target (default 10 s).
    pub connect_timeout: Duration,
    /// Largest message accepted from a client (default 1 MiB).
    pub max_frame_size: usize,
    /// Serve `wss://` with this certificate chain and key (PEM).
    pub tls: Option<TlsFiles>,
    /// Require one of the tokens in this file (one per line).
    pub auth_token_file: Option<PathBuf>,
    /// Serve Prometheus metrics (`/metrics`) and `/healthz` on this address.
    pub metrics: Option<SocketAddr>,
    /// Per-connection log lines on stderr (default text).
    pub log: LogFormat,
    /// How often the certificate, key and token files are checked for changes (default 2 s).
    pub reload_interval: Duration,
    /// Tokio worker threads (`None`: one per CPU).
    pub worker_threads: Option<usize>,
}

/// The certificate chain and private key of `wss://` (PEM files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl BridgeOptions {
    /// Defaults with the given allowlist (entries that are not `HOST:PORT` are dropped).
    pub fn new(allow: &[&str]) -> BridgeOptions {
        BridgeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            allow: allow.iter().filter_map(|a| normalize_target(a)).collect(),
            allow_origins: Vec::new(),
            max_connections: None,
            max_handshakes: None,
            max_per_ip: 256,
            idle_timeout: Duration::from_secs(300),
            write_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            max_frame_size: 1024 * 1024,
            tls: None,
            auth_token_file: None,
            metrics: None,
            log: LogFormat::Text,
            reload_interval: Duration::from_secs(2),
            worker_threads: None,
        }
    }
}

/// File descriptors kept aside for the listeners, the metrics endpoint, stdio, the
/// runtime's own descriptors and certificate reloads.
pub const FD_RESERVE: u64 = 64;
/// Connections refused at accept time that are still being answered (503/429 and a short
/// linger so that the answer is not lost to a reset).
pub const MAX_REFUSING: usize = 64;

/// The limits a bridge runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Tunnels at once (two descriptors each: client and target).
    pub tunnels: usize,
    /// Connections in the handshake at once (one descriptor each).
    pub handshakes: usize,
    /// Connections from one address (0: no cap).
    pub per_ip: usize,
    /// The file-descriptor limit they were sized to.
    pub fd_limit: u64,
    /// Write timeout actually used (at most the idle timeout).
    pub write_timeout: Duration,
}

impl Limits {
    /// Sizes the limits left open in `opts` to a soft `RLIMIT_NOFILE` of `fd_limit`:
    /// `2 × tunnels + handshakes + refusals + reserve ≤ fd_limit`.
    pub fn new(opts: &BridgeOptions, fd_limit: u64) -> Limits {
        let usable = usize::try_from(fd_limit.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX);
        let handshakes = opts
            .max_handshakes
            .unwrap_or_else(|| (usable / 8).clamp(256, 1024));
        let tunnels = opts
            .max_connections
            .unwrap_or_else(|| (usable.saturating_sub(handshakes + MAX_REFUSING) / 2).max(16));
        Limits {
            tunnels,
            handshakes,
            per_ip: opts.max_per_ip,
            fd_limit,
            write_timeout: opts.write_timeout.min(opts.idle_timeout),
        }
    }

    /// Descriptors these limits may use at once.
    pub fn fds_needed(&self) -> u64 {
        (2 * self.tunnels + self.handshakes + MAX_REFUSING) as u64 + FD_RESERVE
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the soft limit in force
/// afterwards (unchanged, with the reason, if it cannot be raised).
pub fn raise_fd_limit() -> (u64, Option<String>) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => (n, None),
        Err(e) => (current_fd_limit(), Some(e.to_string())),
    }
}

/// The soft `RLIMIT_NOFILE` in force (1024 if it cannot be read).
pub fn current_fd_limit() -> u64 {
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_fit_the_descriptor_budget() {
        let opts = BridgeOptions::new(&["a:1"]);
        for fds in [1024u64, 20_000, 1_048_576] {
            let l = Limits::new(&opts, fds);
            assert!(l.fds_needed() <= fds, "{l:?}");
            assert!((256..=1024).contains(&l.handshakes), "{l:?}");
            assert!(l.tunnels >= 300, "{l:?}");
        }
        assert_eq!(Limits::new(&opts, 20_000).tunnels, 9_424);
        let mut fixed = opts.clone();
        fixed.max_connections = Some(5);
        fixed.max_handshakes = Some(7);
        fixed.idle_timeout = Duration::from_secs(2);
        let l = Limits::new(&fixed, 1024);
        assert_eq!((l.tunnels, l.handshakes), (5, 7));
        assert_eq!(l.write_timeout, Duration::from_secs(2));
    }
}
