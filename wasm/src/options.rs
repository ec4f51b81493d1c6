//! The `connect()` options object, read from JavaScript into a [`Config`].
//!
//! Configurations are cached per module ([`cached`]): connections with the same options
//! share one [`Config`], and with it its session cache, so that they resume (rustls
//! resumes a session only with the verifier that verified it, and the verifier lives in
//! the `Config`). Options with a `keyLog` function get a `Config` of their own.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use js_sys::{Array, Function, Object, Reflect};
use tlsferry_core::rustls::SupportedCipherSuite;
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

/// Configurations kept per module (least recently used out first).
pub const CONFIG_CACHE: usize = 16;
/// Servers whose sessions each cached configuration remembers.
pub const SESSIONS_PER_CONFIG: usize = 32;

/// The provider's cipher suites by IANA name, ChaCha20-Poly1305 first (fast in wasm,
/// which has no AES instructions), then AES-GCM; TLS 1.3 before TLS 1.2 within each;
/// otherwise in the provider's order.
pub fn wasm_cipher_suite_order() -> Vec<String> {
    let mut suites: Vec<(bool, bool, String)> = tlsferry_core::default_provider()
        .cipher_suites
        .iter()
        .filter_map(|s| {
            let name = s.suite().as_str()?;
            // rustls says TLS13_AES_128_GCM_SHA256; IANA (and ConnectionInfo) TLS_….
            let name = match name.strip_prefix("TLS13_") {
                Some(rest) => format!("TLS_{rest}"),
                None => name.into(),
            };
            let tls13 = matches!(s, SupportedCipherSuite::Tls13(_));
            Some((!name.contains("CHACHA20"), !tls13, name))
        })
        .collect();
    // A stable sort keeps the provider's order within each group.
    suites.sort_by_key(|(aes, tls12, _)| (*aes, *tls12));
    suites.into_iter().map(|(_, _, name)| name).collect()
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

fn get_bool(options: &JsValue, key: &str) -> Result<Option<bool>, ConfigError> {
    get(options, key)
        .map(|v| v.as_bool().ok_or_else(|| invalid(key, "must be a boolean")))
        .transpose()
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
pub const KNOWN_KEYS: [&str; 14] = [
    "alpn",
    "caPem",
    "extraCaPem",
    "clientCertPem",
    "clientKeyPem",
    "minVersion",
    "maxVersion",
    "cipherSuites",
    "keyExchangeGroups",
    "keyLog",
    "insecure",
    "handshakeTimeoutMs",
    "idleTimeoutMs",
    "resumption",
];

/// Refuses a key that is not an option, naming it (and the option it resembles): a
/// misspelt `caPEM` must not fall back silently to the Mozilla roots.
pub fn check_key(key: &str) -> Result<(), ConfigError> {
    match unknown_key(key, &KNOWN_KEYS, "the TLS options are") {
        None => Ok(()),
        Some(message) => Err(ConfigError::Unusable(message)),
    }
}

/// What is wrong with `key` if it is not one of the option names `known` (listed after
/// `listed` in the message).
pub fn unknown_key(key: &str, known: &[&str], listed: &str) -> Option<String> {
    if known.contains(&key) {
        return None;
    }
    let squash = |k: &str| {
        k.chars()
            .filter(|c| *c != '_' && *c != '-')
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let hint = known
        .iter()
        .find(|k| squash(k) == squash(key))
        .map(|k| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_default();
    Some(format!(
        "unknown option \"{key}\"{hint}; {listed} {}",
        known.join(", ")
    ))
}

/// Where client certificates are, added to the core's refusal in the main module (built
/// without the `client-auth` feature).
#[cfg(not(feature = "client-auth"))]
const CLIENT_AUTH_MODULE: &str = "they are in the package's client-auth module \
     (tlsferry_client_auth_bg.wasm): connect() loads it when the options have \
     clientCertPem; for new TlsClient(), use the class that `await loadClientAuth()` \
     resolves to";

/// The TLS options as plain values: equal settings make equal configurations, so they
/// are the key of the per-module cache.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `alpn`.
    pub alpn: Option<Vec<String>>,
    /// `caPem`.
    pub ca_pem: Option<String>,
    /// `extraCaPem`.
    pub extra_ca_pem: Option<String>,
    /// `clientCertPem` and `clientKeyPem`.
    pub client_auth: Option<(String, String)>,
    /// From `minVersion` and `maxVersion`, newest first.
    pub versions: Vec<Version>,
    /// `cipherSuites` (`None`: [`wasm_cipher_suite_order`]).
    pub cipher_suites: Option<Vec<String>>,
    /// `keyExchangeGroups` (`None`: the core's default, X25519MLKEM768 first).
    pub kx_groups: Option<Vec<String>>,
    /// `handshakeTimeoutMs`.
    pub handshake_timeout: Option<Duration>,
    /// `idleTimeoutMs`.
    pub idle_timeout: Option<Duration>,
    /// `insecure`.
    pub insecure: bool,
    /// `resumption` (default true).
    pub resumption: bool,
}

impl std::fmt::Debug for Settings {
    /// Leaves out the PEM inputs: one of them is a private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("alpn", &self.alpn)
            .field("versions", &self.versions)
            .field("cipher_suites", &self.cipher_suites)
            .field("kx_groups", &self.kx_groups)
            .field("insecure", &self.insecure)
            .field("resumption", &self.resumption)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Reads every option except `keyLog` (checked and read by [`read`]).
    pub fn read(options: &JsValue) -> Result<Settings, ConfigError> {
        let client_auth = match (
            get_string(options, "clientCertPem")?,
            get_string(options, "clientKeyPem")?,
        ) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => {
                return Err(ConfigError::ClientAuth(
                    "clientCertPem and clientKeyPem must be given together".into(),
                ))
            }
        };
        let min = get_string(options, "minVersion")?
            .map(|v| parse_version("minVersion", &v))
            .transpose()?;
        let max = get_string(options, "maxVersion")?
            .map(|v| parse_version("maxVersion", &v))
            .transpose()?;
        Ok(Settings {
            alpn: get_strings(options, "alpn")?,
            ca_pem: get_string(options, "caPem")?,
            extra_ca_pem: get_string(options, "extraCaPem")?,
            client_auth,
            versions: version_range(min, max)?,
            cipher_suites: get_strings(options, "cipherSuites")?,
            kx_groups: get_strings(options, "keyExchangeGroups")?,
            handshake_timeout: get_millis(options, "handshakeTimeoutMs")?,
            idle_timeout: get_millis(options, "idleTimeoutMs")?,
            insecure: get_bool(options, "insecure")?.unwrap_or(false),
            resumption: get_bool(options, "resumption")?.unwrap_or(true),
        })
    }

    /// Builds a configuration from these settings (and the key log, if any).
    pub fn build(&self, key_log: Option<Arc<KeyLogQueue>>) -> Result<Config, ConfigError> {
        let mut builder = Config::builder().time_provider(Arc::new(JsClock));
        let builtin = self.ca_pem.is_none() && !self.insecure;
        builder = crate::roots::with_builtin_roots(builder, builtin)?;
        if let Some(alpn) = &self.alpn {
            builder = builder.alpn(alpn);
        }
        if let Some(ca) = &self.ca_pem {
            builder = builder.root_certificates_pem(ca.as_bytes());
        }
        if let Some(ca) = &self.extra_ca_pem {
            builder = builder.add_root_certificates_pem(ca.as_bytes());
        }
        if let Some((cert, key)) = &self.client_auth {
            builder = builder.client_auth_pem(cert.as_bytes(), key.as_bytes());
        }
        builder = builder.versions(&self.versions);
        builder = match &self.cipher_suites {
            Some(suites) => builder.cipher_suites(suites),
            None => builder.cipher_suites(wasm_cipher_suite_order()),
        };
        if let Some(groups) = &self.kx_groups {
            builder = builder.key_exchange_groups(groups);
        }
        if let Some(t) = self.handshake_timeout {
            builder = builder.handshake_timeout(Some(t));
        }
        if let Some(t) = self.idle_timeout {
            builder = builder.idle_timeout(Some(t));
        }
        if let Some(queue) = key_log {
            builder = builder.key_log(queue);
        }
        if self.insecure {
            builder = builder.dangerous_accept_any_certificate();
        }
        builder = builder.session_cache(if self.resumption {
            SESSIONS_PER_CONFIG
        } else {
            0
        });
        let config = builder.build();
        #[cfg(not(feature = "client-auth"))]
        if let Err(ConfigError::ClientAuth(why)) = &config {
            return Err(ConfigError::ClientAuth(format!(
                "{why}; {CLIENT_AUTH_MODULE}"
            )));
        }
        config
    }
}

thread_local! {
    /// The per-module configurations, least recently used first.
    static CONFIGS: RefCell<VecDeque<(Settings, Config)>> = const { RefCell::new(VecDeque::new()) };
}

/// The cached configuration for `settings`, built on first use; at most [`CONFIG_CACHE`]
/// are kept, the least recently used dropped first (its sessions with it, once no
/// connection uses it).
pub fn cached(settings: Settings) -> Result<Config, ConfigError> {
    let hit = CONFIGS.with(|c| {
        let mut configs = c.borrow_mut();
        let i = configs.iter().position(|(s, _)| *s == settings)?;
        let entry = configs.remove(i)?;
        let config = entry.1.clone();
        configs.push_back(entry);
        Some(config)
    });
    if let Some(config) = hit {
        return Ok(config);
    }
    let config = settings.build(None)?;
    CONFIGS.with(|c| {
        let mut configs = c.borrow_mut();
        while configs.len() >= CONFIG_CACHE {
            configs.pop_front();
        }
        configs.push_back((settings, config.clone()));
    });
    Ok(config)
}

/// Reads the options object (see `ConnectOptions` in the TypeScript types): the cached
/// configuration for these options, or with a `keyLog` function one of their own.
pub fn read(options: &JsValue) -> Result<Options, ConfigError> {
    if !options.is_undefined() && !options.is_null() && !options.is_object() {
        return Err(invalid("options", "must be an object"));
    }
    if options.is_object() {
        for key in Object::keys::<JsValue>(options.unchecked_ref()).iter() {
            check_key(&key.as_string().unwrap_or_default())?;
        }
    }
    let settings = Settings::read(options)?;
    let insecure = settings.insecure;
    let key_log = match get(options, "keyLog") {
        None => None,
        Some(v) => Some(
            v.dyn_into::<Function>()
                .map_err(|_| invalid("keyLog", "must be a function (line: string) => void"))?,
        ),
    };
    let (config, key_log) = match key_log {
        // A function cannot be compared by value: its connections get their own
        // configuration (and so never resume).
        Some(f) => {
            let queue = KeyLogQueue::new();
            (settings.build(Some(queue.clone()))?, Some((queue, f)))
        }
        None => (cached(settings)?, None),
    };
    Ok(Options {
        config,
        key_log,
        insecure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached_alpns() -> Vec<Option<Vec<String>>> {
        CONFIGS.with(|c| c.borrow().iter().map(|(s, _)| s.alpn.clone()).collect())
    }

    #[test]
    fn the_config_cache_is_bounded_and_least_recently_used_goes_first() {
        let with_alpn = |i: usize| Settings {
            alpn: Some(vec![format!("p{i}")]),
            versions: vec![Version::Tls13, Version::Tls12],
            resumption: true,
            ..Settings::default()
        };
        for i in 0..CONFIG_CACHE {
            assert!(cached(with_alpn(i)).unwrap().resumes_sessions());
        }
        // A hit makes p0 the most recently used; the next miss drops p1.
        cached(with_alpn(0)).unwrap();
        cached(with_alpn(CONFIG_CACHE)).unwrap();
        let alpns = cached_alpns();
        assert_eq!(alpns.len(), CONFIG_CACHE);
        assert!(!alpns.contains(&Some(vec!["p1".into()])), "{alpns:?}");
        assert_eq!(alpns[CONFIG_CACHE - 2], Some(vec!["p0".into()]));
        // resumption: false is a configuration without a session cache.
        let off = Settings {
            resumption: false,
            ..with_alpn(0)
        };
        assert!(!cached(off).unwrap().resumes_sessions());
        // Equal settings find the same entry: nothing new is built.
        let before = cached_alpns();
        cached(with_alpn(2)).unwrap();
        assert_eq!(cached_alpns().len(), before.len());
    }

    #[test]
    fn chacha_first_then_aes_tls13_first_within_each() {
        let order = wasm_cipher_suite_order();
        assert_eq!(order[0], "TLS_CHACHA20_POLY1305_SHA256");
        let last_chacha = order.iter().rposition(|n| n.contains("CHACHA20")).unwrap();
        let first_aes = order.iter().position(|n| n.contains("AES")).unwrap();
        assert!(last_chacha < first_aes, "{order:?}");
        assert_eq!(order[first_aes], "TLS_AES_128_GCM_SHA256");
        let first_tls12_chacha = order.iter().position(|n| n.contains("ECDHE")).unwrap();
        assert!(order[first_tls12_chacha].contains("CHACHA20"), "{order:?}");
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
