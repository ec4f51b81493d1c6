//! [`TlsStream`]: a blocking `Read + Write` TLS stream over any `Read + Write` transport,
//! driven by the sans-IO [`tlsferry_core::Client`].
//!
//! The stream only moves bytes and keeps time: it writes what the core transmits, feeds
//! it what the transport delivers, turns the core's deadlines into transport read
//! timeouts, and hands plaintext to the caller. Every TLS decision is the core's; what
//! the blocking and the async stream share lives in the crate's pump.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tlsferry_core::{Client, Config, ConnectionInfo, Instant};

use crate::pump::{is_transient, Pump};

/// Size of the transport read buffer (capped by [`Client::receive_capacity`]).
pub(crate) const READ_BUFFER: usize = 64 * 1024;

/// Observes the bytes of one session, for recording it. Called in order: every
/// ciphertext chunk written to or read from the transport, every plaintext chunk the
/// application sent, and `finished` once when the session is over (closed, failed,
/// or the stream dropped).
pub trait Tap: Send {
    /// Ciphertext written to the transport.
    fn transmitted(&mut self, ciphertext: &[u8]);
    /// Ciphertext read from the transport (exactly as fed to the core).
    fn received(&mut self, ciphertext: &[u8]);
    /// Plaintext the application sent (as accepted by the core).
    fn plaintext_sent(&mut self, data: &[u8]);
    /// The application closed its sending direction (`shutdown`), before the
    /// `close_notify` is transmitted.
    fn closed(&mut self) {}
    /// The transport reached end of stream (fed to the core as EOF).
    fn eof(&mut self) {}
    /// The session is over; no more calls follow.
    fn finished(&mut self) {}
}

/// A transport whose reads can be bounded in time, so that the core's deadlines
/// (handshake and idle timeouts) fire while the stream is blocked in a read.
/// See [`TlsStream::use_read_timeouts`].
pub trait Transport: Read + Write {
    /// Bounds the following reads (`None`: block without limit). A read that times out
    /// fails with [`io::ErrorKind::WouldBlock`] or [`io::ErrorKind::TimedOut`].
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
}

impl Transport for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
}

#[cfg(unix)]
impl Transport for std::os::unix::net::UnixStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }
}

/// Byte counters of one stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Plaintext accepted from the application.
    pub plaintext_sent: u64,
    /// Plaintext handed to the application or buffered for it.
    pub plaintext_received: u64,
    /// Ciphertext written to the transport.
    pub ciphertext_sent: u64,
    /// Ciphertext read from the transport.
    pub ciphertext_received: u64,
}

/// The TLS error inside an I/O error returned by a [`TlsStream`] (blocking or async), if
/// there is one.
///
/// ```
/// # fn check(err: std::io::Error) {
/// if let Some(tls) = tlsferry::tls_error(&err) {
///     eprintln!("TLS failure {}: {tls}", tls.code());
/// }
/// # }
/// ```
pub fn tls_error(err: &io::Error) -> Option<&tlsferry_core::Error> {
    tlsferry_core::Error::from_io(err)
}

type SetTimeout<S> = fn(&mut S, Option<Duration>) -> io::Result<()>;

/// A TLS client stream over a blocking transport `S` (usually a [`TcpStream`]).
///
/// * [`Read`] returns plaintext. `Ok(0)` means the peer sent `close_notify`: a transport
///   EOF without it is an error of kind [`io::ErrorKind::UnexpectedEof`] carrying
///   [`tlsferry_core::PeerError::Truncated`] (see [`tls_error`]),
///   returned after any data that arrived before it.
/// * [`Write`] completes the handshake first, then encrypts; it accepts fewer bytes when
///   the core's send buffer is full, after driving I/O. [`Write::flush`] writes out
///   everything pending.
/// * [`TlsStream::shutdown`] sends `close_notify`; keep reading until `Ok(0)` to see the
///   peer's.
/// * Dropping the stream closes the transport without sending `close_notify` (as
///   rustls' `StreamOwned` does). A peer that waits for ours (a server that unwraps the
///   TLS layer, or treats a bare EOF as truncation) wants [`TlsStream::shutdown`] first;
///   once the peer's own `close_notify` has arrived, nothing is lost either way.
///
/// Errors of the transport are returned as they are; `WouldBlock` and `TimedOut` from
/// the transport leave the stream usable. TLS errors are final.
///
/// ```no_run
/// use std::io::{Read, Write};
/// use std::net::TcpStream;
/// use tlsferry::{Config, TlsStream};
///
/// fn main() -> Result<(), tlsferry::Error> {
///     let config = Config::builder().build()?; // Mozilla roots, system clock
///     let tcp = TcpStream::connect("www.example.com:443")?;
///     let mut tls = TlsStream::new(tcp, "www.example.com", &config)?.use_read_timeouts();
///     tls.write_all(b"Hello, World!")?;
///     let mut reply = Vec::new();
///     tls.read_to_end(&mut reply)?; // until the server's close_notify
///     println!("{}", String::from_utf8_lossy(&reply));
///     Ok(())
/// }
/// ```
pub struct TlsStream<S> {
    io: S,
    pump: Pump,
    set_timeout: Option<SetTimeout<S>>,
    read_timeout: Option<Duration>,
    /// The read timeout last given to the transport, so an unchanged one is not set again
    /// (one `setsockopt` per read otherwise); `None` when unknown.
    applied_timeout: Option<Option<Duration>>,
}

impl<S> fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("pump", &self.pump)
            .field("timers", &self.set_timeout.is_some())
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

impl<S: Transport> TlsStream<S> {
    /// Lets the stream set the transport's read timeout before each read, so that the
    /// core's deadlines (handshake and idle timeouts) and [`TlsStream::set_read_timeout`]
    /// fire while it waits. [`connect()`](crate::connect()) does this; the stream then owns the
    /// transport's read timeout.
    pub fn use_read_timeouts(mut self) -> Self {
        self.set_timeout = Some(<S as Transport>::set_read_timeout);
        self
    }
}

impl<S: Read + Write> TlsStream<S> {
    /// Starts a TLS client for `server_name` over `io` (already connected), with
    /// `config`. The ClientHello is written on the first read, write, flush or handshake.
    pub fn new(io: S, server_name: &str, config: &Config) -> Result<Self, crate::Error> {
        let client = Client::new(server_name, config, Instant::now())?;
        Ok(TlsStream::from_client(io, client))
    }

    /// Wraps a [`Client`] made by the caller (its `now` must come from [`Instant::now`]).
    ///
    /// Without [`TlsStream::use_read_timeouts`] the core's deadlines are checked only
    /// when the transport's own reads time out (`WouldBlock`/`TimedOut`, which are then
    /// returned to the caller).
    pub fn from_client(io: S, client: Client) -> Self {
        TlsStream {
            io,
            pump: Pump::new(client),
            set_timeout: None,
            read_timeout: None,
            applied_timeout: None,
        }
    }

    /// Records the session's bytes in `tap` (from the ClientHello on, which is already
    /// queued when the stream is made).
    pub fn with_tap(mut self, tap: Box<dyn Tap>) -> Self {
        self.pump.set_tap(tap);
        self
    }

    // ----- getters -----

    /// What the handshake negotiated (version, suite, group, ALPN, peer chain), once done.
    pub fn info(&self) -> Option<&ConnectionInfo> {
        self.pump.info()
    }

    /// True until the handshake has completed.
    pub fn is_handshaking(&self) -> bool {
        self.pump.is_handshaking()
    }

    /// True once the peer's `close_notify` has arrived.
    pub fn peer_closed(&self) -> bool {
        self.pump.peer_closed()
    }

    /// Byte counters.
    pub fn stats(&self) -> Stats {
        self.pump.stats()
    }

    /// The sans-IO client inside.
    pub fn client(&self) -> &Client {
        self.pump.client()
    }

    /// Keying material for `label` and `context` derived from this connection's
    /// secrets (RFC 8446 §7.5 / RFC 5705), e.g. for channel binding; see
    /// [`Client::export_keying_material`].
    pub fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<(), crate::TlsError> {
        self.pump
            .client()
            .export_keying_material(out, label, context)
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The transport, mutably. Reading or writing it directly corrupts the TLS session.
    pub fn get_mut(&mut self) -> &mut S {
        // The caller may change the transport's read timeout: set ours again next time.
        self.applied_timeout = None;
        &mut self.io
    }

    /// Gives the transport back (without sending `close_notify`).
    pub fn into_inner(self) -> S {
        self.io
    }

    // ----- settings -----

    /// Bounds each `read` (and `handshake`) call: if no plaintext arrives within
    /// `timeout`, it fails with [`io::ErrorKind::TimedOut`] and the stream stays usable.
    /// Needs [`TlsStream::use_read_timeouts`]. `None` (the default) waits for data, the
    /// close, or one of the core's deadlines.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    // ----- operations -----

    /// Runs the handshake to completion (if not done yet). Returns the TLS error
    /// (certificate, protocol, timeout…) or transport error that stopped it.
    pub fn handshake(&mut self) -> io::Result<()> {
        let user_deadline = self.user_deadline();
        while self.pump.is_handshaking() {
            self.pump.check_failed()?;
            self.progress(user_deadline)?;
        }
        self.pump.check_failed()?;
        self.write_out()
    }

    /// Sends `close_notify` (after the handshake and everything queued) and flushes.
    /// Nothing can be written afterwards; reading continues until the peer's
    /// `close_notify` (`Ok(0)`).
    pub fn shutdown(&mut self) -> io::Result<()> {
        if self.pump.is_handshaking() {
            self.handshake()?;
        }
        self.pump.close()?;
        self.write_out()?;
        let r = self.io.flush();
        r.map_err(|e| self.pump.transport_error(e))
    }

    // ----- internals -----

    fn user_deadline(&self) -> Option<std::time::Instant> {
        self.read_timeout.map(|t| std::time::Instant::now() + t)
    }

    /// Writes pending ciphertext to the transport. On `WouldBlock`/`TimedOut` the rest
    /// stays pending for the next call.
    fn write_out(&mut self) -> io::Result<()> {
        self.pump.check_failed().or_else(|e| {
            // A TLS failure may still have an alert to send; a broken transport cannot.
            if self.pump.tls_failed() {
                Ok(())
            } else {
                Err(e)
            }
        })?;
        let mut wrote = false;
        while !self.pump.pending_out().is_empty() {
            match self.io.write(self.pump.pending_out()) {
                Ok(0) => {
                    let e = io::Error::new(io::ErrorKind::WriteZero, "transport accepted no bytes");
                    return Err(self.pump.transport_error(e));
                }
                Ok(n) => {
                    self.pump.wrote(n);
                    wrote = true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.pump.transport_error(e)),
            }
        }
        if wrote {
            let r = self.io.flush();
            r.map_err(|e| self.pump.transport_error(e))?;
        }
        Ok(())
    }

    /// One step of progress: writes what the core has, then one transport read (bounded
    /// by the core's deadline and `user_deadline`) fed to the core, or a tick.
    fn progress(&mut self, user_deadline: Option<std::time::Instant>) -> io::Result<()> {
        self.write_out()?;
        if self.pump.tls_failed() {
            return Ok(());
        }
        if self.pump.is_eof() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the transport is closed",
            ));
        }
        let now = Instant::now();
        if self.pump.due(now) {
            self.pump.tick(now)?;
            return self.write_out();
        }
        let user_left =
            user_deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        if user_left.is_some_and(|t| t.is_zero()) {
            return Err(read_timed_out());
        }
        if let Some(set) = self.set_timeout {
            let core_left = self
                .pump
                .deadline()
                .map(|d| d.saturating_duration_since(now));
            let timeout = match (core_left, user_left) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            // A zero timeout means "block" to the OS; round up to a millisecond.
            let timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
            if self.applied_timeout != Some(timeout) {
                self.applied_timeout = None;
                set(&mut self.io, timeout).map_err(|e| self.pump.transport_error(e))?;
                self.applied_timeout = Some(timeout);
            }
        }
        if self.pump.receive_room() == 0 {
            // Cannot happen with the core's minimum receive buffer; never spin.
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the peer's data does not fit the receive buffer",
            ));
        }
        // Straight into the core's buffer: the ciphertext is not copied again.
        let io = &mut self.io;
        match self
            .pump
            .read_from(READ_BUFFER, Instant::now, |buf| io.read(buf))?
        {
            Ok(_) => self.write_out(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) if is_transient(&e) => {
                let now = Instant::now();
                if self.pump.due(now) {
                    self.pump.tick(now)?;
                    return self.write_out();
                }
                if user_deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                    return Err(read_timed_out());
                }
                if self.set_timeout.is_none() {
                    // The caller's own timeout or non-blocking transport: theirs to handle.
                    return Err(e);
                }
                Ok(()) // woke early: wait again
            }
            Err(e) => Err(self.pump.transport_error(e)),
        }
    }
}

fn read_timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "no data within the read timeout")
}

impl<S: Read + Write> Read for TlsStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let user_deadline = self.user_deadline();
        loop {
            if self.pump.has_plain() {
                return Ok(self.pump.read_plain(buf));
            }
            let n = self.pump.read_decrypted(buf);
            if n > 0 {
                return Ok(n);
            }
            self.pump.check_failed()?;
            if self.pump.peer_closed() {
                return Ok(0);
            }
            self.progress(user_deadline)?;
        }
    }
}

impl<S: Read + Write> Write for TlsStream<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.handshake()?;
        loop {
            self.pump.check_failed()?;
            let n = self.pump.send(buf)?;
            if n > 0 {
                // The bytes are accepted: a transport that would block now gets them on
                // the next call, so report them written.
                match self.write_out() {
                    Err(e) if !is_transient(&e) => return Err(e),
                    _ => return Ok(n),
                }
            }
            // The core's send buffer is full: move bytes, reading if it waits for the
            // peer (the handshake, or a peer that must read before we can write more).
            self.write_out()?;
            if self.pump.send_room() == 0 {
                self.progress(None)?;
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.pump.is_handshaking() {
            self.handshake()?;
        }
        self.write_out()?;
        let r = self.io.flush();
        r.map_err(|e| self.pump.transport_error(e))
    }
}
