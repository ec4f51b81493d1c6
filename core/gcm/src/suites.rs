//! The six AES-GCM cipher suites: rustls-rustcrypto's, with records protected by this
//! crate's `aes-gcm` 0.11 code and the AES-GCM confidentiality limit of RFC 8446 §5.5 /
//! RFC 9325 (rustls-rustcrypto sets none, so rustls never rekeyed). Hashes and HKDF/PRF
//! stay rustls-rustcrypto's.
//!
//! The suites are built here, not by the caller: a `&dyn` AEAD copied into another
//! crate's `static` takes its vtable, and so the cipher's compiled code, along with it.

use rustls::crypto::CipherSuiteCommon;
use rustls::{SupportedCipherSuite, Tls12CipherSuite, Tls13CipherSuite};

use crate::record::{Tls12, Tls13};
use aes_gcm::{Aes128Gcm, Aes256Gcm};

static TLS13_AES_128: Tls13<Aes128Gcm> = Tls13::new();
static TLS13_AES_256: Tls13<Aes256Gcm> = Tls13::new();
static TLS12_AES_128: Tls12<Aes128Gcm> = Tls12::new();
static TLS12_AES_256: Tls12<Aes256Gcm> = Tls12::new();

/// Records one AES-GCM key may protect before rustls updates the key (TLS 1.3) or closes
/// the connection (TLS 1.2): 2^24, as rustls' own providers use (RFC 9325 §4.4 allows 2^24.5).
pub const CONFIDENTIALITY_LIMIT: u64 = 1 << 24;

/// `TLS13_AES_128_GCM_SHA256` with AES-GCM records from this crate.
pub static TLS13_AES_128_GCM_SHA256: Tls13CipherSuite =
    tls13(rustls_rustcrypto::TLS13_AES_128_GCM_SHA256, &TLS13_AES_128);
/// `TLS13_AES_256_GCM_SHA384` with AES-GCM records from this crate.
pub static TLS13_AES_256_GCM_SHA384: Tls13CipherSuite =
    tls13(rustls_rustcrypto::TLS13_AES_256_GCM_SHA384, &TLS13_AES_256);
/// `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256` with AES-GCM records from this crate.
pub static TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: Tls12CipherSuite = tls12(
    rustls_rustcrypto::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    &TLS12_AES_128,
);
/// `TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384` with AES-GCM records from this crate.
pub static TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: Tls12CipherSuite = tls12(
    rustls_rustcrypto::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    &TLS12_AES_256,
);
/// `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` with AES-GCM records from this crate.
pub static TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: Tls12CipherSuite = tls12(
    rustls_rustcrypto::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    &TLS12_AES_128,
);
/// `TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384` with AES-GCM records from this crate.
pub static TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: Tls12CipherSuite = tls12(
    rustls_rustcrypto::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    &TLS12_AES_256,
);

/// All six, TLS 1.3 first, in rustls-rustcrypto's order.
pub static ALL: [SupportedCipherSuite; 6] = [
    SupportedCipherSuite::Tls13(&TLS13_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls13(&TLS13_AES_256_GCM_SHA384),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
];

/// `base` with `aead` and the GCM confidentiality limit; everything else is `base`'s.
// Evaluated only in the `static`s above: a TLS 1.2 `base` fails the build, never a run.
#[allow(clippy::panic)]
const fn tls13(
    base: SupportedCipherSuite,
    aead: &'static dyn rustls::crypto::cipher::Tls13AeadAlgorithm,
) -> Tls13CipherSuite {
    let SupportedCipherSuite::Tls13(base) = base else {
        panic!("not a TLS 1.3 suite"); // ok: const evaluation only: a wrong suite fails the build
    };
    Tls13CipherSuite {
        common: CipherSuiteCommon {
            suite: base.common.suite,
            hash_provider: base.common.hash_provider,
            confidentiality_limit: CONFIDENTIALITY_LIMIT,
        },
        hkdf_provider: base.hkdf_provider,
        aead_alg: aead,
        quic: base.quic,
    }
}

/// The TLS 1.2 counterpart of [`tls13`].
#[allow(clippy::panic)]
const fn tls12(
    base: SupportedCipherSuite,
    aead: &'static dyn rustls::crypto::cipher::Tls12AeadAlgorithm,
) -> Tls12CipherSuite {
    let SupportedCipherSuite::Tls12(base) = base else {
        panic!("not a TLS 1.2 suite"); // ok: const evaluation only: a wrong suite fails the build
    };
    Tls12CipherSuite {
        common: CipherSuiteCommon {
            suite: base.common.suite,
            hash_provider: base.common.hash_provider,
            confidentiality_limit: CONFIDENTIALITY_LIMIT,
        },
        kx: base.kx,
        sign: base.sign,
        prf_provider: base.prf_provider,
        aead_alg: aead,
    }
}
