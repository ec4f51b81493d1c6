//! What a deterministic session is made of ([`Session`]: seed, clock, server name,
//! [`Settings`]) and the fingerprint of the client configuration it builds.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::time_provider::TimeProvider;
use sha2::{Digest, Sha256};

use super::hex;
use super::seeded::{seeded_provider, Seed};
use crate::config::{Config, ConfigBuilder, Version};
use crate::error::{ConfigError, Error};
use crate::verify::Policy;
use crate::{Client, Instant};

/// A wall clock stuck at one Unix time (seconds): certificate validity is checked
/// against it, whatever the real date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedTime(pub u64);

impl TimeProvider for FixedTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(core::time::Duration::from_secs(
            self.0,
        )))
    }
}

/// The client settings a transcript records: everything that decides the client's bytes
/// and its verdict on the server, so that a replay can rebuild the same configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Protocol versions offered (default TLS 1.3 and 1.2).
    pub versions: Vec<Version>,
    /// Cipher suites by IANA name, in order; `None` for the provider's default list.
    pub cipher_suites: Option<Vec<String>>,
    /// ALPN protocols offered, most preferred first.
    pub alpn: Vec<Vec<u8>>,
    /// Whether SNI is sent.
    pub sni: bool,
    /// Whether the built-in Mozilla roots (webpki-roots) are trusted.
    pub mozilla_roots: bool,
    /// Additional trust anchors, DER.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// False for [`ConfigBuilder::dangerous_accept_any_certificate`].
    pub verify: bool,
}

impl Default for Settings {
    /// The defaults of [`Config::builder`]: TLS 1.3 + 1.2, default suites, no ALPN, SNI on,
    /// Mozilla roots, verification on.
    fn default() -> Self {
        Settings {
            versions: alloc::vec![Version::Tls13, Version::Tls12],
            cipher_suites: None,
            alpn: Vec::new(),
            sni: true,
            mozilla_roots: true,
            extra_roots: Vec::new(),
            verify: true,
        }
    }
}

impl Settings {
    /// Trusts only `roots` (DER), instead of the Mozilla roots.
    pub fn with_roots_only(mut self, roots: Vec<CertificateDer<'static>>) -> Self {
        self.mozilla_roots = false;
        self.extra_roots = roots;
        self
    }

    /// Applies these settings to `builder` (leaving its provider and clock alone).
    pub fn apply(&self, mut builder: ConfigBuilder) -> ConfigBuilder {
        builder = builder
            .versions(&self.versions)
            .alpn(&self.alpn)
            .sni(self.sni);
        if let Some(names) = &self.cipher_suites {
            builder = builder.cipher_suites(names);
        }
        if !self.mozilla_roots {
            // The builder's only way to drop the Mozilla roots is a PEM bundle.
            let pem: String = self
                .extra_roots
                .iter()
                .map(|der| crate::cert::to_pem(der))
                .collect();
            builder = builder.root_certificates_pem(pem.as_bytes());
        } else {
            for der in &self.extra_roots {
                builder = builder.add_root_certificate_der(der.clone());
            }
        }
        if !self.verify {
            builder = builder.dangerous_accept_any_certificate();
        }
        builder
    }
}

/// A deterministic session: seed, wall clock, server name and settings. Two clients built
/// from equal sessions send identical bytes when fed identical bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Seeds every random byte of the client.
    pub seed: Seed,
    /// The wall clock (Unix seconds) for certificate validity.
    pub clock: u64,
    /// The server name the client asks for and verifies.
    pub server_name: String,
    /// The client settings.
    pub settings: Settings,
}

impl Session {
    /// A session with default [`Settings`].
    pub fn new(seed: Seed, clock: u64, server_name: &str) -> Session {
        Session {
            seed,
            clock,
            server_name: server_name.into(),
            settings: Settings::default(),
        }
    }

    /// A fresh deterministic [`Config`]: a new [`seeded_provider`] (so the random stream
    /// starts over), the [`FixedTime`] clock, these settings, and session resumption off
    /// (rustls turns it on only with `std`, which would make native and `no_std` builds
    /// send different ClientHellos). Use it for exactly one connection.
    pub fn config(&self) -> Result<Config, ConfigError> {
        self.config_with(|b| b)
    }

    /// [`Session::config`], letting `adjust` set what does not change the client's
    /// bytes (timeouts, limits, a key log) before the settings are applied.
    pub fn config_with(
        &self,
        adjust: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
    ) -> Result<Config, ConfigError> {
        let builder = adjust(Config::builder())
            .crypto_provider(Arc::new(seeded_provider(&self.seed)))
            .time_provider(Arc::new(FixedTime(self.clock)))
            .resumption(false);
        self.settings.apply(builder).build()
    }

    /// A fresh deterministic client for this session, on the monotonic clock's origin.
    pub fn client(&self) -> Result<Client, Error> {
        Client::new(&self.server_name, &self.config()?, Instant::ZERO)
    }

    /// The first bytes the client transmits (the ClientHello record).
    pub fn client_hello(&self) -> Result<alloc::vec::Vec<u8>, Error> {
        let mut client = self.client()?;
        match client.poll_output() {
            crate::Output::Transmit(bytes) => Ok(bytes),
            other => Err(Error::Local(crate::LocalError::Environment(format!(
                "the client did not start with a ClientHello but {other:?}"
            )))),
        }
    }

    /// The fingerprint of the configuration this session builds.
    pub fn fingerprint(&self) -> Result<Fingerprint, ConfigError> {
        Ok(Fingerprint::of(&self.config()?, &self.settings))
    }
}

/// SHA-256 over a canonical description of what decides the client's bytes and verdict:
/// versions, cipher suites, key-exchange groups, ALPN, SNI, resumption, signature
/// schemes, verification and the trust anchors.
#[derive(Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The digest.
    pub digest: [u8; 32],
    /// The description it digests, one `key value…` line per setting.
    pub description: String,
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint(sha256:{})", hex::encode(&self.digest))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(&self.digest))
    }
}

impl Fingerprint {
    pub(crate) fn of(config: &Config, settings: &Settings) -> Fingerprint {
        let rustls = &config.rustls;
        let provider = rustls.crypto_provider();
        let mut d = String::new();
        let mut line = |key: &str, values: Vec<String>| {
            d.push_str(key);
            for v in values {
                d.push(' ');
                d.push_str(&v);
            }
            d.push('\n');
        };
        line(
            "versions",
            settings.versions.iter().map(|v| v.to_string()).collect(),
        );
        line(
            "suites",
            provider
                .cipher_suites
                .iter()
                .map(|s| {
                    let suite = s.suite();
                    suite
                        .as_str()
                        .map(String::from)
                        .unwrap_or_else(|| format!("{suite:?}"))
                })
                .collect(),
        );
        line(
            "groups",
            provider
                .kx_groups
                .iter()
                .map(|g| format!("{:?}", g.name()))
                .collect(),
        );
        line(
            "alpn",
            rustls.alpn_protocols.iter().map(|p| escape(p)).collect(),
        );
        line("sni", alloc::vec![on_off(rustls.enable_sni)]);
        line(
            "resumption",
            alloc::vec![format!("{:?}", rustls.resumption).replace(' ', "")],
        );
        line(
            "max-fragment",
            alloc::vec![format!("{:?}", rustls.max_fragment_size)],
        );
        let (verify, schemes) = match config.verifier.policy() {
            Policy::WebPki(v, ..) => ("webpki", v.supported_verify_schemes()),
            Policy::DangerousAcceptAny(p) => (
                "dangerous-accept-any",
                p.signature_verification_algorithms.supported_schemes(),
            ),
        };
        line("verify", alloc::vec![verify.into()]);
        line(
            "signature-schemes",
            schemes.iter().map(|s| format!("{s:?}")).collect(),
        );
        line("roots", alloc::vec![roots_digest(settings)]);
        let digest = Sha256::digest(d.as_bytes()).into();
        Fingerprint {
            digest,
            description: d,
        }
    }
}

fn on_off(b: bool) -> String {
    String::from(if b { "on" } else { "off" })
}

/// `mozilla:<n>+<m> sha256:…` over the trust anchors in force.
fn roots_digest(settings: &Settings) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    let mut mozilla = 0;
    if settings.mozilla_roots {
        for anchor in webpki_roots::TLS_SERVER_ROOTS {
            field(anchor.subject.as_ref());
            field(anchor.subject_public_key_info.as_ref());
            field(anchor.name_constraints.as_deref().unwrap_or_default());
            mozilla += 1;
        }
    }
    for der in &settings.extra_roots {
        field(der.as_ref());
    }
    format!(
        "mozilla:{mozilla}+extra:{} sha256:{}",
        settings.extra_roots.len(),
        hex::encode(&h.finalize())
    )
}

/// Text for a byte string in one whitespace-free token: printable ASCII as is, every
/// other byte, `%` and `#` as `%XX`.
pub(crate) fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x21..=0x7e).contains(&b) && b != b'%' && b != b'#' {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push_str(&hex::encode(&[b]));
        }
    }
    out
}

/// The inverse of [`escape`]; `None` at a malformed `%` escape (its byte offset).
pub(crate) fn unescape(text: &str) -> Result<Vec<u8>, usize> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let pair = text.get(i + 1..i + 3).ok_or(i)?;
            let v = hex::decode(pair).map_err(|_| i)?;
            out.extend_from_slice(&v);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn escape_round_trip() {
        let all: Vec<u8> = (0..=255).collect();
        let e = escape(&all);
        assert!(!e.contains(' ') && !e.contains('#'));
        assert_eq!(unescape(&e).unwrap(), all); // ok: test code
        assert_eq!(unescape("ab%4"), Err(2));
        assert_eq!(unescape("%zz"), Err(0));
    }

    #[test]
    fn same_session_same_client_hello() {
        let s = Session::new(Seed([5; 32]), 1_700_000_000, "example.com");
        let a = s.client_hello().unwrap(); // ok: test code
        assert_eq!(a, s.client_hello().unwrap()); // ok: test code
                                                  // The record starts like a TLS handshake record holding a ClientHello.
        assert_eq!(a[..1], [22]);
        assert_eq!(a[5], 1);
        let other = Session::new(Seed([6; 32]), 1_700_000_000, "example.com");
        let b = other.client_hello().unwrap(); // ok: test code
        assert_eq!(a[..11], b[..11]);
        assert_ne!(
            a[11..43],
            b[11..43],
            "the client random comes from the seed"
        );
    }

    /// The checked-in golden ClientHello (tests/data), here built by the core alone: with
    /// `cargo test -p tlsferry-core --features testing` rustls has no `std`, as on wasm.
    #[test]
    fn golden_client_hello_matches() {
        let golden: String = include_str!("../../../tests/data/clienthello-golden.hex")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
        let mut seed = [0u8; 32];
        for (i, b) in seed.iter_mut().enumerate() {
            *b = i as u8;
        }
        let mut s = Session::new(Seed(seed), 1_767_225_600, "example.com");
        s.settings.alpn = vec![b"http/1.1".to_vec()];
        assert_eq!(hex::encode(&s.client_hello().unwrap()), golden.trim()); // ok: test code
    }

    #[test]
    fn fingerprint_follows_what_shapes_the_client() {
        let base = Session::new(Seed([5; 32]), 1, "example.com");
        let fp = base.fingerprint().unwrap(); // ok: test code
                                              // Seed, clock and name are not part of it.
        let mut other = base.clone();
        other.seed = Seed([1; 32]);
        other.clock = 2;
        other.server_name = "other.example".into();
        assert_eq!(other.fingerprint().unwrap(), fp); // ok: test code
        for change in [
            |s: &mut Settings| s.alpn = vec![b"h2".to_vec()],
            |s: &mut Settings| s.sni = false,
            |s: &mut Settings| s.versions = vec![Version::Tls13],
            |s: &mut Settings| s.cipher_suites = Some(vec!["TLS13_AES_256_GCM_SHA384".into()]),
            |s: &mut Settings| s.verify = false,
        ] {
            let mut s = base.clone();
            change(&mut s.settings);
            let changed = s.fingerprint().unwrap(); // ok: test code
            assert_ne!(changed, fp, "{}", changed.description);
        }
        assert!(fp
            .description
            .contains("groups X25519MLKEM768 X25519 secp256r1 secp384r1"));
        assert!(fp.description.contains("roots mozilla:"));
    }
}
