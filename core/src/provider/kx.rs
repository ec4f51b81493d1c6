//! Key exchange: the hybrid X25519MLKEM768 ([`super::hybrid`]), then X25519, P-256 and
//! P-384 (ECDHE), with every ephemeral secret drawn from the provider's `SecureRandom`,
//! so one random source feeds the whole handshake (the OS through getrandom by default, a
//! seeded stream in the testing kit).
//!
//! The classic curves are rustls-rustcrypto 0.0.2-alpha's, in its order.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use rustls::crypto::{
    ActiveKeyExchange, CompletedKeyExchange, SecureRandom, SharedSecret, SupportedKxGroup,
};
use rustls::{NamedGroup, PeerMisbehaved, ProtocolVersion};

/// A key-exchange group of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    /// ML-KEM-768 and X25519 together (TLS 1.3 only).
    X25519MlKem768,
    X25519,
    P256,
    P384,
}

impl Curve {
    /// The groups of the default provider, in the order offered: the post-quantum
    /// hybrid first (its X25519 half goes beside it as a second key share), then the
    /// classic curves.
    pub(crate) const DEFAULT_ORDER: [Curve; 4] = [
        Curve::X25519MlKem768,
        Curve::X25519,
        Curve::P256,
        Curve::P384,
    ];
}

/// The groups of the default provider ([`Curve::DEFAULT_ORDER`]), drawing their secrets
/// from `rng`.
pub(crate) const fn groups(rng: &'static dyn SecureRandom) -> [Group; 4] {
    let [a, b, c, d] = Curve::DEFAULT_ORDER;
    [
        Group::new(a, rng),
        Group::new(b, rng),
        Group::new(c, rng),
        Group::new(d, rng),
    ]
}

/// A key-exchange group whose ephemeral secrets come from `rng`.
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
            Curve::X25519MlKem768 => NamedGroup::X25519MLKEM768,
            Curve::X25519 => NamedGroup::X25519,
            Curve::P256 => NamedGroup::secp256r1,
            Curve::P384 => NamedGroup::secp384r1,
        }
    }

    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        let secret = match self.curve {
            Curve::X25519MlKem768 => return Ok(Box::new(super::hybrid::start(self.rng)?)),
            Curve::X25519 => {
                let (secret, public) = x25519_secret(self.rng)?;
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

    /// The server's side (rustls servers on this provider): for the ECDHE groups a key
    /// pair of our own, as rustls' default does; for the hybrid, ML-KEM encapsulation to
    /// the client's key.
    fn start_and_complete(&self, peer: &[u8]) -> Result<CompletedKeyExchange, rustls::Error> {
        if self.curve == Curve::X25519MlKem768 {
            return super::hybrid::accept(self.rng, peer);
        }
        let exchange = self.start()?;
        Ok(CompletedKeyExchange {
            group: exchange.group(),
            pub_key: exchange.pub_key().to_vec(),
            secret: exchange.complete(peer)?,
        })
    }

    fn ffdhe_group(&self) -> Option<rustls::ffdhe_groups::FfdheGroup<'static>> {
        // None of these is a finite-field group (and rustls' default looks it up in a
        // table that would be linked for nothing).
        None
    }

    fn usable_for_version(&self, version: ProtocolVersion) -> bool {
        // The hybrid is defined for TLS 1.3 only (draft-ietf-tls-ecdhe-mlkem §3).
        self.curve != Curve::X25519MlKem768 || version == ProtocolVersion::TLSv1_3
    }
}

/// A fresh X25519 secret from `rng`, and its public key.
pub(super) fn x25519_secret(
    rng: &dyn SecureRandom,
) -> Result<(x25519_dalek::StaticSecret, x25519_dalek::PublicKey), rustls::Error> {
    let mut bytes = [0u8; 32];
    // Every 32-byte string is an X25519 secret (clamped when used).
    rng.fill(&mut bytes)?;
    let secret = x25519_dalek::StaticSecret::from(bytes);
    let public = x25519_dalek::PublicKey::from(&secret);
    Ok((secret, public))
}

/// The X25519 shared secret with `peer`, refused if `peer` is not 32 bytes or is a
/// low-order point.
pub(super) fn x25519_agree(
    secret: &x25519_dalek::StaticSecret,
    peer: &[u8],
) -> Result<x25519_dalek::SharedSecret, rustls::Error> {
    let peer: [u8; 32] = peer.try_into().map_err(|_| invalid_share())?;
    let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
    // An all-zero result means the peer sent a low-order point (RFC 7748 §6.1).
    if !shared.was_contributory() {
        return Err(invalid_share());
    }
    Ok(shared)
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

pub(super) fn invalid_share() -> rustls::Error {
    rustls::Error::from(PeerMisbehaved::InvalidKeyShare)
}

impl ActiveKeyExchange for Exchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, rustls::Error> {
        match &self.secret {
            Secret::X25519(secret, _) => {
                let shared = x25519_agree(secret, peer)?;
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
            let ours = Group::new(curve, &super::super::random::OsRandom);
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

    #[test]
    fn only_the_hybrid_is_tls13_only_and_none_is_a_finite_field_group() {
        for curve in Curve::DEFAULT_ORDER {
            let group = Group::new(curve, &SEVENS);
            assert!(group.usable_for_version(ProtocolVersion::TLSv1_3));
            let tls12 = group.usable_for_version(ProtocolVersion::TLSv1_2);
            assert_eq!(tls12, curve != Curve::X25519MlKem768, "{curve:?}");
            assert!(group.ffdhe_group().is_none());
            assert_eq!(group.start().unwrap().group(), group.name()); // ok: test code
        }
        let names = Curve::DEFAULT_ORDER.map(|c| Group::new(c, &SEVENS).name());
        assert_eq!(
            names,
            [
                NamedGroup::X25519MLKEM768,
                NamedGroup::X25519,
                NamedGroup::secp256r1,
                NamedGroup::secp384r1
            ]
        );
    }
}
