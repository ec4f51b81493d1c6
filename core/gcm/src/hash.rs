//! SHA-256 and SHA-384 for rustls (`rustls::crypto::hash::Hash`): the suites' transcript
//! hashes, on `sha2` 0.11.

use alloc::boxed::Box;
use core::marker::PhantomData;

use rustls::crypto::hash::{Context, Hash, HashAlgorithm, Output};
use sha2::digest::{Digest, OutputSizeUser};
use sha2::{Sha256, Sha384};

/// A hash function of `sha2` that rustls may use: its output fits rustls' `Output`.
pub(crate) trait Sha: Digest + Clone + Send + Sync + 'static {
    /// The TLS name of the function.
    const ALGORITHM: HashAlgorithm;
}

impl Sha for Sha256 {
    const ALGORITHM: HashAlgorithm = HashAlgorithm::SHA256;
}

impl Sha for Sha384 {
    const ALGORITHM: HashAlgorithm = HashAlgorithm::SHA384;
}

/// The rustls hash provider for `D`.
pub(crate) struct Sha2<D>(PhantomData<fn() -> D>);

impl<D> Sha2<D> {
    pub(crate) const fn new() -> Self {
        Self(PhantomData)
    }
}

/// SHA-256: the hash of the `*_SHA256` suites.
pub(crate) static SHA256: Sha2<Sha256> = Sha2::new();
/// SHA-384: the hash of the `*_SHA384` suites.
pub(crate) static SHA384: Sha2<Sha384> = Sha2::new();

impl<D: Sha> Hash for Sha2<D> {
    fn start(&self) -> Box<dyn Context> {
        Box::new(Running(D::new()))
    }

    fn hash(&self, data: &[u8]) -> Output {
        Output::new(&D::digest(data))
    }

    fn output_len(&self) -> usize {
        <D as OutputSizeUser>::output_size()
    }

    fn algorithm(&self) -> HashAlgorithm {
        D::ALGORITHM
    }
}

/// A hash in progress.
struct Running<D>(D);

impl<D: Sha> Context for Running<D> {
    fn fork_finish(&self) -> Output {
        Output::new(&self.0.clone().finalize())
    }

    fn fork(&self) -> Box<dyn Context> {
        Box::new(Running(self.0.clone()))
    }

    fn finish(self: Box<Self>) -> Output {
        Output::new(&self.0.finalize())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()) // ok: test code
            .collect()
    }

    /// FIPS 180-4 examples ("abc").
    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const ABC_SHA384: &str = concat!(
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed",
        "8086072ba1e7cc2358baeca134c825a7"
    );

    #[test]
    fn fips_180_vectors_in_one_go_and_in_pieces() {
        let cases: [(&dyn Hash, &str, HashAlgorithm); 2] = [
            (&SHA256, ABC_SHA256, HashAlgorithm::SHA256),
            (&SHA384, ABC_SHA384, HashAlgorithm::SHA384),
        ];
        for (hash, expect, alg) in cases {
            let expect = hex(expect);
            assert_eq!(hash.algorithm(), alg);
            assert_eq!(hash.output_len(), expect.len());
            assert_eq!(hash.hash(b"abc").as_ref(), expect);
            let mut ctx = hash.start();
            ctx.update(b"a");
            let forked = ctx.fork();
            let after_a = ctx.fork_finish();
            ctx.update(b"bc");
            assert_eq!(ctx.finish().as_ref(), expect);
            // The fork kept its own state; fork_finish did not disturb the original.
            assert_eq!(after_a.as_ref(), hash.hash(b"a").as_ref());
            assert_eq!(forked.finish().as_ref(), hash.hash(b"a").as_ref());
        }
    }

    #[test]
    fn same_outputs_as_rustls_rustcrypto() {
        use rustls::SupportedCipherSuite;
        let theirs = |s: SupportedCipherSuite| match s {
            SupportedCipherSuite::Tls13(s) => s.common.hash_provider,
            SupportedCipherSuite::Tls12(s) => s.common.hash_provider,
        };
        let pairs: [(&dyn Hash, &dyn Hash); 2] = [
            (&SHA256, theirs(rustls_rustcrypto::TLS13_AES_128_GCM_SHA256)),
            (&SHA384, theirs(rustls_rustcrypto::TLS13_AES_256_GCM_SHA384)),
        ];
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        for (ours, theirs) in pairs {
            assert_eq!(ours.algorithm(), theirs.algorithm());
            for len in [0, 1, 55, 56, 64, 111, 112, 128, 1000] {
                let (a, b) = (ours.hash(&data[..len]), theirs.hash(&data[..len]));
                assert_eq!(a.as_ref(), b.as_ref(), "{len}");
            }
        }
    }
}
