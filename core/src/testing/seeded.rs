//! The seeded crypto provider: the default provider with every random byte drawn from
//! one ChaCha20 stream, including the key-exchange secrets.

use alloc::boxed::Box;
use core::fmt;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rustls::crypto::{CryptoProvider, GetRandomFailed, SecureRandom, SupportedKxGroup};
use spin::Mutex;

use crate::provider::keys::Keys;
use crate::provider::kx::{self, Group};

/// The 32-byte seed of a deterministic session.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Seed(pub [u8; 32]);

impl Seed {
    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Seed> {
        let bytes = super::hex::decode(text.trim()).ok()?;
        Some(Seed(bytes.try_into().ok()?))
    }

    /// The seed as 64 lowercase hex digits.
    pub fn to_hex(&self) -> alloc::string::String {
        super::hex::encode(&self.0)
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seed({})", self.to_hex())
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A ChaCha20 CSPRNG behind a spin lock: rustls shares one `&'static dyn SecureRandom`
/// between threads, so the stream needs interior mutability without `std`.
struct SeededRng(Mutex<ChaCha20Rng>);

impl fmt::Debug for SeededRng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the generator state: it is the session's key material.
        f.write_str("SeededRng(ChaCha20)")
    }
}

impl SecureRandom for SeededRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        use rand_core::RngCore;
        self.0.lock().fill_bytes(buf);
        Ok(())
    }
}

/// The default provider with every random byte drawn from `seed`: the client random,
/// the legacy session id, rustls' extension-order shuffle, the X25519MLKEM768 (ML-KEM
/// seed and X25519), X25519, P-256 and P-384 ephemeral secrets, and the salts and
/// blinding of RSA client-certificate signatures. Cipher suites, signature verification
/// and the order of the groups are the default provider's.
///
/// **Testing only**: anyone who knows the seed can decrypt the session.
///
/// rustls wants `&'static` references for the random source, the groups and the key
/// loader, so each call leaks them (about 300 bytes). Build one provider per
/// deterministic connection: two connections sharing a provider draw from the same
/// stream and so depend on their order.
///
/// Client-certificate signatures are reproducible too: ECDSA nonces are derived from the
/// key and the message (RFC 6979), Ed25519 is deterministic by design, and RSA draws its
/// blinding and PSS salts from the seed.
pub fn seeded_provider(seed: &Seed) -> CryptoProvider {
    let rng: &'static SeededRng = Box::leak(Box::new(SeededRng(Mutex::new(
        ChaCha20Rng::from_seed(seed.0),
    ))));
    let groups: &'static [Group; 4] = Box::leak(Box::new(kx::groups(rng)));
    let keys: &'static Keys = Box::leak(Box::new(Keys::new(rng)));
    let base = crate::default_provider();
    CryptoProvider {
        kx_groups: groups
            .iter()
            .map(|g| g as &'static dyn SupportedKxGroup)
            .collect(),
        secure_random: rng,
        key_provider: keys,
        ..base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::hybrid::tests::server as hybrid_server;
    use rustls::crypto::ActiveKeyExchange;
    use rustls::NamedGroup;

    fn start(provider: &CryptoProvider, i: usize) -> Box<dyn ActiveKeyExchange> {
        provider.kx_groups[i].start().unwrap() // ok: test code
    }

    /// The default provider's groups, in its order.
    const GROUPS: [NamedGroup; 4] = [
        NamedGroup::X25519MLKEM768,
        NamedGroup::X25519,
        NamedGroup::secp256r1,
        NamedGroup::secp384r1,
    ];

    #[test]
    fn same_seed_same_bytes_different_seed_different_bytes() {
        let a = seeded_provider(&Seed([7; 32]));
        let b = seeded_provider(&Seed([7; 32]));
        let c = seeded_provider(&Seed([8; 32]));
        let mut ra = [0u8; 48];
        let mut rb = [0u8; 48];
        let mut rc = [0u8; 48];
        a.secure_random.fill(&mut ra).unwrap(); // ok: test code
        b.secure_random.fill(&mut rb).unwrap(); // ok: test code
        c.secure_random.fill(&mut rc).unwrap(); // ok: test code
        assert_eq!(ra, rb);
        assert_ne!(ra, rc);
        for (i, group) in GROUPS.iter().enumerate() {
            let (ka, kb, kc) = (start(&a, i), start(&b, i), start(&c, i));
            assert_eq!(ka.pub_key(), kb.pub_key(), "{group:?}");
            assert_ne!(ka.pub_key(), kc.pub_key(), "{group:?}");
        }
        // The stream advances: a second draw differs from the first.
        let mut again = [0u8; 48];
        a.secure_random.fill(&mut again).unwrap(); // ok: test code
        assert_ne!(again, ra);
    }

    #[test]
    fn chacha20_stream_matches_the_reference() {
        // rand_chacha's ChaCha20Rng with an all-zero seed and stream 0 is the RFC 8439
        // §A.1 test vector #1 keystream: the generator is portable across platforms.
        let p = seeded_provider(&Seed([0; 32]));
        let mut out = [0u8; 16];
        p.secure_random.fill(&mut out).unwrap(); // ok: test code
        assert_eq!(
            super::super::hex::encode(&out),
            "76b8e0ada0f13d90405d6ae55386bd28"
        );
    }

    #[test]
    fn the_default_groups_in_the_default_order() {
        let p = seeded_provider(&Seed([4; 32]));
        let names: alloc::vec::Vec<_> = p.kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(names, GROUPS);
        let base: alloc::vec::Vec<_> = crate::default_provider()
            .kx_groups
            .iter()
            .map(|g| g.name())
            .collect();
        assert_eq!(names, base);
        // The hybrid's X25519 half goes beside it, as a share rustls can complete alone.
        let hybrid = start(&p, 0);
        let (group, share) = hybrid.hybrid_component().unwrap(); // ok: test code
        assert_eq!((group, share.len()), (NamedGroup::X25519, 32));
    }

    #[test]
    fn groups_agree_with_each_other() {
        // Each seeded ECDHE group completes a real exchange with a second instance of
        // itself; the hybrid with a server that encapsulates to it.
        let p = seeded_provider(&Seed([1; 32]));
        let q = seeded_provider(&Seed([2; 32]));
        let client = start(&p, 0);
        let (share, expect) = hybrid_server(client.pub_key(), [5; 32], [6; 32]);
        assert_eq!(client.complete(&share).unwrap().secret_bytes(), expect); // ok: test code
        for i in 1..GROUPS.len() {
            let a = start(&p, i);
            let b = start(&q, i);
            assert_eq!(a.group(), p.kx_groups[i].name());
            let pa = a.pub_key().to_vec();
            let pb = b.pub_key().to_vec();
            let sa = a.complete(&pb).unwrap(); // ok: test code
            let sb = b.complete(&pa).unwrap(); // ok: test code
            assert_eq!(sa.secret_bytes(), sb.secret_bytes());
        }
    }

    #[test]
    fn bad_peer_shares_are_refused() {
        let p = seeded_provider(&Seed([3; 32]));
        for i in 0..GROUPS.len() {
            assert!(start(&p, i).complete(&[1, 2, 3]).is_err());
        }
        // X25519 low-order point (all zeros) gives a non-contributory secret.
        assert!(start(&p, 1).complete(&[0; 32]).is_err());
        assert!(start(&p, 0).complete_hybrid_component(&[0; 32]).is_err());
    }
}
