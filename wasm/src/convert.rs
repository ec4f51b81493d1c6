//! Core values as JavaScript values: connection info, certificate summaries, errors.

use js_sys::{Array, Date, Object, Reflect};
use tlsferry_core::cert::{to_pem, CertSummary};
use tlsferry_core::{CertificateError, CertificateFailure, ConnectionInfo, Error};
use wasm_bindgen::JsValue;

/// Sets `obj[key] = value`; setting a property of a fresh object cannot fail.
pub fn set(obj: &JsValue, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

fn opt_str(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

fn date(secs: Option<u64>) -> JsValue {
    secs.map_or(JsValue::NULL, |s| {
        Date::new(&JsValue::from_f64(s as f64 * 1000.0)).into()
    })
}

fn strings(items: &[String]) -> Array {
    items.iter().map(|s| JsValue::from_str(s)).collect()
}

/// One certificate: `{ pem, subject, issuer, names, notBefore, notAfter, sha256, parseError }`.
pub fn certificate(der: &[u8]) -> JsValue {
    let s = CertSummary::from_der(der);
    let obj: JsValue = Object::new().into();
    set(&obj, "pem", to_pem(der));
    set(&obj, "subject", s.subject.as_str());
    set(&obj, "issuer", s.issuer.as_str());
    set(&obj, "names", strings(&s.names));
    set(&obj, "notBefore", date(s.not_before));
    set(&obj, "notAfter", date(s.not_after));
    set(&obj, "sha256", s.sha256.as_str());
    set(&obj, "parseError", opt_str(s.parse_error.as_deref()));
    obj
}

/// A chain of DER certificates as an array of [`certificate`] objects.
pub fn chain<C: AsRef<[u8]>>(certs: &[C]) -> Array {
    certs.iter().map(|c| certificate(c.as_ref())).collect()
}

/// `ConnectionInfo`: `{ version, cipherSuite, keyExchangeGroup, alpn, resumed,
/// serverName, verified, peerCertificates }`.
pub fn connection_info(info: &ConnectionInfo) -> JsValue {
    let obj: JsValue = Object::new().into();
    set(&obj, "version", info.version.to_string());
    set(&obj, "cipherSuite", info.cipher_suite.as_str());
    set(
        &obj,
        "keyExchangeGroup",
        opt_str(info.key_exchange_group.as_deref()),
    );
    let alpn = info
        .alpn
        .as_deref()
        .map(|a| String::from_utf8_lossy(a).into_owned());
    set(&obj, "alpn", opt_str(alpn.as_deref()));
    set(&obj, "resumed", info.resumed);
    set(&obj, "serverName", info.server_name.as_str());
    set(&obj, "verified", info.verified);
    set(&obj, "peerCertificates", chain(&info.peer_certificates));
    obj
}

fn certificate_details(err: &JsValue, c: &CertificateError) {
    set(err, "report", c.report());
    set(err, "reason", c.reason.to_string());
    set(err, "serverName", c.server_name.as_str());
    set(err, "now", date(c.now));
    set(err, "peerCertificates", chain(&c.chain));
    match &c.reason {
        CertificateFailure::NameMismatch { presented, .. } => {
            set(err, "presentedNames", strings(presented));
        }
        CertificateFailure::Expired { not_after, .. } => set(err, "notAfter", date(*not_after)),
        CertificateFailure::NotYetValid { not_before, .. } => {
            set(err, "notBefore", date(*not_before))
        }
        _ => {}
    }
}

/// A JavaScript `Error` named `TlsError`, with `code` (e.g. `CERT_EXPIRED`), `side`
/// (`local` or `peer`), and for certificate failures the forensic data: `report`,
/// `reason`, `serverName`, `presentedNames`, `notAfter`, `peerCertificates`.
pub fn error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("TlsError");
    let err: JsValue = err.into();
    set(&err, "code", e.code());
    set(&err, "side", if e.is_local() { "local" } else { "peer" });
    if let Some(c) = e.certificate() {
        certificate_details(&err, c);
    }
    err
}

/// A `TlsError` with `code` and `message` for a failure found here, not by the core.
pub fn tls_error(code: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    err.set_name("TlsError");
    let err: JsValue = err.into();
    set(&err, "code", code);
    err
}

/// A `TlsError` for an invalid configuration (code `CONFIG`).
pub fn config_error(e: tlsferry_core::ConfigError) -> JsValue {
    error(&Error::from(e))
}
