//! [`Client`]: the sans-IO state machine. One input door ([`Client::handle_input`]), one
//! output door ([`Client::poll_output`]); the caller drains outputs after every input.

use alloc::string::String;
use alloc::vec::Vec;
use core::mem;

use rustls::pki_types::ServerName;

use alloc::sync::Arc;

use crate::adapter::{Io, PumpError, Tls};
use crate::config::Config;
use crate::error::{from_rustls, Error, ErrorContext, LocalError, PeerError, TimeoutPhase};
use crate::event::{ConnectionInfo, Event, Output};
use crate::exporter::{self, ExportError};
use crate::scope::{self, ConnState};
use crate::time::Instant;

/// Input to [`Client::handle_input`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// Ciphertext received from the transport, at most
    /// [`Client::receive_capacity`] bytes.
    Receive(Instant, &'a [u8]),
    /// The driver wrote this many bytes of ciphertext at the start of
    /// [`Client::receive_buffer`] (no copy: what `Receive` does for a slice the driver owns).
    Received(Instant, usize),
    /// The transport reached end of stream (the peer closed its side).
    Eof(Instant),
    /// Time passed; checks the deadlines.
    Tick(Instant),
}

/// A TLS client connection, without I/O.
///
/// Methods are grouped as getters, the input door, mutators, and the output door.
#[derive(Debug)]
pub struct Client {
    tls: Tls,
    /// What the config's shared verifier and key log learned about this connection.
    state: Arc<ConnState>,
    config: Config,
    server_name: String,
    /// Ciphertext to transmit.
    outgoing: Vec<u8>,
    /// Plaintext queued by `send`, not yet encrypted.
    to_send: Vec<u8>,
    /// Plaintext decrypted, not yet handed out.
    received: Vec<u8>,
    /// How much of `received` [`Client::read`] has copied out already (less than half of
    /// it, or 0: see `read`).
    received_taken: usize,
    info: Option<ConnectionInfo>,
    connected_pending: bool,
    peer_closed_reported: bool,
    closed_reported: bool,
    close_requested: bool,
    eof: bool,
    failed: Option<Error>,
    handshake_deadline: Option<Instant>,
    last_receive: Instant,
    /// [`Client::decrypt_on_read`]: records are decrypted by [`Client::read`].
    decrypt_on_read: bool,
}

impl Client {
    /// Starts a connection to `server_name` (a DNS name or an IP address, verified against
    /// the certificate and sent as SNI) with `config`; the ClientHello is ready in
    /// [`Client::poll_output`] right away. `now` starts the handshake timeout.
    pub fn new(server_name: &str, config: &Config, now: Instant) -> Result<Client, Error> {
        let name = ServerName::try_from(String::from(server_name))
            .map_err(|_| Error::Local(LocalError::InvalidServerName(server_name.into())))?;
        let state = Arc::new(ConnState::default());
        // The ClientHello is made here: the key log may see the client random already.
        let tls = scope::with(&state, || Tls::new(config.rustls.clone(), name)).map_err(|e| {
            from_rustls(
                e,
                ErrorContext {
                    server_name,
                    chain: Vec::new(),
                    now: None,
                    finding: None,
                    handshaking: true,
                    offer: &config.offer,
                },
            )
        })?;
        let mut client = Client {
            tls,
            state,
            config: config.clone(),
            server_name: server_name.into(),
            outgoing: Vec::new(),
            to_send: Vec::new(),
            received: Vec::new(),
            received_taken: 0,
            info: None,
            connected_pending: false,
            peer_closed_reported: false,
            closed_reported: false,
            close_requested: false,
            eof: false,
            failed: None,
            handshake_deadline: config.handshake_timeout.map(|t| now + t),
            last_receive: now,
            decrypt_on_read: false,
        };
        client.pump()?;
        Ok(client)
    }

    // ----- getters -----

    /// The server name this connection verifies against.
    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    /// True until the handshake has completed.
    pub fn is_handshaking(&self) -> bool {
        self.tls.is_handshaking()
    }

    /// What the handshake negotiated, once connected.
    pub fn connection_info(&self) -> Option<&ConnectionInfo> {
        self.info.as_ref()
    }

    /// The error that ended this connection, if any.
    pub fn error(&self) -> Option<&Error> {
        self.failed.as_ref()
    }

    /// How many ciphertext bytes the next [`Input::Receive`] may carry.
    pub fn receive_capacity(&self) -> usize {
        self.config
            .limits
            .receive_buffer
            .saturating_sub(self.tls.buffered_incoming())
    }

    /// Room to read ciphertext into directly: up to [`Client::receive_capacity`] bytes of
    /// the core's own buffer. Read from the transport into its start, then feed
    /// [`Input::Received`] with the count: the bytes are not copied again. (Feeding
    /// anything else first discards what was written here.)
    ///
    /// A connection read this way keeps the buffer between reads (bulk data does not
    /// allocate and zero-fill it again) until [`Client::release_receive_buffer`], which a
    /// driver calls when its transport has nothing to read: after a small read (less than
    /// one full record) that frees it, and the next offer allocates at most 17 KiB, so a
    /// connection that receives little holds little. A connection fed by
    /// [`Input::Receive`] frees it whenever it is empty.
    pub fn receive_buffer(&mut self) -> &mut [u8] {
        let room = self.receive_capacity();
        self.tls.lend(room)
    }

    /// Takes back the room [`Client::receive_buffer`] offered, for a driver whose read
    /// found nothing (tokio's `Pending`, `WouldBlock`), and frees the storage if it holds
    /// no unprocessed bytes and the last read was smaller than a full record: an idle
    /// connection then holds no receive buffer. After a large read (bulk data) the storage
    /// is kept for the next one.
    pub fn release_receive_buffer(&mut self) {
        self.tls.release();
    }

    /// How many plaintext bytes [`Client::send`] accepts now.
    pub fn send_capacity(&self) -> usize {
        self.config
            .limits
            .send_buffer
            .saturating_sub(self.to_send.len() + self.outgoing.len())
    }

    /// True once both directions are closed or the connection failed.
    pub fn is_finished(&self) -> bool {
        self.closed_reported || self.failed.is_some()
    }

    /// Derives `out.len()` bytes of keying material from this connection's secrets, for
    /// `label` and an optional `context`: RFC 8446 §7.5 on TLS 1.3, RFC 5705 on TLS 1.2
    /// (as `openssl s_client -keymatexport` and `SSL_export_keying_material` compute
    /// it). Both ends get the same bytes, so they bind an application protocol to this
    /// TLS connection (channel binding, e.g. `EXPORTER-Channel-Binding`, RFC 9266).
    ///
    /// Fails before the handshake completes, for an empty `out`, and for labels TLS
    /// reserves for itself (`client finished`, `master secret`, …).
    pub fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<(), Error> {
        let misuse = |why: &str| Error::Local(LocalError::Exporter(why.into()));
        if self.tls.is_handshaking() || self.info.is_none() {
            return Err(misuse("the handshake has not completed"));
        }
        let suite = self
            .tls
            .suite()
            .ok_or_else(|| misuse("no cipher suite was negotiated"))?;
        exporter::export(
            &self.state,
            suite,
            self.tls.server_random(),
            out,
            label,
            context,
        )
        .map_err(|e| {
            misuse(match e {
                ExportError::BadLength => {
                    "the output must be 1 to 65535 bytes, the label non-empty and not one TLS reserves, the context at most 65535 bytes (255 on TLS 1.3)"
                }
                ExportError::NoSecret => {
                    "the crypto provider did not hand over the exporter secret"
                }
            })
        })
    }

    /// Heap bytes held by this connection's own buffers (not counting rustls' state).
    pub fn buffered_capacity(&self) -> usize {
        self.outgoing.capacity()
            + self.to_send.capacity()
            + self.received.capacity()
            + self.tls.buffer_capacity()
    }

    // ----- the input door -----

    /// Feeds one input. On a fatal error the connection is over: the error is returned
    /// now and by every later call, and [`Client::poll_output`] still yields the alert
    /// for the peer and any data decrypted before the fault. [`LocalError::ReceiveBufferFull`] is not fatal.
    pub fn handle_input(&mut self, input: Input<'_>) -> Result<(), Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        match input {
            Input::Receive(now, bytes) => {
                if self.eof {
                    return Err(Error::Local(LocalError::InputAfterEof));
                }
                let capacity = self.receive_capacity();
                if bytes.len() > capacity {
                    return Err(Error::Local(LocalError::ReceiveBufferFull { capacity }));
                }
                self.last_receive = now;
                self.tls.push_incoming(bytes);
                self.pump()
            }
            Input::Received(now, n) => {
                if self.eof {
                    return Err(Error::Local(LocalError::InputAfterEof));
                }
                // At most what `receive_buffer` offered.
                let capacity = self.tls.lent();
                if n > capacity {
                    return Err(Error::Local(LocalError::ReceiveBufferFull { capacity }));
                }
                self.last_receive = now;
                self.tls.commit(n);
                self.pump()
            }
            Input::Eof(_) => {
                if self.eof {
                    return Ok(());
                }
                if self.decrypt_on_read {
                    // Records left for `read` (a close_notify among them) count now.
                    self.pump_with(false, &mut []).1?;
                }
                self.eof = true;
                if self.tls.peer_closed() {
                    Ok(())
                } else {
                    self.fail(Error::Peer(PeerError::Truncated {
                        during_handshake: self.tls.is_handshaking(),
                    }))
                }
            }
            Input::Tick(now) => {
                if let Some(deadline) = self.handshake_deadline {
                    if self.tls.is_handshaking() && now >= deadline {
                        return self.fail(Error::Timeout(TimeoutPhase::Handshake));
                    }
                }
                match self.idle_deadline() {
                    Some(deadline) if now >= deadline => {
                        self.fail(Error::Timeout(TimeoutPhase::Idle))
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    // ----- mutators -----

    /// Queues plaintext for the peer; before the handshake completes it waits, then
    /// it is sent in order. Returns how many bytes were accepted: fewer than offered
    /// when [`Client::send_capacity`] is reached (drain `poll_output` and retry).
    pub fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.close_requested {
            return Err(Error::Local(LocalError::SendAfterClose));
        }
        let n = data.len().min(self.send_capacity());
        self.to_send
            .extend_from_slice(data.get(..n).unwrap_or_default());
        if n > 0 && !self.tls.is_handshaking() {
            self.pump()?;
        }
        Ok(n)
    }

    /// Switches to decrypting application data when [`Client::read`] asks for it: a
    /// record then stays encrypted in the receive buffer until `read`, which decrypts it
    /// and copies its data straight into the caller's buffer, one copy of every byte
    /// fewer than taking [`Event::Data`] and copying it on (what `tlsferry`'s streams
    /// do). Unread records occupy the receive buffer, so a caller that stops reading
    /// stops [`Client::receive_capacity`] too: the transport's flow control slows the
    /// peer.
    ///
    /// Data still arrives as [`Event::Data`] when it is in the way: when [`Client::send`]
    /// or [`Client::close`] must get past it, at the transport's end of stream, and
    /// what did not fit the buffer `read` was given; such data comes before anything
    /// `read` returns later. For the connection's life; a connection that never calls
    /// `read` would not see its data.
    pub fn decrypt_on_read(&mut self) {
        self.decrypt_on_read = true;
    }

    /// Copies received plaintext into `buf` and returns how many bytes, 0 if none can
    /// be had yet. With [`Client::decrypt_on_read`] this decrypts waiting records
    /// straight into `buf`; otherwise, and first, it takes data not yet taken as
    /// [`Event::Data`]. Drain [`Client::poll_output`] afterwards: decrypting can queue
    /// bytes for the peer or reach the peer's `close_notify`.
    ///
    /// A fatal error found while decrypting is returned once the data before it has been
    /// read, like [`Client::handle_input`]'s. Data that came with the handshake's last
    /// flight can be read before `poll_output` reports [`Event::Connected`].
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let waiting = self.received.get(self.received_taken..).unwrap_or_default();
        if !waiting.is_empty() {
            let n = waiting.len().min(buf.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), waiting.get(..n)) {
                dst.copy_from_slice(src);
            }
            self.received_taken += n;
            // Drops the copied prefix once it is at least half of the queue: however small
            // the reads, each byte is moved O(1) times (draining every read was O(n²)).
            if self.received_taken * 2 >= self.received.len() {
                self.received
                    .drain(..self.received_taken.min(self.received.len()));
                self.received_taken = 0;
            }
            return Ok(n);
        }
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if !self.decrypt_on_read || buf.is_empty() {
            return Ok(0);
        }
        match self.pump_with(true, buf) {
            (n, Err(_)) if n > 0 => Ok(n),
            (n, result) => result.map(|()| n),
        }
    }

    /// Closes the sending direction: queued data is sent, then `close_notify`. Before the
    /// handshake completes this is queued like `send`. Receiving continues until the
    /// peer's `close_notify` ([`Event::PeerClosed`]), then [`Event::Closed`] follows.
    pub fn close(&mut self) -> Result<(), Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if !self.close_requested {
            self.close_requested = true;
            self.pump()?;
        }
        Ok(())
    }

    // ----- the output door -----

    /// The next output. Call until it returns [`Output::Wait`] after every input or
    /// mutation.
    pub fn poll_output(&mut self) -> Output {
        if !self.outgoing.is_empty() {
            return Output::Transmit(mem::take(&mut self.outgoing));
        }
        // Connected before any data, even when the fault came in the same input that
        // completed the handshake.
        if self.connected_pending && (self.failed.is_none() || !self.received.is_empty()) {
            self.connected_pending = false;
            if let Some(info) = &self.info {
                return Output::Event(Event::Connected(info.clone()));
            }
        }
        if self.failed.is_some() {
            if !self.received.is_empty() {
                return Output::Event(Event::Data(self.take_received()));
            }
            return Output::Wait(None);
        }
        if !self.received.is_empty() {
            return Output::Event(Event::Data(self.take_received()));
        }
        if self.tls.peer_closed() && !self.peer_closed_reported {
            self.peer_closed_reported = true;
            return Output::Event(Event::PeerClosed);
        }
        if !self.closed_reported
            && self.tls.peer_closed()
            && (self.tls.close_sent() || self.tls.closed() || self.eof)
        {
            self.closed_reported = true;
            return Output::Event(Event::Closed);
        }
        if self.closed_reported {
            return Output::Wait(None);
        }
        let handshake = self
            .handshake_deadline
            .filter(|_| self.tls.is_handshaking());
        let deadline = match (handshake, self.idle_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Output::Wait(deadline)
    }

    // ----- internals -----

    fn idle_deadline(&self) -> Option<Instant> {
        if self.tls.peer_closed() {
            return None;
        }
        self.config.idle_timeout.map(|t| self.last_receive + t)
    }

    /// The data in `received` that `read` has not copied out yet.
    fn take_received(&mut self) -> Vec<u8> {
        self.received
            .drain(..self.received_taken.min(self.received.len()));
        self.received_taken = 0;
        mem::take(&mut self.received)
    }

    /// Runs rustls over what was received and queued: data goes to `received` (with
    /// [`Client::decrypt_on_read`], records stay for `read` unless in the way).
    fn pump(&mut self) -> Result<(), Error> {
        self.pump_with(self.decrypt_on_read, &mut []).1
    }

    /// [`Client::pump`] with data written into `direct` first; `lazy` leaves records in
    /// rustls once `direct` is full. Returns the bytes written to `direct`.
    fn pump_with(&mut self, lazy: bool, direct: &mut [u8]) -> (usize, Result<(), Error>) {
        let was_handshaking = self.tls.is_handshaking();
        let mut no_key_update = false;
        let mut io = Io {
            outgoing: &mut self.outgoing,
            to_send: &mut self.to_send,
            received: &mut self.received,
            direct,
            direct_len: 0,
            lazy,
            close_requested: self.close_requested,
            key_update: &mut no_key_update,
        };
        let tls = &mut self.tls;
        let pumped = scope::with(&self.state, || tls.pump(&mut io));
        let written = io.direct_len;
        (written, self.after_pump(pumped, was_handshaking))
    }

    /// Turns a pump's failure into the connection's error, and notes the handshake's
    /// completion.
    fn after_pump(
        &mut self,
        pumped: Result<(), PumpError>,
        was_handshaking: bool,
    ) -> Result<(), Error> {
        if let Err(e) = pumped {
            let err = match e {
                PumpError::Tls(e) => from_rustls(
                    e,
                    ErrorContext {
                        server_name: &self.server_name,
                        chain: self.chain(),
                        now: self.state.now(),
                        finding: self.state.finding(),
                        handshaking: self.tls.is_handshaking(),
                        offer: &self.config.offer,
                    },
                ),
                PumpError::Internal(what) => Error::Local(LocalError::Internal(what.into())),
            };
            self.tls.flush_alert(&mut self.outgoing);
            if was_handshaking && !self.tls.is_handshaking() {
                // The handshake completed in this input, before the fault: the data
                // decrypted in between follows a Connected event.
                self.info = self.tls.info(&self.server_name, self.config.verifies);
                self.connected_pending = self.info.is_some();
            }
            return self.fail(err);
        }
        if was_handshaking && !self.tls.is_handshaking() {
            self.info = self.tls.info(&self.server_name, self.config.verifies);
            self.connected_pending = self.info.is_some();
            // Data queued before the handshake completed goes out now.
            if !self.to_send.is_empty() || self.close_requested {
                return self.pump();
            }
        }
        Ok(())
    }

    /// The chain the server presented on this connection, or for a resumed one, the chain
    /// of the session it resumed.
    fn chain(&self) -> Vec<rustls::pki_types::CertificateDer<'static>> {
        let seen = self.state.chain();
        if seen.is_empty() {
            self.tls.peer_chain()
        } else {
            seen
        }
    }

    fn fail(&mut self, err: Error) -> Result<(), Error> {
        self.to_send.clear();
        self.failed = Some(err.clone());
        Err(err)
    }
}
