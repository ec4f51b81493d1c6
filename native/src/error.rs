//! [`Error`]: the one error type of this crate. It tells name resolution, TCP, transport
//! and TLS failures apart, converts from every error the crate's functions meet (so `?`
//! works throughout), and says each thing once: `Display` gives this layer's words and
//! [`std::error::Error::source`] the cause, so a chain printer (`anyhow`'s `{:#}`, the
//! CLI) prints no sentence twice.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use tlsferry_core::ConfigError;

/// Why [`connect`](crate::connect()) or a stream operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The address did not resolve (unknown host, no addresses).
    Resolve {
        /// The address as given.
        addr: String,
        /// Why it did not resolve.
        source: io::Error,
    },
    /// No TCP connection could be made; the error of the last address tried.
    Connect {
        /// The address of the last attempt.
        addr: SocketAddr,
        /// Why it failed (refused, unreachable, timed out…).
        source: io::Error,
    },
    /// The transport failed (reset, broken pipe, write timeout…).
    Io(io::Error),
    /// TLS failed: certificate, protocol, truncation, timeout, configuration, or a local
    /// misuse. Transparent: `Display` and `source()` are the TLS error's.
    Tls(tlsferry_core::Error),
}

impl Error {
    /// Unwraps the TLS error carried by an I/O error from a [`TlsStream`](crate::TlsStream),
    /// or keeps the I/O error.
    pub fn from_io(err: io::Error) -> Error {
        if tlsferry_core::Error::from_io(&err).is_some() {
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
    /// `CONNECT`, `IO_TIMEOUT`, `RESET` or `IO`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Resolve { .. } => "RESOLVE",
            Error::Connect { source, .. } => match source.kind() {
                io::ErrorKind::ConnectionRefused => "CONNECT_REFUSED",
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "CONNECT_TIMEOUT",
                _ => "CONNECT",
            },
            Error::Io(e) => match e.kind() {
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "IO_TIMEOUT",
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe => "RESET",
                _ => "IO",
            },
            Error::Tls(e) => e.code(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Resolve { addr, .. } => write!(f, "cannot resolve {addr}"),
            Error::Connect { addr, .. } => write!(f, "cannot connect to {addr}"),
            Error::Io(e) => match e.kind() {
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe => f.write_str("the peer reset the connection"),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                    f.write_str("the transport timed out")
                }
                _ => f.write_str("transport I/O failed"),
            },
            Error::Tls(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Resolve { source, .. } | Error::Connect { source, .. } => Some(source),
            Error::Io(e) => Some(e),
            Error::Tls(e) => std::error::Error::source(e),
        }
    }
}

impl From<tlsferry_core::Error> for Error {
    fn from(e: tlsferry_core::Error) -> Self {
        Error::Tls(e)
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Tls(e.into())
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::from_io(e)
    }
}

/// Back to an I/O error (for `Read`/`Write` code): TLS errors keep their typed payload.
impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        match e {
            Error::Tls(t) => t.into(),
            Error::Io(e) => e,
            Error::Resolve { source, .. } | Error::Connect { source, .. } => source,
        }
    }
}
