//! [`Pump`]: what the blocking and the async stream share. It owns the sans-IO
//! [`Client`] and the byte queues between it and the transport, and turns the core's
//! outputs into "ciphertext to write", "plaintext to hand out" and "the next deadline".
//! A driver only moves bytes between [`Pump::pending_out`] / [`Pump::receive`] and its
//! transport, and feeds [`Pump::tick`] when [`Pump::due`] says so.

use std::io;

use tlsferry_core::{Client, ConnectionInfo, Event, Input, Instant, Output};

use crate::stream::{Stats, Tap};

/// Most decrypted plaintext a stream holds for a caller that is not reading; beyond it
/// the transport is not read (TCP flow control then slows the peer).
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
pub(crate) const PLAIN_LIMIT: usize = 256 * 1024;

/// The core client plus the queues a stream keeps around it.
pub(crate) struct Pump {
    client: Client,
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
    /// The core's next deadline, as of the last drain.
    deadline: Option<Instant>,
    tap: TapSlot,
    stats: Stats,
}

impl Pump {
    pub(crate) fn new(mut client: Client) -> Pump {
        // Records are decrypted by `read_decrypted`, straight into the caller's buffer.
        client.decrypt_on_read();
        let mut pump = Pump {
            client,
            out: Vec::new(),
            out_pos: 0,
            plain: Vec::new(),
            plain_pos: 0,
            peer_closed: false,
            eof: false,
            broken: None,
            deadline: None,
            tap: TapSlot::default(),
            stats: Stats::default(),
        };
        pump.drain();
        pump
    }

    pub(crate) fn set_tap(&mut self, tap: Box<dyn Tap>) {
        self.tap = TapSlot {
            tap: Some(tap),
            finished: false,
        };
        // The ClientHello is already queued: the tap must see it.
        if let Some(t) = self.tap.get() {
            if let Some(pending) = self.out.get(self.out_pos..) {
                t.transmitted(pending);
            }
        }
    }

    // ----- getters -----

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn info(&self) -> Option<&ConnectionInfo> {
        self.client.connection_info()
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        self.client.is_handshaking()
    }

    pub(crate) fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    pub(crate) fn is_eof(&self) -> bool {
        self.eof
    }

    pub(crate) fn stats(&self) -> Stats {
        self.stats
    }

    /// The core's next deadline (handshake or idle timeout), if any.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// True if the deadline has passed at `now`: feed [`Pump::tick`].
    pub(crate) fn due(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|d| now >= d)
    }

    /// Ciphertext waiting for the transport.
    pub(crate) fn pending_out(&self) -> &[u8] {
        self.out.get(self.out_pos..).unwrap_or_default()
    }

    /// True if plaintext is waiting for the caller.
    pub(crate) fn has_plain(&self) -> bool {
        self.plain_pos < self.plain.len()
    }

    /// The plaintext waiting for the caller; [`Pump::consume_plain`] takes it.
    pub(crate) fn plain(&self) -> &[u8] {
        self.plain.get(self.plain_pos..).unwrap_or_default()
    }

    /// The caller took `n` bytes of [`Pump::plain`].
    pub(crate) fn consume_plain(&mut self, n: usize) {
        self.plain_pos = (self.plain_pos + n).min(self.plain.len());
        if self.plain_pos == self.plain.len() {
            self.plain = Vec::new();
            self.plain_pos = 0;
        }
    }

    /// True if the driver should read the transport now: not at its end, not failed,
    /// and the caller has not left more than [`PLAIN_LIMIT`] bytes unread (a caller that
    /// writes without reading must not make the stream buffer whatever the peer sends).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn wants_read(&self) -> bool {
        !self.eof
            && !self.tls_failed()
            && self.broken.is_none()
            && self.plain.len() - self.plain_pos < PLAIN_LIMIT
            && self.receive_room() > 0
    }

    /// How many ciphertext bytes the next [`Pump::receive`] may carry.
    pub(crate) fn receive_room(&self) -> usize {
        self.client.receive_capacity()
    }

    /// True once the core failed (certificate, protocol, timeout…).
    pub(crate) fn tls_failed(&self) -> bool {
        self.client.error().is_some()
    }

    /// The final error, if the connection failed (TLS) or the transport broke.
    pub(crate) fn check_failed(&self) -> io::Result<()> {
        if let Some(e) = self.client.error() {
            return Err(e.clone().into());
        }
        if let Some((kind, msg)) = &self.broken {
            return Err(io::Error::new(*kind, msg.clone()));
        }
        Ok(())
    }

    // ----- what the driver did -----

    /// Records a transport error; `WouldBlock`, `TimedOut` and `Interrupted` are not fatal.
    pub(crate) fn transport_error(&mut self, e: io::Error) -> io::Error {
        if !is_transient(&e) && self.broken.is_none() {
            self.broken = Some((e.kind(), e.to_string()));
            self.tap.finish();
        }
        e
    }

    /// The transport took `n` bytes of [`Pump::pending_out`].
    pub(crate) fn wrote(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
        self.stats.ciphertext_sent += n as u64;
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
        self.after_write();
    }

    /// Reads ciphertext with `read` straight into the core's buffer (at most `max` bytes,
    /// no copy) and feeds it. The inner result is the transport's: `Ok(0)` is its end of
    /// stream (fed as EOF), an error of `read` feeds nothing. The outer error is a
    /// non-fatal misuse reported by the core.
    pub(crate) fn read_from(
        &mut self,
        max: usize,
        now: impl Fn() -> Instant,
        read: impl FnOnce(&mut [u8]) -> io::Result<usize>,
    ) -> io::Result<io::Result<usize>> {
        let buf = self.client.receive_buffer();
        let room = buf.len().min(max);
        let n = match read(buf.get_mut(..room).unwrap_or_default()) {
            Ok(n) => n.min(room),
            Err(e) => {
                // Nothing to read now (WouldBlock, tokio's Pending): an idle connection
                // holds no receive buffer.
                self.client.release_receive_buffer();
                return Ok(Err(e));
            }
        };
        if n == 0 {
            self.receive_eof(now())?;
            return Ok(Ok(0));
        }
        self.stats.ciphertext_received += n as u64;
        if let Some(t) = self.tap.get() {
            t.received(self.client.receive_buffer().get(..n).unwrap_or_default());
        }
        self.feed(Input::Received(now(), n))?;
        Ok(Ok(n))
    }

    /// The transport reached end of stream.
    pub(crate) fn receive_eof(&mut self, now: Instant) -> io::Result<()> {
        self.eof = true;
        if let Some(t) = self.tap.get() {
            t.eof();
        }
        self.feed(Input::Eof(now))
    }

    /// Time passed: lets the core check its deadlines.
    pub(crate) fn tick(&mut self, now: Instant) -> io::Result<()> {
        self.feed(Input::Tick(now))
    }

    fn feed(&mut self, input: Input<'_>) -> io::Result<()> {
        let result = self.client.handle_input(input);
        self.drain();
        match result {
            // Failures of the connection stay in the client (see `check_failed`); a
            // non-fatal misuse is returned now.
            Err(e) if self.client.error().is_none() => Err(e.into()),
            _ => Ok(()),
        }
    }

    // ----- what the application did -----

    /// Decrypts waiting records straight into `buf`; returns how much. Callers take
    /// [`Pump::plain`] first (it holds earlier data). 0 when no whole record is waiting,
    /// or the connection failed ([`Pump::check_failed`] then says why).
    pub(crate) fn read_decrypted(&mut self, buf: &mut [u8]) -> usize {
        let n = self.client.read(buf).unwrap_or(0);
        self.stats.plaintext_received += n as u64;
        // Decrypting may have queued bytes for the peer or reached its close_notify.
        self.drain();
        n
    }

    /// Copies buffered plaintext into `buf`; returns how much.
    pub(crate) fn read_plain(&mut self, buf: &mut [u8]) -> usize {
        let available = self.plain();
        let n = available.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), available.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consume_plain(n);
        n
    }

    /// Queues plaintext for the peer; returns how much the core accepted (0 when its send
    /// buffer is full).
    pub(crate) fn send(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.client.send(data)?;
        if n > 0 {
            self.stats.plaintext_sent += n as u64;
            if let Some(t) = self.tap.get() {
                t.plaintext_sent(data.get(..n).unwrap_or_default());
            }
            self.drain();
        }
        Ok(n)
    }

    /// Room in the core's send buffer.
    pub(crate) fn send_room(&self) -> usize {
        self.client.send_capacity()
    }

    /// Closes the sending direction (`close_notify` after the queued data).
    pub(crate) fn close(&mut self) -> io::Result<()> {
        let first = self.tap.tap.is_some() && !self.client.is_finished();
        self.client.close()?;
        if first {
            if let Some(t) = self.tap.get() {
                t.closed();
            }
        }
        self.drain();
        Ok(())
    }

    /// Drains the core's outputs: ciphertext to `out`, data to `plain`, and the deadline.
    pub(crate) fn drain(&mut self) {
        loop {
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
                Output::Wait(deadline) => {
                    self.deadline = deadline;
                    break;
                }
            }
        }
        if self.client.is_finished() && self.out_pos >= self.out.len() {
            // Closed or failed, and the last ciphertext (close_notify or alert) is out.
            self.tap.finish();
        }
    }

    /// Tells the tap the session is over once the last ciphertext has been written.
    fn after_write(&mut self) {
        if self.client.is_finished() && self.out_pos >= self.out.len() {
            self.tap.finish();
        }
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
}

impl std::fmt::Debug for Pump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pump")
            .field("client", &self.client)
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

/// True for transport errors after which the stream stays usable.
pub(crate) fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
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
