//! X25519MLKEM768 (codepoint 0x11ec, draft-ietf-tls-ecdhe-mlkem): post-quantum hybrid key
//! exchange for TLS 1.3, ML-KEM-768 (FIPS 203, RustCrypto's `ml-kem`) and X25519 at once,
//! so the session stays secret as long as either holds.
//!
//! * Client share (1216 bytes): the ML-KEM-768 encapsulation key (1184) ‖ the X25519
//!   public key (32).
//! * Server share (1120 bytes): the ML-KEM-768 ciphertext (1088) ‖ the server's X25519
//!   public key (32).
//! * Shared secret (64 bytes): the ML-KEM shared secret (32) ‖ the X25519 one (32).
//!
//! The ML-KEM key pair comes from a 64-byte seed (d ‖ z of FIPS 203 §7.1) and the X25519
//! secret from 32 more bytes, drawn in that order from the provider's `SecureRandom`: the
//! seeded testing provider makes the same key share every time.
//!
//! Offered first, its X25519 half also goes into the ClientHello as a key share of its
//! own ([`ActiveKeyExchange::hybrid_component`]), so a server without ML-KEM picks X25519
//! without a HelloRetryRequest, and rustls completes just that half.
//!
//! The server side ([`accept`]) is here too, for rustls servers built on the default
//! provider (`tlsferry demo`'s, the test pairs'): it encapsulates to the client's key
//! instead of making a key pair of its own.

use alloc::vec::Vec;
use core::fmt;

use ml_kem::{Decapsulate, KeyExport, MlKem768};
use rustls::crypto::{ActiveKeyExchange, CompletedKeyExchange, SecureRandom, SharedSecret};
use rustls::NamedGroup;
use zeroize::Zeroize;

use super::kx::{invalid_share, x25519_agree, x25519_secret};

type DecapsulationKey = ml_kem::DecapsulationKey<MlKem768>;
type EncapsulationKey = ml_kem::EncapsulationKey<MlKem768>;
type Ciphertext = ml_kem::Ciphertext<MlKem768>;

/// Length of the ML-KEM-768 encapsulation key at the head of the client's share.
pub(crate) const ENCAPSULATION_KEY_LEN: usize = 1184;
/// Length of the ML-KEM-768 ciphertext at the head of the server's share.
pub(crate) const CIPHERTEXT_LEN: usize = 1088;
const X25519_LEN: usize = 32;

/// Starts an exchange: a fresh ML-KEM-768 key pair and X25519 secret from `rng`.
pub(super) fn start(rng: &dyn SecureRandom) -> Result<Exchange, rustls::Error> {
    let mut seed = ml_kem::Seed::default();
    rng.fill(&mut seed)?;
    let mlkem = DecapsulationKey::from_seed(seed);
    seed.zeroize();
    let (x25519, x25519_public) = x25519_secret(rng)?;
    let mut share = Vec::with_capacity(ENCAPSULATION_KEY_LEN + X25519_LEN);
    share.extend_from_slice(&mlkem.encapsulation_key().to_bytes());
    share.extend_from_slice(x25519_public.as_bytes());
    Ok(Exchange {
        mlkem,
        x25519,
        share,
    })
}

/// The server's side: encapsulates to the client's ML-KEM key (with 32 bytes from `rng`)
/// and answers its X25519 key with a fresh one (32 more). A client share of the wrong
/// length, an ML-KEM key that fails FIPS 203's encapsulation-key check or a low-order
/// X25519 point is an invalid key share.
pub(super) fn accept(
    rng: &dyn SecureRandom,
    client_share: &[u8],
) -> Result<CompletedKeyExchange, rustls::Error> {
    if client_share.len() != ENCAPSULATION_KEY_LEN + X25519_LEN {
        return Err(invalid_share());
    }
    let (key, x25519_peer) = client_share.split_at(ENCAPSULATION_KEY_LEN);
    let key = ml_kem::Key::<EncapsulationKey>::try_from(key).map_err(|_| invalid_share())?;
    let key = EncapsulationKey::new(&key).map_err(|_| invalid_share())?;
    let (x25519, x25519_public) = x25519_secret(rng)?;
    let x25519 = x25519_agree(&x25519, x25519_peer)?;
    let mut m = ml_kem::B32::default();
    rng.fill(&mut m)?;
    let (ciphertext, mut mlkem) = key.encapsulate_deterministic(&m);
    m.zeroize();
    let mut pub_key = Vec::with_capacity(CIPHERTEXT_LEN + X25519_LEN);
    pub_key.extend_from_slice(&ciphertext);
    pub_key.extend_from_slice(x25519_public.as_bytes());
    let mut secret = Vec::with_capacity(64);
    secret.extend_from_slice(&mlkem);
    secret.extend_from_slice(x25519.as_bytes());
    mlkem.as_mut_slice().zeroize();
    Ok(CompletedKeyExchange {
        group: NamedGroup::X25519MLKEM768,
        pub_key,
        secret: SharedSecret::from(secret),
    })
}

/// One started hybrid exchange: both secrets, and the share sent for them.
pub(super) struct Exchange {
    mlkem: DecapsulationKey,
    x25519: x25519_dalek::StaticSecret,
    /// Encapsulation key ‖ X25519 public key.
    share: Vec<u8>,
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secrets.
        f.debug_struct("Exchange")
            .field("group", &NamedGroup::X25519MLKEM768)
            .finish_non_exhaustive()
    }
}

impl ActiveKeyExchange for Exchange {
    /// The server chose X25519MLKEM768: `peer` is its ciphertext ‖ X25519 public key.
    fn complete(self: alloc::boxed::Box<Self>, peer: &[u8]) -> Result<SharedSecret, rustls::Error> {
        if peer.len() != CIPHERTEXT_LEN + X25519_LEN {
            return Err(invalid_share());
        }
        let (ciphertext, x25519_peer) = peer.split_at(CIPHERTEXT_LEN);
        let ciphertext = Ciphertext::try_from(ciphertext).map_err(|_| invalid_share())?;
        let x25519 = x25519_agree(&self.x25519, x25519_peer)?;
        // Any ciphertext of the right length decapsulates: a forged one gives a secret
        // the server does not know (implicit rejection), and the handshake's Finished
        // check fails.
        let mut mlkem = self.mlkem.decapsulate(&ciphertext);
        let mut secret = Vec::with_capacity(64);
        secret.extend_from_slice(&mlkem);
        secret.extend_from_slice(x25519.as_bytes());
        mlkem.as_mut_slice().zeroize();
        Ok(SharedSecret::from(secret))
    }

    fn hybrid_component(&self) -> Option<(NamedGroup, &[u8])> {
        let x25519_public = self.share.get(ENCAPSULATION_KEY_LEN..)?;
        Some((NamedGroup::X25519, x25519_public))
    }

    /// The server chose the X25519 share: complete that half alone.
    fn complete_hybrid_component(
        self: alloc::boxed::Box<Self>,
        peer: &[u8],
    ) -> Result<SharedSecret, rustls::Error> {
        let shared = x25519_agree(&self.x25519, peer)?;
        Ok(SharedSecret::from(shared.as_bytes().as_slice()))
    }

    fn pub_key(&self) -> &[u8] {
        &self.share
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519MLKEM768
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::boxed::Box;
    use alloc::vec;
    use rustls::crypto::GetRandomFailed;

    /// Every draw is `0, 1, 2, …` XOR a tag, from the start; or no bytes at all.
    #[derive(Debug)]
    struct Pattern(Option<u8>);

    impl SecureRandom for Pattern {
        fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
            let tag = self.0.ok_or(GetRandomFailed)?;
            for (i, b) in buf.iter_mut().enumerate() {
                *b = (i as u8) ^ tag;
            }
            Ok(())
        }
    }

    /// The server's side of X25519MLKEM768, as a server implements it: encapsulate to
    /// the client's key with `m`, answer with a fresh X25519 key from `x25519`. Returns
    /// the server's share and the secret it derives.
    pub(crate) fn server(client_share: &[u8], m: [u8; 32], x25519: [u8; 32]) -> (Vec<u8>, Vec<u8>) {
        assert_eq!(client_share.len(), ENCAPSULATION_KEY_LEN + X25519_LEN);
        let (ek, client_x25519) = client_share.split_at(ENCAPSULATION_KEY_LEN);
        let ek = ml_kem::Key::<ml_kem::EncapsulationKey<MlKem768>>::try_from(ek).unwrap(); // ok: test code
        let ek = ml_kem::EncapsulationKey::<MlKem768>::new(&ek).unwrap(); // ok: test code
        let (ciphertext, mlkem) = ek.encapsulate_deterministic(&m.into());
        let secret = x25519_dalek::StaticSecret::from(x25519);
        let public = x25519_dalek::PublicKey::from(&secret);
        let peer: [u8; 32] = client_x25519.try_into().unwrap(); // ok: test code
        let x25519 = secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        let share = [ciphertext.as_slice(), public.as_bytes()].concat();
        (share, [mlkem.as_slice(), x25519.as_bytes()].concat())
    }

    fn begin(tag: u8) -> Box<Exchange> {
        Box::new(start(&Pattern(Some(tag))).unwrap()) // ok: test code
    }

    #[test]
    fn client_and_server_derive_the_same_64_byte_secret() {
        for (tag, m) in [(1u8, [3u8; 32]), (2, [4; 32]), (0x80, [0xee; 32])] {
            let client = begin(tag);
            assert_eq!(client.group(), NamedGroup::X25519MLKEM768);
            assert_eq!(client.pub_key().len(), 1216);
            let (share, expect) = server(client.pub_key(), m, [tag ^ 0x55; 32]);
            assert_eq!(share.len(), 1120);
            let got = client.complete(&share).unwrap(); // ok: test code
            assert_eq!(got.secret_bytes(), expect, "tag {tag}");
            assert_eq!(got.secret_bytes().len(), 64);
        }
    }

    #[test]
    fn the_x25519_half_is_offered_and_completes_on_its_own() {
        let client = begin(9);
        let (group, x25519_share) = client.hybrid_component().unwrap(); // ok: test code
        assert_eq!(group, NamedGroup::X25519);
        assert_eq!(x25519_share, &client.pub_key()[ENCAPSULATION_KEY_LEN..]);
        // What a plain X25519 server derives from that share.
        let server = x25519_dalek::StaticSecret::from([0x42; 32]);
        let server_public = x25519_dalek::PublicKey::from(&server);
        let peer: [u8; 32] = x25519_share.try_into().unwrap(); // ok: test code
        let expect = server.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        let got = client
            .complete_hybrid_component(server_public.as_bytes())
            .unwrap(); // ok: test code
        assert_eq!(got.secret_bytes(), expect.as_bytes());
        // A low-order point or a share of the wrong size is refused there too.
        assert_eq!(
            begin(9).complete_hybrid_component(&[0; 32]).err(),
            Some(invalid_share())
        );
        assert_eq!(
            begin(9).complete_hybrid_component(&[9; 31]).err(),
            Some(invalid_share())
        );
    }

    #[test]
    fn keys_come_from_the_random_source_in_order_and_a_failing_source_fails() {
        let (a, b, c) = (begin(5), begin(5), begin(6));
        assert_eq!(a.pub_key(), b.pub_key(), "same random bytes, same share");
        assert_ne!(a.pub_key(), c.pub_key());
        // First 64 bytes: the ML-KEM seed; then 32 more: the X25519 secret.
        let seed: Vec<u8> = (0..64u8).map(|i| i ^ 5).collect();
        let seed = ml_kem::Seed::try_from(seed.as_slice()).unwrap(); // ok: test code
        let ek = DecapsulationKey::from_seed(seed)
            .encapsulation_key()
            .to_bytes();
        assert_eq!(&a.pub_key()[..ENCAPSULATION_KEY_LEN], ek.as_slice());
        let x: [u8; 32] = core::array::from_fn(|i| (i as u8) ^ 5);
        let x = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(x));
        assert_eq!(&a.pub_key()[ENCAPSULATION_KEY_LEN..], x.as_bytes());
        assert!(matches!(
            start(&Pattern(None)),
            Err(rustls::Error::FailedToGetRandomBytes)
        ));
    }

    #[test]
    fn malformed_server_shares_are_invalid_key_shares_not_panics() {
        let client = begin(7);
        let (good, _) = server(client.pub_key(), [1; 32], [2; 32]);
        let mut bad_shares = vec![
            Vec::new(),
            vec![1; 32],
            vec![1; CIPHERTEXT_LEN],
            good[..good.len() - 1].to_vec(),
            [good.as_slice(), &[0]].concat(),
            vec![0x11; 1216],
        ];
        // A well-formed ciphertext with a low-order X25519 point.
        let mut low_order = good.clone();
        low_order[CIPHERTEXT_LEN..].fill(0);
        bad_shares.push(low_order);
        for share in bad_shares {
            let err = begin(7).complete(&share).err();
            assert_eq!(err, Some(invalid_share()), "{} bytes", share.len());
        }
        // Every length from 0 to past the right one: an error or (only at 1120) a secret.
        for len in (0..=1130).step_by(13) {
            let share = vec![0x5a; len];
            let result = begin(7).complete(&share);
            assert_eq!(result.is_ok(), len == 1120, "{len}");
        }
    }

    #[test]
    fn a_forged_ciphertext_yields_a_different_secret() {
        // ML-KEM's implicit rejection: no error, but not the server's secret, so the
        // handshake fails at Finished instead of telling the attacker anything.
        let client = begin(3);
        let (mut share, expect) = server(client.pub_key(), [8; 32], [9; 32]);
        share[100] ^= 0x01;
        let got = client.complete(&share).unwrap(); // ok: test code
        assert_ne!(got.secret_bytes(), expect);
        assert_eq!(
            got.secret_bytes()[32..],
            expect[32..],
            "X25519 half unchanged"
        );
    }

    #[test]
    fn our_server_side_agrees_with_our_client_and_with_the_reference_server() {
        for tag in [0u8, 0x33, 0xf0] {
            let client = begin(tag ^ 1);
            let rng = Pattern(Some(tag));
            let done = accept(&rng, client.pub_key()).unwrap(); // ok: test code
            assert_eq!(done.group, NamedGroup::X25519MLKEM768);
            assert_eq!(done.pub_key.len(), 1120);
            // The same randomness as the reference server above: the same answer.
            let pattern: [u8; 32] = core::array::from_fn(|i| (i as u8) ^ tag);
            let (share, secret) = server(client.pub_key(), pattern, pattern);
            assert_eq!(done.pub_key, share);
            assert_eq!(done.secret.secret_bytes(), secret);
            let got = client.complete(&done.pub_key).unwrap(); // ok: test code
            assert_eq!(got.secret_bytes(), done.secret.secret_bytes());
        }
        // Through the group, as a rustls server calls it.
        use rustls::crypto::SupportedKxGroup;
        let group = super::super::kx::Group::new(
            super::super::kx::Curve::X25519MlKem768,
            &Pattern(Some(4)),
        );
        let client = begin(2);
        let done = group.start_and_complete(client.pub_key()).unwrap(); // ok: test code
        let got = client.complete(&done.pub_key).unwrap(); // ok: test code
        assert_eq!(got.secret_bytes(), done.secret.secret_bytes());
    }

    #[test]
    fn our_server_side_refuses_malformed_client_shares() {
        let rng = Pattern(Some(1));
        let good = begin(6).pub_key().to_vec();
        let mut bad_shares = vec![
            Vec::new(),
            vec![7; 32],
            good[..good.len() - 1].to_vec(),
            [good.as_slice(), &[0]].concat(),
            good[..1120].to_vec(),
        ];
        // Coefficients of 4095 (>= q = 3329) fail FIPS 203's encapsulation-key check.
        let mut not_reduced = good.clone();
        not_reduced[..ENCAPSULATION_KEY_LEN].fill(0xff);
        bad_shares.push(not_reduced);
        let mut low_order = good.clone();
        low_order[ENCAPSULATION_KEY_LEN..].fill(0);
        bad_shares.push(low_order);
        for share in bad_shares {
            let err = accept(&rng, &share).err();
            assert_eq!(err, Some(invalid_share()), "{} bytes", share.len());
        }
        assert!(accept(&rng, &good).is_ok());
        assert!(matches!(
            accept(&Pattern(None), &good),
            Err(rustls::Error::FailedToGetRandomBytes)
        ));
    }
}
