//! Typed errors. Like h11, they tell the local side's mistakes ([`Error::Local`],
//! [`ConfigError`]) apart from the peer's ([`Error::Peer`], [`Error::Certificate`]).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use rustls::pki_types::CertificateDer;

use crate::cert::CertSummary;
use crate::time::UtcTime;

mod words;

/// Everything that can end or refuse a connection.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The local side misused the API or its environment failed (no randomness, no clock).
    Local(LocalError),
    /// The peer broke the protocol, refused us, or closed without `close_notify`.
    Peer(PeerError),
    /// The peer's certificate chain failed verification.
    Certificate(Box<CertificateError>),
    /// A deadline configured in [`Config`](crate::Config) passed.
    Timeout(TimeoutPhase),
    /// An error tlsferry does not classify (a rustls error new to this version); the text
    /// is rustls' own. Neither side is blamed.
    Unclassified(String),
}

impl Error {
    /// A stable, machine-readable code (`CERT_EXPIRED`, `TRUNCATED`, `PROTOCOL`, …),
    /// shared by the CLI's JSON and the JavaScript API.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Local(LocalError::Config(_)) => "CONFIG",
            Error::Local(LocalError::InvalidServerName(_)) => "INVALID_SERVER_NAME",
            Error::Local(_) => "LOCAL",
            Error::Peer(PeerError::Truncated {
                during_handshake: true,
            }) => "HANDSHAKE_EOF",
            Error::Peer(PeerError::Truncated { .. }) => "TRUNCATED",
            Error::Peer(PeerError::AlertReceived(_)) => "ALERT",
            Error::Peer(PeerError::Incompatible(_)) => "INCOMPATIBLE",
            Error::Peer(PeerError::Misbehaved(_)) => "PROTOCOL",
            Error::Certificate(c) => c.reason.code(),
            Error::Timeout(_) => "TIMEOUT",
            Error::Unclassified(_) => "UNKNOWN",
        }
    }

    /// True if the local side caused this error (misuse, configuration, environment).
    pub fn is_local(&self) -> bool {
        matches!(self, Error::Local(_))
    }

    /// True if the peer caused this error (protocol, certificate, truncation).
    pub fn is_peer(&self) -> bool {
        matches!(self, Error::Peer(_) | Error::Certificate(_))
    }

    /// The certificate failure, if this is one.
    pub fn certificate(&self) -> Option<&CertificateError> {
        match self {
            Error::Certificate(c) => Some(c),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Local(e) => e.fmt(f),
            Error::Peer(e) => e.fmt(f),
            Error::Certificate(e) => e.fmt(f),
            Error::Timeout(p) => p.fmt(f),
            Error::Unclassified(m) => {
                write!(f, "TLS failed for a reason tlsferry does not classify: {m}")
            }
        }
    }
}

impl core::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Local(LocalError::Config(e))
    }
}

/// Mistakes of the caller, and failures of the local environment.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalError {
    /// The configuration is invalid.
    Config(ConfigError),
    /// The server name is neither a valid DNS name nor an IP address.
    InvalidServerName(String),
    /// `send` or `close` after `close()` was called.
    SendAfterClose,
    /// More ciphertext was fed than [`Client::receive_capacity`](crate::Client::receive_capacity)
    /// allowed (for [`Input::Received`](crate::Input::Received): than
    /// [`Client::receive_buffer`](crate::Client::receive_buffer) offered); nothing was
    /// consumed. Drain `poll_output` first.
    ReceiveBufferFull {
        /// Bytes that could have been accepted.
        capacity: usize,
    },
    /// Input after [`Input::Eof`](crate::Input::Eof) was given.
    InputAfterEof,
    /// The environment failed: no random bytes, no current time.
    Environment(String),
    /// Keying material cannot be exported (see
    /// [`Client::export_keying_material`](crate::Client::export_keying_material)).
    Exporter(String),
    /// A fault inside tlsferry itself, not caused by the peer or the caller: please
    /// report it.
    Internal(String),
}

impl fmt::Display for LocalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalError::Config(e) => e.fmt(f),
            LocalError::InvalidServerName(n) => {
                write!(f, "invalid server name {n:?}: not a DNS name or IP address")
            }
            LocalError::SendAfterClose => f.write_str("cannot send after close()"),
            LocalError::ReceiveBufferFull { capacity } => write!(
                f,
                "receive buffer full: fed more than the {capacity} bytes the client offered room for"
            ),
            LocalError::InputAfterEof => f.write_str("input after end of stream"),
            LocalError::Environment(m) => write!(f, "local failure: {m}"),
            LocalError::Exporter(m) => write!(f, "cannot export keying material: {m}"),
            LocalError::Internal(m) => write!(
                f,
                "internal error in tlsferry (not the peer's fault; please report it): {m}"
            ),
        }
    }
}

/// Faults of the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerError {
    /// The transport ended without the peer's `close_notify`: data may be missing.
    Truncated {
        /// True if the handshake had not finished.
        during_handshake: bool,
    },
    /// The peer sent a fatal alert.
    AlertReceived(Alert),
    /// Nothing in common: protocol version, cipher suite, group, signature scheme or ALPN
    /// (in words).
    Incompatible(String),
    /// The peer broke the protocol: malformed or unexpected message, bad MAC, oversized
    /// record, or a reply that is not TLS at all (in words).
    Misbehaved(String),
}

/// A fatal alert the peer sent (RFC 8446 §6).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Alert {
    /// The alert's value on the wire (40 = `handshake_failure`, 48 = `unknown_ca`, …).
    pub code: u8,
    /// What this client offered (versions, cipher suites, groups), for the alerts that
    /// say the offer was not acceptable (`handshake_failure`, `protocol_version`,
    /// `insufficient_security`).
    pub offered: Option<String>,
}

impl Alert {
    /// The alert's IANA name, e.g. `handshake_failure`.
    pub fn name(&self) -> &'static str {
        words::alert_name(self.code)
    }

    /// What the peer means by it, and what to try.
    pub fn meaning(&self) -> &'static str {
        words::alert_meaning(self.code)
    }
}

impl fmt::Display for Alert {
    /// `handshake_failure: <meaning>[; we offered …]`, or `an unknown alert (number 254)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if words::alert_known(self.code) {
            write!(f, "{}: {}", self.name(), self.meaning())?;
        } else {
            write!(f, "an unknown alert (number {})", self.code)?;
        }
        if let Some(offered) = &self.offered {
            write!(f, "; we offered {offered}")?;
        }
        Ok(())
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerError::Truncated {
                during_handshake: true,
            } => f.write_str("connection closed by peer during the TLS handshake"),
            PeerError::Truncated {
                during_handshake: false,
            } => f.write_str(
                "connection truncated: peer closed without close_notify, data may be missing",
            ),
            PeerError::AlertReceived(a) => write!(f, "the peer sent a fatal alert, {a}"),
            PeerError::Incompatible(m) => write!(f, "incompatible peer: {m}"),
            PeerError::Misbehaved(m) => write!(f, "protocol error: {m}"),
        }
    }
}

/// Which deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// The handshake did not finish in time.
    Handshake,
    /// Nothing was received for the idle timeout.
    Idle,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeoutPhase::Handshake => f.write_str("timed out during the TLS handshake"),
            TimeoutPhase::Idle => f.write_str("timed out waiting for data from the peer"),
        }
    }
}

/// A failed certificate verification, with the evidence: what was asked for, what was
/// presented, the clock used, and the unverified chain as the server sent it.
#[derive(Clone, PartialEq)]
pub struct CertificateError {
    /// Why verification failed.
    pub reason: CertificateFailure,
    /// The name the client asked for.
    pub server_name: String,
    /// The wall-clock time used for validity checks (Unix seconds), if known.
    pub now: Option<u64>,
    /// The chain exactly as the server sent it (leaf first), unverified.
    pub chain: Vec<CertificateDer<'static>>,
}

/// The chain is shown as the size of each certificate: a hex dump of it would bury the
/// reason when `main` returns this error (its bytes stay in `chain` and `report()`).
impl fmt::Debug for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Size(usize);
        impl fmt::Debug for Size {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "<{} bytes DER>", self.0)
            }
        }
        struct Sizes<'a>(&'a [CertificateDer<'static>]);
        impl fmt::Debug for Sizes<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(self.0.iter().map(|c| Size(c.len())))
                    .finish()
            }
        }
        f.debug_struct("CertificateError")
            .field("reason", &self.reason)
            .field("server_name", &self.server_name)
            .field("now", &self.now)
            .field("chain", &Sizes(&self.chain))
            .finish()
    }
}

impl CertificateError {
    /// Summaries of the presented chain, for reports.
    pub fn chain_summary(&self) -> Vec<CertSummary> {
        CertSummary::chain(&self.chain)
    }

    /// A multi-line forensic report: the reason, the name asked for vs the names covered,
    /// validity vs the clock, and the chain as sent.
    pub fn report(&self) -> String {
        let mut out = format!("certificate verification failed: {}\n", self.reason);
        out.push_str(&format!("  server name asked for: {}\n", self.server_name));
        if let Some(now) = self.now {
            out.push_str(&format!("  clock used:            {}\n", UtcTime(now)));
        }
        let chain = self.chain_summary();
        if let Some(leaf) = chain.first() {
            let names = if leaf.names.is_empty() {
                "(none)".to_string()
            } else {
                leaf.names.join(", ")
            };
            out.push_str(&format!("  names in certificate:  {names}\n"));
            out.push_str(&format!("  leaf validity:         {}\n", leaf.validity()));
        }
        out.push_str(&format!(
            "  chain as sent ({} certificate{}):\n",
            chain.len(),
            if chain.len() == 1 { "" } else { "s" }
        ));
        for (i, c) in chain.iter().enumerate() {
            out.push_str(&format!(
                "   {i}: subject {}\n      issuer  {}\n      sha256  {}\n",
                c.subject, c.issuer, c.sha256
            ));
        }
        out
    }
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "certificate verify failed: {}", self.reason)
    }
}

/// The reason a certificate was refused, in words a person understands.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateFailure {
    /// Past its notAfter.
    Expired {
        /// notAfter, Unix seconds, when the verifier said which.
        not_after: Option<u64>,
        /// The clock used, Unix seconds, if known.
        now: Option<u64>,
    },
    /// Before its notBefore.
    NotYetValid {
        /// notBefore, Unix seconds, when the verifier said which.
        not_before: Option<u64>,
        /// The clock used, Unix seconds, if known.
        now: Option<u64>,
    },
    /// The certificate does not cover the name asked for.
    NameMismatch {
        /// The name asked for.
        expected: String,
        /// The names the certificate covers.
        presented: Vec<String>,
    },
    /// The chain does not lead to a trusted root (when nothing more precise is known).
    UnknownIssuer,
    /// The server certificate signed itself and is not in the trust store.
    SelfSigned {
        /// Its subject (and issuer).
        subject: String,
    },
    /// No trusted root issued the top of the chain the server sent.
    IssuerNotTrusted {
        /// The issuer that is not a trusted root (distinguished name).
        issuer: String,
        /// False if the server sent its leaf alone: then an intermediate may be missing.
        intermediates_sent: bool,
    },
    /// A key in the chain is too weak (an RSA modulus under 2048 bits).
    WeakKey {
        /// The RSA modulus size.
        bits: usize,
    },
    /// The certificate is not valid for TLS server authentication (extended key usage).
    InvalidPurpose,
    /// A signature in the chain does not verify.
    BadSignature,
    /// The server's handshake signature does not verify with the key of its certificate:
    /// it does not hold the certificate's private key, or the handshake was tampered with.
    HandshakeSignature,
    /// A signature algorithm in the chain is not supported (e.g. SHA-1, RSA-1024).
    UnsupportedSignatureAlgorithm(String),
    /// A certificate could not be decoded.
    BadEncoding,
    /// The certificate was revoked.
    Revoked,
    /// The server sent no certificate.
    NoCertificate,
    /// Another reason, in rustls' / webpki's words.
    Other(String),
}

impl CertificateFailure {
    /// A stable code for this reason.
    pub fn code(&self) -> &'static str {
        match self {
            CertificateFailure::Expired { .. } => "CERT_EXPIRED",
            CertificateFailure::NotYetValid { .. } => "CERT_NOT_YET_VALID",
            CertificateFailure::NameMismatch { .. } => "CERT_HOSTNAME_MISMATCH",
            CertificateFailure::UnknownIssuer | CertificateFailure::IssuerNotTrusted { .. } => {
                "CERT_UNKNOWN_ISSUER"
            }
            CertificateFailure::SelfSigned { .. } => "CERT_SELF_SIGNED",
            CertificateFailure::WeakKey { .. } => "CERT_WEAK_KEY",
            CertificateFailure::InvalidPurpose => "CERT_INVALID_PURPOSE",
            CertificateFailure::BadSignature => "CERT_BAD_SIGNATURE",
            CertificateFailure::HandshakeSignature => "HANDSHAKE_SIGNATURE",
            CertificateFailure::UnsupportedSignatureAlgorithm(_) => "CERT_UNSUPPORTED_ALGORITHM",
            CertificateFailure::BadEncoding => "CERT_BAD_ENCODING",
            CertificateFailure::Revoked => "CERT_REVOKED",
            CertificateFailure::NoCertificate => "CERT_MISSING",
            CertificateFailure::Other(_) => "CERT_INVALID",
        }
    }
}

impl fmt::Display for CertificateFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateFailure::Expired { not_after, now } => {
                f.write_str("certificate has expired")?;
                dates(f, "notAfter", *not_after, *now)
            }
            CertificateFailure::NotYetValid { not_before, now } => {
                f.write_str("certificate is not yet valid")?;
                dates(f, "notBefore", *not_before, *now)
            }
            CertificateFailure::NameMismatch {
                expected,
                presented,
            } => {
                if presented.is_empty() {
                    write!(
                        f,
                        "certificate names no host (no subjectAltName), not {expected}"
                    )
                } else {
                    write!(
                        f,
                        "certificate is for {}, not {expected}",
                        presented.join(", ")
                    )
                }
            }
            CertificateFailure::UnknownIssuer => f.write_str(
                "unable to get local issuer certificate: the chain does not lead to a trusted root",
            ),
            CertificateFailure::SelfSigned { subject } => write!(
                f,
                "self-signed certificate ({subject}): no trusted CA issued it"
            ),
            CertificateFailure::IssuerNotTrusted {
                issuer,
                intermediates_sent: false,
            } => write!(
                f,
                "unable to get local issuer certificate: its issuer ({issuer}) is not a trusted \
                 root and the server sent no intermediate certificate (is the server missing an \
                 intermediate, or is its CA not trusted?)"
            ),
            CertificateFailure::IssuerNotTrusted {
                issuer,
                intermediates_sent: true,
            } => write!(
                f,
                "unable to get local issuer certificate: the chain ends at {issuer}, which is \
                 not a trusted root"
            ),
            CertificateFailure::WeakKey { bits } => write!(
                f,
                "the chain contains a {bits}-bit RSA key; at least 2048 bits are required"
            ),
            CertificateFailure::InvalidPurpose => f.write_str(
                "certificate is not valid for TLS server authentication (extended key usage)",
            ),
            CertificateFailure::BadSignature => f.write_str(
                "a signature in the certificate chain does not verify (a certificate was altered, \
                 or was not issued by the certificate above it)",
            ),
            CertificateFailure::HandshakeSignature => f.write_str(
                "the server's handshake signature does not verify with the key in its \
                 certificate: the server does not hold that certificate's private key, or the \
                 connection was tampered with",
            ),
            CertificateFailure::UnsupportedSignatureAlgorithm(m) => {
                write!(
                    f,
                    "unsupported or too weak signature algorithm in the chain ({m})"
                )
            }
            CertificateFailure::BadEncoding => f.write_str("certificate is malformed"),
            CertificateFailure::Revoked => f.write_str("certificate has been revoked"),
            CertificateFailure::NoCertificate => f.write_str("server sent no certificate"),
            CertificateFailure::Other(m) => f.write_str(m),
        }
    }
}

/// Which PEM input of a configuration an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PemInput {
    /// Trusted root certificates (CLI `--cafile`, JS `caPem`).
    CaCertificates,
    /// The client certificate chain (CLI `--cert`, JS `clientCertPem`).
    ClientCertificate,
    /// The client private key (CLI `--key`, JS `clientKeyPem`).
    ClientKey,
    /// Certificates given for another purpose (e.g. a chain to verify offline).
    Certificates,
}

impl fmt::Display for PemInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PemInput::CaCertificates => "CA certificates",
            PemInput::ClientCertificate => "client certificate",
            PemInput::ClientKey => "client key",
            PemInput::Certificates => "certificates",
        })
    }
}

/// ` (notAfter …, now …)` with only the dates that are known: never an invented one.
fn dates(
    f: &mut fmt::Formatter<'_>,
    field: &str,
    date: Option<u64>,
    now: Option<u64>,
) -> fmt::Result {
    match (date, now) {
        (Some(d), Some(n)) => write!(f, " ({field} {}, now {})", UtcTime(d), UtcTime(n)),
        (Some(d), None) => write!(f, " ({field} {})", UtcTime(d)),
        (None, Some(n)) => write!(f, " (now {})", UtcTime(n)),
        (None, None) => Ok(()),
    }
}

/// An invalid [`Config`](crate::Config): names the input and says why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A PEM input could not be used.
    Pem {
        /// Which input.
        input: PemInput,
        /// The 1-based position of the offending PEM block, when one is at fault.
        index: Option<usize>,
        /// Why.
        reason: String,
    },
    /// The client certificate and key cannot be used together.
    ClientAuth(String),
    /// No wall-clock source was given (the core has no clock of its own).
    NoTimeProvider,
    /// The trust store is empty, so no server could be verified.
    EmptyTrustStore,
    /// An ALPN protocol name is empty or longer than 255 bytes.
    InvalidAlpn(String),
    /// A requested cipher suite is unknown or not offered by the crypto provider.
    UnknownCipherSuite(String),
    /// A requested key-exchange group is unknown or not offered by the crypto provider.
    UnknownKeyExchangeGroup(String),
    /// The provider and versions cannot form a working configuration.
    Unusable(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Pem {
                input,
                index: Some(i),
                reason,
            } => write!(f, "{input}: PEM block #{i}: {reason}"),
            ConfigError::Pem {
                input,
                index: None,
                reason,
            } => write!(f, "{input}: {reason}"),
            ConfigError::ClientAuth(m) => write!(f, "client certificate/key: {m}"),
            ConfigError::NoTimeProvider => f.write_str(
                "no wall-clock source: set Config::builder().time_provider(..) \
                 (or enable the `std` feature for the system clock)",
            ),
            ConfigError::EmptyTrustStore => {
                f.write_str("the trust store is empty: no server certificate could be verified")
            }
            ConfigError::InvalidAlpn(p) => {
                write!(f, "invalid ALPN protocol {p:?}: must be 1 to 255 bytes")
            }
            ConfigError::UnknownCipherSuite(s) => write!(f, "unknown cipher suite {s:?}"),
            ConfigError::UnknownKeyExchangeGroup(g) => write!(
                f,
                "unknown key-exchange group {g:?} (the default provider has X25519MLKEM768, \
                 X25519, secp256r1 and secp384r1)"
            ),
            ConfigError::Unusable(m) => write!(f, "unusable configuration: {m}"),
        }
    }
}

impl core::error::Error for ConfigError {}

#[cfg(feature = "std")]
impl Error {
    /// The TLS error carried inside an I/O error made from one (as the blocking and async
    /// streams return them), if there is one.
    ///
    /// ```
    /// use tlsferry_core::{Error, PeerError};
    /// let io: std::io::Error = Error::Peer(PeerError::Truncated { during_handshake: false }).into();
    /// assert_eq!(Error::from_io(&io).map(Error::code), Some("TRUNCATED"));
    /// ```
    pub fn from_io(err: &std::io::Error) -> Option<&Error> {
        err.get_ref().and_then(|e| e.downcast_ref::<Error>())
    }

    /// The I/O error kind that fits this error: `TimedOut`, `UnexpectedEof` for
    /// truncation, `InvalidData` for the peer's faults, `InvalidInput` for configuration.
    pub fn io_kind(&self) -> std::io::ErrorKind {
        use std::io::ErrorKind as K;
        match self {
            Error::Timeout(_) => K::TimedOut,
            Error::Peer(PeerError::Truncated { .. }) => K::UnexpectedEof,
            Error::Peer(_) | Error::Certificate(_) => K::InvalidData,
            Error::Local(LocalError::Config(_) | LocalError::InvalidServerName(_)) => {
                K::InvalidInput
            }
            Error::Local(_) | Error::Unclassified(_) => K::Other,
        }
    }
}

/// An I/O error of the fitting kind that carries the TLS error ([`Error::from_io`] gets it
/// back); its message is the TLS error's.
#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        std::io::Error::new(e.io_kind(), e)
    }
}

/// What the verifier knew when rustls reported an error; used to build [`Error`].
pub(crate) struct ErrorContext<'a> {
    pub server_name: &'a str,
    pub chain: Vec<CertificateDer<'static>>,
    pub now: Option<u64>,
    /// The verifier's own, more precise reason for a certificate refusal.
    pub finding: Option<CertificateFailure>,
    pub handshaking: bool,
    /// What the client offered (versions, suites, groups), for refusal alerts.
    pub offer: &'a str,
}

/// Maps a rustls error to a typed [`Error`] whose message is in plain words.
pub(crate) fn from_rustls(err: rustls::Error, cx: ErrorContext<'_>) -> Error {
    use rustls::Error as R;
    let cert = |reason: CertificateFailure| {
        Error::Certificate(Box::new(CertificateError {
            reason,
            server_name: cx.server_name.into(),
            now: cx.now,
            chain: cx.chain.clone(),
        }))
    };
    let peer = |m: String| Error::Peer(PeerError::Misbehaved(m));
    match err {
        R::InvalidCertificate(ce) => cert(
            cx.finding
                .clone()
                .unwrap_or_else(|| certificate_failure(ce, cx.now, cx.server_name)),
        ),
        R::NoCertificatesPresented => cert(CertificateFailure::NoCertificate),
        R::InvalidCertRevocationList(_) => cert(CertificateFailure::Other(
            "the certificate revocation list is invalid".into(),
        )),
        R::AlertReceived(a) => {
            let code = words::alert_code(a);
            Error::Peer(PeerError::AlertReceived(Alert {
                code,
                offered: words::alert_about_offer(code).then(|| cx.offer.into()),
            }))
        }
        R::PeerIncompatible(p) => Error::Peer(PeerError::Incompatible(words::incompatible(&p).into())),
        R::NoApplicationProtocol => Error::Peer(PeerError::Incompatible(
            "no application protocol (ALPN) in common with the server".into(),
        )),
        // The first byte of the reply is no TLS content type: say so, not "corrupt message".
        R::InvalidMessage(rustls::InvalidMessage::InvalidContentType) if cx.handshaking => peer(
            "the server's reply is not TLS (plain HTTP or another protocol on this port?)".into(),
        ),
        R::InvalidMessage(m) => peer(format!("malformed message from the server: {}", words::invalid_message(&m))),
        R::PeerMisbehaved(m) => peer(words::misbehaved(&m).into()),
        R::InappropriateMessage { got_type, .. } => peer(format!(
            "the server sent a {} record where TLS does not allow one",
            words::content_type(got_type)
        )),
        R::InappropriateHandshakeMessage { got_type, .. } => peer(format!(
            "the server sent a {} message where TLS does not allow one",
            words::handshake_type(got_type)
        )),
        R::DecryptError => peer(
            "a record from the server did not decrypt: the connection was corrupted or tampered with".into(),
        ),
        R::PeerSentOversizedRecord => peer("the server sent a record larger than TLS allows".into()),
        R::InvalidEncryptedClientHello(_) => peer("the server's Encrypted Client Hello answer is invalid".into()),
        R::UnsupportedNameType => peer("the server named itself in a form not supported".into()),
        R::FailedToGetRandomBytes => {
            Error::Local(LocalError::Environment("failed to get random bytes".into()))
        }
        R::FailedToGetCurrentTime => Error::Local(LocalError::Environment(
            "failed to get the current time".into(),
        )),
        R::EncryptError => Error::Local(LocalError::Internal(
            "too many records under one key: the connection must be renewed".into(),
        )),
        R::HandshakeNotComplete => Error::Local(LocalError::Internal(
            "an operation needed the handshake to be complete".into(),
        )),
        R::BadMaxFragmentSize => Error::Local(LocalError::Config(ConfigError::Unusable(
            "the maximum fragment size is out of range".into(),
        ))),
        R::InconsistentKeys(_) => Error::Local(LocalError::Config(ConfigError::ClientAuth(
            "the private key does not match the certificate".into(),
        ))),
        R::General(m) => Error::Local(LocalError::Internal(m)),
        other => Error::Unclassified(other.to_string()),
    }
}

fn certificate_failure(
    ce: rustls::CertificateError,
    now: Option<u64>,
    server_name: &str,
) -> CertificateFailure {
    use rustls::CertificateError as C;
    match ce {
        C::ExpiredContext { time, not_after } => CertificateFailure::Expired {
            not_after: Some(not_after.as_secs()),
            now: Some(time.as_secs()),
        },
        C::Expired => CertificateFailure::Expired {
            not_after: None,
            now,
        },
        C::NotValidYetContext { time, not_before } => CertificateFailure::NotYetValid {
            not_before: Some(not_before.as_secs()),
            now: Some(time.as_secs()),
        },
        C::NotValidYet => CertificateFailure::NotYetValid {
            not_before: None,
            now,
        },
        C::NotValidForNameContext { presented, .. } => CertificateFailure::NameMismatch {
            expected: server_name.into(),
            presented: presented.into_iter().map(|p| unquote(&p)).collect(),
        },
        C::NotValidForName => CertificateFailure::NameMismatch {
            expected: server_name.into(),
            presented: Vec::new(),
        },
        C::UnknownIssuer => CertificateFailure::UnknownIssuer,
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => CertificateFailure::InvalidPurpose,
        C::BadSignature => CertificateFailure::BadSignature,
        #[allow(deprecated)]
        C::UnsupportedSignatureAlgorithm => {
            CertificateFailure::UnsupportedSignatureAlgorithm("not supported".into())
        }
        C::UnsupportedSignatureAlgorithmContext {
            signature_algorithm_id,
            ..
        } => CertificateFailure::UnsupportedSignatureAlgorithm(algorithm_name(
            &signature_algorithm_id,
        )),
        C::UnsupportedSignatureAlgorithmForPublicKeyContext {
            signature_algorithm_id,
            ..
        } => CertificateFailure::UnsupportedSignatureAlgorithm(algorithm_name(
            &signature_algorithm_id,
        )),
        C::BadEncoding => CertificateFailure::BadEncoding,
        C::Revoked => CertificateFailure::Revoked,
        C::Other(o) => other_failure(&o.to_string()),
        other => CertificateFailure::Other(words::certificate(&other).into()),
    }
}

/// webpki's own error in words, for the verifier's explanations.
pub(crate) fn webpki_words(err: &webpki::Error) -> &'static str {
    words::webpki(err)
}

/// webpki reports some chain-building faults only as `Other(..)`; name the common ones.
fn other_failure(msg: &str) -> CertificateFailure {
    let text = if msg.contains("CaUsedAsEndEntity") {
        "a CA certificate was presented as the server certificate"
    } else if msg.contains("EndEntityUsedAsCa") {
        "an intermediate certificate is not a CA (basicConstraints CA bit missing)"
    } else if msg.contains("NameConstraintViolation") {
        "the certificate violates its issuer's name constraints"
    } else if msg.contains("RequiredEkuNotFound") {
        return CertificateFailure::InvalidPurpose;
    } else {
        return CertificateFailure::Other(
            "the certificate chain is invalid (a reason this build does not name)".into(),
        );
    };
    CertificateFailure::Other(text.into())
}

/// Names the well-known signature algorithm identifiers (DER of AlgorithmIdentifier contents).
fn algorithm_name(id: &[u8]) -> String {
    // OID 1.2.840.113549.1.1.5 (sha1WithRSAEncryption) and 1.2.840.10045.4.1 (ecdsa-with-SHA1).
    const SHA1_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
    const SHA1_ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
    if id.windows(SHA1_RSA.len()).any(|w| w == SHA1_RSA) {
        "sha1WithRSAEncryption: SHA-1 signatures are not accepted".into()
    } else if id.windows(SHA1_ECDSA.len()).any(|w| w == SHA1_ECDSA) {
        "ecdsa-with-SHA1: SHA-1 signatures are not accepted".into()
    } else {
        format!("algorithm identifier {}", crate::cert::hex(id))
    }
}

/// webpki lists presented names in Debug form (`DnsName("a.example")`,
/// `IpAddress(192.0.2.1)`); keep only the name.
fn unquote(s: &str) -> String {
    let inner = ["DnsName(", "IpAddress(", "UniformResourceIdentifier("]
        .iter()
        .find_map(|p| s.strip_prefix(p).and_then(|r| r.strip_suffix(')')))
        .unwrap_or(s);
    let name = inner.trim_matches('"');
    // webpki prints IPv6 addresses long-hand (`0::1`); say them as people write them.
    match name.parse::<core::net::IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => name.into(),
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    /// `fn main() -> Result<(), Error>` prints the error's `Debug`: the reason and names
    /// must show, not a hex dump of the chain.
    #[test]
    fn debug_shows_the_chain_as_sizes() {
        let e = CertificateError {
            reason: CertificateFailure::Expired {
                not_after: Some(1),
                now: Some(2),
            },
            server_name: "example.com".into(),
            now: Some(2),
            chain: alloc::vec![CertificateDer::from(alloc::vec![0x30u8; 393])],
        };
        let text = format!("{e:?}");
        assert!(text.contains("Expired"), "{text}");
        assert!(text.contains("example.com"), "{text}");
        assert!(text.contains("<393 bytes DER>"), "{text}");
        assert!(!text.contains("3030"), "{text}");
    }
}
