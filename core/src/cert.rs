//! Human-readable summaries of X.509 certificates (subject, issuer, names, validity,
//! fingerprint) for connection info and verification reports. Parsing never panics;
//! a certificate that does not parse yields a summary that says so.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write as _;

use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use x509_cert::der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::Certificate;

use crate::time::UtcTime;

/// What a certificate says about itself, decoded but not verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertSummary {
    /// Subject distinguished name (RFC 4514 form), empty if it did not parse.
    pub subject: String,
    /// Issuer distinguished name (RFC 4514 form), empty if it did not parse.
    pub issuer: String,
    /// DNS names and IP addresses from the subjectAltName extension.
    pub names: Vec<String>,
    /// Start of validity, Unix seconds.
    pub not_before: Option<u64>,
    /// End of validity, Unix seconds.
    pub not_after: Option<u64>,
    /// SHA-256 of the DER encoding, lowercase hex.
    pub sha256: String,
    /// Why the certificate could not be decoded, if it could not.
    pub parse_error: Option<String>,
}

impl CertSummary {
    /// Summarises one DER certificate.
    pub fn from_der(der: &[u8]) -> CertSummary {
        let sha256 = hex(&Sha256::digest(der));
        match Certificate::from_der(der) {
            Ok(cert) => {
                let tbs = &cert.tbs_certificate;
                let names = match tbs.get::<SubjectAltName>() {
                    Ok(Some((_, san))) => san.0.iter().filter_map(general_name).collect(),
                    _ => Vec::new(),
                };
                CertSummary {
                    subject: tbs.subject.to_string(),
                    issuer: tbs.issuer.to_string(),
                    names,
                    not_before: Some(tbs.validity.not_before.to_unix_duration().as_secs()),
                    not_after: Some(tbs.validity.not_after.to_unix_duration().as_secs()),
                    sha256,
                    parse_error: None,
                }
            }
            Err(e) => CertSummary {
                subject: String::new(),
                issuer: String::new(),
                names: Vec::new(),
                not_before: None,
                not_after: None,
                sha256,
                parse_error: Some(e.to_string()),
            },
        }
    }

    /// Summarises a chain in the order given.
    pub fn chain(chain: &[CertificateDer<'_>]) -> Vec<CertSummary> {
        chain.iter().map(|c| CertSummary::from_der(c)).collect()
    }

    /// `notBefore … notAfter` in UTC, or `unknown`.
    pub fn validity(&self) -> String {
        match (self.not_before, self.not_after) {
            (Some(a), Some(b)) => format!("{} … {}", UtcTime(a), UtcTime(b)),
            _ => "unknown".into(),
        }
    }
}

fn general_name(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::DnsName(d) => Some(d.to_string()),
        GeneralName::IpAddress(ip) => ip_string(ip.as_bytes()),
        _ => None,
    }
}

/// Formats a 4- or 16-byte IP address; IPv6 in RFC 5952 form (`::1`, `2001:db8::7`).
pub(crate) fn ip_string(b: &[u8]) -> Option<String> {
    match b.len() {
        4 => Some(b.iter().map(u8::to_string).collect::<Vec<_>>().join(".")),
        16 => {
            let groups: Vec<u16> = b
                .chunks(2)
                .map(|p| match p {
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => 0,
                })
                .collect();
            // The longest run of two or more zero groups becomes "::" (first one wins).
            let (mut best, mut run_start, mut best_len) = (None, 0, 1);
            for i in 0..=groups.len() {
                if groups.get(i) == Some(&0) {
                    continue;
                }
                let len = i - run_start;
                if len > best_len {
                    best = Some(run_start);
                    best_len = len;
                }
                run_start = i + 1;
            }
            let hex = |g: &[u16]| {
                g.iter()
                    .map(|x| format!("{x:x}"))
                    .collect::<Vec<_>>()
                    .join(":")
            };
            Some(match best {
                Some(start) => format!(
                    "{}::{}",
                    hex(groups.get(..start).unwrap_or_default()),
                    hex(groups.get(start + best_len..).unwrap_or_default())
                ),
                None => hex(&groups),
            })
        }
        _ => None,
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Encodes DER certificates as PEM text.
pub fn to_pem(der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::with_capacity(der.len() * 4 / 3 + 4);
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                b64.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
            // ok: idx < 64
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    let bytes = b64.as_bytes();
    for line in bytes.chunks(64) {
        out.push_str(core::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_gives_a_summary_not_a_panic() {
        for input in [&b""[..], b"\x30", b"\x30\x82\xff\xff", b"hello world"] {
            let s = CertSummary::from_der(input);
            assert!(s.parse_error.is_some());
            assert_eq!(s.sha256.len(), 64);
        }
    }

    #[test]
    fn ip_addresses_format() {
        assert_eq!(ip_string(&[127, 0, 0, 1]).as_deref(), Some("127.0.0.1"));
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(ip_string(&v6).as_deref(), Some("::1"));
        assert_eq!(ip_string(&[0u8; 16]).as_deref(), Some("::"));
        let doc = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
        assert_eq!(ip_string(&doc).as_deref(), Some("2001:db8::7"));
        let one_zero = [0, 1, 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7];
        assert_eq!(ip_string(&one_zero).as_deref(), Some("1:0:2:3:4:5:6:7"));
        let two_runs = [0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3];
        assert_eq!(ip_string(&two_runs).as_deref(), Some("1:0:0:2::3"));
        assert_eq!(ip_string(&[1, 2, 3]), None);
    }

    #[test]
    fn pem_round_trips_through_rustls_parser() {
        use rustls::pki_types::pem::PemObject;
        let der: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let pem = to_pem(&der);
        let back = CertificateDer::from_pem_slice(pem.as_bytes()).expect("parses"); // ok: test code
        assert_eq!(back.as_ref(), &der[..]);
    }
}
