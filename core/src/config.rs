//! [`Config`] and its builder: trust store, versions, ALPN, client auth, limits, timeouts,
//! and the injected wall clock and crypto provider.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, Der, PrivateKeyDer, TrustAnchor};
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, KeyLog, RootCertStore, SupportedCipherSuite};

use crate::error::{ConfigError, PemInput};
use crate::exporter::KeyLogTap;
use crate::sessions::SessionCache;
use crate::verify::{Explainer, Policy, Recorder};

/// A TLS protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Version {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::Tls12 => "TLSv1.2",
            Version::Tls13 => "TLSv1.3",
        })
    }
}

/// Smallest ciphertext receive buffer: a 64 KiB handshake message is reassembled in place,
/// plus one more full record.
pub const MIN_RECEIVE_BUFFER: usize = 64 * 1024 + 4 * 5 + 18 * 1024;

/// Memory limits of one connection.
///
/// ```
/// let limits = tlsferry_core::Limits::default().with_send_buffer(256 * 1024);
/// assert_eq!(limits.send_buffer, 256 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Plaintext that [`Client::send`](crate::Client::send) queues before it pushes back
    /// (accepts fewer bytes). Default 1 MiB.
    pub send_buffer: usize,
    /// Ciphertext the core holds while waiting for whole records; also bounds the plaintext
    /// decrypted per input. Default 96 KiB, never below [`MIN_RECEIVE_BUFFER`].
    pub receive_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            send_buffer: 1024 * 1024,
            receive_buffer: 96 * 1024,
        }
    }
}

impl Limits {
    /// These limits with another send buffer size (plaintext queued by `send`).
    pub fn with_send_buffer(mut self, bytes: usize) -> Self {
        self.send_buffer = bytes;
        self
    }

    /// These limits with another receive buffer size (ciphertext awaiting whole records;
    /// raised to [`MIN_RECEIVE_BUFFER`] if smaller).
    pub fn with_receive_buffer(mut self, bytes: usize) -> Self {
        self.receive_buffer = bytes;
        self
    }
}

/// A ready-to-use client configuration. Cheap to clone; one `Config` serves many connections.
#[derive(Clone)]
pub struct Config {
    pub(crate) rustls: Arc<ClientConfig>,
    pub(crate) limits: Limits,
    pub(crate) handshake_timeout: Option<Duration>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) verifies: bool,
    pub(crate) trust: TrustSummary,
    /// The verifier every connection shares (rustls resumes only with the same one).
    pub(crate) verifier: Arc<Recorder>,
    pub(crate) sessions: Option<Arc<SessionCache>>,
    /// What connections offer, in words, for refusal messages.
    pub(crate) offer: Arc<str>,
    /// The wall clock, for offline verification.
    pub(crate) time: Arc<dyn TimeProvider>,
}

/// What the trust store of a [`Config`] holds, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrustSummary {
    /// Whether the built-in Mozilla roots (webpki-roots: compiled in, or supplied as
    /// data with [`ConfigBuilder::builtin_roots`]) are trusted.
    pub mozilla_roots: bool,
    /// Roots added from PEM or DER and in use.
    pub added: usize,
    /// Well-formed certificates that could not serve as trust anchors and were skipped
    /// (as OpenSSL and rustls skip them), e.g. a certificate webpki cannot decode.
    pub skipped: usize,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("alpn", &self.rustls.alpn_protocols)
            .field("limits", &self.limits)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("verifies", &self.verifies)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Starts a builder with the defaults of Python's `ssl.create_default_context()`:
    /// Mozilla's roots (webpki-roots), host-name checks, TLS 1.2 and 1.3, SNI on.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The memory limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// False only for configurations built with
    /// [`ConfigBuilder::dangerous_accept_any_certificate`].
    pub fn verifies_certificates(&self) -> bool {
        self.verifies
    }

    /// Where the trusted roots come from, and how many supplied roots were skipped.
    pub fn trust_summary(&self) -> TrustSummary {
        self.trust
    }

    /// Verifies a certificate chain (leaf first, as a server would send it) for
    /// `server_name` exactly as a handshake with this config would — trust store, host
    /// name, validity, key sizes, usage — without a network: for checking a chain before
    /// deploying it, or forensics on a chain a client refused (`tlsferry verify`).
    ///
    /// `time` is the Unix time to check validity at (`None`: this config's clock).
    /// The error is the same [`Error::Certificate`](crate::Error::Certificate) a
    /// handshake gives, with its [`CertificateError::report`](crate::CertificateError::report).
    /// A config built with `dangerous_accept_any_certificate` accepts any chain.
    pub fn verify_server_chain(
        &self,
        chain: &[CertificateDer<'_>],
        server_name: &str,
        time: Option<u64>,
    ) -> Result<(), crate::Error> {
        use crate::error::{from_rustls, ErrorContext, LocalError};
        let name = rustls::pki_types::ServerName::try_from(server_name)
            .map_err(|_| crate::Error::Local(LocalError::InvalidServerName(server_name.into())))?;
        let now = match time {
            Some(t) => rustls::pki_types::UnixTime::since_unix_epoch(Duration::from_secs(t)),
            None => self.time.current_time().ok_or_else(|| {
                crate::Error::Local(LocalError::Environment(
                    "failed to get the current time".into(),
                ))
            })?,
        };
        let cx = |finding| ErrorContext {
            server_name,
            chain: chain.iter().map(|c| c.clone().into_owned()).collect(),
            now: Some(now.as_secs()),
            finding,
            handshaking: true,
            offer: &self.offer,
        };
        let Some((leaf, intermediates)) = chain.split_first() else {
            return Err(from_rustls(
                rustls::Error::NoCertificatesPresented,
                cx(None),
            ));
        };
        self.verifier
            .verify_chain(leaf, intermediates, &name, now)
            .map_err(|(e, finding)| from_rustls(e, cx(finding)))
    }

    /// True if connections of this config resume earlier sessions.
    pub fn resumes_sessions(&self) -> bool {
        self.sessions.is_some()
    }

    /// Servers with resumable sessions or key-exchange hints in this config's cache.
    pub fn cached_servers(&self) -> usize {
        self.sessions.as_ref().map_or(0, |s| s.len())
    }
}

/// Where trusted roots come from.
#[derive(Clone, Debug, Default)]
struct Roots {
    /// Leave out the built-in roots (set by `root_certificates_pem`).
    replace_builtin: bool,
    /// The built-in roots as data (`builtin_roots`), in place of the compiled-in ones.
    builtin_data: Option<&'static [u8]>,
    extra: Vec<CertificateDer<'static>>,
}

impl Roots {
    /// The trust store, with the number of supplied roots that were skipped.
    fn store(&self) -> Result<(RootCertStore, TrustSummary), ConfigError> {
        let mut store = RootCertStore::empty();
        if !self.replace_builtin {
            match self.builtin_data {
                Some(data) => store.roots.extend(decode_trust_anchors(data)?),
                None => add_compiled_in_roots(&mut store)?,
            }
        }
        let mut summary = TrustSummary {
            mozilla_roots: !self.replace_builtin,
            ..TrustSummary::default()
        };
        for (i, der) in self.extra.iter().enumerate() {
            if store.add(der.clone()).is_ok() {
                summary.added += 1;
            } else if crate::cert::CertSummary::from_der(der)
                .parse_error
                .is_none()
            {
                // A certificate, but not one webpki can use as an anchor: skipped, as
                // OpenSSL and rustls do, and counted so reports can say so.
                summary.skipped += 1;
            } else {
                return Err(ConfigError::Pem {
                    input: PemInput::CaCertificates,
                    index: Some(i + 1),
                    reason: "not an X.509 certificate".into(),
                });
            }
        }
        if store.is_empty() {
            return Err(ConfigError::EmptyTrustStore);
        }
        Ok((store, summary))
    }
}

#[cfg(feature = "mozilla-roots")]
fn add_compiled_in_roots(store: &mut RootCertStore) -> Result<(), ConfigError> {
    store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Ok(())
}

#[cfg(not(feature = "mozilla-roots"))]
fn add_compiled_in_roots(_: &mut RootCertStore) -> Result<(), ConfigError> {
    Err(ConfigError::Unusable(
        "this build has no built-in roots (tlsferry-core without its `mozilla-roots` \
         feature): supply them with ConfigBuilder::builtin_roots, or trust your own \
         with root_certificates_pem"
            .into(),
    ))
}

/// The first bytes of trust-anchor data: `TFTA` and the format version, 1.
const TRUST_ANCHORS_MAGIC: &[u8; 5] = b"TFTA\x01";

/// Encodes trust anchors (as webpki-roots holds them: subject, SubjectPublicKeyInfo and
/// name constraints, DER contents) in the compact format that
/// [`ConfigBuilder::builtin_roots`] and [`decode_trust_anchors`] read: `TFTA`, the version
/// byte 1, the number of anchors, then for each anchor its subject, key and name
/// constraints, each as a length and the bytes (length 0: no name constraints). Numbers
/// are unsigned LEB128.
pub fn encode_trust_anchors<'a>(anchors: impl IntoIterator<Item = &'a TrustAnchor<'a>>) -> Vec<u8> {
    fn leb128(out: &mut Vec<u8>, mut n: usize) {
        while n >= 0x80 {
            out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }
    let anchors: Vec<&TrustAnchor<'_>> = anchors.into_iter().collect();
    let mut out = TRUST_ANCHORS_MAGIC.to_vec();
    leb128(&mut out, anchors.len());
    for a in anchors {
        let nc = a
            .name_constraints
            .as_ref()
            .map_or(&[][..], |nc| nc.as_ref());
        for field in [a.subject.as_ref(), a.subject_public_key_info.as_ref(), nc] {
            leb128(&mut out, field.len());
            out.extend_from_slice(field);
        }
    }
    out
}

/// Mozilla's roots (webpki-roots) as trust-anchor data ([`encode_trust_anchors`]): what
/// a build without the `mozilla-roots` feature passes to [`ConfigBuilder::builtin_roots`].
#[cfg(feature = "mozilla-roots")]
pub fn mozilla_roots_data() -> Vec<u8> {
    encode_trust_anchors(webpki_roots::TLS_SERVER_ROOTS)
}

/// Reads trust-anchor data ([`encode_trust_anchors`]); the anchors borrow from `data`.
pub fn decode_trust_anchors(data: &[u8]) -> Result<Vec<TrustAnchor<'_>>, ConfigError> {
    fn malformed(why: &str) -> ConfigError {
        ConfigError::Unusable(format!("the built-in roots data is malformed: {why}"))
    }
    fn number(data: &mut &[u8]) -> Result<usize, ConfigError> {
        let mut n = 0usize;
        for shift in (0..28).step_by(7) {
            let (&b, rest) = data
                .split_first()
                .ok_or_else(|| malformed("it ends early"))?;
            *data = rest;
            n |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(malformed("a length is out of range"))
    }
    fn field<'a>(data: &mut &'a [u8]) -> Result<&'a [u8], ConfigError> {
        let len = number(data)?;
        if len > data.len() {
            return Err(malformed("it ends early"));
        }
        let (bytes, rest) = data.split_at(len);
        *data = rest;
        Ok(bytes)
    }
    let mut rest = data
        .strip_prefix(&TRUST_ANCHORS_MAGIC[..])
        .ok_or_else(|| malformed("it does not start with TFTA version 1"))?;
    let count = number(&mut rest)?;
    // Each anchor takes at least 3 bytes: a count beyond that is a lie.
    let mut anchors = Vec::with_capacity(count.min(rest.len() / 3));
    for _ in 0..count {
        let subject = field(&mut rest)?;
        let spki = field(&mut rest)?;
        let nc = field(&mut rest)?;
        if subject.is_empty() || spki.is_empty() {
            return Err(malformed("an anchor has no subject or no key"));
        }
        anchors.push(TrustAnchor {
            subject: Der::from_slice(subject),
            subject_public_key_info: Der::from_slice(spki),
            name_constraints: (!nc.is_empty()).then(|| Der::from_slice(nc)),
        });
    }
    if !rest.is_empty() {
        return Err(malformed("bytes after the last anchor"));
    }
    Ok(anchors)
}

/// Builds a [`Config`]. Setters never fail; [`ConfigBuilder::build`] reports the first
/// invalid input, naming it.
#[derive(Default)]
pub struct ConfigBuilder {
    provider: Option<Arc<CryptoProvider>>,
    time: Option<Arc<dyn TimeProvider>>,
    roots: Roots,
    versions: Option<Vec<Version>>,
    alpn: Vec<Vec<u8>>,
    no_sni: bool,
    client_auth: Option<(Vec<u8>, Vec<u8>)>,
    cipher_suites: Option<Vec<String>>,
    kx_groups: Option<Vec<String>>,
    key_log: Option<Arc<dyn KeyLog>>,
    dangerous_accept_any: bool,
    limits: Limits,
    handshake_timeout: Option<Option<Duration>>,
    idle_timeout: Option<Duration>,
    /// Servers whose sessions are kept for resumption; 0 turns resumption off.
    session_cache: Option<usize>,
    errors: Vec<ConfigError>,
}

/// Servers whose sessions a [`Config`] keeps by default.
pub const DEFAULT_SESSION_CACHE: usize = 256;

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("versions", &self.versions)
            .field("alpn", &self.alpn)
            .field("dangerous_accept_any", &self.dangerous_accept_any)
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// The `CryptoProvider` (default: [`default_provider`](crate::default_provider), pure Rust).
    pub fn crypto_provider(mut self, provider: Arc<CryptoProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// The wall clock used for certificate validity. With the `std` feature (on by
    /// default) it is the system clock ([`SystemClock`](crate::SystemClock)); without
    /// it, one must be given, since a `no_std` core has no clock.
    pub fn time_provider(mut self, time: Arc<dyn TimeProvider>) -> Self {
        self.time = Some(time);
        self
    }

    /// Trusts only the certificates in `pem`: they replace the built-in Mozilla roots
    /// and any roots added before. Roots added after this call are trusted too.
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Self {
        self.roots = Roots {
            replace_builtin: true,
            builtin_data: self.roots.builtin_data,
            extra: Vec::new(),
        };
        self.add_root_certificates_pem(pem)
    }

    /// Trusts the certificates in `pem` in addition to the current roots.
    ///
    /// Malformed PEM fails [`ConfigBuilder::build`], naming the block; a well-formed
    /// certificate that cannot serve as a trust anchor is skipped and counted in
    /// [`Config::trust_summary`].
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> Self {
        match parse_certificates(pem, PemInput::CaCertificates) {
            Ok(certs) => self.roots.extra.extend(certs),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// The built-in roots as data ([`encode_trust_anchors`] format, e.g.
    /// [`mozilla_roots_data`]), in place of the Mozilla roots compiled in with the
    /// `mozilla-roots` feature. A build without that feature has no other built-in roots:
    /// the npm package keeps them in a file of their own and loads it only for the
    /// connections that use them. Malformed data fails [`ConfigBuilder::build`]. Has no
    /// effect once [`ConfigBuilder::root_certificates_pem`] replaced the built-in roots.
    pub fn builtin_roots(mut self, data: &'static [u8]) -> Self {
        self.roots.builtin_data = Some(data);
        self
    }

    /// Trusts one DER certificate in addition to the current roots.
    pub fn add_root_certificate_der(mut self, der: CertificateDer<'static>) -> Self {
        self.roots.extra.push(der);
        self
    }

    /// Restricts the protocol versions (default: TLS 1.3 and 1.2).
    pub fn versions(mut self, versions: &[Version]) -> Self {
        self.versions = Some(versions.to_vec());
        self
    }

    /// ALPN protocols to offer, most preferred first (e.g. `["h2", "http/1.1"]`).
    pub fn alpn<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// Sends the server name in the SNI extension (default `true`).
    pub fn sni(mut self, enabled: bool) -> Self {
        self.no_sni = !enabled;
        self
    }

    /// Presents a client certificate chain (leaf first) and its private key, both PEM
    /// (RSA, ECDSA P-256/P-384 or Ed25519; PKCS#8, PKCS#1 or SEC1 keys). Needs the
    /// `client-auth` feature (on by default): without it [`ConfigBuilder::build`] returns
    /// [`ConfigError::ClientAuth`].
    pub fn client_auth_pem(mut self, chain_pem: &[u8], key_pem: &[u8]) -> Self {
        self.client_auth = Some((chain_pem.to_vec(), key_pem.to_vec()));
        self
    }

    /// Offers only these cipher suites, in this order of preference, by IANA name
    /// (e.g. `TLS_CHACHA20_POLY1305_SHA256`; rustls' `TLS13_…` spellings are accepted too).
    pub fn cipher_suites<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.cipher_suites = Some(names.into_iter().map(|s| s.as_ref().into()).collect());
        self
    }

    /// Offers only these key-exchange groups, most preferred first, by IANA name
    /// (`X25519MLKEM768`, `X25519`, `secp256r1`, `secp384r1`; any case, and `P-256` /
    /// `P-384` too), as `openssl s_client -groups` does. The first one gets a key share
    /// in the ClientHello.
    ///
    /// The default offers all four, the post-quantum hybrid `X25519MLKEM768` first.
    /// Leaving it out gives up protection of the recorded traffic against a future
    /// quantum computer, for a smaller ClientHello (one packet instead of two, for
    /// middleboxes that mishandle larger ones) and less CPU per handshake against servers
    /// that would pick X25519 anyway (the ML-KEM-768 key pair of the hybrid share is made
    /// for every full handshake).
    ///
    /// ```
    /// let classic = tlsferry_core::Config::builder()
    ///     .key_exchange_groups(["X25519", "P-256"])
    ///     .build()?;
    /// # Ok::<(), tlsferry_core::ConfigError>(())
    /// ```
    pub fn key_exchange_groups<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.kx_groups = Some(names.into_iter().map(|s| s.as_ref().into()).collect());
        self
    }

    /// Receives the TLS secrets (NSS key-log lines) for debugging with Wireshark.
    /// The core writes no files: the hook decides where they go.
    pub fn key_log(mut self, key_log: Arc<dyn KeyLog>) -> Self {
        self.key_log = Some(key_log);
        self
    }

    /// **Dangerous**: accepts any server certificate, for any name, expired or not.
    /// Handshake signatures are still checked, so the connection is encrypted, but to a
    /// server nobody vouched for: anyone on the path can impersonate it.
    pub fn dangerous_accept_any_certificate(mut self) -> Self {
        self.dangerous_accept_any = true;
        self
    }

    /// Memory limits (see [`Limits`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Fails the handshake if it has not finished this long after `Client::new`
    /// (default 30 s; `None` waits forever).
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake_timeout = Some(timeout);
        self
    }

    /// Fails the connection when nothing arrives for this long (default: never).
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Resumes sessions with servers this config connected to before (default: on):
    /// TLS 1.3 tickets and TLS 1.2 session ids and tickets, kept in memory by the
    /// [`Config`] for up to [`DEFAULT_SESSION_CACHE`] servers (see
    /// [`ConfigBuilder::session_cache`]). A resumed connection skips the certificate
    /// exchange: it was verified, with this config's trust, when the session was made.
    /// Never 0-RTT: no data is sent before the handshake completes.
    pub fn resumption(mut self, enabled: bool) -> Self {
        self.session_cache = Some(if enabled { DEFAULT_SESSION_CACHE } else { 0 });
        self
    }

    /// Keeps resumable sessions for up to `servers` servers, least recently used out
    /// first (0 turns resumption off).
    pub fn session_cache(mut self, servers: usize) -> Self {
        self.session_cache = Some(servers);
        self
    }

    /// Validates everything and builds the [`Config`].
    pub fn build(mut self) -> Result<Config, ConfigError> {
        if let Some(e) = self.errors.drain(..).next() {
            return Err(e);
        }
        #[cfg(feature = "std")]
        let time = self
            .time
            .unwrap_or_else(|| Arc::new(crate::time::SystemClock));
        #[cfg(not(feature = "std"))]
        let time = self.time.ok_or(ConfigError::NoTimeProvider)?;
        let base = self
            .provider
            .unwrap_or_else(|| Arc::new(crate::default_provider()));
        let provider = match (&self.cipher_suites, &self.kx_groups) {
            (None, None) => base,
            (suites, groups) => {
                let mut p = (*base).clone();
                if let Some(names) = suites {
                    p.cipher_suites = select_suites(&base, names)?;
                }
                if let Some(names) = groups {
                    p.kx_groups = select_groups(&base, names)?;
                }
                Arc::new(p)
            }
        };

        let versions = self
            .versions
            .unwrap_or_else(|| alloc::vec![Version::Tls13, Version::Tls12]);
        let rustls_versions: Vec<&'static rustls::SupportedProtocolVersion> = versions
            .iter()
            .map(|v| match v {
                Version::Tls12 => &rustls::version::TLS12,
                Version::Tls13 => &rustls::version::TLS13,
            })
            .collect();
        if rustls_versions.is_empty() {
            return Err(ConfigError::Unusable("no protocol version enabled".into()));
        }
        let usable = |v: &rustls::SupportedProtocolVersion| {
            provider
                .kx_groups
                .iter()
                .any(|g| g.usable_for_version(v.version))
        };
        if !rustls_versions.iter().any(|v| usable(v)) {
            return Err(ConfigError::Unusable(
                "no key-exchange group usable with the enabled TLS versions \
                 (X25519MLKEM768 is TLS 1.3 only)"
                    .into(),
            ));
        }

        for p in &self.alpn {
            if p.is_empty() || p.len() > 255 {
                return Err(ConfigError::InvalidAlpn(
                    String::from_utf8_lossy(p).into_owned(),
                ));
            }
        }

        let mut trust = TrustSummary::default();
        let policy = if self.dangerous_accept_any {
            Policy::DangerousAcceptAny(provider.clone())
        } else {
            let (store, summary) = self.roots.store()?;
            trust = summary;
            let roots = Arc::new(store);
            let verifier =
                WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
                    .build()
                    .map_err(|e| ConfigError::Unusable(e.to_string()))?;
            let explainer = Explainer {
                roots,
                algorithms: provider.signature_verification_algorithms,
            };
            Policy::WebPki(verifier, explainer)
        };

        let offer = describe_offer(&versions, &provider);
        let verifier = Arc::new(Recorder::new(policy.clone()));
        let builder = ClientConfig::builder_with_details(provider.clone(), time.clone())
            .with_protocol_versions(&rustls_versions)
            .map_err(|e| ConfigError::Unusable(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone());
        let mut rustls_config = match &self.client_auth {
            #[cfg(not(feature = "client-auth"))]
            Some(_) => return Err(ConfigError::ClientAuth(NO_CLIENT_AUTH.into())),
            #[cfg(feature = "client-auth")]
            Some((chain_pem, key_pem)) => {
                let chain = parse_certificates(chain_pem, PemInput::ClientCertificate)?;
                let key = parse_private_key(key_pem)?;
                check_key_matches(&provider, &chain, &key)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| ConfigError::ClientAuth(e.to_string()))?
            }
            None => builder.with_no_client_auth(),
        };
        // One verifier for every connection, so that rustls resumes their sessions; it
        // records each connection's chain and findings through `crate::scope`.
        let sessions = match self.session_cache.unwrap_or(DEFAULT_SESSION_CACHE) {
            0 => None,
            n => Some(Arc::new(SessionCache::new(n))),
        };
        rustls_config.resumption = match &sessions {
            Some(cache) => rustls::client::Resumption::store(cache.clone()),
            None => rustls::client::Resumption::disabled(),
        };
        rustls_config.enable_early_data = false;
        rustls_config.alpn_protocols = self.alpn;
        rustls_config.enable_sni = !self.no_sni;
        // The key log hands each connection its exporter secrets, and the user's key log
        // (if any) every line.
        rustls_config.key_log = Arc::new(KeyLogTap { user: self.key_log });

        let mut limits = self.limits;
        limits.receive_buffer = limits.receive_buffer.max(MIN_RECEIVE_BUFFER);
        Ok(Config {
            rustls: Arc::new(rustls_config),
            limits,
            handshake_timeout: self
                .handshake_timeout
                .unwrap_or(Some(Duration::from_secs(30))),
            idle_timeout: self.idle_timeout,
            verifies: !self.dangerous_accept_any,
            trust,
            verifier,
            sessions,
            offer: offer.into(),
            time,
        })
    }
}

/// Why a build without the `client-auth` feature refuses a client certificate.
#[cfg(not(feature = "client-auth"))]
pub(crate) const NO_CLIENT_AUTH: &str =
    "this build has no client certificates (tlsferry-core without its `client-auth` feature)";

/// Proves that `key` belongs to the leaf of `chain`: signs a probe with the key and
/// verifies it with the certificate's public key. (rustls cannot compare them when
/// the provider's keys do not expose their public half.)
#[cfg(feature = "client-auth")]
fn check_key_matches(
    provider: &CryptoProvider,
    chain: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
) -> Result<(), ConfigError> {
    const PROBE: &[u8] = b"tlsferry: does this key belong to this certificate?";
    let leaf = chain
        .first()
        .ok_or_else(|| ConfigError::ClientAuth("no certificate".into()))?;
    let signing_key = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|e| ConfigError::ClientAuth(format!("unsupported private key: {e}")))?;
    let algorithms = &provider.signature_verification_algorithms;
    let schemes = algorithms.supported_schemes();
    let signer = signing_key
        .choose_scheme(&schemes)
        .ok_or_else(|| ConfigError::ClientAuth("no signature scheme for this key".into()))?;
    let signature = signer
        .sign(PROBE)
        .map_err(|e| ConfigError::ClientAuth(format!("signing failed: {e}")))?;
    let cert = webpki::EndEntityCert::try_from(leaf)
        .map_err(|e| ConfigError::ClientAuth(format!("certificate does not parse: {e}")))?;
    let verified = algorithms
        .mapping
        .iter()
        .filter(|(scheme, _)| *scheme == signer.scheme())
        .flat_map(|(_, algs)| algs.iter())
        .any(|alg| cert.verify_signature(*alg, PROBE, &signature).is_ok());
    if verified {
        Ok(())
    } else {
        Err(ConfigError::ClientAuth(
            "the private key does not match the certificate".into(),
        ))
    }
}

/// "TLS 1.3 and TLS 1.2; cipher suites A, B; key exchange X, Y": what connections offer.
fn describe_offer(versions: &[Version], provider: &CryptoProvider) -> String {
    let versions: Vec<String> = versions.iter().map(|v| v.to_string()).collect();
    let suites: Vec<String> = provider
        .cipher_suites
        .iter()
        .filter(|s| {
            versions
                .iter()
                .any(|v| s.version().version == version_of(v))
        })
        .map(|s| iana_suite_name(s.suite()))
        .collect();
    let groups: Vec<String> = provider
        .kx_groups
        .iter()
        .map(|g| format!("{:?}", g.name()))
        .collect();
    format!(
        "{}; cipher suites {}; key exchange {}",
        versions.join(" and "),
        suites.join(", "),
        groups.join(", ")
    )
}

fn version_of(v: &str) -> rustls::ProtocolVersion {
    if v == "TLSv1.2" {
        rustls::ProtocolVersion::TLSv1_2
    } else {
        rustls::ProtocolVersion::TLSv1_3
    }
}

/// A cipher suite's IANA name (`TLS_AES_128_GCM_SHA256`; rustls says `TLS13_…`), or its
/// number in hex when it has none.
pub fn iana_suite_name(suite: rustls::CipherSuite) -> String {
    match suite.as_str() {
        Some(name) => match name.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None => name.into(),
        },
        None => format!("0x{:04x}", u16::from(suite)),
    }
}

/// The provider's suites named in `names`, in that order.
fn select_suites(
    base: &CryptoProvider,
    names: &[String],
) -> Result<Vec<SupportedCipherSuite>, ConfigError> {
    let mut suites = Vec::with_capacity(names.len());
    for name in names {
        let found = base
            .cipher_suites
            .iter()
            .find(|s| {
                s.suite().as_str() == Some(name.as_str()) || iana_suite_name(s.suite()) == *name
            })
            .ok_or_else(|| ConfigError::UnknownCipherSuite(name.clone()))?;
        suites.push(*found);
    }
    if suites.is_empty() {
        return Err(ConfigError::Unusable("no cipher suite enabled".into()));
    }
    Ok(suites)
}

/// The provider's key-exchange groups named in `names`, in that order, each once.
fn select_groups(
    base: &CryptoProvider,
    names: &[String],
) -> Result<Vec<&'static dyn SupportedKxGroup>, ConfigError> {
    let mut groups: Vec<&'static dyn SupportedKxGroup> = Vec::with_capacity(names.len());
    for name in names {
        let wanted = match name.to_ascii_lowercase().as_str() {
            "p-256" | "prime256v1" => "secp256r1".into(),
            "p-384" => "secp384r1".into(),
            other => String::from(other),
        };
        let found = base
            .kx_groups
            .iter()
            .find(|g| format!("{:?}", g.name()).to_ascii_lowercase() == wanted)
            .ok_or_else(|| ConfigError::UnknownKeyExchangeGroup(name.clone()))?;
        if !groups.iter().any(|g| g.name() == found.name()) {
            groups.push(*found);
        }
    }
    if groups.is_empty() {
        return Err(ConfigError::Unusable(
            "no key-exchange group enabled".into(),
        ));
    }
    Ok(groups)
}

/// Parses every certificate in a PEM bundle; the error names `input` and the failing block.
pub fn parse_certificates(
    pem: &[u8],
    input: PemInput,
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let mut out = Vec::new();
    for (i, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
        match item {
            Ok(c) => out.push(c),
            Err(e) => {
                return Err(ConfigError::Pem {
                    input,
                    index: Some(i + 1),
                    reason: pem_reason(&e),
                })
            }
        }
    }
    if out.is_empty() {
        return Err(ConfigError::Pem {
            input,
            index: None,
            reason: "no \"BEGIN CERTIFICATE\" block found".into(),
        });
    }
    Ok(out)
}

/// Parses the first private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn parse_private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, ConfigError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| ConfigError::Pem {
        input: PemInput::ClientKey,
        index: None,
        reason: match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "no \"BEGIN PRIVATE KEY\" (PKCS#8, RSA or EC) block found".into()
            }
            other => pem_reason(&other),
        },
    })
}

fn pem_reason(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error as P;
    match e {
        P::MissingSectionEnd { .. } => "missing END line".into(),
        P::IllegalSectionStart { .. } => "malformed BEGIN line".into(),
        P::Base64Decode(_) => {
            "invalid base64 (a character outside the base64 alphabet, or bad padding)".into()
        }
        P::NoItemsFound => "no PEM block found".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fixed;
    impl TimeProvider for Fixed {
        fn current_time(&self) -> Option<rustls::pki_types::UnixTime> {
            Some(rustls::pki_types::UnixTime::since_unix_epoch(
                Duration::from_secs(1_800_000_000),
            ))
        }
    }

    fn builder() -> ConfigBuilder {
        Config::builder().time_provider(Arc::new(Fixed))
    }

    #[test]
    fn defaults_build() {
        let c = builder().build().expect("default config"); // ok: test code
        assert!(c.verifies_certificates());
        assert_eq!(c.limits().receive_buffer, 96 * 1024);
    }

    #[cfg(not(feature = "std"))]
    #[test]
    fn missing_clock_is_named() {
        assert_eq!(
            Config::builder().build().unwrap_err(),
            ConfigError::NoTimeProvider
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn std_builds_with_the_system_clock() {
        assert!(Config::builder().build().is_ok());
    }

    #[test]
    fn bad_pem_names_the_input() {
        let err = builder()
            .root_certificates_pem(
                b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            )
            .build()
            .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("CA certificates: PEM block #1"), "{text}");
        let err = builder()
            .root_certificates_pem(b"hello")
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("no \"BEGIN CERTIFICATE\""),
            "{err}"
        );
    }

    #[test]
    fn non_certificate_der_is_refused_as_anchor() {
        let pem = crate::cert::to_pem(b"not a certificate");
        let err = builder()
            .root_certificates_pem(pem.as_bytes())
            .build()
            .unwrap_err();
        assert!(
            matches!(err, ConfigError::Pem { index: Some(1), .. }),
            "{err:?}"
        );
    }

    /// A v1 certificate parses but webpki cannot use it as an anchor (no extensions are
    /// fine; an unsupported version is not): stands in for any unusable anchor.
    fn unusable_anchor() -> Vec<u8> {
        let mut der = std::vec::Vec::from(&include_bytes!("cert/testdata/rsa2048_self.der")[..]);
        // Make the certificate's version INTEGER say v9: still DER, not usable.
        let at = der
            .windows(5)
            .position(|w| w == [0xa0, 0x03, 0x02, 0x01, 0x02])
            .expect("explicit version"); // ok: test code
        der[at + 4] = 0x08;
        der
    }

    #[test]
    fn unusable_anchor_is_skipped_and_counted() {
        let usable = crate::cert::to_pem(include_bytes!("cert/testdata/ec_root.der"));
        let unusable = crate::cert::to_pem(&unusable_anchor());
        let pem = alloc::format!("{unusable}{usable}");
        let c = builder()
            .root_certificates_pem(pem.as_bytes())
            .build()
            .unwrap(); // ok: test code
        let t = c.trust_summary();
        assert_eq!((t.mozilla_roots, t.added, t.skipped), (false, 1, 1));
        // Only unusable anchors: the store is empty, which is an error.
        let err = builder()
            .root_certificates_pem(unusable.as_bytes())
            .build()
            .unwrap_err();
        assert_eq!(err, ConfigError::EmptyTrustStore);
    }

    #[cfg(feature = "mozilla-roots")]
    #[test]
    fn mozilla_roots_data_round_trips_every_anchor() {
        let data = mozilla_roots_data();
        let decoded = decode_trust_anchors(&data).unwrap(); // ok: test code
        assert_eq!(decoded.len(), webpki_roots::TLS_SERVER_ROOTS.len());
        for (a, b) in decoded.iter().zip(webpki_roots::TLS_SERVER_ROOTS) {
            assert_eq!(a.subject.as_ref(), b.subject.as_ref());
            assert_eq!(
                a.subject_public_key_info.as_ref(),
                b.subject_public_key_info.as_ref()
            );
            assert_eq!(
                a.name_constraints.as_ref().map(|n| n.as_ref()),
                b.name_constraints.as_ref().map(|n| n.as_ref())
            );
        }
        // Some roots carry name constraints; the format keeps them.
        assert!(decoded.iter().any(|a| a.name_constraints.is_some()));
        // As data, the roots are the built-in ones.
        let leaked: &'static [u8] = alloc::boxed::Box::leak(data.into_boxed_slice());
        let c = builder().builtin_roots(leaked).build().unwrap(); // ok: test code
        assert!(c.trust_summary().mozilla_roots);
    }

    #[test]
    fn malformed_trust_anchor_data_fails_the_build() {
        let one = TrustAnchor {
            subject: Der::from_slice(b"subject"),
            subject_public_key_info: Der::from_slice(b"key"),
            name_constraints: None,
        };
        let good = encode_trust_anchors([&one]);
        assert_eq!(good, b"TFTA\x01\x01\x07subject\x03key\x00");
        assert_eq!(decode_trust_anchors(&good).unwrap().len(), 1); // ok: test code
        let mut trailing = good.clone();
        trailing.push(0);
        let mut wrong_count = good.clone();
        wrong_count[5] = 2;
        let mut long_field = good.clone();
        long_field[6] = 0x7f;
        let cases: [&[u8]; 6] = [
            b"",
            b"TFTA\x02\x00",
            &good[..good.len() - 2],
            &trailing,
            &wrong_count,
            &long_field,
        ];
        for bad in cases {
            let bad: &'static [u8] = alloc::boxed::Box::leak(bad.to_vec().into_boxed_slice());
            let err = builder().builtin_roots(bad).build().unwrap_err(); // ok: test code
            assert!(
                err.to_string()
                    .contains("the built-in roots data is malformed"),
                "{err}"
            );
        }
        // Data nobody uses is not read: replacing the built-in roots ignores it.
        let root = crate::cert::to_pem(include_bytes!("cert/testdata/ec_root.der"));
        let c = builder()
            .builtin_roots(b"junk")
            .root_certificates_pem(root.as_bytes())
            .build()
            .unwrap(); // ok: test code
        assert!(!c.trust_summary().mozilla_roots);
    }

    /// Roots given as data verify chains exactly as compiled-in ones would.
    #[cfg(feature = "testing")]
    #[test]
    fn builtin_roots_data_is_the_trust_store() {
        use crate::testing::pki::{self, TestCertificate};
        let root = pki::root();
        let anchor = webpki::anchor_from_trusted_cert(&root).unwrap(); // ok: test code
        let data = encode_trust_anchors([&anchor]);
        let data: &'static [u8] = alloc::boxed::Box::leak(data.into_boxed_slice());
        let at = Some(pki::CLOCK);
        let with_data = builder().builtin_roots(data).build().unwrap(); // ok: test code
        let chain = TestCertificate::Valid.chain();
        assert!(with_data
            .verify_server_chain(&chain, pki::SERVER_NAME, at)
            .is_ok());
        let unknown = TestCertificate::UnknownRoot.chain();
        assert!(with_data
            .verify_server_chain(&unknown, pki::SERVER_NAME, at)
            .is_err());
        // The compiled-in Mozilla roots do not know the test root.
        let mozilla = builder().build().unwrap(); // ok: test code
        assert!(mozilla
            .verify_server_chain(&chain, pki::SERVER_NAME, at)
            .is_err());
    }

    #[test]
    fn root_certificates_pem_replaces_earlier_roots() {
        let a = crate::cert::to_pem(include_bytes!("cert/testdata/ec_root.der"));
        let b = crate::cert::to_pem(include_bytes!("cert/testdata/rsa2048_self.der"));
        let c = builder()
            .add_root_certificates_pem(a.as_bytes())
            .root_certificates_pem(b.as_bytes())
            .build()
            .unwrap(); // ok: test code
        let t = c.trust_summary();
        assert_eq!((t.mozilla_roots, t.added), (false, 1));
        let c = builder()
            .root_certificates_pem(b.as_bytes())
            .add_root_certificates_pem(a.as_bytes())
            .build()
            .unwrap(); // ok: test code
        assert_eq!(c.trust_summary().added, 2);
        let c = builder()
            .add_root_certificates_pem(a.as_bytes())
            .build()
            .unwrap(); // ok: test code
        let t = c.trust_summary();
        assert_eq!((t.mozilla_roots, t.added), (true, 1));
    }

    #[test]
    fn unknown_suite_and_bad_alpn_are_refused() {
        let err = builder().cipher_suites(["TLS_NOPE"]).build().unwrap_err();
        assert_eq!(err, ConfigError::UnknownCipherSuite("TLS_NOPE".into()));
        let err = builder().alpn([""]).build().unwrap_err();
        assert!(matches!(err, ConfigError::InvalidAlpn(_)));
        let err = builder().versions(&[]).build().unwrap_err();
        assert!(matches!(err, ConfigError::Unusable(_)));
    }

    #[test]
    fn key_exchange_groups_by_name_in_order() {
        let names = |c: &Config| -> Vec<String> {
            c.rustls
                .crypto_provider()
                .kx_groups
                .iter()
                .map(|g| format!("{:?}", g.name()))
                .collect()
        };
        // The default: all four, the post-quantum hybrid first.
        let c = builder().build().unwrap(); // ok: test code
        assert_eq!(
            names(&c),
            ["X25519MLKEM768", "X25519", "secp256r1", "secp384r1"]
        );
        // Any case, the P-curve aliases, each group once, in the order given.
        let c = builder()
            .key_exchange_groups(["p-384", "x25519", "secp384r1", "P-256"])
            .build()
            .unwrap(); // ok: test code
        assert_eq!(names(&c), ["secp384r1", "X25519", "secp256r1"]);
        assert!(c
            .offer
            .ends_with("key exchange secp384r1, X25519, secp256r1"));
        // Suites and groups narrow independently.
        let c = builder()
            .cipher_suites(["TLS_AES_128_GCM_SHA256"])
            .key_exchange_groups(["X25519"])
            .build()
            .unwrap(); // ok: test code
        assert_eq!(names(&c), ["X25519"]);
        assert_eq!(c.rustls.crypto_provider().cipher_suites.len(), 1);

        // The hybrid alone works for TLS 1.3 only.
        let err = builder()
            .versions(&[Version::Tls12])
            .key_exchange_groups(["X25519MLKEM768"])
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("TLS 1.3 only"), "{err}");
        builder()
            .versions(&[Version::Tls13])
            .key_exchange_groups(["X25519MLKEM768"])
            .build()
            .unwrap(); // ok: test code

        let err = builder().key_exchange_groups(["X448"]).build().unwrap_err();
        assert_eq!(err, ConfigError::UnknownKeyExchangeGroup("X448".into()));
        assert!(err.to_string().contains("X25519MLKEM768"), "{err}");
        let none: [&str; 0] = [];
        let err = builder().key_exchange_groups(none).build().unwrap_err();
        assert!(matches!(err, ConfigError::Unusable(_)), "{err:?}");
    }

    #[test]
    fn receive_buffer_never_below_minimum() {
        let c = builder()
            .limits(
                Limits::default()
                    .with_send_buffer(10)
                    .with_receive_buffer(10),
            )
            .build()
            .unwrap(); // ok: test code
        assert_eq!(c.limits().receive_buffer, MIN_RECEIVE_BUFFER);
    }

    #[test]
    fn garbage_key_is_refused() {
        let err = builder()
            .client_auth_pem(
                b"",
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            )
            .build()
            .unwrap_err();
        assert!(err.to_string().starts_with("client certificate"), "{err}");
    }
}
