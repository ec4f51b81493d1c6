//! The `connect()` options object, read from JavaScript into a [`Config`].

use std::sync::Arc;
use std::time::Duration;

use js_sys::{Array, Function, Object, Reflect};
use tlsferry_core::{Config, ConfigError, Version};
use wasm_bindgen::{JsCast, JsValue};

use crate::clock::JsClock;
use crate::keylog::KeyLogQueue;

/// A configuration read from a JavaScript options object.
#[derive(Debug)]
pub struct Options {
    /// The configuration for the core.
    pub config: Config,
    /// The `keyLog` callback and the queue that feeds it.
    pub key_log: Option<(Arc<KeyLogQueue>, Function)>,
    /// True when `insecure: true` disabled certificate verification.
    pub insecure: bool,
}

/// The provider's cipher suites, ChaCha20-Poly1305 first (fast in wasm, which has no
/// AES instructions), then AES-GCM; TLS 1.3 before TLS 1.2 within each; otherwise in the
/// provider's order.
pub fn wasm_cipher_suite_order() -> Vec<String> {
    let mut names: Vec<String> = tlsferry_core::default_provider()
        .cipher_suites
        .iter()
        .filter_map(|s| s.suite().as_str().map(String::from))
        .collect();
    names.sort_by_key(|n| (!n.contains("CHACHA20"), !n.starts_with("TLS13_")));
    names
}

fn invalid(what: &str, why: &str) -> ConfigError {
    ConfigError::Unusable(format!("option {what}: {why}"))
}

fn get(options: &JsValue, key: &str) -> Option<JsValue> {
    if !options.is_object() {
        return None;
    }
    Reflect::get(options, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn get_string(options: &JsValue, key: &str) -> Result<Option<String>, ConfigError> {
    match get(options, key) {
        None => Ok(None),
        Some(v) => v
            .as_string()
            .map(Some)
            .ok_or_else(|| invalid(key, "must be a string")),
    }
}

fn get_strings(options: &JsValue, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
    let Some(v) = get(options, key) else {
        return Ok(None);
    };
    if let Some(s) = v.as_string() {
        return Ok(Some(vec![s]));
    }
    if !Array::is_array(&v) {
        return Err(invalid(key, "must be a string or an array of strings"));
    }
    Array::from(&v)
        .iter()
        .map(|item| {
            item.as_string()
                .ok_or_else(|| invalid(key, "must contain only strings"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn get_millis(options: &JsValue, key: &str) -> Result<Option<Duration>, ConfigError> {
    let Some(v) = get(options, key) else {
        return Ok(None);
    };
    match v.as_f64() {
        Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(Some(Duration::from_millis(ms as u64))),
        _ => Err(invalid(
            key,
            "must be a non-negative number of milliseconds",
        )),
    }
}

/// Parses `TLSv1.2`, `TLSv1.3` (also `1.2`, `1.3`, `TLS1.2`, any case).
pub fn parse_version(key: &str, text: &str) -> Result<Version, ConfigError> {
    let t = text.trim().to_ascii_lowercase();
    let t = t
        .strip_prefix("tlsv")
        .or_else(|| t.strip_prefix("tls"))
        .unwrap_or(&t);
    match t {
        "1.2" => Ok(Version::Tls12),
        "1.3" => Ok(Version::Tls13),
        _ => Err(invalid(
            key,
            &format!("unknown TLS version {text:?} (use \"TLSv1.2\" or \"TLSv1.3\")"),
        )),
    }
}

/// The versions from `min` to `max` (both optional), oldest first.
pub fn version_range(
    min: Option<Version>,
    max: Option<Version>,
) -> Result<Vec<Version>, ConfigError> {
    let rank = |v: Version| if v == Version::Tls12 { 0 } else { 1 };
    let lo = min.map_or(0, rank);
    let hi = max.map_or(1, rank);
    if lo > hi {
        return Err(invalid("minVersion", "is newer than maxVersion"));
    }
    Ok([Version::Tls13, Version::Tls12]
        .into_iter()
        .filter(|v| (lo..=hi).contains(&rank(*v)))
        .collect())
}

/// The keys of the options object that [`read`] understands.
pub const KNOWN_KEYS: [&str; 12] = [
    "alpn",
    "caPem",
    "extraCaPem",
    "clientCertPem",
    "clientKeyPem",
    "minVersion",
    "maxVersion",
    "cipherSuites",
    "keyLog",
    "insecure",
    "handshakeTimeoutMs",
    "idleTimeoutMs",
];

/// Refuses a key that is not an option, naming it (and the option it resembles): a
/// misspelt `caPEM` must not fall back silently to the Mozilla roots.
pub fn check_key(key: &str) -> Result<(), ConfigError> {
    if KNOWN_KEYS.contains(&key) {
        return Ok(());
    }
    let squash = |k: &str| {
        k.chars()
            .filter(|c| *c != '_' && *c != '-')
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let hint = KNOWN_KEYS
        .iter()
        .find(|k| squash(k) == squash(key))
        .map(|k| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_default();
    Err(ConfigError::Unusable(format!(
        "unknown option \"{key}\"{hint}; the TLS options are {}",
        KNOWN_KEYS.join(", ")
    )))
}

/// Reads the options object (see `ConnectOptions` in the TypeScript types).
pub fn read(options: &JsValue) -> Result<Options, ConfigError> {
    if !options.is_undefined() && !options.is_null() && !options.is_object() {
        return Err(invalid("options", "must be an object"));
    }
    if options.is_object() {
        for key in Object::keys::<JsValue>(options.unchecked_ref()).iter() {
            check_key(&key.as_string().unwrap_or_default())?;
        }
    }
    let mut builder = Config::builder().time_provider(Arc::new(JsClock));

    if let Some(alpn) = get_strings(options, "alpn")? {
        builder = builder.alpn(alpn);
    }
    if let Some(ca) = get_string(options, "caPem")? {
        builder = builder.root_certificates_pem(ca.as_bytes());
    }
    if let Some(ca) = get_string(options, "extraCaPem")? {
        builder = builder.add_root_certificates_pem(ca.as_bytes());
    }
    match (
        get_string(options, "clientCertPem")?,
        get_string(options, "clientKeyPem")?,
    ) {
        (Some(cert), Some(key)) => {
            builder = builder.client_auth_pem(cert.as_bytes(), key.as_bytes())
        }
        (None, None) => {}
        _ => {
            return Err(ConfigError::ClientAuth(
                "clientCertPem and clientKeyPem must be given together".into(),
            ))
        }
    }
    let min = get_string(options, "minVersion")?
        .map(|v| parse_version("minVersion", &v))
        .transpose()?;
    let max = get_string(options, "maxVersion")?
        .map(|v| parse_version("maxVersion", &v))
        .transpose()?;
    builder = builder.versions(&version_range(min, max)?);

    let suites = get_strings(options, "cipherSuites")?.unwrap_or_else(wasm_cipher_suite_order);
    builder = builder.cipher_suites(suites);

    if let Some(t) = get_millis(options, "handshakeTimeoutMs")? {
        builder = builder.handshake_timeout(Some(t));
    }
    if let Some(t) = get_millis(options, "idleTimeoutMs")? {
        builder = builder.idle_timeout(Some(t));
    }

    let key_log = match get(options, "keyLog") {
        None => None,
        Some(v) => {
            let f = v
                .dyn_into::<Function>()
                .map_err(|_| invalid("keyLog", "must be a function (line: string) => void"))?;
            let queue = KeyLogQueue::new();
            builder = builder.key_log(queue.clone());
            Some((queue, f))
        }
    };

    let insecure = match get(options, "insecure") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| invalid("insecure", "must be a boolean"))?,
    };
    if insecure {
        builder = builder.dangerous_accept_any_certificate();
    }

    Ok(Options {
        config: builder.build()?,
        key_log,
        insecure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chacha_first_then_aes_tls13_first_within_each() {
        let order = wasm_cipher_suite_order();
        assert_eq!(order[0], "TLS13_CHACHA20_POLY1305_SHA256");
        let last_chacha = order.iter().rposition(|n| n.contains("CHACHA20")).unwrap();
        let first_aes = order.iter().position(|n| n.contains("AES")).unwrap();
        assert!(last_chacha < first_aes, "{order:?}");
        assert_eq!(order[first_aes], "TLS13_AES_128_GCM_SHA256");
        assert_eq!(
            order.len(),
            tlsferry_core::default_provider().cipher_suites.len()
        );
    }

    #[test]
    fn unknown_keys_are_named_with_the_option_they_resemble() {
        assert_eq!(check_key("caPem"), Ok(()));
        let err = check_key("caPEM").unwrap_err().to_string();
        assert!(
            err.contains("unknown option \"caPEM\" (did you mean \"caPem\"?)"),
            "{err}"
        );
        let err = check_key("server_name").unwrap_err().to_string();
        assert!(
            err.contains("unknown option \"server_name\"; the TLS options are alpn, caPem"),
            "{err}"
        );
        let err = check_key("handshake_timeout_ms").unwrap_err().to_string();
        assert!(err.contains("did you mean \"handshakeTimeoutMs\""), "{err}");
    }

    #[test]
    fn versions_parse_and_ranges_are_checked() {
        assert_eq!(parse_version("v", "TLSv1.2"), Ok(Version::Tls12));
        assert_eq!(parse_version("v", "tls1.3"), Ok(Version::Tls13));
        assert_eq!(parse_version("v", " 1.3 "), Ok(Version::Tls13));
        assert!(parse_version("v", "TLSv1.1").is_err());
        assert_eq!(
            version_range(None, None),
            Ok(vec![Version::Tls13, Version::Tls12])
        );
        assert_eq!(
            version_range(Some(Version::Tls13), None),
            Ok(vec![Version::Tls13])
        );
        assert_eq!(
            version_range(None, Some(Version::Tls12)),
            Ok(vec![Version::Tls12])
        );
        assert!(version_range(Some(Version::Tls13), Some(Version::Tls12)).is_err());
    }
}
