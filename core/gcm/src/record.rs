//! Record protection (rustls AEAD algorithms): TLS 1.3 records for any of the crate's
//! AEADs (AES-GCM and ChaCha20-Poly1305 seal them alike, RFC 8446 §5.2), TLS 1.2 AES-GCM
//! records (RFC 5288), and the sealing and opening the TLS 1.2 ChaCha20-Poly1305 records
//! of [`crate::chacha`] share.
//!
//! The same constructions rustls-rustcrypto ships, on `aes-gcm` 0.11 and
//! `chacha20poly1305` 0.11. Records are opened in place; the TLS 1.2 explicit nonce is
//! skipped by range, not moved.

use alloc::boxed::Box;
use core::marker::PhantomData;

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{AeadCore, AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Tag};
use chacha20poly1305::ChaCha20Poly1305;
use rustls::crypto::cipher::{
    make_tls12_aad, make_tls13_aad, AeadKey, InboundOpaqueMessage, InboundPlainMessage, Iv,
    KeyBlockShape, MessageDecrypter, MessageEncrypter, Nonce, OutboundOpaqueMessage,
    OutboundPlainMessage, PrefixedPayload, Tls12AeadAlgorithm, Tls13AeadAlgorithm,
    UnsupportedOperationError, NONCE_LEN,
};
use rustls::{ConnectionTrafficSecrets, ContentType, Error, ProtocolVersion};

pub(crate) const TAG_LEN: usize = 16;
/// TLS 1.2 GCM: 4 bytes of the nonce come from the key block, 8 travel in each record.
const TLS12_FIXED_IV_LEN: usize = 4;
const TLS12_EXPLICIT_NONCE_LEN: usize = 8;
/// The largest plaintext a record may carry (RFC 8446 §5.1, RFC 5246 §6.2.1).
pub(crate) const MAX_FRAGMENT_LEN: usize = 16_384;

/// An AEAD of this crate (96-bit nonce, 128-bit tag), and how rustls exports its keys.
pub(crate) trait Cipher:
    AeadInOut + AeadCore<NonceSize = U12, TagSize = U16> + KeyInit + Send + Sync + 'static
{
    /// The traffic secrets of one direction, named by cipher.
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets;
}

impl Cipher for Aes128Gcm {
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv }
    }
}

impl Cipher for Aes256Gcm {
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Aes256Gcm { key, iv }
    }
}

// The wasm SIMD AES-GCM (`crate::simd`); compiled for the native tests too, which run the
// same records through it.
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
impl Cipher for crate::simd::gcm::Aes128Gcm {
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv }
    }
}

#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
impl Cipher for crate::simd::gcm::Aes256Gcm {
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Aes256Gcm { key, iv }
    }
}

#[cfg(target_arch = "x86_64")]
impl Cipher for crate::x86_64::gcm::Aes128Gcm {
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv }
    }
}

#[cfg(target_arch = "x86_64")]
impl Cipher for crate::x86_64::gcm::Aes256Gcm {
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Aes256Gcm { key, iv }
    }
}

impl Cipher for ChaCha20Poly1305 {
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv }
    }
}

/// The TLS 1.3 AEAD algorithm for `A` (`Tls13AeadAlgorithm`).
pub(crate) struct Tls13<A>(PhantomData<fn() -> A>);

/// The TLS 1.2 AES-GCM AEAD algorithm for `A` (`Tls12AeadAlgorithm`); TLS 1.2
/// ChaCha20-Poly1305 records are built differently ([`crate::chacha`]).
pub(crate) struct Tls12<A>(PhantomData<fn() -> A>);

impl<A> Tls13<A> {
    pub(crate) const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<A> Tls12<A> {
    pub(crate) const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<A: Cipher> Tls13AeadAlgorithm for Tls13<A> {
    fn encrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageEncrypter> {
        match A::new_from_slice(key.as_ref()) {
            Ok(aead) => Box::new(Tls13Record { aead, iv }),
            Err(_) => Box::new(Unkeyed),
        }
    }

    fn decrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageDecrypter> {
        match A::new_from_slice(key.as_ref()) {
            Ok(aead) => Box::new(Tls13Record { aead, iv }),
            Err(_) => Box::new(Unkeyed),
        }
    }

    fn key_len(&self) -> usize {
        A::key_size()
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: Iv,
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Ok(A::secrets(key, iv))
    }
}

impl<A: Cipher> Tls12AeadAlgorithm for Tls12<A> {
    fn encrypter(&self, key: AeadKey, iv: &[u8], extra: &[u8]) -> Box<dyn MessageEncrypter> {
        match (A::new_from_slice(key.as_ref()), tls12_iv(iv, extra)) {
            (Ok(aead), Some(iv)) => Box::new(Tls12Sealer { aead, iv }),
            _ => Box::new(Unkeyed),
        }
    }

    fn decrypter(&self, key: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        match (A::new_from_slice(key.as_ref()), iv.try_into()) {
            (Ok(aead), Ok(salt)) => Box::new(Tls12Opener { aead, salt }),
            _ => Box::new(Unkeyed),
        }
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        KeyBlockShape {
            enc_key_len: A::key_size(),
            fixed_iv_len: TLS12_FIXED_IV_LEN,
            explicit_nonce_len: TLS12_EXPLICIT_NONCE_LEN,
        }
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: &[u8],
        explicit: &[u8],
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        let iv = tls12_iv(iv, explicit).ok_or(UnsupportedOperationError)?;
        Ok(A::secrets(key, iv))
    }
}

/// The TLS 1.2 GCM nonce base: the key block's 4 fixed bytes, then 8 more (RFC 5288 §3).
fn tls12_iv(fixed: &[u8], explicit: &[u8]) -> Option<Iv> {
    if fixed.len() != TLS12_FIXED_IV_LEN || explicit.len() != TLS12_EXPLICIT_NONCE_LEN {
        return None;
    }
    let mut iv = [0u8; NONCE_LEN];
    let (head, tail) = iv.split_at_mut(TLS12_FIXED_IV_LEN);
    head.copy_from_slice(fixed);
    tail.copy_from_slice(explicit);
    Some(Iv::new(iv))
}

pub(crate) fn nonce_for(iv: &Iv, seq: u64) -> aes_gcm::Nonce<U12> {
    aes_gcm::Nonce::<U12>::from(Nonce::new(iv, seq).0)
}

/// Splits `body || tag` and opens `body` in place; returns the plaintext length.
pub(crate) fn open_detached<A: Cipher>(
    aead: &A,
    nonce: &aes_gcm::Nonce<U12>,
    aad: &[u8],
    sealed: &mut [u8],
) -> Result<usize, Error> {
    let plain_len = sealed
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(Error::DecryptError)?;
    let (body, tag) = sealed.split_at_mut(plain_len);
    let tag = Tag::<U16>::try_from(&*tag).map_err(|_| Error::DecryptError)?;
    aead.decrypt_inout_detached(nonce, aad, body.into(), &tag)
        .map_err(|_| Error::DecryptError)?;
    Ok(plain_len)
}

/// Seals `payload[from..]` in place and appends the tag.
pub(crate) fn seal_detached<A: Cipher>(
    aead: &A,
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    payload: &mut PrefixedPayload,
    from: usize,
) -> Result<(), Error> {
    let body = payload
        .as_mut()
        .get_mut(from..)
        .ok_or(Error::EncryptError)?;
    let tag = aead
        .encrypt_inout_detached(&nonce.into(), aad, body.into())
        .map_err(|_| Error::EncryptError)?;
    payload.extend_from_slice(&tag);
    Ok(())
}

/// One direction of a TLS 1.3 connection: the key and the per-connection IV.
struct Tls13Record<A> {
    aead: A,
    iv: Iv,
}

impl<A: Cipher> MessageEncrypter for Tls13Record<A> {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total_len = self.encrypted_payload_len(msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total_len);
        payload.extend_from_chunks(&msg.payload);
        payload.extend_from_slice(&msg.typ.to_array());
        let nonce = Nonce::new(&self.iv, seq).0;
        seal_detached(
            &self.aead,
            nonce,
            &make_tls13_aad(total_len),
            &mut payload,
            0,
        )?;
        Ok(OutboundOpaqueMessage::new(
            ContentType::ApplicationData,
            // TLS 1.3 records claim 1.2 on the wire (RFC 8446 §5.1).
            ProtocolVersion::TLSv1_2,
            payload,
        ))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + 1 + TAG_LEN
    }
}

impl<A: Cipher> MessageDecrypter for Tls13Record<A> {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let aad = make_tls13_aad(msg.payload.len());
        let nonce = nonce_for(&self.iv, seq);
        let plain_len = open_detached(&self.aead, &nonce, &aad, &mut msg.payload)?;
        msg.payload.truncate(plain_len);
        msg.into_tls13_unpadded_message()
    }
}

/// The sending direction of a TLS 1.2 GCM connection.
struct Tls12Sealer<A> {
    aead: A,
    iv: Iv,
}

impl<A: Cipher> MessageEncrypter for Tls12Sealer<A> {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total_len = self.encrypted_payload_len(msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total_len);
        let nonce = Nonce::new(&self.iv, seq).0;
        // The explicit part of the nonce travels first: the IV's tail XOR the sequence.
        payload.extend_from_slice(nonce.split_at(TLS12_FIXED_IV_LEN).1);
        payload.extend_from_chunks(&msg.payload);
        let aad = make_tls12_aad(seq, msg.typ, msg.version, msg.payload.len());
        seal_detached(
            &self.aead,
            nonce,
            &aad,
            &mut payload,
            TLS12_EXPLICIT_NONCE_LEN,
        )?;
        Ok(OutboundOpaqueMessage::new(msg.typ, msg.version, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + TLS12_EXPLICIT_NONCE_LEN + TAG_LEN
    }
}

/// The receiving direction of a TLS 1.2 GCM connection: the 4 fixed nonce bytes.
struct Tls12Opener<A> {
    aead: A,
    salt: [u8; TLS12_FIXED_IV_LEN],
}

impl<A: Cipher> MessageDecrypter for Tls12Opener<A> {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let Some((explicit, sealed)) = msg.payload.split_at_mut_checked(TLS12_EXPLICIT_NONCE_LEN)
        else {
            return Err(Error::DecryptError);
        };
        let mut nonce = [0u8; NONCE_LEN];
        let (head, tail) = nonce.split_at_mut(TLS12_FIXED_IV_LEN);
        head.copy_from_slice(&self.salt);
        tail.copy_from_slice(explicit);
        let plain_len_claimed = sealed.len().saturating_sub(TAG_LEN);
        let aad = make_tls12_aad(seq, msg.typ, msg.version, plain_len_claimed);
        let plain_len = open_detached(&self.aead, &nonce.into(), &aad, sealed)?;
        if plain_len > MAX_FRAGMENT_LEN {
            return Err(Error::PeerSentOversizedRecord);
        }
        // The plaintext stays where it was decrypted, after the explicit nonce.
        let start = TLS12_EXPLICIT_NONCE_LEN;
        Ok(msg.into_plain_message_range(start..start + plain_len))
    }
}

/// Stands in when rustls hands over key material of the wrong size (it never does):
/// every record fails instead of the process panicking.
pub(crate) struct Unkeyed;

impl MessageEncrypter for Unkeyed {
    fn encrypt(
        &mut self,
        _: OutboundPlainMessage<'_>,
        _: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        Err(Error::EncryptError)
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len
    }
}

impl MessageDecrypter for Unkeyed {
    fn decrypt<'a>(
        &mut self,
        _: InboundOpaqueMessage<'a>,
        _: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        Err(Error::DecryptError)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use rustls::crypto::cipher::OutboundChunks;
    use rustls::SupportedCipherSuite;

    pub(crate) const KEY: [u8; 32] = [0x42; 32];
    pub(crate) const IV: [u8; 12] = [0x24; 12];

    /// rustls-rustcrypto's own AES-256-GCM, the reference these records must match.
    fn reference13() -> &'static dyn Tls13AeadAlgorithm {
        match rustls_rustcrypto::TLS13_AES_256_GCM_SHA384 {
            SupportedCipherSuite::Tls13(s) => s.aead_alg,
            SupportedCipherSuite::Tls12(_) => unreachable!(), // ok: test code
        }
    }

    fn reference12() -> &'static dyn Tls12AeadAlgorithm {
        match rustls_rustcrypto::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 {
            SupportedCipherSuite::Tls12(s) => s.aead_alg,
            SupportedCipherSuite::Tls13(_) => unreachable!(), // ok: test code
        }
    }

    pub(crate) fn seal(
        enc: &mut dyn MessageEncrypter,
        typ: ContentType,
        data: &[u8],
        seq: u64,
    ) -> Vec<u8> {
        let msg = OutboundPlainMessage {
            typ,
            version: ProtocolVersion::TLSv1_2,
            payload: OutboundChunks::Single(data),
        };
        let expect = enc.encrypted_payload_len(data.len());
        let mut record = enc.encrypt(msg, seq).unwrap().encode(); // ok: test code
        let payload = record.split_off(5);
        assert_eq!(payload.len(), expect);
        payload
    }

    pub(crate) fn open(
        dec: &mut dyn MessageDecrypter,
        typ: ContentType,
        sealed: &[u8],
        seq: u64,
    ) -> Result<(ContentType, Vec<u8>), Error> {
        let mut buf = sealed.to_vec();
        let version = ProtocolVersion::TLSv1_2;
        let msg = InboundOpaqueMessage::new(typ, version, &mut buf);
        dec.decrypt(msg, seq).map(|m| (m.typ, m.payload.to_vec()))
    }

    pub(crate) const SIZES: [usize; 6] = [0, 1, 15, 16, 1000, MAX_FRAGMENT_LEN];

    #[test]
    fn tls13_records_match_rustls_rustcrypto_both_ways() {
        let ours = Tls13::<Aes256Gcm>::new();
        let theirs = reference13();
        for (seq, len) in SIZES.iter().enumerate() {
            let data = vec![*len as u8; *len];
            let seq = seq as u64 * 1_000_003;
            let app = ContentType::ApplicationData;
            let mut ours_enc = ours.encrypter(AeadKey::from(KEY), Iv::new(IV));
            let mut theirs_enc = theirs.encrypter(AeadKey::from(KEY), Iv::new(IV));
            let a = seal(&mut *ours_enc, ContentType::Handshake, &data, seq);
            let b = seal(&mut *theirs_enc, ContentType::Handshake, &data, seq);
            assert_eq!(a, b, "same key, nonce and plaintext: same record");
            let mut theirs_dec = theirs.decrypter(AeadKey::from(KEY), Iv::new(IV));
            let mut ours_dec = ours.decrypter(AeadKey::from(KEY), Iv::new(IV));
            let expect = (ContentType::Handshake, data.clone());
            assert_eq!(open(&mut *theirs_dec, app, &a, seq).unwrap(), expect); // ok: test code
            assert_eq!(open(&mut *ours_dec, app, &b, seq).unwrap(), expect); // ok: test code
            assert!(open(&mut *ours_dec, app, &b, seq + 1).is_err(), "wrong seq");
        }
    }

    #[test]
    fn tls12_records_match_rustls_rustcrypto_both_ways() {
        let ours = Tls12::<Aes256Gcm>::new();
        let theirs = reference12();
        let (fixed, explicit) = IV.split_at(TLS12_FIXED_IV_LEN);
        for (seq, len) in SIZES.iter().enumerate() {
            let data = vec![!(*len as u8); *len];
            let seq = seq as u64 * 7_777;
            let typ = ContentType::ApplicationData;
            let mut ours_enc = ours.encrypter(AeadKey::from(KEY), fixed, explicit);
            let mut theirs_enc = theirs.encrypter(AeadKey::from(KEY), fixed, explicit);
            let a = seal(&mut *ours_enc, typ, &data, seq);
            let b = seal(&mut *theirs_enc, typ, &data, seq);
            assert_eq!(a, b, "same key, nonce and plaintext: same record");
            let mut theirs_dec = theirs.decrypter(AeadKey::from(KEY), fixed);
            let mut ours_dec = ours.decrypter(AeadKey::from(KEY), fixed);
            assert_eq!(
                open(&mut *theirs_dec, typ, &a, seq).unwrap(), // ok: test code
                (typ, data.clone())
            );
            assert_eq!(
                open(&mut *ours_dec, typ, &b, seq).unwrap(), // ok: test code
                (typ, data.clone())
            );
            let wrong_type = open(&mut *ours_dec, ContentType::Handshake, &b, seq);
            assert!(wrong_type.is_err(), "the header is authenticated");
        }
    }

    /// The wasm SIMD AES-GCM (`crate::simd`) seals the same TLS 1.3 and 1.2 records as
    /// `aes-gcm`, and each opens the other's (AES-256: rustls makes 16-byte keys only
    /// inside itself; `simd::gcm`'s tests compare AES-128 with `aes-gcm` directly).
    #[test]
    fn simd_aes_gcm_records_match_aes_gcm() {
        type Simd = crate::simd::gcm::Aes256Gcm;
        let (fixed, explicit) = IV.split_at(TLS12_FIXED_IV_LEN);
        let typ = ContentType::ApplicationData;
        let key = || AeadKey::from(KEY);
        for (seq, len) in SIZES.iter().enumerate() {
            let data = vec![*len as u8 ^ 0x5a; *len];
            let seq = seq as u64 * 1_000_003;
            let (a13, b13) = (Tls13::<Aes256Gcm>::new(), Tls13::<Simd>::new());
            let ra = seal(&mut *a13.encrypter(key(), Iv::new(IV)), typ, &data, seq);
            let rb = seal(&mut *b13.encrypter(key(), Iv::new(IV)), typ, &data, seq);
            assert_eq!(ra, rb, "TLS 1.3, len {len}");
            let got = open(&mut *b13.decrypter(key(), Iv::new(IV)), typ, &ra, seq);
            assert_eq!(got.unwrap(), (typ, data.clone())); // ok: test code
            let (a12, b12) = (Tls12::<Aes256Gcm>::new(), Tls12::<Simd>::new());
            let ra = seal(&mut *a12.encrypter(key(), fixed, explicit), typ, &data, seq);
            let rb = seal(&mut *b12.encrypter(key(), fixed, explicit), typ, &data, seq);
            assert_eq!(ra, rb, "TLS 1.2, len {len}");
            let got = open(&mut *a12.decrypter(key(), fixed), typ, &rb, seq);
            assert_eq!(got.unwrap(), (typ, data.clone())); // ok: test code
        }
    }

    #[test]
    fn any_change_to_a_record_is_a_decrypt_error() {
        let alg13 = Tls13::<Aes256Gcm>::new();
        let alg12 = Tls12::<Aes256Gcm>::new();
        let (fixed, explicit) = IV.split_at(TLS12_FIXED_IV_LEN);
        let typ = ContentType::ApplicationData;
        let r13 = seal(
            &mut *alg13.encrypter(AeadKey::from(KEY), Iv::new(IV)),
            typ,
            b"hello",
            3,
        );
        let r12 = seal(
            &mut *alg12.encrypter(AeadKey::from(KEY), fixed, explicit),
            typ,
            b"hello",
            3,
        );
        for (record, dec) in [
            (&r13, alg13.decrypter(AeadKey::from(KEY), Iv::new(IV))),
            (&r12, alg12.decrypter(AeadKey::from(KEY), fixed)),
        ] {
            let mut dec = dec;
            for i in 0..record.len() {
                let mut bad = record.clone();
                bad[i] ^= 0x01;
                assert_eq!(
                    open(&mut *dec, typ, &bad, 3),
                    Err(Error::DecryptError),
                    "byte {i}"
                );
            }
            // Every truncation, down to nothing: an error, never a panic.
            for len in 0..record.len() {
                assert!(
                    open(&mut *dec, typ, &record[..len], 3).is_err(),
                    "len {len}"
                );
            }
            assert!(open(&mut *dec, typ, record, 3).is_ok());
        }
    }

    #[test]
    fn tls12_oversized_plaintext_is_refused_after_authentication() {
        let alg = Tls12::<Aes256Gcm>::new();
        let (fixed, explicit) = IV.split_at(TLS12_FIXED_IV_LEN);
        let typ = ContentType::ApplicationData;
        let data = vec![0u8; MAX_FRAGMENT_LEN + 1];
        let record = seal(
            &mut *alg.encrypter(AeadKey::from(KEY), fixed, explicit),
            typ,
            &data,
            0,
        );
        let mut dec = alg.decrypter(AeadKey::from(KEY), fixed);
        assert_eq!(
            open(&mut *dec, typ, &record, 0),
            Err(Error::PeerSentOversizedRecord)
        );
    }

    #[test]
    fn key_material_of_the_wrong_size_fails_records_instead_of_panicking() {
        // AES-128 handed a 32-byte key; TLS 1.2 handed a 12-byte fixed IV.
        let typ = ContentType::ApplicationData;
        let msg = || OutboundPlainMessage {
            typ,
            version: ProtocolVersion::TLSv1_2,
            payload: OutboundChunks::Single(b"x"),
        };
        let alg13 = Tls13::<Aes128Gcm>::new();
        let mut enc = alg13.encrypter(AeadKey::from(KEY), Iv::new(IV));
        assert_eq!(enc.encrypt(msg(), 0).unwrap_err(), Error::EncryptError);
        let mut dec = alg13.decrypter(AeadKey::from(KEY), Iv::new(IV));
        assert_eq!(open(&mut *dec, typ, &[0; 40], 0), Err(Error::DecryptError));
        let alg12 = Tls12::<Aes256Gcm>::new();
        let mut enc = alg12.encrypter(AeadKey::from(KEY), &IV, &IV);
        assert_eq!(enc.encrypt(msg(), 0).unwrap_err(), Error::EncryptError);
        let mut dec = alg12.decrypter(AeadKey::from(KEY), &IV);
        assert_eq!(open(&mut *dec, typ, &[0; 40], 0), Err(Error::DecryptError));
    }

    #[test]
    fn exported_secrets_name_the_right_cipher() {
        let iv = || Iv::new(IV);
        assert!(matches!(
            Tls13::<Aes128Gcm>::new().extract_keys(AeadKey::from(KEY), iv()),
            Ok(ConnectionTrafficSecrets::Aes128Gcm { .. })
        ));
        assert!(matches!(
            Tls13::<Aes256Gcm>::new().extract_keys(AeadKey::from(KEY), iv()),
            Ok(ConnectionTrafficSecrets::Aes256Gcm { .. })
        ));
        let (fixed, explicit) = IV.split_at(TLS12_FIXED_IV_LEN);
        let got = Tls12::<Aes128Gcm>::new().extract_keys(AeadKey::from(KEY), fixed, explicit);
        assert!(
            matches!(got, Ok(ConnectionTrafficSecrets::Aes128Gcm { iv, .. }) if iv.as_ref() == IV)
        );
        assert_eq!(Tls12::<Aes128Gcm>::new().key_block_shape().enc_key_len, 16);
        assert_eq!(Tls13::<Aes256Gcm>::new().key_len(), 32);
    }
}
