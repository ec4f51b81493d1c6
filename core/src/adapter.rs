//! The one place that uses rustls' connection API (`UnbufferedClientConnection`,
//! `process_tls_records`, `ConnectionState`). Moving to rustls' successor API is a change
//! to this file only.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use rustls::client::{ClientConnectionData, UnbufferedClientConnection};
use rustls::pki_types::ServerName;
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncryptError, InsufficientSizeError, UnbufferedStatus,
    WriteTraffic,
};
use rustls::ClientConfig;

use crate::config::Version;
use crate::event::ConnectionInfo;

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
    /// Send `close_notify` once `to_send` is empty.
    pub close_requested: bool,
}

/// rustls' unbuffered client connection plus the ciphertext it has not consumed yet.
pub(crate) struct Tls {
    conn: UnbufferedClientConnection,
    incoming: Vec<u8>,
    /// Bytes at the front of `incoming` that rustls has discarded; compacted once per
    /// pump instead of after every record.
    start: usize,
    flags: Flags,
}

/// Closure progress, as rustls reported it.
#[derive(Debug, Default)]
struct Flags {
    peer_closed: bool,
    close_sent: bool,
    closed: bool,
}

impl core::fmt::Debug for Tls {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tls")
            .field("incoming", &self.incoming.len())
            .field("flags", &self.flags)
            .finish_non_exhaustive()
    }
}

impl Tls {
    pub(crate) fn new(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<Self, rustls::Error> {
        Ok(Tls {
            conn: UnbufferedClientConnection::new(config, name)?,
            incoming: Vec::new(),
            start: 0,
            flags: Flags::default(),
        })
    }

    /// Ciphertext received but not yet consumed by rustls.
    pub(crate) fn buffered_incoming(&self) -> usize {
        self.incoming.len() - self.start
    }

    /// Appends received ciphertext.
    pub(crate) fn push_incoming(&mut self, bytes: &[u8]) {
        self.compact();
        self.incoming.extend_from_slice(bytes);
    }

    /// Drops the discarded prefix; rustls only ever sees the live part.
    fn compact(&mut self) {
        if self.start > 0 {
            self.incoming.drain(..self.start.min(self.incoming.len()));
            self.start = 0;
        }
        // An idle connection holds no receive buffer.
        if self.incoming.is_empty() {
            self.incoming = Vec::new();
        }
    }

    /// The part of `incoming` rustls has not discarded.
    fn live(incoming: &mut [u8], start: usize) -> &mut [u8] {
        incoming.get_mut(start..).unwrap_or_default()
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
            cipher_suite: suite
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| alloc::format!("{suite:?}")),
            key_exchange_group: self
                .conn
                .negotiated_key_exchange_group()
                .map(|g| alloc::format!("{:?}", g.name())),
            alpn: self.conn.alpn_protocol().map(<[u8]>::to_vec),
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
    pub(crate) fn pump(&mut self, io: &mut Io<'_>) -> Result<(), rustls::Error> {
        let result = self.pump_inner(io);
        self.compact();
        if io.received.is_empty() {
            // Reserved for records that carried no data: an idle connection holds nothing.
            io.received.shrink_to_fit();
        }
        result
    }

    fn pump_inner(&mut self, io: &mut Io<'_>) -> Result<(), rustls::Error> {
        loop {
            // Plaintext is never longer than the ciphertext it came in.
            let pending = self.buffered_incoming();
            let UnbufferedStatus { mut discard, state } = self
                .conn
                .process_tls_records(Self::live(&mut self.incoming, self.start));
            let state = match state {
                Ok(state) => state,
                Err(e) => {
                    self.start += discard;
                    return Err(e);
                }
            };
            let mut stop = false;
            let mut result = Ok(());
            match state {
                ConnectionState::ReadTraffic(mut traffic) => {
                    // One allocation for all of this input's records, not a doubling series.
                    io.received.reserve(pending);
                    while let Some(record) = traffic.next_record() {
                        match record {
                            Ok(r) => {
                                discard += r.discard;
                                io.received.extend_from_slice(r.payload);
                            }
                            Err(e) => {
                                result = Err(e);
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
                    result = write_traffic(&mut w, io, &mut self.flags);
                    stop = true;
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
        let UnbufferedStatus { state, .. } = self
            .conn
            .process_tls_records(Self::live(&mut self.incoming, self.start));
        if let Ok(ConnectionState::EncodeTlsData(mut enc)) = state {
            let _ = encode(&mut enc, outgoing);
        }
    }
}

fn write_traffic(
    w: &mut WriteTraffic<'_, ClientConnectionData>,
    io: &mut Io<'_>,
    flags: &mut Flags,
) -> Result<(), rustls::Error> {
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

fn encode(
    enc: &mut rustls::unbuffered::EncodeTlsData<'_, ClientConnectionData>,
    outgoing: &mut Vec<u8>,
) -> Result<(), rustls::Error> {
    append_with(outgoing, 1024, |buf| match enc.encode(buf) {
        Ok(n) => Ok(n),
        Err(EncodeError::InsufficientSize(InsufficientSizeError { required_size })) => {
            Err(Sized::Need(required_size))
        }
        Err(EncodeError::AlreadyEncoded) => Err(Sized::Fail(rustls::Error::General(
            "handshake record encoded twice".into(),
        ))),
    })
}

enum Sized {
    Need(usize),
    Fail(rustls::Error),
}

fn encrypt_size(e: EncryptError) -> Sized {
    match e {
        EncryptError::InsufficientSize(InsufficientSizeError { required_size }) => {
            Sized::Need(required_size)
        }
        EncryptError::EncryptExhausted => Sized::Fail(rustls::Error::EncryptError),
    }
}

/// Lets `write` fill the tail of `buf`, growing it once if rustls asks for more room.
fn append_with(
    buf: &mut Vec<u8>,
    guess: usize,
    mut write: impl FnMut(&mut [u8]) -> Result<usize, Sized>,
) -> Result<(), rustls::Error> {
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
    Err(rustls::Error::General("output buffer sizing failed".into()))
}
