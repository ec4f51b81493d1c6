//! [`connect`]: TCP connect, then a verified TLS handshake, with timeouts; and the
//! native [`Error`] that tells name resolution, TCP, transport and TLS failures apart.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use tlsferry_core::rustls::pki_types::ServerName;
use tlsferry_core::{Config, LocalError};

use crate::stream::{self, TlsStream};

/// Socket options of [`connect`]. The handshake and idle timeouts belong to the core's
/// [`Config`] (`ConfigBuilder::handshake_timeout`, `ConfigBuilder::idle_timeout`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Limit for each TCP connection attempt (default 10 s; `None`: the OS default).
    pub connect_timeout: Option<Duration>,
    /// Limit for each blocked socket write (default `None`: wait). A peer that stops
    /// reading then makes writes fail with `WouldBlock`/`TimedOut`.
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

/// Why [`connect`] (or a later I/O call, via [`Error::from_io`]) failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The address did not resolve (unknown host, no addresses).
    Resolve(io::Error),
    /// No TCP connection could be made; the error of the last address tried.
    Connect {
        /// The address of the last attempt.
        addr: SocketAddr,
        /// Why it failed (refused, unreachable, timed out…).
        source: io::Error,
    },
    /// The transport failed after connecting (reset, broken pipe, write timeout…).
    Io(io::Error),
    /// TLS failed: certificate, protocol, truncation, timeout, or a local misuse.
    Tls(tlsferry_core::Error),
}

impl Error {
    /// Unwraps the TLS error carried by an I/O error from [`TlsStream`], or keeps the
    /// I/O error.
    pub fn from_io(err: io::Error) -> Error {
        if stream::tls_error(&err).is_some() {
            if let Some(inner) = err.into_inner() {
                if let Ok(tls) = inner.downcast::<tlsferry_core::Error>() {
                    return Error::Tls(*tls);
                }
            }
            // Unreachable: the check above saw a TLS error inside.
            return Error::Io(io::Error::other("TLS error"));
        }
        Error::Io(err)
    }

    /// The TLS error, if this is one.
    pub fn tls(&self) -> Option<&tlsferry_core::Error> {
        match self {
            Error::Tls(e) => Some(e),
            _ => None,
        }
    }

    /// A stable machine-readable code: the core's codes for TLS errors (`CERT_EXPIRED`,
    /// `TRUNCATED`, `TIMEOUT`…), else `RESOLVE`, `CONNECT_REFUSED`, `CONNECT_TIMEOUT`,
    /// `CONNECT` or `IO`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Resolve(_) => "RESOLVE",
            Error::Connect { source, .. } => match source.kind() {
                io::ErrorKind::ConnectionRefused => "CONNECT_REFUSED",
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "CONNECT_TIMEOUT",
                _ => "CONNECT",
            },
            Error::Io(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                "IO_TIMEOUT"
            }
            Error::Io(_) => "IO",
            Error::Tls(e) => e.code(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Resolve(e) => write!(f, "cannot resolve the address: {e}"),
            Error::Connect { addr, source } => match source.kind() {
                io::ErrorKind::ConnectionRefused => write!(f, "connection refused by {addr}"),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                    write!(f, "connection to {addr} timed out")
                }
                _ => write!(f, "cannot connect to {addr}: {source}"),
            },
            Error::Io(e) => write!(f, "connection failed: {e}"),
            Error::Tls(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Resolve(e) | Error::Io(e) => Some(e),
            Error::Connect { source, .. } => Some(source),
            Error::Tls(e) => Some(e),
        }
    }
}

impl From<tlsferry_core::Error> for Error {
    fn from(e: tlsferry_core::Error) -> Self {
        Error::Tls(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::from_io(e)
    }
}

/// Resolves `addr` and opens a TCP connection to the first address that answers,
/// each attempt bounded by `opts.connect_timeout`; applies the other socket options.
pub fn connect_tcp(addr: impl ToSocketAddrs, opts: &ConnectOptions) -> Result<TcpStream, Error> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs().map_err(Error::Resolve)?.collect();
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
        None => Error::Resolve(io::Error::new(
            io::ErrorKind::NotFound,
            "the name resolved to no address",
        )),
    })
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
/// The connect timeout comes from `opts`; the handshake and idle timeouts from `config`
/// (the stream turns them into socket read timeouts).
///
/// ```no_run
/// use std::io::{Read, Write};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = tlsferry::config_builder().build()?;
/// let mut tls = tlsferry::connect(
///     "www.example.com:443",
///     "www.example.com",
///     &config,
///     &tlsferry::ConnectOptions::default(),
/// )?;
/// let info = tls.info().expect("connected");
/// eprintln!("{} {}", info.version, info.cipher_suite);
/// tls.write_all(b"Hello, World!")?;
/// let mut reply = [0u8; 1024];
/// let n = tls.read(&mut reply)?;
/// println!("{}", String::from_utf8_lossy(&reply[..n]));
/// # Ok(()) }
/// ```
pub fn connect(
    addr: impl ToSocketAddrs,
    server_name: &str,
    config: &Config,
    opts: &ConnectOptions,
) -> Result<TlsStream<TcpStream>, Error> {
    check_server_name(server_name)?;
    let tcp = connect_tcp(addr, opts)?;
    let mut tls = TlsStream::new(tcp, config, server_name)
        .map_err(Error::from_io)?
        .use_read_timeouts();
    tls.handshake().map_err(Error::from_io)?;
    Ok(tls)
}
