//! Server-certificate verification: webpki against the configured roots, wrapped so the
//! chain the server sent is kept for error reports even when verification fails.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::cert::{rsa_modulus_bits, CertSummary};
use crate::error::CertificateFailure;
use crate::scope;

/// Smallest RSA modulus accepted anywhere in a server's chain (as browsers do, and
/// OpenSSL at security level 2, Debian's default); the pure-Rust provider does not check.
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// Largest RSA modulus the default provider verifies (as webpki's *ring* algorithms); a
/// larger key fails as a bad signature, which the finding then explains.
const MAX_VERIFIABLE_RSA_BITS: usize = 8192;

/// How the server's certificate is checked.
#[derive(Clone, Debug)]
pub(crate) enum Policy {
    /// Chain to a trusted root, valid now, for this host name: the default.
    WebPki(Arc<WebPkiServerVerifier>, Explainer),
    /// Accept any certificate; handshake signatures are still checked.
    DangerousAcceptAny(Arc<CryptoProvider>),
}

/// What the verifier needs to explain a refusal in more detail than rustls' error
/// carries (without rustls' `std` feature webpki's reason is lost entirely).
#[derive(Clone, Debug)]
pub(crate) struct Explainer {
    /// The trust store the verifier uses.
    pub roots: Arc<RootCertStore>,
    /// The signature algorithms the verifier accepts.
    pub algorithms: WebPkiSupportedAlgorithms,
}

impl Explainer {
    /// A precise reason for `error`, when the chain or a second webpki run tells more.
    fn explain(
        &self,
        error: &CertificateError,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Option<CertificateFailure> {
        match error {
            CertificateError::UnknownIssuer => Some(unknown_issuer(end_entity, intermediates)),
            CertificateError::BadSignature => {
                oversized_rsa_key(core::iter::once(end_entity).chain(intermediates))
            }
            CertificateError::Other(_) => {
                let cert = webpki::EndEntityCert::try_from(end_entity).ok()?;
                let err = cert
                    .verify_for_usage(
                        self.algorithms.all,
                        &self.roots.roots,
                        intermediates,
                        now,
                        webpki::KeyUsage::server_auth(),
                        None,
                        None,
                    )
                    .err()?;
                Some(webpki_failure(&err))
            }
            _ => None,
        }
    }
}

/// webpki's reasons that rustls folds into `CertificateError::Other`, in words.
fn webpki_failure(err: &webpki::Error) -> CertificateFailure {
    match err {
        webpki::Error::UnknownIssuer => CertificateFailure::UnknownIssuer,
        #[allow(deprecated)]
        webpki::Error::RequiredEkuNotFound | webpki::Error::RequiredEkuNotFoundContext(_) => {
            CertificateFailure::InvalidPurpose
        }
        other => CertificateFailure::Other(crate::error::webpki_words(other).into()),
    }
}

/// Tells apart what webpki calls "unknown issuer": a self-signed leaf, a chain that ends
/// at an untrusted CA, or a leaf sent without the intermediate that issued it.
fn unknown_issuer(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> CertificateFailure {
    let leaf = CertSummary::from_der(end_entity);
    if leaf.parse_error.is_some() {
        return CertificateFailure::UnknownIssuer;
    }
    if leaf.subject == leaf.issuer {
        return CertificateFailure::SelfSigned {
            subject: leaf.subject,
        };
    }
    let sent = CertSummary::chain(intermediates);
    let mut top = &leaf;
    // Follow the issuer links through the certificates the server sent.
    for _ in 0..sent.len() {
        match sent
            .iter()
            .find(|c| c.parse_error.is_none() && c.subject == top.issuer)
        {
            Some(root) if root.subject == root.issuer => {
                return CertificateFailure::IssuerNotTrusted {
                    issuer: root.subject.clone(),
                    intermediates_sent: true,
                }
            }
            Some(next) => top = next,
            None => break,
        }
    }
    CertificateFailure::IssuerNotTrusted {
        issuer: top.issuer.clone(),
        intermediates_sent: !core::ptr::eq(top, &leaf),
    }
}

/// Explains a bad signature by an RSA key too large for the provider, if there is one.
fn oversized_rsa_key<'a>(
    certs: impl IntoIterator<Item = &'a CertificateDer<'a>>,
) -> Option<CertificateFailure> {
    let bits = certs
        .into_iter()
        .filter_map(|c| rsa_modulus_bits(c))
        .filter(|bits| *bits > MAX_VERIFIABLE_RSA_BITS)
        .max()?;
    Some(CertificateFailure::UnsupportedSignatureAlgorithm(
        alloc::format!(
            "{bits}-bit RSA key: the default crypto provider verifies RSA keys of up to \
             {MAX_VERIFIABLE_RSA_BITS} bits"
        ),
    ))
}

/// The smallest RSA modulus below [`MIN_RSA_BITS`] in the chain, if any.
fn weak_rsa_key(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> Option<usize> {
    core::iter::once(end_entity)
        .chain(intermediates)
        .filter_map(|c| rsa_modulus_bits(c))
        .filter(|bits| *bits < MIN_RSA_BITS)
        .min()
}

/// The verifier of a [`Config`](crate::Config), shared by all its connections (so that
/// rustls resumes their sessions): it records the presented chain, the clock and its
/// precise finding into the connection being pumped ([`crate::scope`]) before delegating.
#[derive(Debug)]
pub(crate) struct Recorder {
    policy: Policy,
}

impl Recorder {
    pub(crate) fn new(policy: Policy) -> Self {
        Recorder { policy }
    }

    /// How certificates are checked.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Records a finding for the current connection.
    fn find(finding: CertificateFailure) {
        if let Some(state) = scope::current() {
            state.set_finding(finding);
        }
    }

    /// Explains a handshake signature that failed because of its key's size, and tells a
    /// failed handshake signature from a bad signature in the chain.
    fn note_signature(
        result: Result<HandshakeSignatureValid, rustls::Error>,
        cert: &CertificateDer<'_>,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if let Err(rustls::Error::InvalidCertificate(CertificateError::BadSignature)) = &result {
            Self::find(
                oversized_rsa_key(core::iter::once(cert))
                    .unwrap_or(CertificateFailure::HandshakeSignature),
            );
        }
        result
    }

    /// Verifies `chain` for `server_name` at `now` outside any handshake, with the
    /// finding the handshake would give.
    pub(crate) fn verify_chain(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), (rustls::Error, Option<CertificateFailure>)> {
        let state = alloc::sync::Arc::new(scope::ConnState::default());
        let result = scope::with(&state, || {
            self.verify_server_cert(end_entity, intermediates, server_name, &[], now)
        });
        result.map(|_| ()).map_err(|e| (e, state.finding()))
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(state) = scope::current() {
            let mut chain = Vec::with_capacity(1 + intermediates.len());
            chain.push(end_entity.clone().into_owned());
            chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
            let _ = state.chain.set(Box::new(chain));
            let _ = state.now.set(Box::new(now.as_secs()));
        }
        match &self.policy {
            Policy::WebPki(v, explainer) => {
                if let Some(bits) = weak_rsa_key(end_entity, intermediates) {
                    Self::find(CertificateFailure::WeakKey { bits });
                    return Err(CertificateError::ApplicationVerificationFailure.into());
                }
                let result = v.verify_server_cert(
                    end_entity,
                    intermediates,
                    server_name,
                    ocsp_response,
                    now,
                );
                if let Err(rustls::Error::InvalidCertificate(e)) = &result {
                    if let Some(f) = explainer.explain(e, end_entity, intermediates, now) {
                        Self::find(f);
                    }
                }
                result
            }
            Policy::DangerousAcceptAny(_) => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let result = match &self.policy {
            Policy::WebPki(v, _) => v.verify_tls12_signature(message, cert, dss),
            Policy::DangerousAcceptAny(p) => {
                verify_tls12_signature(message, cert, dss, &p.signature_verification_algorithms)
            }
        };
        Self::note_signature(result, cert)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let result = match &self.policy {
            Policy::WebPki(v, _) => v.verify_tls13_signature(message, cert, dss),
            Policy::DangerousAcceptAny(p) => {
                verify_tls13_signature(message, cert, dss, &p.signature_verification_algorithms)
            }
        };
        Self::note_signature(result, cert)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        match &self.policy {
            Policy::WebPki(v, _) => v.supported_verify_schemes(),
            Policy::DangerousAcceptAny(p) => {
                p.signature_verification_algorithms.supported_schemes()
            }
        }
    }
}
