//! rustls' and webpki's error identifiers in words a person can act on: what happened,
//! and what to try. No message a user sees names a rustls or webpki type.

use rustls::{
    AlertDescription, ContentType, HandshakeType, InvalidMessage, PeerIncompatible, PeerMisbehaved,
};

/// The IANA name of an alert (RFC 8446 §6, RFC 5246 §7.2).
pub(crate) fn alert_name(code: u8) -> &'static str {
    match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        121 => "ech_required",
        _ => "unknown alert",
    }
}

/// True for the alerts the RFCs define.
pub(crate) fn alert_known(code: u8) -> bool {
    alert_name(code) != "unknown alert"
}

/// What the peer means by an alert, and what to try.
pub(crate) fn alert_meaning(code: u8) -> &'static str {
    match code {
        10 => "it received a message it did not expect at that point",
        20 | 21 => "a record did not decrypt on its side: the connection was corrupted or tampered with",
        22 => "a record was larger than TLS allows",
        40 => "it accepts none of what we offered; check the TLS versions, cipher suites and key-exchange groups the server allows, and whether it requires a client certificate",
        41 | 116 => "it requires a client certificate: give one (CLI --cert/--key, JS clientCertPem/clientKeyPem, Rust client_auth_pem)",
        42 => "it refused our client certificate (malformed, or its signature did not verify)",
        43 => "it does not support the type of our client certificate",
        44 => "it says our client certificate was revoked",
        45 => "it says our client certificate has expired",
        46 => "it did not accept our client certificate",
        47 => "a field of our handshake was out of range or inconsistent to it",
        48 => "it does not trust the CA that issued our client certificate",
        49 => "it denied access (our client certificate is not authorised)",
        50 => "it could not decode one of our messages",
        51 => "a handshake signature or the Finished check failed on its side",
        70 => "it does not support the TLS versions we offered (tlsferry speaks TLS 1.2 and 1.3; the server may allow only older versions)",
        71 => "it requires stronger parameters than we offered",
        80 => "it failed internally: try again later, or ask its operator",
        86 => "it detected a protocol downgrade",
        90 => "it cancelled the handshake",
        100 => "it refused to renegotiate",
        109 => "our handshake lacked an extension it requires",
        110 => "our handshake had an extension it does not support",
        112 => "it does not serve the name we asked for (check --servername / SNI)",
        120 => "it supports none of the application protocols (ALPN) we offered",
        121 => "it requires Encrypted Client Hello",
        _ => "the alert gives no reason",
    }
}

/// Alerts after which the message lists what we offered.
pub(crate) fn alert_about_offer(code: u8) -> bool {
    matches!(code, 40 | 70 | 71)
}

/// The wire value of an alert.
pub(crate) fn alert_code(a: AlertDescription) -> u8 {
    u8::from(a)
}

/// What is incompatible, in words.
pub(crate) fn incompatible(p: &PeerIncompatible) -> &'static str {
    use PeerIncompatible as P;
    match p {
        P::NoCipherSuitesInCommon => "no cipher suite in common with the server",
        P::NoKxGroupsInCommon => "no key-exchange group in common with the server",
        P::NoSignatureSchemesInCommon => "no signature scheme in common with the server",
        P::NoCertificateRequestSignatureSchemesInCommon => {
            "our client certificate's key cannot make any signature the server accepts"
        }
        P::NoEcPointFormatsInCommon | P::UncompressedEcPointsRequired => {
            "the server does not accept uncompressed elliptic-curve points"
        }
        P::ServerDoesNotSupportTls12Or13 => {
            "the server speaks only a TLS version older than 1.2, which tlsferry never uses"
        }
        P::ServerTlsVersionIsDisabledByOurConfig | P::Tls12NotOffered | P::Tls12NotOfferedOrEnabled => {
            "the server chose a TLS version our configuration does not allow (see the versions setting, CLI --tls1.2/--tls1.3)"
        }
        P::ExtendedMasterSecretExtensionRequired => {
            "the server does not support the extended master secret that TLS 1.2 requires here"
        }
        P::KeyShareExtensionRequired
        | P::NamedGroupsExtensionRequired
        | P::SignatureAlgorithmsExtensionRequired
        | P::SupportedVersionsExtensionRequired
        | P::EcPointsExtensionRequired => "the server's hello lacks an extension TLS requires",
        P::NullCompressionRequired => "the server asked for compression, which TLS 1.3 forbids",
        P::IncorrectCertificateTypeExtension | P::UnsolicitedCertificateTypeExtension => {
            "the server chose a certificate type we did not offer"
        }
        P::ServerSentHelloRetryRequestWithUnknownExtension => {
            "the server's retry request carries an extension we do not know"
        }
        P::Tls13RequiredForQuic => "QUIC requires TLS 1.3",
        P::ServerRejectedEncryptedClientHello(_) => "the server rejected Encrypted Client Hello",
        _ => "the server and this client have no protocol parameters in common",
    }
}

/// How the peer broke the protocol, in words.
pub(crate) fn misbehaved(p: &PeerMisbehaved) -> &'static str {
    use PeerMisbehaved as P;
    match p {
        P::AttemptedDowngradeToTls12WhenTls13IsSupported => {
            "the server signalled a downgrade from TLS 1.3 to 1.2 (an attack, or a broken middlebox)"
        }
        P::SelectedUnofferedCipherSuite | P::SelectedUnusableCipherSuiteForVersion => {
            "the server chose a cipher suite we did not offer"
        }
        P::SelectedUnofferedKxGroup | P::WrongGroupForKeyShare => {
            "the server chose a key-exchange group we did not offer"
        }
        P::SelectedUnofferedApplicationProtocol => {
            "the server chose an application protocol (ALPN) we did not offer"
        }
        P::SelectedUnofferedCompression | P::SelectedUnofferedCertCompression => {
            "the server chose a compression we did not offer"
        }
        P::SelectedUnofferedPsk | P::SelectedInvalidPsk => {
            "the server chose a pre-shared key we did not offer"
        }
        P::SelectedTls12UsingTls13VersionExtension => {
            "the server chose TLS 1.2 in a way only TLS 1.3 allows"
        }
        P::IllegalHelloRetryRequestWithEmptyCookie
        | P::IllegalHelloRetryRequestWithNoChanges
        | P::IllegalHelloRetryRequestWithOfferedGroup
        | P::IllegalHelloRetryRequestWithUnofferedCipherSuite
        | P::IllegalHelloRetryRequestWithUnofferedNamedGroup
        | P::IllegalHelloRetryRequestWithUnsupportedVersion
        | P::IllegalHelloRetryRequestWithWrongSessionId
        | P::IllegalHelloRetryRequestWithInvalidEch => {
            "the server sent a retry request (HelloRetryRequest) that TLS 1.3 forbids"
        }
        P::CipherSuiteDifferedOnRetry | P::SelectedDifferentCipherSuiteAfterRetry => {
            "the server changed the cipher suite after its retry request"
        }
        P::HandshakeHashVariedAfterRetry | P::ServerNameDifferedOnRetry | P::EchAcceptanceVariedAfterRetry => {
            "the server changed its choices after its retry request"
        }
        P::InvalidKeyShare | P::MissingKeyShare => "the server's key share is missing or invalid",
        P::SignedKxWithWrongAlgorithm | P::SignedHandshakeWithUnadvertisedSigScheme => {
            "the server signed the handshake with an algorithm we did not offer"
        }
        P::ServerEchoedCompatibilitySessionId => {
            "the server echoed a session id in a way TLS 1.3 forbids"
        }
        P::ResumptionAttemptedWithVariedEms
        | P::ResumptionOfferedWithVariedCipherSuite
        | P::ResumptionOfferedWithVariedEms
        | P::ResumptionOfferedWithIncompatibleCipherSuite => {
            "the server resumed a session with different parameters than it was made with"
        }
        P::IllegalMiddleboxChangeCipherSpec => {
            "a ChangeCipherSpec message came where TLS 1.3 forbids it (a middlebox?)"
        }
        P::IllegalTlsInnerPlaintext => "a decrypted record had no content type",
        P::KeyEpochWithPendingFragment | P::MessageInterleavedWithHandshakeMessage => {
            "a handshake message was interleaved with other records"
        }
        P::TooManyEmptyFragments => "the server sent too many empty records",
        P::TooManyKeyUpdateRequests => "the server asked for too many key updates",
        P::TooManyRenegotiationRequests => "the server asked to renegotiate too often",
        P::TooManyWarningAlertsReceived => "the server sent too many warning alerts",
        P::BadCertChainExtensions
        | P::UnsolicitedCertExtension
        | P::UnsolicitedSctList
        | P::DisallowedEncryptedExtension
        | P::UnsolicitedEncryptedExtension
        | P::UnsolicitedServerHelloExtension
        | P::UnexpectedCleartextExtension
        | P::UnsolicitedEchExtension => "the server sent an extension we did not ask for",
        P::DuplicateEncryptedExtensions
        | P::DuplicateHelloRetryRequestExtensions
        | P::DuplicateNewSessionTicketExtensions
        | P::DuplicateServerHelloExtensions
        | P::DuplicateClientHelloExtensions
        | P::DuplicateServerNameTypes => "the server sent the same extension twice",
        P::ServerHelloMustOfferUncompressedEcPoints => {
            "the server does not accept uncompressed elliptic-curve points"
        }
        P::InvalidMaxEarlyDataSize | P::EarlyDataExtensionWithoutResumption | P::TooMuchEarlyDataReceived => {
            "the server's early-data parameters are invalid"
        }
        P::InvalidCertCompression => "a compressed certificate did not decompress",
        P::IncorrectBinder | P::MissingBinderInPskExtension | P::PskExtensionMustBeLast | P::PskExtensionWithMismatchedIdsAndBinders => {
            "a pre-shared-key extension was malformed"
        }
        P::RefusedToFollowHelloRetryRequest => "the peer did not follow the retry request",
        _ => "the server broke the TLS protocol",
    }
}

/// What was malformed, in words.
pub(crate) fn invalid_message(m: &InvalidMessage) -> &'static str {
    use InvalidMessage as M;
    match m {
        M::InvalidContentType => "a record has an unknown content type",
        M::HandshakePayloadTooLarge | M::CertificatePayloadTooLarge => {
            "a handshake message is larger than the 64 KiB tlsferry accepts"
        }
        M::MessageTooLarge => "a message is larger than TLS allows",
        M::MessageTooShort | M::MissingData(_) => "a message ends too early",
        M::TrailingData(_) => "a message has bytes after its end",
        M::InvalidCcs => "a ChangeCipherSpec message is malformed",
        M::InvalidEmptyPayload => "a record is empty where TLS forbids it",
        M::InvalidKeyUpdate => "a KeyUpdate message is malformed",
        M::InvalidServerName => "a server name is malformed",
        M::InvalidCertRequest => "the client-certificate request is malformed",
        M::InvalidDhParams
        | M::MissingKeyExchange
        | M::UnsupportedCurveType
        | M::UnsupportedKeyExchangeAlgorithm(_) => {
            "the server's key-exchange parameters are malformed or unsupported"
        }
        M::NoSignatureSchemes => "a message lists no signature schemes",
        M::UnknownProtocolVersion => "a message names an unknown TLS version",
        M::UnsupportedCompression => "a message asks for compression",
        M::EmptyTicketValue => "a session ticket is empty",
        M::IllegalEmptyList(_) | M::IllegalEmptyValue => {
            "a list or value is empty where TLS forbids it"
        }
        M::DuplicateExtension(_) => "a message carries the same extension twice",
        M::PreSharedKeyIsNotFinalExtension => "a pre-shared-key extension is not last",
        M::UnknownHelloRetryRequestExtension => "the retry request carries an unknown extension",
        M::UnknownCertificateExtension => "a certificate entry carries an unknown extension",
        M::InvalidCertificateStatusType => "the certificate status (OCSP) is malformed",
        M::UnexpectedMessage(_) => "a message came that was not expected",
        _ => "a message is malformed",
    }
}

/// A record's content type, in words.
pub(crate) fn content_type(t: ContentType) -> &'static str {
    match t {
        ContentType::ChangeCipherSpec => "ChangeCipherSpec",
        ContentType::Alert => "alert",
        ContentType::Handshake => "handshake",
        ContentType::ApplicationData => "application data",
        ContentType::Heartbeat => "heartbeat",
        _ => "unknown",
    }
}

/// A handshake message type, by its RFC name.
pub(crate) fn handshake_type(t: HandshakeType) -> &'static str {
    match t {
        HandshakeType::HelloRequest => "HelloRequest",
        HandshakeType::ClientHello => "ClientHello",
        HandshakeType::ServerHello => "ServerHello",
        HandshakeType::NewSessionTicket => "NewSessionTicket",
        HandshakeType::EndOfEarlyData => "EndOfEarlyData",
        HandshakeType::HelloRetryRequest => "HelloRetryRequest",
        HandshakeType::EncryptedExtensions => "EncryptedExtensions",
        HandshakeType::Certificate => "Certificate",
        HandshakeType::ServerKeyExchange => "ServerKeyExchange",
        HandshakeType::CertificateRequest => "CertificateRequest",
        HandshakeType::ServerHelloDone => "ServerHelloDone",
        HandshakeType::CertificateVerify => "CertificateVerify",
        HandshakeType::ClientKeyExchange => "ClientKeyExchange",
        HandshakeType::Finished => "Finished",
        HandshakeType::CertificateStatus => "CertificateStatus",
        HandshakeType::KeyUpdate => "KeyUpdate",
        HandshakeType::CompressedCertificate => "CompressedCertificate",
        _ => "unknown handshake message",
    }
}

/// webpki's verification errors in words.
pub(crate) fn webpki(err: &webpki::Error) -> &'static str {
    use webpki::Error as W;
    match err {
        W::BadDer | W::BadDerTime | W::TrailingData(_) => {
            "a certificate in the chain is malformed (bad DER)"
        }
        W::CaUsedAsEndEntity => "a CA certificate was presented as the server certificate",
        W::EndEntityUsedAsCa => {
            "an intermediate certificate is not a CA (basicConstraints CA bit missing)"
        }
        W::CertDistrusted => "a certificate in the chain is distrusted",
        W::NameConstraintViolation => "the certificate violates its issuer's name constraints",
        W::PathLenConstraintViolated => {
            "the chain is longer than an issuer's path-length constraint allows"
        }
        W::MaximumPathDepthExceeded
        | W::MaximumPathBuildCallsExceeded
        | W::MaximumSignatureChecksExceeded
        | W::MaximumNameConstraintComparisonsExceeded => {
            "the chain is too long or too complex to verify"
        }
        W::MalformedDnsIdentifier => "a DNS name in the certificate is malformed",
        W::MalformedExtensions | W::ExtensionValueInvalid => "a certificate extension is malformed",
        W::MalformedNameConstraint | W::InvalidNetworkMaskConstraint => {
            "an issuer's name constraints are malformed"
        }
        W::UnsupportedCriticalExtension => {
            "a certificate has a critical extension this client does not understand"
        }
        W::UnsupportedCertVersion => "a certificate has an unsupported X.509 version",
        W::InvalidCertValidity => "a certificate's validity period is malformed",
        W::InvalidSerialNumber => "a certificate's serial number is malformed",
        W::EmptyEkuExtension => "a certificate's extended key usage is empty",
        W::SignatureAlgorithmMismatch => {
            "a certificate's signature algorithm differs from the one it declares"
        }
        W::InvalidSignatureForPublicKey => "a signature in the certificate chain does not verify",
        W::UnsupportedNameType => "a certificate names the server in a form not supported",
        W::UnknownIssuer => "the chain does not lead to a trusted root",
        W::CertRevoked => "a certificate in the chain has been revoked",
        _ => "the certificate chain is invalid",
    }
}

/// rustls' certificate errors that have no variant of their own in
/// [`CertificateFailure`](crate::CertificateFailure), in words.
pub(crate) fn certificate(err: &rustls::CertificateError) -> &'static str {
    use rustls::CertificateError as C;
    match err {
        C::UnhandledCriticalExtension => {
            "a certificate has a critical extension this client does not understand"
        }
        C::UnknownRevocationStatus => "the revocation status of a certificate is unknown",
        C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
            "the certificate revocation list has expired"
        }
        C::InvalidOcspResponse => "the server's OCSP response is invalid",
        C::ApplicationVerificationFailure => "the certificate was refused by a verification policy",
        _ => "the certificate is invalid",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    /// True if `text` contains an identifier in rustls' CamelCase style (two capitals
    /// inside one word, like `HandshakeFailure` or `BadDer`), i.e. leaked a type name.
    pub(crate) fn leaks_identifier(text: &str) -> Option<&str> {
        // Protocol message names are how RFCs and Wireshark name them; they may appear.
        const ALLOWED: &[&str] = &[
            "ChangeCipherSpec",
            "HelloRequest",
            "ClientHello",
            "ServerHello",
            "NewSessionTicket",
            "HelloRetryRequest",
            "KeyUpdate",
            "CertificateRequest",
            "CertificateVerify",
            "ServerKeyExchange",
            "ServerHelloDone",
            "EncryptedExtensions",
            "ClientKeyExchange",
            "EndOfEarlyData",
            "CertificateStatus",
            "CompressedCertificate",
            "KiB",
            "MiB",
        ];
        text.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !ALLOWED.contains(w))
            .find(|w| {
                let mut chars = w.chars();
                chars.next().is_some_and(|c| c.is_ascii_uppercase())
                    && w.chars().skip(1).any(|c| c.is_ascii_lowercase())
                    && w.chars().skip(1).any(|c| c.is_ascii_uppercase())
            })
    }

    #[test]
    fn the_detector_detects() {
        assert_eq!(
            leaks_identifier("peer sent fatal alert: HandshakeFailure"),
            Some("HandshakeFailure")
        );
        assert_eq!(
            leaks_identifier("a ClientHello was sent over TLS 1.3 (X25519MLKEM768)"),
            None
        );
    }

    #[test]
    fn every_alert_has_a_name_and_meaning_in_words() {
        for code in 0..=255u8 {
            let name = super::alert_name(code);
            assert!(!name.is_empty());
            assert_eq!(leaks_identifier(super::alert_meaning(code)), None, "{code}");
        }
        assert_eq!(super::alert_name(40), "handshake_failure");
        assert_eq!(super::alert_code(rustls::AlertDescription::UnknownCA), 48);
    }
}
