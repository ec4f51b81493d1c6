//! Human-readable summaries of X.509 certificates (subject, issuer, names, validity,
//! fingerprint) for connection info and verification reports. Parsing never panics;
//! a certificate that does not parse yields a summary that says so.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write as _;

use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};

use crate::time::{unix_from_civil, UtcTime};

mod der;
use der::{Der, Tlv};

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
        match Fields::parse(der) {
            Ok(cert) => CertSummary {
                subject: name_string(cert.subject),
                issuer: name_string(cert.issuer),
                names: cert.san.map(san_names).unwrap_or_default(),
                not_before: Some(cert.not_before),
                not_after: Some(cert.not_after),
                sha256,
                parse_error: None,
            },
            Err(what) => CertSummary {
                subject: String::new(),
                issuer: String::new(),
                names: Vec::new(),
                not_before: None,
                not_after: None,
                sha256,
                parse_error: Some(format!("not a DER X.509 certificate: {what}")),
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

/// The fields of an X.509 certificate (RFC 5280 §4.1) a summary shows.
struct Fields<'a> {
    issuer: &'a [u8],
    subject: &'a [u8],
    not_before: u64,
    not_after: u64,
    /// The subjectPublicKeyInfo's algorithm OID and key bits.
    key_algorithm: &'a [u8],
    key: &'a [u8],
    /// The subjectAltName extension's value.
    san: Option<&'a [u8]>,
}

/// 2.5.29.17 (subjectAltName)
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
/// 1.2.840.113549.1.1.1 (rsaEncryption)
pub(crate) const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

impl<'a> Fields<'a> {
    fn parse(der: &'a [u8]) -> Result<Self, &'static str> {
        let mut outer = Der::new(der);
        let cert = outer.take(der::SEQUENCE).ok_or("no certificate SEQUENCE")?;
        if !outer.is_empty() {
            return Err("bytes after the certificate");
        }
        let tbs = Der::new(cert)
            .take(der::SEQUENCE)
            .ok_or("no tbsCertificate")?;
        let mut tbs = Der::new(tbs);
        tbs.take(0xa0); // version
        tbs.take(der::INTEGER).ok_or("no serial number")?;
        tbs.take(der::SEQUENCE).ok_or("no signature algorithm")?;
        let issuer = tbs.take(der::SEQUENCE).ok_or("no issuer")?;
        let mut validity = Der::new(tbs.take(der::SEQUENCE).ok_or("no validity")?);
        let not_before = validity.any().and_then(time).ok_or("bad notBefore")?;
        let not_after = validity.any().and_then(time).ok_or("bad notAfter")?;
        let subject = tbs.take(der::SEQUENCE).ok_or("no subject")?;
        let mut spki = Der::new(tbs.take(der::SEQUENCE).ok_or("no subjectPublicKeyInfo")?);
        let key_algorithm = spki
            .take(der::SEQUENCE)
            .and_then(|alg| Der::new(alg).take(der::OID))
            .ok_or("no key algorithm")?;
        let key = spki.take(der::BIT_STRING).ok_or("no public key")?;
        tbs.take(0x81); // issuerUniqueID
        tbs.take(0x82); // subjectUniqueID
        let mut san = None;
        if let Some(extensions) = tbs.take(0xa3) {
            let list = Der::new(extensions)
                .take(der::SEQUENCE)
                .ok_or("bad extensions")?;
            let mut list = Der::new(list);
            while !list.is_empty() {
                let mut ext = Der::new(list.take(der::SEQUENCE).ok_or("bad extension")?);
                let id = ext.take(der::OID).ok_or("bad extension id")?;
                ext.take(der::BOOLEAN); // critical
                let value = ext.take(der::OCTET_STRING).ok_or("bad extension value")?;
                if id == SUBJECT_ALT_NAME {
                    san = Some(value);
                }
            }
        }
        Ok(Fields {
            issuer,
            subject,
            not_before,
            not_after,
            key_algorithm,
            key,
            san,
        })
    }
}

/// A UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`)
/// as Unix seconds (RFC 5280 §4.1.2.5).
fn time(t: Tlv<'_>) -> Option<u64> {
    let (digits, century) = match (t.tag, t.contents.len()) {
        (der::UTC_TIME, 13) => (t.contents.get(..12)?, None),
        (der::GENERALIZED_TIME, 15) => (t.contents.get(2..14)?, Some(t.contents.get(..2)?)),
        _ => return None,
    };
    if t.contents.last() != Some(&b'Z') {
        return None;
    }
    let two = |pair: &[u8]| match pair {
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some(u64::from(a - b'0') * 10 + u64::from(b - b'0')),
        _ => None,
    };
    let mut f = digits.chunks(2).map(two);
    let mut next = || f.next().flatten();
    let yy = next()?;
    let year = match century {
        Some(c) => two(c)? * 100 + yy,
        None if yy >= 50 => 1900 + yy,
        None => 2000 + yy,
    };
    unix_from_civil(year, next()?, next()?, next()?, next()?, next()?)
}

/// The DNS names and IP addresses of a subjectAltName value; none if any entry is malformed.
fn san_names(value: &[u8]) -> Vec<String> {
    let Some(list) = Der::new(value).take(der::SEQUENCE) else {
        return Vec::new();
    };
    let mut list = Der::new(list);
    let mut names = Vec::new();
    while !list.is_empty() {
        match list.any() {
            // dNSName [2] IA5String
            Some(Tlv {
                tag: 0x82,
                contents,
                ..
            }) if contents.is_ascii() => {
                names.push(String::from_utf8_lossy(contents).into_owned());
            }
            // iPAddress [7] OCTET STRING
            Some(Tlv {
                tag: 0x87,
                contents,
                ..
            }) => names.extend(ip_string(contents)),
            Some(Tlv { tag: 0x82, .. }) | None => return Vec::new(),
            Some(_) => {} // e-mail, URI, directory and other names are not shown
        }
    }
    names
}

/// The RFC 4514 string of a Name's contents: RDNs last to first, joined by `,`;
/// multi-valued RDNs joined by `+`. Malformed parts show as `?`.
fn name_string(name: &[u8]) -> String {
    let mut rdns = Vec::new();
    let mut seq = Der::new(name);
    while !seq.is_empty() {
        let Some(set) = seq.take(der::SET) else {
            rdns.push(String::from("?"));
            break;
        };
        let mut set = Der::new(set);
        let mut atvs = Vec::new();
        while !set.is_empty() {
            match set.take(der::SEQUENCE).and_then(attribute) {
                Some(atv) => atvs.push(atv),
                None => {
                    atvs.push(String::from("?"));
                    break;
                }
            }
        }
        rdns.push(atvs.join("+"));
    }
    rdns.reverse();
    rdns.join(",")
}

/// `TYPE=value` for one AttributeTypeAndValue: a known short name and an escaped string
/// value, or the dotted OID and `#` with the hex of the value's encoding (RFC 4514 §2.3–2.4).
fn attribute(atv: &[u8]) -> Option<String> {
    let mut atv = Der::new(atv);
    let oid = atv.take(der::OID)?;
    let value = atv.any()?;
    let text = match value.tag {
        0x0c => core::str::from_utf8(value.contents).ok(), // UTF8String
        // PrintableString, IA5String, TeletexString (its ASCII part)
        0x13 | 0x16 | 0x14 if value.contents.is_ascii() => {
            core::str::from_utf8(value.contents).ok()
        }
        _ => None,
    };
    match (short_name(oid), text) {
        (Some(key), Some(text)) => Some(format!("{key}={}", escape(text))),
        _ => Some(format!("{}=#{}", der::dotted_oid(oid)?, hex(value.encoded))),
    }
}

/// RFC 4514 §2.4 escaping: `#` first, space first or last, `"+,;<>\`, control characters.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\x00'..='\x1f' | '\x7f' => {
                let _ = write!(out, "\\{:02x}", c as u8);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Short names of the attribute types found in Web PKI names (RFC 4514 §3 and the
/// X.520 / PKCS #9 / EV names), as OID contents.
fn short_name(oid: &[u8]) -> Option<&'static str> {
    const X520: &[(u8, &str)] = &[
        (3, "CN"),
        (4, "SN"),
        (5, "SERIALNUMBER"),
        (6, "C"),
        (7, "L"),
        (8, "ST"),
        (9, "STREET"),
        (10, "O"),
        (11, "OU"),
        (12, "TITLE"),
        (15, "BUSINESSCATEGORY"),
        (17, "POSTALCODE"),
        (42, "GIVENNAME"),
        (43, "INITIALS"),
        (44, "GENERATIONQUALIFIER"),
        (46, "DNQUALIFIER"),
        (65, "PSEUDONYM"),
    ];
    const OTHERS: &[(&[u8], &str)] = &[
        // 0.9.2342.19200300.100.1.25, .1
        (
            &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19],
            "DC",
        ),
        (
            &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01],
            "UID",
        ),
        // 1.2.840.113549.1.9.1
        (
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
            "EMAIL",
        ),
    ];
    match oid {
        [0x55, 0x04, n] => X520.iter().find(|(k, _)| k == n).map(|(_, v)| *v),
        _ => OTHERS.iter().find(|(k, _)| *k == oid).map(|(_, v)| *v),
    }
}

/// The size in bits of the RSA modulus in a certificate's public key; `None` for other
/// keys or undecodable certificates.
pub(crate) fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    let cert = Fields::parse(der).ok()?;
    if cert.key_algorithm != RSA_ENCRYPTION {
        return None;
    }
    // The BIT STRING's first byte counts unused bits: 0 for a DER RSAPublicKey.
    let key = match cert.key.split_first()? {
        (0, key) => key,
        _ => return None,
    };
    let mut key = Der::new(Der::new(key).take(der::SEQUENCE)?);
    let modulus = key.take(der::INTEGER)?;
    key.take(der::INTEGER)?; // the exponent
    let first = modulus.iter().position(|&b| b != 0)?;
    let significant = modulus.get(first..)?;
    let top = significant.first()?;
    Some(significant.len() * 8 - top.leading_zeros() as usize)
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
    pem("CERTIFICATE", der)
}

/// Encodes DER bytes as PEM text with the given label (`PRIVATE KEY`, …).
pub fn pem(label: &str, der: &[u8]) -> String {
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
    let mut out = alloc::format!("-----BEGIN {label}-----\n");
    let bytes = b64.as_bytes();
    for line in bytes.chunks(64) {
        out.push_str(core::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&alloc::format!("-----END {label}-----\n"));
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

    const FIXTURES: [(&str, &[u8]); 5] = [
        ("leaf_rich", include_bytes!("cert/testdata/leaf_rich.der")),
        (
            "leaf_escapes",
            include_bytes!("cert/testdata/leaf_escapes.der"),
        ),
        ("ec_root", include_bytes!("cert/testdata/ec_root.der")),
        (
            "rsa1024_self",
            include_bytes!("cert/testdata/rsa1024_self.der"),
        ),
        (
            "rsa2048_self",
            include_bytes!("cert/testdata/rsa2048_self.der"),
        ),
    ];

    /// The same summary through x509-cert, the parser this module replaced.
    fn reference(der: &[u8]) -> Option<CertSummary> {
        use x509_cert::der::Decode;
        use x509_cert::ext::pkix::name::GeneralName;
        use x509_cert::ext::pkix::SubjectAltName;
        let cert = x509_cert::Certificate::from_der(der).ok()?;
        let tbs = &cert.tbs_certificate;
        let names = match tbs.get::<SubjectAltName>() {
            Ok(Some((_, san))) => san
                .0
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DnsName(d) => Some(d.to_string()),
                    GeneralName::IpAddress(ip) => ip_string(ip.as_bytes()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Some(CertSummary {
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            names,
            not_before: Some(tbs.validity.not_before.to_unix_duration().as_secs()),
            not_after: Some(tbs.validity.not_after.to_unix_duration().as_secs()),
            sha256: hex(&Sha256::digest(der)),
            parse_error: None,
        })
    }

    #[test]
    fn summaries_match_x509_cert_on_varied_certificates() {
        for (name, der) in FIXTURES {
            let ours = CertSummary::from_der(der);
            assert_eq!(Some(&ours), reference(der).as_ref(), "{name}");
        }
        let rich = CertSummary::from_der(FIXTURES[0].1);
        assert!(rich.subject.contains("OU=Dev+OU=Ops"), "{}", rich.subject);
        assert!(
            rich.subject.contains(r#"O=Ex\, Inc.\; \"Q\""#),
            "{}",
            rich.subject
        );
        assert!(
            rich.subject.contains("CN=Bücher www.example.com"),
            "{}",
            rich.subject
        );
        assert_eq!(
            rich.names,
            [
                "www.example.com",
                "*.example.org",
                "127.0.0.1",
                "2001:db8::7",
                "::1"
            ]
        );
        assert!(
            rich.not_after > Some(4_102_444_800),
            "GeneralizedTime after 2100"
        );
        let esc = CertSummary::from_der(FIXTURES[1].1);
        assert_eq!(
            esc.subject,
            r"OU=a\\b\<c\>d=e,O=\ spaced \ ,CN=\#hash leading\ "
        );
    }

    #[test]
    fn mozilla_root_names_match_x509_cert() {
        use x509_cert::der::{Decode, Encode, Header, Length, Tag};
        let mut checked = 0;
        for anchor in webpki_roots::TLS_SERVER_ROOTS {
            let contents: &[u8] = anchor.subject.as_ref();
            let header = Header::new(Tag::Sequence, Length::try_from(contents.len()).unwrap()); // ok: test code
            let mut der = header.unwrap().to_der().unwrap(); // ok: test code
            der.extend_from_slice(contents);
            let reference = x509_cert::name::Name::from_der(&der).unwrap().to_string(); // ok: test code
            assert_eq!(name_string(contents), reference);
            checked += 1;
        }
        assert!(checked > 100);
    }

    #[test]
    fn rsa_key_sizes_are_read_from_the_key() {
        let bits: Vec<_> = FIXTURES.iter().map(|(_, d)| rsa_modulus_bits(d)).collect();
        assert_eq!(bits, [Some(2048), None, None, Some(1024), Some(2048)]);
    }

    #[test]
    fn damaged_certificates_never_panic() {
        let der = FIXTURES[0].1;
        for len in 0..der.len() {
            let s = CertSummary::from_der(&der[..len]);
            assert!(s.parse_error.is_some(), "truncated to {len}");
            assert_eq!(rsa_modulus_bits(&der[..len]), None);
        }
        for i in 0..der.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut bad = der.to_vec();
                bad[i] ^= flip;
                let _ = CertSummary::from_der(&bad);
                let _ = rsa_modulus_bits(&bad);
            }
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
