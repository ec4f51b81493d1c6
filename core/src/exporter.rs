//! Keying-material exporters (RFC 8446 §7.5 for TLS 1.3, RFC 5705 for TLS 1.2), for
//! channel binding. rustls' unbuffered API has no exporter, so the secrets come from
//! the key log: [`KeyLogTap`] hands each connection its `EXPORTER_SECRET` (TLS 1.3) or
//! master secret (TLS 1.2) while forwarding every line to the user's key log, and the
//! exporter is computed here with the negotiated suite's own HKDF or PRF.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use rustls::crypto::tls13::OkmBlock;
use rustls::{KeyLog, SupportedCipherSuite};

use crate::scope::{self, ConnState, Secret};

/// The key log of every connection of a [`Config`](crate::Config): keeps the exporter
/// secrets for the connection being pumped, and passes every line to the user's key log.
pub(crate) struct KeyLogTap {
    pub user: Option<Arc<dyn KeyLog>>,
}

impl fmt::Debug for KeyLogTap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLogTap")
            .field("user", &self.user.is_some())
            .finish()
    }
}

const EXPORTER_SECRET: &str = "EXPORTER_SECRET";
const CLIENT_RANDOM: &str = "CLIENT_RANDOM";

impl KeyLog for KeyLogTap {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        if matches!(label, EXPORTER_SECRET | CLIENT_RANDOM) {
            if let Some(state) = scope::current() {
                let kept = Box::new(Secret(zeroize::Zeroizing::new(secret.to_vec())));
                let _ = match label {
                    EXPORTER_SECRET => state.exporter_secret.set(kept),
                    _ => state.master_secret.set(kept),
                };
                if let Ok(random) = <[u8; 32]>::try_from(client_random) {
                    let _ = state.client_random.set(Box::new(random));
                }
            }
        }
        if let Some(user) = &self.user {
            if user.will_log(label) {
                user.log(label, client_random, secret);
            }
        }
    }

    fn will_log(&self, label: &str) -> bool {
        matches!(label, EXPORTER_SECRET | CLIENT_RANDOM)
            || self.user.as_ref().is_some_and(|u| u.will_log(label))
    }
}

/// Why keying material cannot be exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExportError {
    /// The output length is 0 or larger than the exporter can produce.
    BadLength,
    /// The secret was not seen (a crypto provider whose suites log no secrets).
    NoSecret,
}

/// Labels RFC 5705 reserves for TLS itself; exporting them would reveal the key schedule.
const RESERVED: &[&[u8]] = &[
    b"client finished",
    b"server finished",
    b"master secret",
    b"key expansion",
    b"extended master secret",
];

/// Fills `out` with keying material for `label` and `context` on a completed connection.
pub(crate) fn export(
    state: &ConnState,
    suite: SupportedCipherSuite,
    server_random: Option<&[u8; 32]>,
    out: &mut [u8],
    label: &[u8],
    context: Option<&[u8]>,
) -> Result<(), ExportError> {
    if out.is_empty() || RESERVED.contains(&label) {
        return Err(ExportError::BadLength);
    }
    match suite {
        SupportedCipherSuite::Tls13(suite) => {
            let secret = state.exporter_secret.get().ok_or(ExportError::NoSecret)?;
            if secret.0.len() > OkmBlock::MAX_LEN {
                return Err(ExportError::NoSecret);
            }
            let hash = suite.common.hash_provider;
            let empty_hash = hash.hash(&[]);
            // Derive-Secret(exporter_master_secret, label, "")
            let hkdf = suite.hkdf_provider;
            let master = hkdf.expander_for_okm(&OkmBlock::new(&secret.0));
            let mut derived = zeroize::Zeroizing::new(alloc::vec![0u8; hash.output_len()]);
            expand_label(&*master, label, empty_hash.as_ref(), &mut derived)?;
            // HKDF-Expand-Label(derived, "exporter", Hash(context), length)
            let context_hash = hash.hash(context.unwrap_or_default());
            let exporter = hkdf.expander_for_okm(&OkmBlock::new(&derived));
            expand_label(&*exporter, b"exporter", context_hash.as_ref(), out)
        }
        SupportedCipherSuite::Tls12(suite) => {
            let secret = state.master_secret.get().ok_or(ExportError::NoSecret)?;
            let client_random = state.client_random.get().ok_or(ExportError::NoSecret)?;
            let server_random = server_random.ok_or(ExportError::NoSecret)?;
            let mut seed = Vec::with_capacity(64 + 2 + context.map_or(0, <[u8]>::len));
            seed.extend_from_slice(client_random);
            seed.extend_from_slice(server_random);
            if let Some(context) = context {
                let len = u16::try_from(context.len()).map_err(|_| ExportError::BadLength)?;
                seed.extend_from_slice(&len.to_be_bytes());
                seed.extend_from_slice(context);
            }
            if label.is_empty() {
                return Err(ExportError::BadLength);
            }
            suite.prf_provider.for_secret(out, &secret.0, label, &seed);
            Ok(())
        }
    }
}

/// TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1).
fn expand_label(
    expander: &dyn rustls::crypto::tls13::HkdfExpander,
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), ExportError> {
    let length = u16::try_from(out.len()).map_err(|_| ExportError::BadLength)?;
    let label_len =
        u8::try_from(b"tls13 ".len() + label.len()).map_err(|_| ExportError::BadLength)?;
    let context_len = u8::try_from(context.len()).map_err(|_| ExportError::BadLength)?;
    let info: [&[u8]; 6] = [
        &length.to_be_bytes(),
        &[label_len],
        b"tls13 ",
        label,
        &[context_len],
        context,
    ];
    expander
        .expand_slice(&info, out)
        .map_err(|_| ExportError::BadLength)
}

/// Finds the server random in the first bytes the server sent: the ServerHello is the
/// first handshake message and is never encrypted. Keeps the bytes of plaintext
/// handshake records until the 38 bytes (version + random) after the message header
/// have arrived, however the server fragmented them.
#[derive(Debug, Default)]
pub(crate) struct ServerRandom {
    /// Handshake-record payload bytes seen so far (at most 42).
    head: Vec<u8>,
    /// Bytes of the incoming stream already scanned.
    scanned: usize,
    done: bool,
    random: Option<[u8; 32]>,
}

impl ServerRandom {
    /// The random, once seen.
    pub(crate) fn get(&self) -> Option<&[u8; 32]> {
        self.random.as_ref()
    }

    /// Looks at the stream of records from its start: `stream` is everything received
    /// so far that is still buffered from `offset` (the stream position of its first byte).
    pub(crate) fn scan(&mut self, stream: &[u8], offset: usize) {
        // ServerHello: type 2, 3-byte length, 2-byte version, 32-byte random.
        const NEED: usize = 4 + 2 + 32;
        while !self.done {
            let Some(rel) = self.scanned.checked_sub(offset) else {
                // The start of a record was discarded before we saw it: give up.
                self.done = true;
                return;
            };
            let Some(header) = stream.get(rel..rel + 5) else {
                return;
            };
            let (kind, len) = match header {
                [kind, _, _, hi, lo] => (*kind, usize::from(*hi) << 8 | usize::from(*lo)),
                _ => return,
            };
            let Some(payload) = stream.get(rel + 5..rel + 5 + len) else {
                return;
            };
            if kind != 22 {
                // Not a plaintext handshake record (an alert, CCS, or encrypted data).
                self.done = true;
                return;
            }
            let want = NEED.saturating_sub(self.head.len());
            self.head
                .extend_from_slice(payload.get(..want.min(payload.len())).unwrap_or_default());
            self.scanned += 5 + len;
            if self.head.len() >= NEED {
                self.done = true;
                if self.head.first() == Some(&2) {
                    self.random = self
                        .head
                        .get(6..NEED)
                        .and_then(|r| <[u8; 32]>::try_from(r).ok());
                }
                self.head = Vec::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut r = alloc::vec![kind, 3, 3];
        r.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        r.extend_from_slice(payload);
        r
    }

    fn server_hello() -> Vec<u8> {
        let mut m = alloc::vec![2, 0, 0, 70, 3, 3];
        m.extend((0u8..32).map(|i| i + 100));
        m.extend_from_slice(&[0; 36]);
        m
    }

    #[test]
    fn server_random_is_found_however_fragmented() {
        let want: [u8; 32] = core::array::from_fn(|i| i as u8 + 100);
        let hello = server_hello();
        for split in [1, 5, 7, 37, 38, 39, hello.len()] {
            let mut stream = Vec::new();
            for chunk in hello.chunks(split) {
                stream.extend(record(22, chunk));
            }
            // Fed byte by byte, with nothing discarded.
            let mut sr = ServerRandom::default();
            for end in 0..=stream.len() {
                sr.scan(&stream[..end], 0);
            }
            assert_eq!(sr.get(), Some(&want), "records of {split} bytes");
        }
    }

    #[test]
    fn no_random_from_anything_else() {
        let mut sr = ServerRandom::default();
        sr.scan(&record(21, &[2, 40]), 0);
        assert_eq!(sr.get(), None);
        let mut sr = ServerRandom::default();
        let mut not_hello = server_hello();
        not_hello[0] = 11;
        sr.scan(&record(22, &not_hello), 0);
        assert_eq!(sr.get(), None);
        // A record whose start was already discarded is never misread.
        let mut sr = ServerRandom::default();
        sr.scan(&record(22, &server_hello()), 3);
        assert_eq!(sr.get(), None);
    }
}
