//! AES-GCM for x86-64: AES from the `aes` crate (AES-NI or VAES, detected at run time) in
//! counter mode, and a GHASH on PCLMULQDQ that reduces eight blocks at a time, sixteen on
//! 512-bit VPCLMULQDQ ([`clmul`]), where `aes-gcm`'s (`polyval` 0.7) reduces four and was
//! about a third of native bulk CPU (BENCHMARKS.md). On a CPU without PCLMULQDQ the same AEAD hashes with
//! the `ghash` crate.

pub(crate) mod clmul;
pub(crate) mod gcm;
