//! [`TlsStream`]: a blocking `Read + Write` TLS stream over any `Read + Write` transport,
//! driven by the sans-IO [`tlsferry_core::Client`].
//!
//! The stream only moves bytes and keeps time: it writes what the core transmits, feeds
//! it what the transport delivers, turns the core's deadlines into transport read
//! timeouts, and hands plaintext to the caller. Every TLS decision is the core's.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tlsferry_core::{Client, Config, ConnectionInfo, Event, Input, Instant, Output};

use crate::clock;

/// Size of the transport read buffer (capped by [`Client::receive_capacity`]).
const READ_BUFFER: usize = 64 * 1024;

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

/// The TLS error inside an I/O error returned by [`TlsStream`], if there is one.
///
/// ```
/// # fn check(err: std::io::Error) {
/// if let Some(tls) = tlsferry::stream::tls_error(&err) {
///     eprintln!("TLS failure {}: {tls}", tls.code());
/// }
/// # }
/// ```
pub fn tls_error(err: &io::Error) -> Option<&tlsferry_core::Error> {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<tlsferry_core::Error>())
}

/// Wraps a core error in an [`io::Error`] of a fitting kind; [`tls_error`] gets it back.
pub fn to_io_error(err: tlsferry_core::Error) -> io::Error {
    use tlsferry_core::{Error as E, LocalError, PeerError};
    let kind = match &err {
        E::Timeout(_) => io::ErrorKind::TimedOut,
        E::Peer(PeerError::Truncated { .. }) => io::ErrorKind::UnexpectedEof,
        E::Peer(_) | E::Certificate(_) => io::ErrorKind::InvalidData,
        E::Local(LocalError::Config(_) | LocalError::InvalidServerName(_)) => {
            io::ErrorKind::InvalidInput
        }
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, err)
}

type SetTimeout<S> = fn(&mut S, Option<Duration>) -> io::Result<()>;

/// A TLS client stream over a transport `S` (usually a [`TcpStream`]).
///
/// * [`Read`] returns plaintext. `Ok(0)` means the peer sent `close_notify`: a transport
///   EOF without it is an error of kind [`io::ErrorKind::UnexpectedEof`] carrying
///   [`tlsferry_core::PeerError::Truncated`] (see [`tls_error`]), returned after any data
///   that arrived before it.
/// * [`Write`] completes the handshake first, then encrypts; it accepts fewer bytes when
///   the core's send buffer is full, after driving I/O. [`Write::flush`] writes out
///   everything pending.
/// * [`TlsStream::shutdown`] sends `close_notify`; keep reading until `Ok(0)` to see the
///   peer's.
///
/// Errors of the transport are returned as they are; `WouldBlock` and `TimedOut` from
/// the transport leave the stream usable. TLS errors are final.
///
/// ```no_run
/// use std::io::{Read, Write};
/// use std::net::TcpStream;
/// use tlsferry::TlsStream;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = tlsferry::config_builder().build()?; // Mozilla roots, system clock
/// let tcp = TcpStream::connect("www.example.com:443")?;
/// let mut tls = TlsStream::new(tcp, &config, "www.example.com")?.use_read_timeouts();
/// tls.write_all(b"Hello, World!")?;
/// let mut reply = Vec::new();
/// tls.read_to_end(&mut reply)?; // until the server's close_notify
/// println!("{}", String::from_utf8_lossy(&reply));
/// # Ok(()) }
/// ```
pub struct TlsStream<S> {
    io: S,
    client: Client,
    set_timeout: Option<SetTimeout<S>>,
    read_timeout: Option<Duration>,
    /// The read timeout last given to the transport, so an unchanged one is not set again
    /// (one `setsockopt` per read otherwise); `None` when unknown.
    applied_timeout: Option<Option<Duration>>,
    /// Transport read buffer.
    buf: Vec<u8>,
    /// Ciphertext to write, from `out_pos` on.
    out: Vec<u8>,
    out_pos: usize,
    /// Plaintext for the caller, from `plain_pos` on.
    plain: Vec<u8>,
    plain_pos: usize,
    peer_closed: bool,
    eof: bool,
    /// A fatal transport error, repeated to later calls.
    broken: Option<(io::ErrorKind, String)>,
    tap: TapSlot,
    stats: Stats,
}

/// The optional tap; tells it `finished` once, at the latest when dropped.
#[derive(Default)]
struct TapSlot {
    tap: Option<Box<dyn Tap>>,
    finished: bool,
}

impl TapSlot {
    fn get(&mut self) -> Option<&mut Box<dyn Tap>> {
        self.tap.as_mut().filter(|_| !self.finished)
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            if let Some(t) = &mut self.tap {
                t.finished();
            }
        }
    }
}

impl Drop for TapSlot {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<S> fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("client", &self.client)
            .field("timers", &self.set_timeout.is_some())
            .field("read_timeout", &self.read_timeout)
            .field("buffered_plaintext", &(self.plain.len() - self.plain_pos))
            .field("pending_ciphertext", &(self.out.len() - self.out_pos))
            .field("peer_closed", &self.peer_closed)
            .field("eof", &self.eof)
            .field("broken", &self.broken)
            .field("tap", &self.tap.tap.is_some())
            .field("stats", &self.stats)
            .finish()
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
    /// Starts a TLS client for `server_name` over `io` (already connected). The
    /// ClientHello is written on the first read, write, flush or handshake.
    pub fn new(io: S, config: &Config, server_name: &str) -> io::Result<Self> {
        let client = Client::new(config, server_name, clock::now()).map_err(to_io_error)?;
        Ok(TlsStream::from_client(client, io))
    }

    /// Wraps a [`Client`] made by the caller (its `now` must come from [`clock::now`]).
    ///
    /// Without [`TlsStream::use_read_timeouts`] the core's deadlines are checked only
    /// when the transport's own reads time out (`WouldBlock`/`TimedOut`, which are then
    /// returned to the caller).
    pub fn from_client(client: Client, io: S) -> Self {
        TlsStream {
            io,
            client,
            set_timeout: None,
            read_timeout: None,
            applied_timeout: None,
            buf: vec![0; READ_BUFFER],
            out: Vec::new(),
            out_pos: 0,
            plain: Vec::new(),
            plain_pos: 0,
            peer_closed: false,
            eof: false,
            broken: None,
            tap: TapSlot::default(),
            stats: Stats::default(),
        }
    }

    /// Records the session's bytes in `tap`. Set it before the first I/O, so that it
    /// sees the ClientHello.
    pub fn with_tap(mut self, tap: Box<dyn Tap>) -> Self {
        self.tap = TapSlot {
            tap: Some(tap),
            finished: false,
        };
        self
    }

    // ----- getters -----

    /// What the handshake negotiated (version, suite, group, ALPN, peer chain), once done.
    pub fn info(&self) -> Option<&ConnectionInfo> {
        self.client.connection_info()
    }

    /// True until the handshake has completed.
    pub fn is_handshaking(&self) -> bool {
        self.client.is_handshaking()
    }

    /// True once the peer's `close_notify` has arrived.
    pub fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Byte counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The sans-IO client inside.
    pub fn client(&self) -> &Client {
        &self.client
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
        let TlsStream { io, .. } = self;
        io
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
        while self.client.is_handshaking() {
            self.check_failed()?;
            self.progress(user_deadline)?;
        }
        self.check_failed()?;
        self.drain()?;
        Ok(())
    }

    /// Sends `close_notify` (after the handshake and everything queued) and flushes.
    /// Nothing can be written afterwards; reading continues until the peer's
    /// `close_notify` (`Ok(0)`).
    pub fn shutdown(&mut self) -> io::Result<()> {
        if self.client.is_handshaking() {
            self.handshake()?;
        }
        self.client.close().map_err(to_io_error)?;
        if let Some(t) = self.tap.get() {
            t.closed();
        }
        self.drain()?;
        self.io.flush().map_err(|e| self.transport_error(e))
    }

    // ----- internals -----

    fn user_deadline(&self) -> Option<std::time::Instant> {
        self.read_timeout.map(|t| std::time::Instant::now() + t)
    }

    /// The final error, if the connection failed (TLS) or the transport broke.
    fn check_failed(&self) -> io::Result<()> {
        if let Some(e) = self.client.error() {
            return Err(to_io_error(e.clone()));
        }
        if let Some((kind, msg)) = &self.broken {
            return Err(io::Error::new(*kind, msg.clone()));
        }
        Ok(())
    }

    /// Records a fatal transport error; `WouldBlock`/`TimedOut`/`Interrupted` are not fatal.
    fn transport_error(&mut self, e: io::Error) -> io::Error {
        if !is_transient(&e) {
            self.broken = Some((e.kind(), e.to_string()));
            self.tap.finish();
        }
        e
    }

    fn push_plain(&mut self, data: Vec<u8>) {
        self.stats.plaintext_received += data.len() as u64;
        if self.plain_pos >= self.plain.len() {
            self.plain = data;
            self.plain_pos = 0;
        } else {
            self.plain.drain(..self.plain_pos);
            self.plain_pos = 0;
            self.plain.extend_from_slice(&data);
        }
    }

    /// Drains the core's outputs (ciphertext to write, events), then writes the
    /// ciphertext. Returns the core's next deadline.
    fn drain(&mut self) -> io::Result<Option<Instant>> {
        let deadline = loop {
            match self.client.poll_output() {
                Output::Transmit(bytes) => {
                    if let Some(t) = self.tap.get() {
                        t.transmitted(&bytes);
                    }
                    if self.out_pos >= self.out.len() {
                        self.out = bytes;
                        self.out_pos = 0;
                    } else {
                        self.out.extend_from_slice(&bytes);
                    }
                }
                Output::Event(Event::Data(data)) => self.push_plain(data),
                Output::Event(Event::PeerClosed) => self.peer_closed = true,
                Output::Event(_) => {}
                Output::Wait(deadline) => break deadline,
            }
        };
        self.write_out()?;
        if self.client.is_finished() {
            // Closed or failed, and the last ciphertext (close_notify or alert) is out.
            self.tap.finish();
        }
        Ok(deadline)
    }

    /// Writes pending ciphertext to the transport. On `WouldBlock`/`TimedOut` the rest
    /// stays pending for the next call.
    fn write_out(&mut self) -> io::Result<()> {
        if self.broken.is_some() {
            return self.check_failed();
        }
        let mut wrote = false;
        while self.out_pos < self.out.len() {
            let pending = self.out.get(self.out_pos..).unwrap_or_default();
            match self.io.write(pending) {
                Ok(0) => {
                    let e = io::Error::new(io::ErrorKind::WriteZero, "transport accepted no bytes");
                    return Err(self.transport_error(e));
                }
                Ok(n) => {
                    self.out_pos += n;
                    self.stats.ciphertext_sent += n as u64;
                    wrote = true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.transport_error(e)),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        if wrote {
            self.io.flush().map_err(|e| self.transport_error(e))?;
        }
        Ok(())
    }

    /// Feeds one input to the core and drains it. A TLS failure is not returned here:
    /// it stays in the client, so the caller can first hand out data that preceded it.
    fn feed(&mut self, input: Input<'_>) -> io::Result<()> {
        let result = self.client.handle_input(input);
        self.drain()?;
        match result {
            Err(e) if self.client.error().is_none() => Err(to_io_error(e)),
            _ => Ok(()),
        }
    }

    /// One step of progress: writes what the core has, then one transport read (bounded
    /// by the core's deadline and `user_deadline`) fed to the core, or a tick.
    fn progress(&mut self, user_deadline: Option<std::time::Instant>) -> io::Result<()> {
        let deadline = self.drain()?;
        if self.client.error().is_some() {
            return Ok(());
        }
        if self.eof {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the transport is closed",
            ));
        }
        let now = clock::now();
        if deadline.is_some_and(|d| now >= d) {
            return self.feed(Input::Tick(now));
        }
        let user_left =
            user_deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        if user_left.is_some_and(|t| t.is_zero()) {
            return Err(read_timed_out());
        }
        if let Some(set) = self.set_timeout {
            let core_left = deadline.map(|d| d.saturating_duration_since(now));
            let timeout = match (core_left, user_left) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            // A zero timeout means "block" to the OS; round up to a millisecond.
            let timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
            if self.applied_timeout != Some(timeout) {
                self.applied_timeout = None;
                set(&mut self.io, timeout).map_err(|e| self.transport_error(e))?;
                self.applied_timeout = Some(timeout);
            }
        }
        let cap = self.client.receive_capacity().min(self.buf.len());
        if cap == 0 {
            // Cannot happen with the core's minimum receive buffer; never spin.
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the peer's data does not fit the receive buffer",
            ));
        }
        let buf = self.buf.get_mut(..cap).unwrap_or_default();
        match self.io.read(buf) {
            Ok(0) => {
                self.eof = true;
                if let Some(t) = self.tap.get() {
                    t.eof();
                }
                self.feed(Input::Eof(clock::now()))
            }
            Ok(n) => {
                let chunk = self.buf.get(..n).unwrap_or_default();
                self.stats.ciphertext_received += n as u64;
                if let Some(t) = self.tap.get() {
                    t.received(chunk);
                }
                let result = self
                    .client
                    .handle_input(Input::Receive(clock::now(), chunk));
                self.drain()?;
                match result {
                    Err(e) if self.client.error().is_none() => Err(to_io_error(e)),
                    _ => Ok(()),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) if is_transient(&e) => {
                let now = clock::now();
                if deadline.is_some_and(|d| now >= d) {
                    return self.feed(Input::Tick(now));
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
            Err(e) => Err(self.transport_error(e)),
        }
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
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
            let available = self.plain.get(self.plain_pos..).unwrap_or_default();
            if !available.is_empty() {
                let n = available.len().min(buf.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(..n), available.get(..n)) {
                    dst.copy_from_slice(src);
                }
                self.plain_pos += n;
                return Ok(n);
            }
            self.check_failed()?;
            if self.peer_closed {
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
            self.check_failed()?;
            self.write_out()?;
            let n = self.client.send(buf).map_err(to_io_error)?;
            if n > 0 {
                self.stats.plaintext_sent += n as u64;
                if let Some(t) = self.tap.get() {
                    t.plaintext_sent(buf.get(..n).unwrap_or_default());
                }
                // The bytes are accepted: a transport that would block now gets them on
                // the next call, so report them written.
                match self.drain() {
                    Err(e) if !is_transient(&e) => return Err(e),
                    _ => return Ok(n),
                }
            }
            // The core's send buffer is full: move bytes, reading if it waits for the peer.
            self.drain()?;
            if self.client.send_capacity() == 0 {
                self.progress(None)?;
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.io.flush().map_err(|e| self.transport_error(e))
    }
}

#[cfg(test)]
mod tests;
