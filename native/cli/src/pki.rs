//! A throw-away PKI generated at run time, for `tlsferry demo` and the test suites:
//! roots, intermediates and leaves of every key type, as PEM and DER.
//! Nothing here is for production certificates; no private key is ever checked in.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SignatureAlgorithm,
};
use time::{Duration, OffsetDateTime};
use tlsferry_core::{CertificateDer, PrivateKeyDer};

/// Key algorithms for generated certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA 2048, PKCS#1 v1.5 SHA-256 signatures.
    Rsa2048,
    /// RSA 4096.
    Rsa4096,
    /// RSA 1024 (too weak: must be refused). [`KeyKind::generate`] panics for it: rcgen's
    /// ring backend refuses RSA keys under 2048 bits. The badssl matrix
    /// (`tests/tests/badssl.rs`) makes its RSA-1024 leaf with the openssl CLI instead.
    Rsa1024,
}

impl KeyKind {
    /// Generates a key pair of this kind.
    pub fn generate(self) -> KeyPair {
        let alg: &'static SignatureAlgorithm = match self {
            KeyKind::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyKind::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyKind::Ed25519 => &rcgen::PKCS_ED25519,
            KeyKind::Rsa2048 | KeyKind::Rsa4096 | KeyKind::Rsa1024 => {
                return rsa_key(match self {
                    KeyKind::Rsa1024 => 1024,
                    KeyKind::Rsa4096 => 4096,
                    _ => 2048,
                })
            }
        };
        KeyPair::generate_for(alg).expect("key generation")
    }
}

fn rsa_key(bits: usize) -> KeyPair {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits).expect("RSA key generation");
    let pem = key
        .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
        .expect("PKCS#8 encoding");
    KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).expect("RSA key import")
}

/// A certificate authority (root or intermediate) that can issue certificates.
#[derive(Debug)]
pub struct Ca {
    params: CertificateParams,
    key: KeyPair,
    /// The CA certificate, DER.
    pub der: CertificateDer<'static>,
    /// The CA certificate, PEM.
    pub pem: String,
    /// This CA's own issuers, nearest first (empty for a root).
    pub parents_pem: Vec<String>,
}

/// What a leaf certificate should say.
#[derive(Clone, Debug)]
pub struct LeafSpec {
    /// DNS names and IP addresses (as text) for the subjectAltName.
    pub names: Vec<String>,
    /// Subject common name, if any.
    pub common_name: Option<String>,
    /// Key algorithm.
    pub key: KeyKind,
    /// Start of validity relative to now.
    pub not_before: Duration,
    /// End of validity relative to now.
    pub not_after: Duration,
    /// Extended key usages.
    pub eku: Vec<ExtendedKeyUsagePurpose>,
}

impl LeafSpec {
    /// A server certificate for `names`, ECDSA P-256, valid from a day ago for 30 days.
    pub fn server(names: &[&str]) -> LeafSpec {
        LeafSpec {
            names: names.iter().map(|s| s.to_string()).collect(),
            common_name: names.first().map(|s| s.to_string()),
            key: KeyKind::EcdsaP256,
            not_before: Duration::days(-1),
            not_after: Duration::days(30),
            eku: vec![ExtendedKeyUsagePurpose::ServerAuth],
        }
    }

    /// A client-authentication certificate for `name`.
    pub fn client(name: &str) -> LeafSpec {
        LeafSpec {
            eku: vec![ExtendedKeyUsagePurpose::ClientAuth],
            ..LeafSpec::server(&[name])
        }
    }

    /// The same with another key type.
    pub fn key(mut self, key: KeyKind) -> Self {
        self.key = key;
        self
    }

    /// The same with another validity window, relative to now.
    pub fn validity(mut self, not_before: Duration, not_after: Duration) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }
}

/// A leaf certificate with its key and the chain up to (not including) the root.
#[derive(Debug)]
pub struct Leaf {
    /// Leaf certificate, DER.
    pub der: CertificateDer<'static>,
    /// Leaf certificate, PEM.
    pub pem: String,
    /// Leaf followed by its intermediates, PEM (what a server sends).
    pub chain_pem: String,
    /// Private key, PKCS#8 PEM.
    pub key_pem: String,
    /// Private key, PKCS#8 DER.
    pub key_der: Vec<u8>,
    /// Leaf followed by its intermediates, DER.
    pub chain_der: Vec<CertificateDer<'static>>,
}

impl Leaf {
    /// The private key for rustls.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key_der.clone().into())
    }
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "tlsferry test PKI");
    dn.push(DnType::CommonName, cn);
    dn
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl Ca {
    /// A self-signed root CA.
    pub fn root(name: &str, key: KeyKind) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name = dn(name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = now() - Duration::days(2);
        params.not_after = now() + Duration::days(365);
        let key = key.generate();
        let cert = params.self_signed(&key).expect("self-sign");
        Ca {
            der: cert.der().clone(),
            pem: cert.pem(),
            params,
            key,
            parents_pem: Vec::new(),
        }
    }

    /// An intermediate CA issued by this one.
    pub fn intermediate(&self, name: &str, key: KeyKind) -> Ca {
        self.sub_ca(name, key, true, None)
    }

    /// A certificate that claims to be an intermediate but lacks the CA bit.
    pub fn non_ca_intermediate(&self, name: &str) -> Ca {
        self.sub_ca(name, KeyKind::EcdsaP256, false, None)
    }

    /// An intermediate CA limited to names under `permitted` (a DNS subtree).
    pub fn constrained_intermediate(&self, name: &str, permitted: &str) -> Ca {
        self.sub_ca(name, KeyKind::EcdsaP256, true, Some(permitted))
    }

    fn sub_ca(&self, name: &str, key: KeyKind, is_ca: bool, permitted: Option<&str>) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name = dn(name);
        params.is_ca = if is_ca {
            IsCa::Ca(BasicConstraints::Unconstrained)
        } else {
            IsCa::ExplicitNoCa
        };
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.name_constraints = permitted.map(|p| rcgen::NameConstraints {
            permitted_subtrees: vec![rcgen::GeneralSubtree::DnsName(p.into())],
            excluded_subtrees: vec![],
        });
        params.not_before = now() - Duration::days(2);
        params.not_after = now() + Duration::days(365);
        let key = key.generate();
        let cert = params.signed_by(&key, &self.issuer()).expect("sign");
        let mut parents = vec![self.pem.clone()];
        parents.extend(self.parents_pem.iter().cloned());
        Ca {
            der: cert.der().clone(),
            pem: cert.pem(),
            params,
            key,
            parents_pem: parents,
        }
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    /// Issues a leaf certificate.
    pub fn issue(&self, spec: &LeafSpec) -> Leaf {
        let params = leaf_params(spec);
        let key = spec.key.generate();
        let cert = params.signed_by(&key, &self.issuer()).expect("sign");
        let der = cert.der().clone();
        let mut chain_pem = cert.pem();
        let mut chain_der = vec![der.clone()];
        // Intermediates only: the root is the trust anchor and is not sent.
        if !self.parents_pem.is_empty() {
            chain_pem.push_str(&self.pem);
            chain_der.push(self.der.clone());
            for p in self.parents_pem.iter().take(self.parents_pem.len() - 1) {
                chain_pem.push_str(p);
                chain_der.push(
                    tlsferry_core::parse_certificates(
                        p.as_bytes(),
                        tlsferry_core::PemInput::Certificates,
                    )
                    .expect("pem")[0]
                        .clone(),
                );
            }
        }
        Leaf {
            pem: cert.pem(),
            der,
            chain_pem,
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
            chain_der,
        }
    }
}

/// The certificate parameters a [`LeafSpec`] describes.
fn leaf_params(spec: &LeafSpec) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.subject_alt_names = spec
        .names
        .iter()
        .map(|n| match n.parse::<std::net::IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(n.clone().try_into().expect("DNS name")),
        })
        .collect();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "tlsferry test PKI");
    if let Some(cn) = &spec.common_name {
        dn.push(DnType::CommonName, cn.as_str());
    }
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = spec.eku.clone();
    params.not_before = now() + spec.not_before;
    params.not_after = now() + spec.not_after;
    params
}

impl Leaf {
    /// A self-signed leaf (not a CA): what a server configured with a "snake-oil"
    /// certificate presents. Its chain is the leaf alone.
    pub fn self_signed(spec: &LeafSpec) -> Leaf {
        let key = spec.key.generate();
        let cert = leaf_params(spec).self_signed(&key).expect("self-sign");
        let der = cert.der().clone();
        Leaf {
            pem: cert.pem(),
            chain_pem: cert.pem(),
            chain_der: vec![der.clone()],
            der,
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        }
    }
}

/// A standard hierarchy: root → intermediate → leaves, plus files on disk for servers.
#[derive(Debug)]
pub struct TestPki {
    /// The trust anchor.
    pub root: Ca,
    /// The issuing intermediate.
    pub intermediate: Ca,
    /// A server leaf for `localhost`, `127.0.0.1` and `::1`.
    pub server: Leaf,
    /// A client-authentication leaf.
    pub client: Leaf,
}

impl TestPki {
    /// Generates the hierarchy with a server leaf of the given key type.
    pub fn new(server_key: KeyKind) -> TestPki {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        // Distinct names: two test PKIs must not look like the same CA.
        let id = format!(
            "{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let root = Ca::root(&format!("tlsferry test root {id}"), KeyKind::EcdsaP256);
        let intermediate = root.intermediate("tlsferry test intermediate", KeyKind::EcdsaP256);
        let server = intermediate
            .issue(&LeafSpec::server(&["localhost", "127.0.0.1", "::1"]).key(server_key));
        let client = intermediate.issue(&LeafSpec::client("tlsferry test client"));
        TestPki {
            root,
            intermediate,
            server,
            client,
        }
    }
}

/// A temporary directory removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh directory under the system temp dir.
    pub fn new(prefix: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `contents` to `name` inside the directory and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, contents).expect("write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
