//! TLS over tokio (cargo feature `tokio`): [`TlsStream<S>`] over any
//! `S: AsyncRead + AsyncWrite + Unpin`, itself `AsyncRead + AsyncWrite`, and
//! [`connect`] / [`connect_with`].
//!
//! The same pump drives it as the blocking [`crate::TlsStream`], so the behaviour is the
//! same: verification on, the core's handshake and idle timeouts (armed as
//! `tokio::time` timers, so `tokio::time::pause` controls them in tests), truncation as
//! an error of kind `UnexpectedEof` carrying the typed TLS error
//! ([`tls_error`](crate::tls_error)).
//!
//! ```no_run
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), tlsferry::Error> {
//!     let config = tlsferry::Config::builder().build()?;
//!     let mut tls =
//!         tlsferry::tokio::connect("www.example.com:443", "www.example.com", &config).await?;
//!     tls.write_all(b"Hello, World!").await?;
//!     let mut reply = Vec::new();
//!     tls.read_to_end(&mut reply).await?; // until the server's close_notify
//!     print!("{}", String::from_utf8_lossy(&reply));
//!     Ok(())
//! }
//! ```
//!
//! Reads are cancellation-safe (plaintext is only taken by a read that returns it), and
//! `tokio::io::split` works: both halves may wait at once, each is woken when the
//! transport or a timer makes progress.

use std::fmt;
use std::future::poll_fn;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use tlsferry_core::{Client, Config, ConnectionInfo, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use crate::connect::{check_server_name, display_addr, ConnectOptions};
use crate::pump::Pump;
use crate::stream::{Stats, READ_BUFFER};
use crate::Error;

/// Now on tokio's clock (paused and advanced in tests), as a core instant.
fn now() -> Instant {
    Instant::from_std(tokio::time::Instant::now().into_std())
}

/// An async TLS client stream over a transport `S` (usually a [`TcpStream`]).
///
/// * `AsyncRead` gives plaintext; end of stream (`Ok` with nothing read) only after the
///   peer's `close_notify`, an error of kind `UnexpectedEof` on truncation.
/// * `AsyncWrite`: `poll_write` completes the handshake first, then queues and writes;
///   `poll_flush` writes everything out; `poll_shutdown` sends `close_notify`, flushes
///   and shuts the transport's write side (reading continues until the peer's
///   `close_notify`).
/// * Dropping the stream closes the transport without `close_notify`: call
///   `shutdown().await` first when the peer waits for it.
/// * TLS errors are final and repeated by every later call.
pub struct TlsStream<S> {
    io: S,
    pump: Pump,
    /// The timer for the core's deadline, and the deadline it is set for.
    timer: Option<(Pin<Box<Sleep>>, Instant)>,
    wakers: Arc<Wakers>,
    /// Wakes both the reading and the writing task (see [`Wakers`]).
    waker: Waker,
    /// `close_notify` was queued by `poll_shutdown`.
    closing: bool,
    /// The transport's write side is shut.
    write_shut: bool,
}

impl<S> fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("pump", &self.pump)
            .field("closing", &self.closing)
            .field("write_shut", &self.write_shut)
            .finish_non_exhaustive()
    }
}

/// The tasks waiting on this stream. The transport and the timer remember only the last
/// waker they were polled with; since the reading and the writing half (after
/// `tokio::io::split`) may wait at once, they are polled with a waker that wakes both.
#[derive(Default)]
struct Wakers {
    reader: Mutex<Option<Waker>>,
    writer: Mutex<Option<Waker>>,
}

impl Wakers {
    fn set(slot: &Mutex<Option<Waker>>, waker: &Waker) {
        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
        match &*slot {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    fn wake(slot: &Mutex<Option<Waker>>) {
        let waker = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        Wakers::wake(&self.reader);
        Wakers::wake(&self.writer);
    }
}

/// Which side of the stream a poll is for.
#[derive(Clone, Copy)]
enum Side {
    Read,
    Write,
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream<S> {
    /// Starts a TLS client for `server_name` over `io` (already connected), with
    /// `config`. Nothing is sent before the first poll; [`TlsStream::handshake`]
    /// completes the handshake.
    pub fn new(io: S, server_name: &str, config: &Config) -> Result<Self, Error> {
        let client = Client::new(server_name, config, now())?;
        Ok(TlsStream::from_client(io, client))
    }

    /// Wraps a [`Client`] made by the caller (its `now` must be on tokio's clock:
    /// `Instant::from_std(tokio::time::Instant::now().into_std())`).
    pub fn from_client(io: S, client: Client) -> Self {
        let wakers = Arc::new(Wakers::default());
        TlsStream {
            io,
            pump: Pump::new(client),
            timer: None,
            waker: Waker::from(wakers.clone()),
            wakers,
            closing: false,
            write_shut: false,
        }
    }

    /// Completes the handshake (if not done yet); returns the TLS or transport error
    /// that stopped it.
    pub async fn handshake(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_handshake(cx, Side::Write)).await?;
        Ok(())
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
        &mut self.io
    }

    /// Gives the transport back (without sending `close_notify`).
    pub fn into_inner(self) -> S {
        self.io
    }

    // ----- internals -----

    fn register(&self, cx: &Context<'_>, side: Side) {
        match side {
            Side::Read => Wakers::set(&self.wakers.reader, cx.waker()),
            Side::Write => Wakers::set(&self.wakers.writer, cx.waker()),
        }
    }

    /// Writes pending ciphertext. `Ready(Ok)` once all of it is out.
    fn poll_write_out(&mut self) -> Poll<io::Result<()>> {
        let waker = self.waker.clone();
        let mut cx = Context::from_waker(&waker);
        while !self.pump.pending_out().is_empty() {
            match Pin::new(&mut self.io).poll_write(&mut cx, self.pump.pending_out()) {
                Poll::Ready(Ok(0)) => {
                    let e = io::Error::new(io::ErrorKind::WriteZero, "transport accepted no bytes");
                    return Poll::Ready(Err(self.pump.transport_error(e)));
                }
                Poll::Ready(Ok(n)) => self.pump.wrote(n),
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(self.pump.transport_error(e))),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// One round of I/O: writes what the core has, fires a due deadline, reads once.
    /// `Ready(Ok)` if anything changed, `Pending` if all of it waits (wakers are set).
    fn poll_progress(&mut self) -> Poll<io::Result<()>> {
        let mut progressed = false;
        let before = self.pump.pending_out().len();
        match self.poll_write_out() {
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => progressed |= before > 0,
            Poll::Pending => progressed |= self.pump.pending_out().len() < before,
        }
        if self.pump.tls_failed() {
            return Poll::Ready(Ok(()));
        }
        let waker = self.waker.clone();
        let mut cx = Context::from_waker(&waker);
        if let Some(deadline) = self.pump.deadline() {
            let timer = match &mut self.timer {
                Some((sleep, at)) if *at == deadline => sleep,
                slot => {
                    let when = tokio::time::Instant::from_std(deadline.to_std());
                    &mut slot
                        .insert((Box::pin(tokio::time::sleep_until(when)), deadline))
                        .0
                }
            };
            if timer.as_mut().poll(&mut cx).is_ready() {
                self.timer = None;
                self.pump.tick(now())?;
                return Poll::Ready(Ok(()));
            }
        } else {
            self.timer = None;
        }
        if self.pump.wants_read() {
            // Straight into the core's buffer: the ciphertext is not copied again.
            let io = &mut self.io;
            let mut pending = false;
            let read = self.pump.read_from(READ_BUFFER, now, |buf| {
                let mut rb = ReadBuf::new(buf);
                match Pin::new(io).poll_read(&mut cx, &mut rb) {
                    Poll::Ready(Ok(())) => Ok(rb.filled().len()),
                    Poll::Ready(Err(e)) => Err(e),
                    Poll::Pending => {
                        pending = true;
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                }
            })?;
            match read {
                // Answers (handshake messages, alerts) go out on the next round.
                Ok(_) => return Poll::Ready(Ok(())),
                Err(_) if pending => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Poll::Ready(Ok(())),
                Err(e) => return Poll::Ready(Err(self.pump.transport_error(e))),
            }
        }
        if progressed {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    /// After a TLS failure, writes what the core queued for the peer (its fatal alert:
    /// unknown_ca, bad_record_mac…) as far as the transport takes it now, so that the
    /// peer learns why instead of seeing a bare EOF.
    fn send_alert(&mut self) {
        if self.pump.tls_failed() {
            let _ = self.poll_write_out();
        }
    }

    /// The final error, if the connection failed, with the alert sent first.
    fn check_failed(&mut self) -> io::Result<()> {
        let result = self.pump.check_failed();
        if result.is_err() {
            self.send_alert();
        }
        result
    }

    fn poll_handshake(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<io::Result<()>> {
        self.register(cx, side);
        let result = self.poll_handshake_steps();
        if let Poll::Ready(Err(_)) = result {
            self.send_alert();
        }
        result
    }

    fn poll_handshake_steps(&mut self) -> Poll<io::Result<()>> {
        while self.pump.is_handshaking() {
            self.pump.check_failed()?;
            if self.pump.is_eof() {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the transport is closed",
                )));
            }
            std::task::ready!(self.poll_progress())?;
        }
        self.pump.check_failed()?;
        // Send what the end of the handshake produced (the client's Finished).
        match self.poll_write_out() {
            Poll::Ready(r) => Poll::Ready(r),
            Poll::Pending => Poll::Ready(Ok(())),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        this.register(cx, Side::Read);
        loop {
            if this.pump.has_plain() {
                let plain = this.pump.plain();
                let n = plain.len().min(buf.remaining());
                buf.put_slice(plain.get(..n).unwrap_or_default());
                this.pump.consume_plain(n);
                return Poll::Ready(Ok(()));
            }
            // Only bytes this read can fill are initialised: a `read_buf` into a large
            // spare capacity would otherwise zero all of it on every call.
            let room = buf.remaining().min(READ_BUFFER);
            let n = this.pump.read_decrypted(buf.initialize_unfilled_to(room));
            if n > 0 {
                buf.advance(n);
                return Poll::Ready(Ok(()));
            }
            this.check_failed()?;
            if this.pump.peer_closed() {
                return Poll::Ready(Ok(()));
            }
            if this.pump.is_eof() {
                // The core reports truncation as a failure; never spin on a closed transport.
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the transport is closed",
                )));
            }
            std::task::ready!(this.poll_progress())?;
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        std::task::ready!(this.poll_handshake(cx, Side::Write))?;
        loop {
            this.check_failed()?;
            if this.closing {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "write after shutdown",
                )));
            }
            let n = this.pump.send(data)?;
            if n > 0 {
                // Accepted: start writing now; the rest goes out on later polls.
                if let Poll::Ready(Err(e)) = this.poll_write_out() {
                    return Poll::Ready(Err(e));
                }
                return Poll::Ready(Ok(n));
            }
            // The core's send buffer is full: move bytes until it has room.
            std::task::ready!(this.poll_progress())?;
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_handshake(cx, Side::Write))?;
        if this.pump.tls_failed() {
            this.check_failed()?;
        }
        std::task::ready!(this.poll_write_out())?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.closing {
            std::task::ready!(this.poll_handshake(cx, Side::Write))?;
            this.pump.close()?;
            this.closing = true;
        }
        this.register(cx, Side::Write);
        std::task::ready!(this.poll_write_out())?;
        if !this.write_shut {
            std::task::ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
            this.write_shut = true;
        }
        Poll::Ready(Ok(()))
    }
}

/// Connects to `addr` over TCP (10 s per attempt) and completes a TLS handshake for
/// `server_name`, verified as `config` says. The handshake and idle timeouts come from
/// `config`.
pub async fn connect(
    addr: impl tokio::net::ToSocketAddrs + fmt::Debug,
    server_name: &str,
    config: &Config,
) -> Result<TlsStream<TcpStream>, Error> {
    connect_with(addr, server_name, config, &ConnectOptions::default()).await
}

/// [`connect`] with socket options (connect timeout, Nagle; the write timeout is for
/// blocking streams only: wrap writes in `tokio::time::timeout`).
pub async fn connect_with(
    addr: impl tokio::net::ToSocketAddrs + fmt::Debug,
    server_name: &str,
    config: &Config,
    opts: &ConnectOptions,
) -> Result<TlsStream<TcpStream>, Error> {
    check_server_name(server_name)?;
    let tcp = connect_tcp(addr, opts).await?;
    let mut tls = TlsStream::new(tcp, server_name, config)?;
    tls.handshake().await?;
    Ok(tls)
}

/// Resolves `addr` and opens a TCP connection to the first address that answers.
pub async fn connect_tcp(
    addr: impl tokio::net::ToSocketAddrs + fmt::Debug,
    opts: &ConnectOptions,
) -> Result<TcpStream, Error> {
    let shown = display_addr(&addr);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(addr)
        .await
        .map_err(|source| Error::Resolve {
            addr: shown.clone(),
            source,
        })?
        .collect();
    let mut last = None;
    for a in addrs {
        let attempt = match opts.connect_timeout {
            Some(t) => match tokio::time::timeout(t, TcpStream::connect(a)).await {
                Ok(r) => r,
                Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
            },
            None => TcpStream::connect(a).await,
        };
        match attempt {
            Ok(tcp) => {
                tcp.set_nodelay(opts.nodelay).map_err(Error::Io)?;
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
