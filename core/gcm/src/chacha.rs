//! TLS 1.2 ChaCha20-Poly1305 records (RFC 7905), on `chacha20poly1305` 0.11.
//!
//! Unlike AES-GCM in TLS 1.2, no part of the nonce travels in the record: the key block
//! gives a 12-byte IV, and each record's nonce is that IV XOR the sequence number, as in
//! TLS 1.3. TLS 1.3 ChaCha20-Poly1305 records are the generic [`crate::record::Tls13`].

use alloc::boxed::Box;

use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::ChaCha20Poly1305;
use rustls::crypto::cipher::{
    make_tls12_aad, AeadKey, InboundOpaqueMessage, InboundPlainMessage, Iv, KeyBlockShape,
    MessageDecrypter, MessageEncrypter, Nonce, OutboundOpaqueMessage, OutboundPlainMessage,
    PrefixedPayload, Tls12AeadAlgorithm, UnsupportedOperationError, NONCE_LEN,
};
use rustls::{ConnectionTrafficSecrets, Error};

use crate::record::{nonce_for, open_detached, seal_detached, Unkeyed, MAX_FRAGMENT_LEN, TAG_LEN};

const KEY_LEN: usize = 32;

/// The TLS 1.2 ChaCha20-Poly1305 AEAD algorithm (`Tls12AeadAlgorithm`).
pub(crate) struct Tls12Chacha;

impl Tls12AeadAlgorithm for Tls12Chacha {
    fn encrypter(&self, key: AeadKey, iv: &[u8], _explicit: &[u8]) -> Box<dyn MessageEncrypter> {
        record(key, iv)
    }

    fn decrypter(&self, key: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        record(key, iv)
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        KeyBlockShape {
            enc_key_len: KEY_LEN,
            fixed_iv_len: NONCE_LEN,
            explicit_nonce_len: 0,
        }
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: &[u8],
        _explicit: &[u8],
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        let iv: [u8; NONCE_LEN] = iv.try_into().map_err(|_| UnsupportedOperationError)?;
        Ok(ConnectionTrafficSecrets::Chacha20Poly1305 {
            key,
            iv: Iv::new(iv),
        })
    }
}

/// Both directions have the same shape; a key or IV of the wrong size fails every record.
fn record(key: AeadKey, iv: &[u8]) -> Box<Tls12ChachaRecord> {
    let aead = ChaCha20Poly1305::new_from_slice(key.as_ref()).ok();
    let iv = <[u8; NONCE_LEN]>::try_from(iv).ok().map(Iv::new);
    Box::new(Tls12ChachaRecord(aead.zip(iv)))
}

/// One direction of a TLS 1.2 ChaCha20-Poly1305 connection: the key and the IV (`None`
/// if rustls handed over key material of the wrong size, which it never does).
struct Tls12ChachaRecord(Option<(ChaCha20Poly1305, Iv)>);

impl MessageEncrypter for Tls12ChachaRecord {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let Some((aead, iv)) = &self.0 else {
            return Unkeyed.encrypt(msg, seq);
        };
        let total_len = self.encrypted_payload_len(msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total_len);
        payload.extend_from_chunks(&msg.payload);
        let aad = make_tls12_aad(seq, msg.typ, msg.version, msg.payload.len());
        seal_detached(aead, Nonce::new(iv, seq).0, &aad, &mut payload, 0)?;
        Ok(OutboundOpaqueMessage::new(msg.typ, msg.version, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + TAG_LEN
    }
}

impl MessageDecrypter for Tls12ChachaRecord {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let Some((aead, iv)) = &self.0 else {
            return Err(Error::DecryptError);
        };
        let plain_len_claimed = msg.payload.len().saturating_sub(TAG_LEN);
        let aad = make_tls12_aad(seq, msg.typ, msg.version, plain_len_claimed);
        let plain_len = open_detached(aead, &nonce_for(iv, seq), &aad, &mut msg.payload)?;
        if plain_len > MAX_FRAGMENT_LEN {
            return Err(Error::PeerSentOversizedRecord);
        }
        msg.payload.truncate(plain_len);
        Ok(msg.into_plain_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::{open, seal, IV, KEY, SIZES};
    use crate::record::Tls13;
    use alloc::vec;
    use rustls::crypto::cipher::{OutboundChunks, Tls13AeadAlgorithm};
    use rustls::{ContentType, ProtocolVersion, SupportedCipherSuite};

    fn reference13() -> &'static dyn Tls13AeadAlgorithm {
        match rustls_rustcrypto::TLS13_CHACHA20_POLY1305_SHA256 {
            SupportedCipherSuite::Tls13(s) => s.aead_alg,
            SupportedCipherSuite::Tls12(_) => unreachable!(), // ok: test code
        }
    }

    fn reference12() -> &'static dyn Tls12AeadAlgorithm {
        match rustls_rustcrypto::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 {
            SupportedCipherSuite::Tls12(s) => s.aead_alg,
            SupportedCipherSuite::Tls13(_) => unreachable!(), // ok: test code
        }
    }

    #[test]
    fn tls13_records_match_rustls_rustcrypto_both_ways() {
        let ours = Tls13::<ChaCha20Poly1305>::new();
        let theirs = reference13();
        assert_eq!(ours.key_len(), theirs.key_len());
        for (seq, len) in SIZES.iter().enumerate() {
            let data = vec![*len as u8 ^ 0x5a; *len];
            let seq = seq as u64 * 999_983;
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
        assert!(matches!(
            ours.extract_keys(AeadKey::from(KEY), Iv::new(IV)),
            Ok(ConnectionTrafficSecrets::Chacha20Poly1305 { .. })
        ));
    }

    #[test]
    fn tls12_records_match_rustls_rustcrypto_both_ways() {
        let ours = Tls12Chacha;
        let theirs = reference12();
        let (x, y) = (ours.key_block_shape(), theirs.key_block_shape());
        assert_eq!(x.enc_key_len, y.enc_key_len);
        assert_eq!(x.fixed_iv_len, y.fixed_iv_len);
        assert_eq!(x.explicit_nonce_len, y.explicit_nonce_len);
        for (seq, len) in SIZES.iter().enumerate() {
            let data = vec![!(*len as u8); *len];
            let seq = seq as u64 * 7_777;
            let typ = ContentType::ApplicationData;
            let mut ours_enc = ours.encrypter(AeadKey::from(KEY), &IV, &[]);
            let mut theirs_enc = theirs.encrypter(AeadKey::from(KEY), &IV, &[]);
            let a = seal(&mut *ours_enc, typ, &data, seq);
            let b = seal(&mut *theirs_enc, typ, &data, seq);
            assert_eq!(a, b, "same key, nonce and plaintext: same record");
            let mut theirs_dec = theirs.decrypter(AeadKey::from(KEY), &IV);
            let mut ours_dec = ours.decrypter(AeadKey::from(KEY), &IV);
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
            assert!(open(&mut *ours_dec, typ, &b, seq + 1).is_err(), "wrong seq");
        }
        let got = ours.extract_keys(AeadKey::from(KEY), &IV, &[]);
        assert!(
            matches!(got, Ok(ConnectionTrafficSecrets::Chacha20Poly1305 { iv, .. }) if iv.as_ref() == IV)
        );
    }

    #[test]
    fn any_change_or_truncation_is_an_error_and_oversize_is_refused() {
        let typ = ContentType::ApplicationData;
        let mut enc = Tls12Chacha.encrypter(AeadKey::from(KEY), &IV, &[]);
        let record = seal(&mut *enc, typ, b"hello", 9);
        let mut dec = Tls12Chacha.decrypter(AeadKey::from(KEY), &IV);
        for i in 0..record.len() {
            let mut bad = record.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                open(&mut *dec, typ, &bad, 9),
                Err(Error::DecryptError),
                "byte {i}"
            );
        }
        for len in 0..record.len() {
            assert!(
                open(&mut *dec, typ, &record[..len], 9).is_err(),
                "len {len}"
            );
        }
        assert!(open(&mut *dec, typ, &record, 9).is_ok());
        let big = vec![0u8; MAX_FRAGMENT_LEN + 1];
        let record = seal(&mut *enc, typ, &big, 10);
        assert_eq!(
            open(&mut *dec, typ, &record, 10),
            Err(Error::PeerSentOversizedRecord)
        );
    }

    #[test]
    fn key_material_of_the_wrong_size_fails_records_instead_of_panicking() {
        let typ = ContentType::ApplicationData;
        let msg = OutboundPlainMessage {
            typ,
            version: ProtocolVersion::TLSv1_2,
            payload: OutboundChunks::Single(b"x"),
        };
        // A 4-byte IV, as AES-GCM's key block would give.
        let mut enc = Tls12Chacha.encrypter(AeadKey::from(KEY), &IV[..4], &IV[4..]);
        assert_eq!(enc.encrypt(msg, 0).unwrap_err(), Error::EncryptError);
        let mut dec = Tls12Chacha.decrypter(AeadKey::from(KEY), &IV[..4]);
        assert_eq!(open(&mut *dec, typ, &[0; 40], 0), Err(Error::DecryptError));
        let short = Tls12Chacha.extract_keys(AeadKey::from(KEY), &IV[..4], &[]);
        assert!(short.is_err());
    }
}
