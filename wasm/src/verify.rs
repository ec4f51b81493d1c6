//! `verifyChain()`: offline verification of a PEM chain, exactly as a handshake with the
//! same trust options would verify it ([`Config::verify_server_chain`]).
//!
//! [`Config::verify_server_chain`]: tlsferry_core::Config::verify_server_chain

use js_sys::{Date, Object};
use tlsferry_core::{parse_certificates, ConfigError, Error, PemInput};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::convert::{self, set};
use crate::options::{self, Settings};

/// The options `verifyChain()` takes.
pub const VERIFY_KEYS: [&str; 3] = ["caPem", "extraCaPem", "time"];

fn config_error(message: String) -> JsValue {
    let err = convert::tls_error("CONFIG", &format!("verifyChain(): {message}"));
    set(&err, "side", "local");
    err
}

/// `time`: a `Date` or Unix seconds, as Unix seconds.
fn unix_time(v: &JsValue) -> Result<u64, JsValue> {
    let secs = match v.dyn_ref::<Date>() {
        Some(d) => d.get_time() / 1000.0,
        None => v.as_f64().unwrap_or(f64::NAN),
    };
    if secs.is_finite() && secs >= 0.0 {
        Ok(secs as u64)
    } else {
        Err(config_error(
            "time must be a Date or Unix seconds (a number from 0)".into(),
        ))
    }
}

/// Verifies `chainPem` (leaf first, as a server sends it) for `serverName` with the trust
/// of `options` (`caPem`, `extraCaPem`; the Mozilla roots by default) at `options.time`
/// (a `Date` or Unix seconds; default now). Returns `{ ok: true, chain }`; throws the
/// `TlsError` a handshake would give (`CERT_EXPIRED`, `CERT_HOSTNAME_MISMATCH`, …, with
/// `report`, `presentedNames`, `notAfter`, `peerCertificates`), or `CONFIG`.
#[wasm_bindgen(js_name = verifyChain, unchecked_return_type = "VerifyChainResult")]
pub fn verify_chain(
    #[wasm_bindgen(js_name = chainPem)] chain_pem: &str,
    #[wasm_bindgen(js_name = serverName)] server_name: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "VerifyChainOptions")] options: Option<JsValue>,
) -> Result<JsValue, JsValue> {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    if !options.is_undefined() && !options.is_null() && !options.is_object() {
        return Err(config_error(
            "verifyChain(): options must be an object".into(),
        ));
    }
    let mut time = None;
    if options.is_object() {
        for key in Object::keys::<JsValue>(options.unchecked_ref()).iter() {
            let key = key.as_string().unwrap_or_default();
            if key == "insecure" {
                return Err(config_error(
                    "insecure is not an option here: a check that accepts any certificate would say nothing".into(),
                ));
            }
            if let Some(message) = options::unknown_key(&key, &VERIFY_KEYS, "the options are") {
                return Err(config_error(message));
            }
        }
        let t = js_sys::Reflect::get(&options, &JsValue::from_str("time"))?;
        if !t.is_undefined() && !t.is_null() {
            time = Some(unix_time(&t)?);
        }
    }
    let chain = parse_certificates(chain_pem.as_bytes(), PemInput::Certificates).map_err(|e| {
        let why = match e {
            ConfigError::Pem {
                index: Some(i),
                reason,
                ..
            } => format!("PEM block #{i}: {reason}"),
            ConfigError::Pem { reason, .. } => reason,
            other => other.to_string(),
        };
        config_error(format!("chainPem: {why}"))
    })?;
    // The trust options as a handshake reads them; verification uses nothing else.
    let settings = Settings::read(&options).map_err(convert::config_error)?;
    let config = options::cached(settings).map_err(convert::config_error)?;
    config
        .verify_server_chain(&chain, server_name, time)
        .map_err(|e: Error| convert::error(&e))?;
    let result: JsValue = Object::new().into();
    set(&result, "ok", true);
    set(&result, "chain", convert::chain(&chain));
    Ok(result)
}
