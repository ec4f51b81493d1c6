//! Offline replay of recorded sessions (`tlsferry connect --record FILE`) and the
//! deterministic ClientHello, for JavaScript tests (cargo feature `replay`, on by
//! default). Wrapped by `replay()` and `deterministicClientHello()` in `js/index.js`.
//!
//! The deterministic client draws every random byte from a seed: use it only to test.

use js_sys::{Object, Uint8Array};
use tlsferry_core::testing::{
    hex_encode, replay_with, ParseError, ReplayError, ReplayOptions, Seed, Session, Transcript,
};
use wasm_bindgen::prelude::*;

use crate::convert::{self, set, tls_error};

fn parse_error(e: &ParseError) -> JsValue {
    let err = tls_error("TRANSCRIPT", &e.to_string());
    set(&err, "line", e.line as f64);
    set(&err, "column", e.column as f64);
    err
}

fn line(l: Option<usize>) -> JsValue {
    l.map_or(JsValue::NULL, |l| JsValue::from_f64(l as f64))
}

fn replay_error(e: &ReplayError) -> JsValue {
    let err = match e {
        ReplayError::Tls {
            error,
            entry,
            line: l,
        } => {
            let err = convert::error(error);
            let message = format!("replay: {e}");
            set(&err, "message", message.as_str());
            set(
                &err,
                "entry",
                entry.map_or(JsValue::NULL, |i| (i as f64).into()),
            );
            set(&err, "line", line(*l));
            return err;
        }
        ReplayError::Config(c) => return convert::config_error(c.clone()),
        other => tls_error(other.code(), &other.to_string()),
    };
    if let Some(d) = e.divergence() {
        set(&err, "chunk", d.chunk as f64);
        set(&err, "offset", d.offset as f64);
        set(&err, "line", line(d.line));
        set(&err, "expected", hex_encode(&d.expected));
        set(&err, "actual", hex_encode(&d.actual));
    }
    err
}

fn unix_seconds(what: &str, t: f64) -> Result<u64, JsValue> {
    if (0.0..1e15).contains(&t) {
        Ok(t as u64)
    } else {
        // No float formatting: it would pull ~15 KB of code into the module.
        Err(tls_error(
            "LOCAL",
            &format!("{what}: expected Unix seconds (a number from 0)"),
        ))
    }
}

fn seed(hex: &str) -> Result<Seed, JsValue> {
    Seed::from_hex(hex).ok_or_else(|| tls_error("LOCAL", "seed: expected 64 hex digits (32 bytes)"))
}

/// Replays transcript text offline: a fresh deterministic client is fed the recorded
/// server bytes and its own bytes must match the recording. `time` (Unix seconds)
/// replaces the recorded clock, `seedHex` the recorded seed.
///
/// Returns `{ reply: Uint8Array, info, clientBytes, serverBytes, peerClosed, closed }`.
/// Throws a `TlsError`: `TRANSCRIPT` (with `line`, `column`), `DIVERGED` (with `chunk`,
/// `offset`, `line`, `expected`, `actual` as hex), `CONFIG_MISMATCH`, or the client's own
/// code (`CERT_EXPIRED`, `PROTOCOL`, …, with `entry` and `line`).
#[wasm_bindgen(js_name = replayTranscript)]
pub fn replay_transcript(
    text: &str,
    time: Option<f64>,
    seed_hex: Option<String>,
) -> Result<JsValue, JsValue> {
    let transcript = Transcript::parse(text).map_err(|e| parse_error(&e))?;
    let options = ReplayOptions {
        clock: time.map(|t| unix_seconds("time", t)).transpose()?,
        seed: seed_hex.as_deref().map(seed).transpose()?,
        ignore_fingerprint: false,
    };
    let r = replay_with(&transcript, &options).map_err(|e| replay_error(&e))?;
    let obj: JsValue = Object::new().into();
    set(&obj, "reply", Uint8Array::from(r.reply.as_slice()));
    set(
        &obj,
        "info",
        r.info
            .as_ref()
            .map_or(JsValue::NULL, convert::connection_info),
    );
    set(&obj, "clientBytes", r.client_bytes as f64);
    set(&obj, "serverBytes", r.server_bytes as f64);
    set(&obj, "peerClosed", r.peer_closed);
    set(&obj, "closed", r.closed);
    Ok(obj)
}

/// The ClientHello record a deterministic client sends for `seedHex` (64 hex digits),
/// `serverName` and the `alpn` protocols, with default settings otherwise (TLS 1.3 and
/// 1.2, every suite, the Mozilla roots); `time` is its clock (Unix seconds).
#[wasm_bindgen(js_name = deterministicClientHello)]
pub fn deterministic_client_hello(
    seed_hex: &str,
    server_name: &str,
    alpn: Vec<String>,
    time: f64,
) -> Result<Vec<u8>, JsValue> {
    let mut session = Session::new(seed(seed_hex)?, unix_seconds("time", time)?, server_name);
    session.settings.alpn = alpn.into_iter().map(String::into_bytes).collect();
    session.client_hello().map_err(|e| convert::error(&e))
}
