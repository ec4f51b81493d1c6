//! Server-certificate verification: webpki against the configured roots, wrapped so the
//! chain the server sent is kept for error reports even when verification fails.

use alloc::sync::Arc;
use alloc::vec::Vec;

use once_cell::race::OnceBox;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// How the server's certificate is checked.
#[derive(Clone, Debug)]
pub(crate) enum Policy {
    /// Chain to a trusted root, valid now, for this host name: the default.
    WebPki(Arc<WebPkiServerVerifier>),
    /// Accept any certificate; handshake signatures are still checked.
    DangerousAcceptAny(Arc<CryptoProvider>),
}

/// A per-connection verifier that records the presented chain before delegating.
#[derive(Debug)]
pub(crate) struct Recorder {
    policy: Policy,
    chain: OnceBox<Vec<CertificateDer<'static>>>,
    now: OnceBox<u64>,
}

impl Recorder {
    pub(crate) fn new(policy: Policy) -> Self {
        Recorder {
            policy,
            chain: OnceBox::new(),
            now: OnceBox::new(),
        }
    }

    /// The chain the server presented, leaf first (empty before the Certificate message).
    pub(crate) fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.chain.get().cloned().unwrap_or_default()
    }

    /// The wall-clock time rustls used for validity checks, Unix seconds.
    pub(crate) fn now(&self) -> Option<u64> {
        self.now.get().copied()
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
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(end_entity.clone().into_owned());
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        let _ = self.chain.set(alloc::boxed::Box::new(chain));
        let _ = self.now.set(alloc::boxed::Box::new(now.as_secs()));
        match &self.policy {
            Policy::WebPki(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
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
        match &self.policy {
            Policy::WebPki(v) => v.verify_tls12_signature(message, cert, dss),
            Policy::DangerousAcceptAny(p) => {
                verify_tls12_signature(message, cert, dss, &p.signature_verification_algorithms)
            }
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match &self.policy {
            Policy::WebPki(v) => v.verify_tls13_signature(message, cert, dss),
            Policy::DangerousAcceptAny(p) => {
                verify_tls13_signature(message, cert, dss, &p.signature_verification_algorithms)
            }
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        match &self.policy {
            Policy::WebPki(v) => v.supported_verify_schemes(),
            Policy::DangerousAcceptAny(p) => {
                p.signature_verification_algorithms.supported_schemes()
            }
        }
    }
}
