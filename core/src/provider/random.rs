//! The default provider's random source: the operating system's, through `getrandom`
//! 0.2 (its JavaScript backend on `wasm32-unknown-unknown`; on bare metal the
//! application registers a source with `getrandom::register_custom_getrandom!`).

use rustls::crypto::{GetRandomFailed, SecureRandom};

/// The OS random source.
#[derive(Debug)]
pub(crate) struct OsRandom;

impl SecureRandom for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        getrandom::getrandom(buf).map_err(|_| GetRandomFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_length_and_two_draws_differ() {
        for len in [0, 1, 31, 32, 33, 1000] {
            let mut a = alloc::vec![0u8; len];
            OsRandom.fill(&mut a).unwrap(); // ok: test code
        }
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        OsRandom.fill(&mut a).unwrap(); // ok: test code
        OsRandom.fill(&mut b).unwrap(); // ok: test code
        assert_ne!(a, b, "2^-256 chance of a false failure");
        assert_ne!(a, [0u8; 32]);
    }
}
