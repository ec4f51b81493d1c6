//! [`connect`]: TCP connect, then a verified TLS handshake, with timeouts.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use tlsferry_core::rustls::pki_types::ServerName;
use tlsferry_core::{Config, LocalError};

use crate::error::Error;
use crate::stream::TlsStream;

/// Socket options of [`connect_with`]; [`connect`] uses the defaults. The handshake and
/// idle timeouts belong to the [`Config`] (`ConfigBuilder::handshake_timeout`,
/// `ConfigBuilder::idle_timeout`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Limit for each TCP connection attempt (default 10 s; `None`: the OS default).
    pub connect_timeout: Option<Duration>,
    /// Limit for each blocked socket write (default `None`: wait). A peer that stops
    /// reading then makes writes fail with `WouldBlock`/`TimedOut`. Blocking streams only:
    /// with tokio, wrap writes in `tokio::time::timeout`.
    pub write_timeout: Option<Duration>,
    /// Disables Nagle's algorithm (default `true`: TLS writes whole records).
    pub nodelay: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            connect_timeout: Some(Duration::from_secs(10)),
            write_timeout: None,
            nodelay: true,
        }
    }
}

impl ConnectOptions {
    /// These options with another connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// These options with a write timeout (blocking streams).
    pub fn with_write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// These options with Nagle's algorithm on (`false`) or off (`true`).
    pub fn with_nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }
}

/// Resolves `addr` and opens a TCP connection to the first address that answers,
/// each attempt bounded by `opts.connect_timeout`; applies the other socket options.
pub fn connect_tcp(
    addr: impl ToSocketAddrs + std::fmt::Debug,
    opts: &ConnectOptions,
) -> Result<TcpStream, Error> {
    let shown = display_addr(&addr);
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|source| Error::Resolve {
            addr: shown.clone(),
            source,
        })?
        .collect();
    let mut last = None;
    for a in addrs {
        let attempt = match opts.connect_timeout {
            Some(t) => TcpStream::connect_timeout(&a, t),
            None => TcpStream::connect(a),
        };
        match attempt {
            Ok(tcp) => {
                tcp.set_nodelay(opts.nodelay).map_err(Error::Io)?;
                tcp.set_write_timeout(opts.write_timeout)
                    .map_err(Error::Io)?;
                return Ok(tcp);
            }
            Err(e) => last = Some((a, e)),
        }
    }
    Err(match last {
        Some((addr, source)) => Error::Connect { addr, source },
        None => Error::Resolve {
            addr: shown,
            source: io::Error::new(io::ErrorKind::NotFound, "the name resolved to no address"),
        },
    })
}

/// `addr` for messages: a `&str` or `String` as written, anything else as `Debug` shows it.
pub(crate) fn display_addr(addr: &impl std::fmt::Debug) -> String {
    let s = format!("{addr:?}");
    match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.to_string(),
        None => s,
    }
}

/// Checks `server_name` the way the core will (a DNS name or an IP address), before any
/// network traffic.
pub fn check_server_name(server_name: &str) -> Result<(), Error> {
    ServerName::try_from(server_name).map(|_| ()).map_err(|_| {
        Error::Tls(tlsferry_core::Error::Local(LocalError::InvalidServerName(
            server_name.into(),
        )))
    })
}

/// Connects to `addr` over TCP and completes a TLS handshake for `server_name`
/// (certificate and host name verified as `config` says), like Python's
/// `ssl.create_default_context().wrap_socket(socket.create_connection(addr),
/// server_hostname=server_name)`.
///
/// The connect timeout is 10 s ([`connect_with`] takes other socket options); the
/// handshake and idle timeouts come from `config` (the stream turns them into socket
/// read timeouts).
///
/// ```no_run
/// use std::io::{Read, Write};
///
/// fn main() -> Result<(), tlsferry::Error> {
///     let config = tlsferry::Config::builder().build()?;
///     let mut tls = tlsferry::connect("www.example.com:443", "www.example.com", &config)?;
///     if let Some(info) = tls.info() {
///         eprintln!("{} {}", info.version, info.cipher_suite);
///     }
///     tls.write_all(b"Hello, World!")?;
///     let mut reply = [0u8; 1024];
///     let n = tls.read(&mut reply)?;
///     println!("{}", String::from_utf8_lossy(&reply[..n]));
///     Ok(())
/// }
/// ```
pub fn connect(
    addr: impl ToSocketAddrs + std::fmt::Debug,
    server_name: &str,
    config: &Config,
) -> Result<TlsStream<TcpStream>, Error> {
    connect_with(addr, server_name, config, &ConnectOptions::default())
}

/// [`connect`] with socket options.
pub fn connect_with(
    addr: impl ToSocketAddrs + std::fmt::Debug,
    server_name: &str,
    config: &Config,
    opts: &ConnectOptions,
) -> Result<TlsStream<TcpStream>, Error> {
    check_server_name(server_name)?;
    let tcp = connect_tcp(addr, opts)?;
    let mut tls = TlsStream::new(tcp, server_name, config)?.use_read_timeouts();
    tls.handshake()?;
    Ok(tls)
}
