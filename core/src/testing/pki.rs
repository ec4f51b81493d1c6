//! The test PKI of the in-memory [`Pair`](super::Pair), built in: a root, an
//! intermediate, server certificates for every verdict a client must reach, and a client
//! certificate. Ed25519 throughout (deterministic signatures), valid around [`CLOCK`].
//! Test-only keys, published on purpose: never trust this root anywhere else.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The wall clock of every [`Pair`](super::Pair): 2027-01-15 08:00:00 UTC.
pub const CLOCK: u64 = 1_800_000_000;

/// The name the server certificates cover (with `127.0.0.1`), and the Pair's default.
pub const SERVER_NAME: &str = "server.test";

const ROOT: &[u8] = include_bytes!("pki/root.der");
const INTERMEDIATE: &[u8] = include_bytes!("pki/intermediate.der");
const VALID: &[u8] = include_bytes!("pki/valid.der");
const EXPIRED: &[u8] = include_bytes!("pki/expired.der");
const NOT_YET_VALID: &[u8] = include_bytes!("pki/not_yet_valid.der");
const WRONG_HOST: &[u8] = include_bytes!("pki/wrong_host.der");
const SELF_SIGNED: &[u8] = include_bytes!("pki/self_signed.der");
const UNKNOWN_ROOT: &[u8] = include_bytes!("pki/unknown_root.der");
const UNKNOWN_ROOT_INTERMEDIATE: &[u8] = include_bytes!("pki/unknown_root_intermediate.der");
const SERVER_KEY: &[u8] = include_bytes!("pki/server.key.der");
const CLIENT: &[u8] = include_bytes!("pki/client.der");
const CLIENT_KEY: &[u8] = include_bytes!("pki/client.key.der");

/// Which certificate chain the Pair's server presents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TestCertificate {
    /// Valid for [`SERVER_NAME`] at [`CLOCK`], with its intermediate: verifies.
    #[default]
    Valid,
    /// Expired in 2021: `CERT_EXPIRED`.
    Expired,
    /// Valid only from 2040: `CERT_NOT_YET_VALID`.
    NotYetValid,
    /// For `other.test` only: `CERT_HOSTNAME_MISMATCH`.
    WrongHost,
    /// Signed by its own key: `CERT_SELF_SIGNED`.
    SelfSigned,
    /// From a CA the client does not trust: `CERT_UNKNOWN_ISSUER`.
    UnknownRoot,
    /// The valid leaf without its intermediate: `CERT_UNKNOWN_ISSUER` (says an
    /// intermediate may be missing).
    MissingIntermediate,
}

fn der(bytes: &'static [u8]) -> CertificateDer<'static> {
    CertificateDer::from(bytes)
}

impl TestCertificate {
    /// Every scenario.
    pub const ALL: [TestCertificate; 7] = [
        TestCertificate::Valid,
        TestCertificate::Expired,
        TestCertificate::NotYetValid,
        TestCertificate::WrongHost,
        TestCertificate::SelfSigned,
        TestCertificate::UnknownRoot,
        TestCertificate::MissingIntermediate,
    ];

    /// The chain the server sends, leaf first.
    pub fn chain(self) -> Vec<CertificateDer<'static>> {
        match self {
            TestCertificate::Valid => vec![der(VALID), der(INTERMEDIATE)],
            TestCertificate::Expired => vec![der(EXPIRED), der(INTERMEDIATE)],
            TestCertificate::NotYetValid => vec![der(NOT_YET_VALID), der(INTERMEDIATE)],
            TestCertificate::WrongHost => vec![der(WRONG_HOST), der(INTERMEDIATE)],
            TestCertificate::SelfSigned => vec![der(SELF_SIGNED)],
            TestCertificate::UnknownRoot => vec![der(UNKNOWN_ROOT), der(UNKNOWN_ROOT_INTERMEDIATE)],
            TestCertificate::MissingIntermediate => vec![der(VALID)],
        }
    }

    /// The error code a default client reports for this chain (`None`: it verifies).
    pub fn expected_code(self) -> Option<&'static str> {
        match self {
            TestCertificate::Valid => None,
            TestCertificate::Expired => Some("CERT_EXPIRED"),
            TestCertificate::NotYetValid => Some("CERT_NOT_YET_VALID"),
            TestCertificate::WrongHost => Some("CERT_HOSTNAME_MISMATCH"),
            TestCertificate::SelfSigned => Some("CERT_SELF_SIGNED"),
            TestCertificate::UnknownRoot | TestCertificate::MissingIntermediate => {
                Some("CERT_UNKNOWN_ISSUER")
            }
        }
    }
}

/// The root the Pair's client trusts.
pub fn root() -> CertificateDer<'static> {
    der(ROOT)
}

/// [`root`] as PEM, for `ConfigBuilder::root_certificates_pem`.
pub fn root_pem() -> String {
    crate::cert::to_pem(ROOT)
}

/// The private key of every server certificate (PKCS#8, Ed25519).
pub fn server_key() -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(SERVER_KEY))
}

/// The client certificate's chain (leaf, intermediate), issued by [`root`]'s intermediate.
pub fn client_chain() -> Vec<CertificateDer<'static>> {
    vec![der(CLIENT), der(INTERMEDIATE)]
}

/// [`client_chain`] as PEM, for `ConfigBuilder::client_auth_pem`.
pub fn client_chain_pem() -> String {
    client_chain()
        .iter()
        .map(|c| crate::cert::to_pem(c))
        .collect()
}

/// The client certificate's private key as PKCS#8 PEM, for `ConfigBuilder::client_auth_pem`.
pub fn client_key_pem() -> String {
    crate::cert::pem("PRIVATE KEY", CLIENT_KEY)
}
