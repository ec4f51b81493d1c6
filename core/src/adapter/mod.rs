//! The one place that uses rustls' connection API (`UnbufferedClientConnection`,
//! `process_tls_records`, `ConnectionState`). Moving to rustls' successor API is a change
//! to this module only. [`Tls`] drives either side of a connection: the client, and
//! (for the testing kit's in-memory server) the server.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::DerefMut;

use rustls::client::{ClientConnectionData, UnbufferedClientConnection};
use rustls::pki_types::ServerName;
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncodeTlsData, EncryptError, InsufficientSizeError,
    UnbufferedConnectionCommon, UnbufferedStatus, WriteTraffic,
};
use rustls::{ClientConfig, HandshakeKind, SupportedCipherSuite};

use crate::config::Version;
use crate::event::ConnectionInfo;
use crate::exporter::ServerRandom;

/// One side of an unbuffered rustls connection.
pub(crate) trait Conn: DerefMut<Target = UnbufferedConnectionCommon<Self::Data>> {
    /// rustls' side-specific connection data.
    type Data;

    /// `process_tls_records` of this side.
    fn process<'c, 'i>(
        &'c mut self,
        incoming: &'i mut [u8],
    ) -> UnbufferedStatus<'c, 'i, Self::Data>;
}

#[cfg(feature = "testing")]
pub(crate) mod server;

impl Conn for UnbufferedClientConnection {
    type Data = ClientConnectionData;

    fn process<'c, 'i>(
        &'c mut self,
        incoming: &'i mut [u8],
    ) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(incoming)
    }
}

/// Why a pump failed.
#[derive(Debug)]
pub(crate) enum PumpError {
    /// rustls refused something (the peer's bytes, our state, the configuration).
    Tls(rustls::Error),
    /// The adapter itself failed (a rustls buffer-size request it could not meet): a
    /// local fault, never the peer's.
    Internal(&'static str),
}

impl From<rustls::Error> for PumpError {
    fn from(e: rustls::Error) -> Self {
        PumpError::Tls(e)
    }
}

/// Most plaintext encrypted per `encrypt` call; rustls splits it into 16 KiB records.
const ENCRYPT_CHUNK: usize = 64 * 1024;
/// Upper bound of per-record overhead (header, explicit nonce, tag, content type).
const RECORD_OVERHEAD: usize = 64;

/// The client's buffers that one pump reads and fills.
#[derive(Debug)]
pub(crate) struct Io<'a> {
    /// Ciphertext waiting to be transmitted.
    pub outgoing: &'a mut Vec<u8>,
    /// Plaintext queued by the application, from `send_offset` on.
    pub to_send: &'a mut Vec<u8>,
    /// Decrypted plaintext not yet handed out.
    pub received: &'a mut Vec<u8>,
    /// The caller's buffer for application data, filled from `direct_len` on before
    /// anything goes to `received` (while `received` is empty, to keep the order).
    pub direct: &'a mut [u8],
    /// Bytes written to `direct`.
    pub direct_len: usize,
    /// Leave application data in rustls (undecrypted records stay in `incoming`) once
    /// `direct` is full, unless something must be written: [`Tls::pump`] then stops at
    /// the first record it cannot deliver.
    pub lazy: bool,
    /// Send `close_notify` once `to_send` is empty.
    pub close_requested: bool,
    /// Send a KeyUpdate (TLS 1.3) before the next data; cleared once sent. Only the
    /// testing kit's server asks for one.
    pub key_update: &'a mut bool,
}

/// A read of fewer ciphertext bytes than this (less than one full record) found the
/// transport with little to give.
const SMALL_READ: usize = 16 * 1024;

/// What [`Tls::lend`] offers after small reads: one full record (5-byte header, 2¹⁴
/// bytes of data, up to 256 of expansion) fits.
const SMALL_LEND: usize = 17 * 1024;

/// An unbuffered rustls connection (client by default) plus the ciphertext it has not
/// consumed yet.
pub(crate) struct Tls<C = UnbufferedClientConnection> {
    conn: C,
    /// Ciphertext storage: bytes `start..end` are live; the rest is room that a driver
    /// may read into directly ([`Tls::spare`]). Kept while bytes flow, dropped when empty.
    incoming: Vec<u8>,
    /// Bytes at the front of `incoming` that rustls has discarded; compacted once per
    /// pump instead of after every record.
    start: usize,
    /// End of the received bytes in `incoming`.
    end: usize,
    /// Stream position of `incoming[0]` (bytes compacted away so far).
    base: usize,
    /// Bytes of `incoming` the last [`Tls::lend`] offered (0 once they are committed or
    /// the buffer is fed by copies): what the driver may commit.
    lent: usize,
    /// The driver reads into `incoming` itself ([`Tls::lend`]): keep the storage for its
    /// next read instead of freeing and zero-filling it again every time it is empty;
    /// only [`Tls::release`] frees it.
    in_place: bool,
    /// The driver's last read into lent storage brought at least [`SMALL_READ`] bytes, so
    /// more is likely coming: [`Tls::release`] keeps the storage, and new storage is
    /// not limited to [`SMALL_LEND`].
    keep: bool,
    /// The server random, read from the ServerHello for TLS 1.2 exporters.
    server_random: ServerRandom,
    flags: Flags,
}

/// Closure progress, as rustls reported it.
#[derive(Debug, Default)]
struct Flags {
    peer_closed: bool,
    close_sent: bool,
    closed: bool,
}

impl<C> core::fmt::Debug for Tls<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tls")
            .field("incoming", &self.incoming.len())
            .field("flags", &self.flags)
            .finish_non_exhaustive()
    }
}

impl Tls<UnbufferedClientConnection> {
    pub(crate) fn new(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<Self, rustls::Error> {
        Ok(Tls::over(UnbufferedClientConnection::new(config, name)?))
    }

    /// The server random of the ServerHello, once seen.
    pub(crate) fn server_random(&self) -> Option<&[u8; 32]> {
        self.server_random.get()
    }
}

impl<C: Conn> Tls<C> {
    /// Drives `conn`.
    pub(crate) fn over(conn: C) -> Self {
        Tls {
            conn,
            incoming: Vec::new(),
            start: 0,
            end: 0,
            base: 0,
            lent: 0,
            in_place: false,
            keep: false,
            server_random: ServerRandom::default(),
            flags: Flags::default(),
        }
    }

    /// True if this connection resumed an earlier session.
    pub(crate) fn is_resumed(&self) -> bool {
        self.conn.handshake_kind() == Some(HandshakeKind::Resumed)
    }

    /// The peer's certificate chain as rustls holds it (for a resumed session: the chain
    /// of the original handshake).
    pub(crate) fn peer_chain(&self) -> Vec<rustls::pki_types::CertificateDer<'static>> {
        self.conn
            .peer_certificates()
            .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
            .unwrap_or_default()
    }

    /// The negotiated cipher suite, once known.
    pub(crate) fn suite(&self) -> Option<SupportedCipherSuite> {
        self.conn.negotiated_cipher_suite()
    }

    /// Ciphertext received but not yet consumed by rustls.
    pub(crate) fn buffered_incoming(&self) -> usize {
        self.end - self.start
    }

    /// Appends received ciphertext.
    pub(crate) fn push_incoming(&mut self, bytes: &[u8]) {
        (self.lent, self.in_place, self.keep) = (0, false, false);
        if let Some(room) = self.spare(bytes.len()).get_mut(..bytes.len()) {
            room.copy_from_slice(bytes);
        }
        self.append(bytes.len());
    }

    /// Storage right after the received bytes, `room` bytes or fewer: a copy, or a
    /// driver's read, goes there, then [`Tls::append`] / [`Tls::commit`] count it in.
    fn spare(&mut self, room: usize) -> &mut [u8] {
        self.compact();
        let want = self.end.saturating_add(room);
        if self.incoming.len() < want {
            self.incoming.resize(want, 0);
        }
        self.incoming.get_mut(self.end..want).unwrap_or_default()
    }

    /// Storage for a driver to read ciphertext into without a copy: `room` bytes, except
    /// that after small reads ([`Tls::keep`]) storage that must be allocated (and
    /// zero-filled) first is limited to [`SMALL_LEND`]: a connection that receives little
    /// holds little. [`Tls::commit`] then says how many bytes the driver wrote.
    pub(crate) fn lend(&mut self, room: usize) -> &mut [u8] {
        self.in_place = true;
        self.compact();
        let there = self.incoming.len().saturating_sub(self.end);
        let room = if self.keep || room <= there {
            room
        } else {
            room.min(SMALL_LEND.max(there))
        };
        self.lent = room;
        self.spare(room)
    }

    /// Takes back the lent storage (a read brought nothing) and frees it if no received
    /// bytes are left in it and the last read was small ([`Tls::keep`]).
    pub(crate) fn release(&mut self) {
        self.lent = 0;
        self.compact();
        if self.end == 0 && !self.keep {
            self.incoming = Vec::new();
        }
    }

    /// How many bytes the last [`Tls::lend`] offered, until they are committed.
    pub(crate) fn lent(&self) -> usize {
        self.lent
    }

    /// The driver wrote `n` bytes (at most [`Tls::lent`]) at the start of the lent storage.
    pub(crate) fn commit(&mut self, n: usize) {
        let n = n.min(self.lent);
        self.keep = n >= SMALL_READ;
        self.lent = 0;
        self.append(n);
    }

    /// `n` bytes were written at the start of the storage [`Tls::spare`] gave.
    fn append(&mut self, n: usize) {
        self.end = self.end.saturating_add(n).min(self.incoming.len());
        let received = self.incoming.get(..self.end).unwrap_or_default();
        self.server_random.scan(received, self.base);
    }

    /// Drops the discarded prefix; rustls only ever sees the live part.
    fn compact(&mut self) {
        if self.start > 0 {
            let n = self.start.min(self.end);
            self.incoming.copy_within(n..self.end, 0);
            self.end -= n;
            self.base += n;
            self.start = 0;
        }
    }

    /// The part of `incoming` rustls has not discarded.
    fn live(incoming: &mut [u8], start: usize, end: usize) -> &mut [u8] {
        incoming.get_mut(start..end).unwrap_or_default()
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    pub(crate) fn peer_closed(&self) -> bool {
        self.flags.peer_closed
    }

    pub(crate) fn close_sent(&self) -> bool {
        self.flags.close_sent
    }

    pub(crate) fn closed(&self) -> bool {
        self.flags.closed
    }

    /// Heap bytes held by the buffers this adapter owns.
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.incoming.capacity()
    }

    /// What was negotiated, once the handshake is complete.
    pub(crate) fn info(&self, server_name: &str, verified: bool) -> Option<ConnectionInfo> {
        let version = match self.conn.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_2 => Version::Tls12,
            rustls::ProtocolVersion::TLSv1_3 => Version::Tls13,
            _ => return None,
        };
        let suite = self.conn.negotiated_cipher_suite()?.suite();
        Some(ConnectionInfo {
            version,
            cipher_suite: crate::config::iana_suite_name(suite),
            key_exchange_group: self
                .conn
                .negotiated_key_exchange_group()
                .map(|g| alloc::format!("{:?}", g.name())),
            alpn: self.conn.alpn_protocol().map(<[u8]>::to_vec),
            resumed: self.is_resumed(),
            server_name: server_name.into(),
            peer_certificates: self
                .conn
                .peer_certificates()
                .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
                .unwrap_or_default(),
            verified,
        })
    }

    /// Runs rustls until it needs more input: consumes whole records from `incoming`,
    /// appends plaintext to `io.received` and ciphertext to `io.outgoing`, encrypts
    /// queued plaintext once the handshake allows it.
    pub(crate) fn pump(&mut self, io: &mut Io<'_>) -> Result<(), PumpError> {
        // Room lent before this is gone: compacting moves what it was next to, so a
        // later `commit` of it is refused (typed) instead of appending shifted bytes.
        self.lent = 0;
        let result = self.pump_inner(io);
        self.compact();
        // Fed by copies, an idle connection holds no receive buffer. A driver that reads
        // into it keeps it: freeing it here would make every read that ends on a record
        // boundary allocate and zero-fill it again (BENCHMARKS.md measures the cost); it
        // frees it with `release` when its transport has nothing to read.
        if self.end == 0 && !self.in_place {
            self.incoming = Vec::new();
        }
        if io.received.is_empty() {
            // Reserved for records that carried no data: an idle connection holds nothing.
            io.received.shrink_to_fit();
        }
        result
    }

    fn pump_inner(&mut self, io: &mut Io<'_>) -> Result<(), PumpError> {
        loop {
            // Plaintext is never longer than the ciphertext it came in.
            let pending = self.buffered_incoming();
            let UnbufferedStatus { mut discard, state } =
                self.conn
                    .process(Self::live(&mut self.incoming, self.start, self.end));
            let state = match state {
                Ok(state) => state,
                Err(e) => {
                    self.start += discard;
                    return Err(e.into());
                }
            };
            let mut stop = false;
            let mut result = Ok(());
            match state {
                ConnectionState::ReadTraffic(mut traffic) => {
                    // rustls yields data before it encodes anything else: data in the way
                    // of a write is taken now.
                    let writes = !io.to_send.is_empty()
                        || (io.close_requested && !self.flags.close_sent)
                        || *io.key_update;
                    let take_all = !io.lazy || writes;
                    if take_all && io.direct.is_empty() {
                        // One allocation for all of this input's records, not a doubling
                        // series.
                        io.received.reserve(pending);
                    }
                    loop {
                        if !take_all && io.direct_len >= io.direct.len() {
                            // The caller's buffer is full: the next record waits in rustls.
                            stop = true;
                            break;
                        }
                        let Some(record) = traffic.next_record() else {
                            break;
                        };
                        match record {
                            Ok(r) => {
                                discard += r.discard;
                                deliver(io, r.payload);
                            }
                            Err(e) => {
                                result = Err(e.into());
                                break;
                            }
                        }
                    }
                }
                ConnectionState::PeerClosed => self.flags.peer_closed = true,
                ConnectionState::Closed => {
                    self.flags.peer_closed = true;
                    self.flags.closed = true;
                    stop = true;
                }
                ConnectionState::EncodeTlsData(mut enc) => {
                    result = encode(&mut enc, io.outgoing);
                }
                ConnectionState::TransmitTlsData(mut tx) => {
                    // The bytes already sit in `io.outgoing`: "transmitting" is leaving them
                    // for the caller to drain.
                    if let Some(mut w) = tx.may_encrypt_app_data() {
                        result = write_traffic(&mut w, io, &mut self.flags);
                    }
                    tx.done();
                }
                ConnectionState::BlockedHandshake => stop = true,
                ConnectionState::WriteTraffic(mut w) => {
                    if *io.key_update {
                        // rustls queues the KeyUpdate; the next state encodes it.
                        *io.key_update = false;
                        result = w.refresh_traffic_keys().map_err(PumpError::from);
                    } else {
                        result = write_traffic(&mut w, io, &mut self.flags);
                        stop = true;
                    }
                }
                // Early data is server-side only; future states: wait for more input.
                _ => stop = true,
            }
            self.start += discard;
            result?;
            if stop {
                return Ok(());
            }
        }
    }

    /// After a fatal error rustls queues an alert; encode it so it reaches the peer.
    /// rustls must see the same (discarded) buffer as before: its handshake reassembly
    /// keeps offsets into it.
    pub(crate) fn flush_alert(&mut self, outgoing: &mut Vec<u8>) {
        // Exactly one call: the alert is the only queued record, and a second call would
        // deframe the offending bytes again.
        let UnbufferedStatus { state, .. } =
            self.conn
                .process(Self::live(&mut self.incoming, self.start, self.end));
        if let Ok(ConnectionState::EncodeTlsData(mut enc)) = state {
            let _ = encode(&mut enc, outgoing);
        }
    }
}

/// Hands one record's data to the caller: into `io.direct` as far as it fits (when
/// nothing is queued before it), the rest into `io.received`.
fn deliver(io: &mut Io<'_>, payload: &[u8]) {
    let mut rest = payload;
    if io.received.is_empty() {
        if let Some(room) = io.direct.get_mut(io.direct_len..) {
            let n = room.len().min(rest.len());
            if let (Some(dst), Some(src)) = (room.get_mut(..n), rest.get(..n)) {
                dst.copy_from_slice(src);
            }
            io.direct_len += n;
            rest = rest.get(n..).unwrap_or_default();
        }
    }
    io.received.extend_from_slice(rest);
}

fn write_traffic<Data>(
    w: &mut WriteTraffic<'_, Data>,
    io: &mut Io<'_>,
    flags: &mut Flags,
) -> Result<(), PumpError> {
    while !io.to_send.is_empty() {
        let n = io.to_send.len().min(ENCRYPT_CHUNK);
        let chunk = io.to_send.get(..n).unwrap_or_default();
        append_with(io.outgoing, n + RECORD_OVERHEAD * (n / 16384 + 1), |buf| {
            w.encrypt(chunk, buf).map_err(encrypt_size)
        })?;
        io.to_send.drain(..n);
    }
    if io.to_send.capacity() > 0 && io.to_send.is_empty() {
        // An idle connection holds no send buffer.
        *io.to_send = Vec::new();
    }
    if io.close_requested && !flags.close_sent {
        append_with(io.outgoing, RECORD_OVERHEAD, |buf| {
            w.queue_close_notify(buf).map_err(encrypt_size)
        })?;
        flags.close_sent = true;
        if flags.peer_closed {
            flags.closed = true;
        }
    }
    Ok(())
}

fn encode<Data>(
    enc: &mut EncodeTlsData<'_, Data>,
    outgoing: &mut Vec<u8>,
) -> Result<(), PumpError> {
    append_with(outgoing, 1024, |buf| match enc.encode(buf) {
        Ok(n) => Ok(n),
        Err(EncodeError::InsufficientSize(InsufficientSizeError { required_size })) => {
            Err(Sized::Need(required_size))
        }
        Err(EncodeError::AlreadyEncoded) => Err(Sized::Fail(PumpError::Internal(
            "a handshake record was encoded twice",
        ))),
    })
}

enum Sized {
    Need(usize),
    Fail(PumpError),
}

fn encrypt_size(e: EncryptError) -> Sized {
    match e {
        EncryptError::InsufficientSize(InsufficientSizeError { required_size }) => {
            Sized::Need(required_size)
        }
        // Too many records under one key (the AEAD's limit): rustls' own error.
        EncryptError::EncryptExhausted => Sized::Fail(PumpError::Tls(rustls::Error::EncryptError)),
    }
}

/// Lets `write` fill the tail of `buf`, growing it once if rustls asks for more room.
fn append_with(
    buf: &mut Vec<u8>,
    guess: usize,
    mut write: impl FnMut(&mut [u8]) -> Result<usize, Sized>,
) -> Result<(), PumpError> {
    let start = buf.len();
    let mut room = guess;
    for _ in 0..2 {
        buf.resize(start + room, 0);
        let tail = buf.get_mut(start..).unwrap_or_default();
        match write(tail) {
            Ok(n) => {
                buf.truncate(start + n);
                return Ok(());
            }
            Err(Sized::Need(required)) => room = required,
            Err(Sized::Fail(e)) => {
                buf.truncate(start);
                return Err(e);
            }
        }
    }
    buf.truncate(start);
    Err(PumpError::Internal(
        "rustls asked for more output room twice (output buffer sizing failed)",
    ))
}
