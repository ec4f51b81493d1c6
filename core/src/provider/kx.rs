//! Key exchange: X25519, P-256 and P-384 (ECDHE), with every ephemeral secret drawn from
//! the provider's `SecureRandom`, so one random source feeds the whole handshake (the OS
//! through getrandom by default, a seeded stream in the testing kit). rustls-rustcrypto's
//! own groups read the OS RNG directly.
//!
//! The same curves and order as rustls-rustcrypto, on the same crates.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use rustls::crypto::{ActiveKeyExchange, SecureRandom, SharedSecret, SupportedKxGroup};
use rustls::{NamedGroup, PeerMisbehaved};

/// A curve this module exchanges keys on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    X25519,
    P256,
    P384,
}

/// An ECDHE group whose ephemeral secrets come from `rng`.
#[derive(Debug)]
pub(crate) struct Group {
    curve: Curve,
    rng: &'static dyn SecureRandom,
}

impl Group {
    pub(crate) const fn new(curve: Curve, rng: &'static dyn SecureRandom) -> Self {
        Group { curve, rng }
    }

    /// A secret scalar: uniformly random bytes, drawn again in the (for P-256 about
    /// 2^-32 likely) case that they are not a valid scalar.
    fn draw<T>(
        &self,
        bytes: &mut [u8],
        parse: impl Fn(&[u8]) -> Option<T>,
    ) -> Result<T, rustls::Error> {
        for _ in 0..8 {
            self.rng.fill(bytes)?;
            if let Some(secret) = parse(bytes) {
                return Ok(secret);
            }
        }
        Err(rustls::Error::General(
            "no valid key-exchange secret in 8 draws".into(),
        ))
    }
}

impl SupportedKxGroup for Group {
    fn name(&self) -> NamedGroup {
        match self.curve {
            Curve::X25519 => NamedGroup::X25519,
            Curve::P256 => NamedGroup::secp256r1,
            Curve::P384 => NamedGroup::secp384r1,
        }
    }

    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        let secret = match self.curve {
            Curve::X25519 => {
                let mut bytes = [0u8; 32];
                // Every 32-byte string is an X25519 secret (clamped when used).
                self.rng.fill(&mut bytes)?;
                let secret = x25519_dalek::StaticSecret::from(bytes);
                let public = x25519_dalek::PublicKey::from(&secret);
                Secret::X25519(secret, public)
            }
            Curve::P256 => {
                let mut bytes = [0u8; 32];
                let secret = self.draw(&mut bytes, |b| p256::SecretKey::from_slice(b).ok())?;
                let public = secret.public_key().to_sec1_bytes().into_vec();
                Secret::P256(secret, public)
            }
            Curve::P384 => {
                let mut bytes = [0u8; 48];
                let secret = self.draw(&mut bytes, |b| p384::SecretKey::from_slice(b).ok())?;
                let public = secret.public_key().to_sec1_bytes().into_vec();
                Secret::P384(secret, public)
            }
        };
        Ok(Box::new(Exchange {
            group: self.name(),
            secret,
        }))
    }
}

/// The secret of one started exchange, and the public key sent for it.
enum Secret {
    X25519(x25519_dalek::StaticSecret, x25519_dalek::PublicKey),
    P256(p256::SecretKey, Vec<u8>),
    P384(p384::SecretKey, Vec<u8>),
}

/// One started key exchange.
struct Exchange {
    group: NamedGroup,
    secret: Secret,
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("Exchange")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

fn invalid_share() -> rustls::Error {
    rustls::Error::from(PeerMisbehaved::InvalidKeyShare)
}

impl ActiveKeyExchange for Exchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, rustls::Error> {
        match &self.secret {
            Secret::X25519(secret, _) => {
                let peer: [u8; 32] = peer.try_into().map_err(|_| invalid_share())?;
                let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
                // An all-zero result means the peer sent a low-order point (RFC 7748 §6.1).
                if !shared.was_contributory() {
                    return Err(invalid_share());
                }
                Ok(SharedSecret::from(shared.as_bytes().as_slice()))
            }
            Secret::P256(secret, _) => {
                let peer = p256::PublicKey::from_sec1_bytes(peer).map_err(|_| invalid_share())?;
                let shared =
                    p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
                Ok(SharedSecret::from(shared.raw_secret_bytes().as_slice()))
            }
            Secret::P384(secret, _) => {
                let peer = p384::PublicKey::from_sec1_bytes(peer).map_err(|_| invalid_share())?;
                let shared =
                    p384::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
                Ok(SharedSecret::from(shared.raw_secret_bytes().as_slice()))
            }
        }
    }

    fn pub_key(&self) -> &[u8] {
        match &self.secret {
            Secret::X25519(_, public) => public.as_bytes(),
            Secret::P256(_, public) | Secret::P384(_, public) => public,
        }
    }

    fn group(&self) -> NamedGroup {
        self.group
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::crypto::GetRandomFailed;

    /// Always the same byte; or no bytes at all.
    #[derive(Debug)]
    struct Fixed(Option<u8>);

    impl SecureRandom for Fixed {
        fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
            let byte = self.0.ok_or(GetRandomFailed)?;
            buf.fill(byte);
            Ok(())
        }
    }

    static SEVENS: Fixed = Fixed(Some(7));
    static ZEROS: Fixed = Fixed(Some(0));
    static BROKEN: Fixed = Fixed(None);
    const CURVES: [Curve; 3] = [Curve::X25519, Curve::P256, Curve::P384];

    #[test]
    fn both_sides_agree_and_rustls_rustcrypto_agrees_with_us() {
        let theirs = rustls_rustcrypto::provider().kx_groups;
        for (curve, their_group) in CURVES.into_iter().zip(theirs) {
            let ours = Group::new(curve, &rustls_rustcrypto::Provider);
            assert_eq!(ours.name(), their_group.name(), "same order");
            let a = ours.start().unwrap(); // ok: test code
            let b = their_group.start().unwrap(); // ok: test code
            let (a_pub, b_pub) = (a.pub_key().to_vec(), b.pub_key().to_vec());
            let ab = a.complete(&b_pub).unwrap(); // ok: test code
            let ba = b.complete(&a_pub).unwrap(); // ok: test code
            assert_eq!(ab.secret_bytes(), ba.secret_bytes(), "{curve:?}");
        }
    }

    #[test]
    fn secrets_come_from_the_given_random_source() {
        for curve in CURVES {
            let a = Group::new(curve, &SEVENS).start().unwrap(); // ok: test code
            let b = Group::new(curve, &SEVENS).start().unwrap(); // ok: test code
            assert_eq!(a.pub_key(), b.pub_key(), "{curve:?}");
            let err = Group::new(curve, &BROKEN).start().err();
            assert!(
                matches!(err, Some(rustls::Error::FailedToGetRandomBytes)),
                "{curve:?}"
            );
        }
        // Zero is no P-256/P-384 scalar: redrawing cannot help, so it fails, not loops.
        for curve in [Curve::P256, Curve::P384] {
            assert!(Group::new(curve, &ZEROS).start().is_err(), "{curve:?}");
        }
    }

    #[test]
    fn bad_peer_shares_are_invalid_key_shares() {
        for curve in CURVES {
            let group = Group::new(curve, &SEVENS);
            for peer in [&[][..], &[4u8; 7], &[0u8; 32], &[0xffu8; 97]] {
                let err = group.start().unwrap().complete(peer).err(); // ok: test code
                assert_eq!(err, Some(invalid_share()), "{curve:?} {}", peer.len());
            }
        }
    }
}
