//! wasm-bindgen-test unit tests of the JavaScript bindings, run in Node (and in Chromium
//! with `WASM_BINDGEN_USE_BROWSER=1`): no server needed, the core's inputs are made here.
//!
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!  cargo test -p tlsferry-wasm --target wasm32-unknown-unknown`
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Reflect};
use tlsferry_wasm::TlsClient;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn prop(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn code(err: &JsValue) -> String {
    prop(err, "code").as_string().unwrap_or_default()
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let obj: JsValue = Object::new().into();
    for (k, v) in pairs {
        Reflect::set(&obj, &JsValue::from_str(k), v).unwrap();
    }
    obj
}

fn err_of<T: core::fmt::Debug>(r: Result<T, JsValue>) -> JsValue {
    r.expect_err("expected an error")
}

/// The cipher suite ids offered in a ClientHello record.
fn offered_suites(hello: &[u8]) -> Vec<u16> {
    assert_eq!(hello[0], 0x16, "a handshake record");
    assert_eq!(hello[5], 0x01, "a ClientHello");
    // record(5) + handshake header(4) + version(2) + random(32)
    let mut pos = 5 + 4 + 2 + 32;
    let sid = hello[pos] as usize;
    pos += 1 + sid;
    let len = u16::from_be_bytes([hello[pos], hello[pos + 1]]) as usize;
    pos += 2;
    hello[pos..pos + len]
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

#[wasm_bindgen_test]
fn client_hello_offers_chacha20_first_and_names_the_server() {
    let mut c = TlsClient::new("example.com", JsValue::UNDEFINED).unwrap();
    assert!(c.is_handshaking());
    assert_eq!(c.server_name(), "example.com");
    let hello = c
        .take_ciphertext()
        .expect("ClientHello ready at once")
        .to_vec();
    assert!(c.take_ciphertext().is_none(), "taken once");
    let suites = offered_suites(&hello);
    assert_eq!(
        suites[0], 0x1303,
        "TLS_CHACHA20_POLY1305_SHA256 first: {suites:04x?}"
    );
    let aes = suites
        .iter()
        .position(|s| *s == 0x1301)
        .expect("AES-128-GCM offered");
    for chacha12 in [0xcca8, 0xcca9] {
        let at = suites
            .iter()
            .position(|s| *s == chacha12)
            .expect("TLS 1.2 ChaCha offered");
        assert!(at < aes, "all ChaCha suites before AES: {suites:04x?}");
    }
    assert!(hello.windows(11).any(|w| w == b"example.com"), "SNI");
    assert!(c.next_event().is_undefined());
    assert!(c.connection_info().is_undefined());
    assert!(c.error().is_undefined());
}

#[wasm_bindgen_test]
fn cipher_suites_and_versions_options_shape_the_hello() {
    let suites: Array = ["TLS_AES_256_GCM_SHA384"]
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect();
    let opts = options(&[
        ("cipherSuites", suites.into()),
        ("minVersion", "TLSv1.3".into()),
        ("alpn", "h2".into()),
    ]);
    let mut c = TlsClient::new("example.com", opts).unwrap();
    let hello = c.take_ciphertext().unwrap().to_vec();
    // TLS 1.3 only: no TLS 1.2 suites, just the one asked for (plus no SCSV).
    assert_eq!(offered_suites(&hello), vec![0x1302]);
    assert!(hello.windows(2).any(|w| w == b"h2"));
}

#[wasm_bindgen_test]
fn key_exchange_groups_option_shapes_the_hello() {
    let hello = |opts: JsValue| {
        let mut c = TlsClient::new("example.com", opts).unwrap();
        c.take_ciphertext().unwrap().to_vec()
    };
    // The default carries the 1,216-byte X25519MLKEM768 share (group 0x11ec).
    let default = hello(options(&[]));
    assert!(default.len() > 1400, "{}", default.len());
    assert!(default.windows(2).any(|w| w == [0x11, 0xec]));
    let groups: Array = ["X25519", "P-256"]
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect();
    let classic = hello(options(&[("keyExchangeGroups", groups.into())]));
    assert!(classic.len() < 600, "{}", classic.len());
    assert!(!classic.windows(2).any(|w| w == [0x11, 0xec]));
}

#[wasm_bindgen_test]
fn bad_options_are_config_errors_with_messages() {
    let cases: Vec<(JsValue, &str)> = vec![
        (options(&[("caPem", "not a pem".into())]), "CA certificates"),
        (options(&[("caPem", JsValue::from_f64(3.0))]), "caPem"),
        (
            options(&[
                ("minVersion", "TLSv1.3".into()),
                ("maxVersion", "TLSv1.2".into()),
            ]),
            "minVersion",
        ),
        (options(&[("maxVersion", "SSLv3".into())]), "SSLv3"),
        (options(&[("clientCertPem", "x".into())]), "together"),
        (options(&[("keyLog", "file.txt".into())]), "keyLog"),
        (options(&[("insecure", "yes".into())]), "insecure"),
        (options(&[("resumption", "no".into())]), "resumption"),
        (options(&[("alpn", JsValue::from_f64(1.0))]), "alpn"),
        (options(&[("cipherSuites", "TLS_NOPE".into())]), "TLS_NOPE"),
        (
            options(&[("keyExchangeGroups", "X448".into())]),
            "unknown key-exchange group \"X448\"",
        ),
        (
            options(&[("handshakeTimeoutMs", JsValue::from_f64(-1.0))]),
            "handshakeTimeoutMs",
        ),
        (JsValue::from_str("not an object"), "options"),
        (
            options(&[("caPEM", "x".into())]),
            "unknown option \"caPEM\" (did you mean \"caPem\"?)",
        ),
    ];
    for (opts, needle) in cases {
        let err = err_of(TlsClient::new("example.com", opts));
        assert_eq!(code(&err), "CONFIG");
        assert_eq!(prop(&err, "name").as_string().as_deref(), Some("TlsError"));
        assert_eq!(prop(&err, "side").as_string().as_deref(), Some("local"));
        let message = prop(&err, "message").as_string().unwrap();
        assert!(
            message.contains(needle),
            "{message:?} should mention {needle}"
        );
    }
    let err = err_of(TlsClient::new("not a host name!", JsValue::UNDEFINED));
    assert_eq!(code(&err), "INVALID_SERVER_NAME");
}

#[wasm_bindgen_test]
fn garbage_from_the_server_is_a_protocol_error_with_an_alert() {
    let mut c = TlsClient::new("example.com", JsValue::UNDEFINED).unwrap();
    let _ = c.take_ciphertext();
    let err = err_of(c.feed(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
    assert_eq!(code(&err), "PROTOCOL");
    assert_eq!(prop(&err, "side").as_string().as_deref(), Some("peer"));
    let alert = c.take_ciphertext().expect("an alert for the peer").to_vec();
    assert_eq!(alert[0], 0x15, "alert record");
    assert!(c.is_finished());
    assert_eq!(code(&c.error()), "PROTOCOL");
    // Every later call reports the same error.
    assert_eq!(code(&err_of(c.feed(b"more"))), "PROTOCOL");
    assert_eq!(code(&err_of(c.write(b"data"))), "PROTOCOL");
}

#[wasm_bindgen_test]
fn end_of_stream_during_the_handshake_is_handshake_eof() {
    let mut c = TlsClient::new("example.com", JsValue::UNDEFINED).unwrap();
    let err = err_of(c.feed_eof());
    assert_eq!(code(&err), "HANDSHAKE_EOF");
    let message = prop(&err, "message").as_string().unwrap();
    assert!(message.contains("during the TLS handshake"), "{message}");
}

#[wasm_bindgen_test]
fn deadlines_come_from_the_monotonic_clock_and_tick_enforces_them() {
    let before = tlsferry_wasm::clock::monotonic_ms();
    let mut c = TlsClient::new(
        "example.com",
        options(&[("handshakeTimeoutMs", JsValue::from_f64(0.0))]),
    )
    .unwrap();
    let deadline = c.deadline().expect("a handshake deadline");
    assert!(deadline >= before.floor() && deadline <= tlsferry_wasm::clock::monotonic_ms() + 1.0);
    assert_eq!(c.due_in_ms(), Some(0.0));
    let err = err_of(c.tick());
    assert_eq!(code(&err), "TIMEOUT");

    let mut patient = TlsClient::new("example.com", JsValue::UNDEFINED).unwrap();
    let d = patient.deadline().unwrap();
    assert!(
        d - before >= 29_000.0 && d - before <= 31_000.0,
        "30 s default: {}",
        d - before
    );
    let due = patient.due_in_ms().unwrap();
    assert!((29_000.0..=30_000.0).contains(&due), "due in {due} ms");
    patient.tick().expect("not due yet");
}

/// Runs a line of JavaScript (to step the wall clock).
fn js(code: &str) {
    Function::new_no_args(code)
        .call0(&JsValue::UNDEFINED)
        .unwrap();
}

#[wasm_bindgen_test]
fn a_wall_clock_step_moves_no_timer() {
    let mut c = TlsClient::new(
        "example.com",
        options(&[("handshakeTimeoutMs", JsValue::from_f64(60_000.0))]),
    )
    .unwrap();
    // An hour ahead (NTP, a laptop waking up), then an hour back.
    js("globalThis.__tlsferryNow = Date.now; Date.now = () => globalThis.__tlsferryNow() + 3600e3;");
    let ahead = c.tick();
    let due_ahead = c.due_in_ms();
    js("Date.now = () => globalThis.__tlsferryNow() - 3600e3;");
    let behind = c.due_in_ms();
    js("Date.now = globalThis.__tlsferryNow;");
    assert!(ahead.is_ok(), "the timeout fired on a wall-clock jump");
    for due in [due_ahead, behind] {
        let due = due.expect("still pending");
        assert!((59_000.0..=60_000.0).contains(&due), "due in {due} ms");
    }
}

#[wasm_bindgen_test]
fn writes_queue_before_the_handshake_within_the_send_capacity() {
    let mut c = TlsClient::new("example.com", JsValue::UNDEFINED).unwrap();
    let _ = c.take_ciphertext();
    let capacity = c.send_capacity();
    assert!(capacity >= 1024 * 1024);
    assert_eq!(c.write(b"Hello, World!").unwrap(), 13);
    assert_eq!(c.send_capacity(), capacity - 13);
    assert!(
        c.take_ciphertext().is_none(),
        "nothing is sent before the handshake"
    );
    let big = vec![0u8; capacity];
    assert_eq!(
        c.write(&big).unwrap(),
        capacity - 13,
        "accepts up to the capacity"
    );
    assert_eq!(c.write(b"x").unwrap(), 0);
    c.close().unwrap();
    assert!(c.receive_capacity() > 64 * 1024);
}

#[wasm_bindgen_test]
fn feed_stops_at_the_receive_capacity() {
    let mut c = TlsClient::new("example.com", JsValue::UNDEFINED).unwrap();
    let _ = c.take_ciphertext();
    let capacity = c.receive_capacity();
    // A handshake record header announcing 16 KiB, then fewer bytes: incomplete, buffered.
    let mut partial = vec![0x16, 0x03, 0x03, 0x40, 0x00];
    partial.extend(std::iter::repeat_n(0u8, 1000));
    assert_eq!(c.feed(&partial).unwrap(), partial.len());
    assert_eq!(c.receive_capacity(), capacity - partial.len());
}

#[wasm_bindgen_test]
fn key_log_callback_must_be_a_function_and_insecure_still_handshakes() {
    let f = Function::new_with_args(
        "line",
        "globalThis.__tlsferry_lines = (globalThis.__tlsferry_lines || 0) + 1;",
    );
    let opts = options(&[("keyLog", f.unchecked_into()), ("insecure", JsValue::TRUE)]);
    let mut c = TlsClient::new("192.0.2.1", opts).unwrap();
    assert!(c.take_ciphertext().is_some());
    assert_eq!(c.server_name(), "192.0.2.1");
}

#[wasm_bindgen_test]
fn keying_material_only_after_the_handshake_and_arguments_are_checked() {
    let c = TlsClient::new("example.com", JsValue::UNDEFINED).unwrap();
    let cases: Vec<(JsValue, JsValue, Option<JsValue>, &str)> = vec![
        (
            "EXPORTER-Channel-Binding".into(),
            32.0.into(),
            None,
            "the handshake has not completed",
        ),
        (
            JsValue::from_f64(1.0),
            32.0.into(),
            None,
            "label must be a string or a Uint8Array",
        ),
        ("x".into(), 0.0.into(), None, "length must be"),
        ("x".into(), 1.5.into(), None, "length must be"),
        ("x".into(), 65536.0.into(), None, "length must be"),
        ("x".into(), "32".into(), None, "length must be"),
        (
            "x".into(),
            32.0.into(),
            Some("ctx".into()),
            "context must be",
        ),
    ];
    for (label, length, context, needle) in cases {
        let err = err_of(c.export_keying_material(label, length, context));
        assert_eq!(code(&err), "LOCAL");
        let message = prop(&err, "message").as_string().unwrap();
        assert!(
            message.starts_with("cannot export keying material: ") && message.contains(needle),
            "{message:?} should say {needle}"
        );
    }
}

#[cfg(feature = "replay")]
mod verify {
    use super::*;
    use js_sys::Date;
    use tlsferry_core::cert::to_pem;
    use tlsferry_core::testing::{pki, TestCertificate};
    use tlsferry_wasm::verify::verify_chain;

    fn pem(cert: TestCertificate) -> String {
        cert.chain().iter().map(|c| to_pem(c)).collect()
    }

    fn trust(time: JsValue) -> Option<JsValue> {
        Some(options(&[
            ("caPem", pki::root_pem().into()),
            ("time", time),
        ]))
    }

    #[wasm_bindgen_test]
    fn a_chain_verifies_offline_with_the_verdict_of_a_handshake() {
        let at = JsValue::from_f64(pki::CLOCK as f64);
        let ok = verify_chain(
            &pem(TestCertificate::Valid),
            pki::SERVER_NAME,
            trust(at.clone()),
        )
        .unwrap();
        assert_eq!(prop(&ok, "ok"), JsValue::TRUE);
        let chain: Array = prop(&ok, "chain").unchecked_into();
        assert_eq!(chain.length(), 2);
        // A Date is the same instant as Unix seconds.
        let date: JsValue = Date::new(&JsValue::from_f64(pki::CLOCK as f64 * 1000.0)).into();
        verify_chain(&pem(TestCertificate::Valid), pki::SERVER_NAME, trust(date)).unwrap();

        for cert in TestCertificate::ALL {
            let Some(expected) = cert.expected_code() else {
                continue;
            };
            let err = err_of(verify_chain(
                &pem(cert),
                pki::SERVER_NAME,
                trust(at.clone()),
            ));
            assert_eq!(code(&err), expected, "{cert:?}");
            assert!(
                prop(&err, "report").as_string().is_some(),
                "{cert:?} has a report"
            );
            let sent: Array = prop(&err, "peerCertificates").unchecked_into();
            assert_eq!(sent.length() as usize, cert.chain().len());
        }
        // Ten years later the valid chain has expired.
        let later = JsValue::from_f64(pki::CLOCK as f64 + 10.0 * 365.0 * 86400.0);
        let err = err_of(verify_chain(
            &pem(TestCertificate::Valid),
            pki::SERVER_NAME,
            trust(later),
        ));
        assert_eq!(code(&err), "CERT_EXPIRED");
        assert!(prop(&err, "notAfter").is_instance_of::<Date>());
    }

    #[wasm_bindgen_test]
    fn bad_inputs_are_config_errors_naming_them() {
        let valid = pem(TestCertificate::Valid);
        let cases: Vec<(&str, Option<JsValue>, &str)> = vec![
            (
                "garbage",
                None,
                "chainPem: no \"BEGIN CERTIFICATE\" block found",
            ),
            (
                &valid,
                Some(options(&[("insecure", JsValue::TRUE)])),
                "insecure is not an option",
            ),
            (
                &valid,
                Some(options(&[("CaPem", "x".into())])),
                "(did you mean \"caPem\"?)",
            ),
            (
                &valid,
                Some(options(&[("time", "soon".into())])),
                "time must be",
            ),
            (
                &valid,
                Some(options(&[("time", JsValue::from_f64(-1.0))])),
                "time must be",
            ),
            (
                &valid,
                Some(options(&[("caPem", "not a pem".into())])),
                "CA certificates",
            ),
            (
                &valid,
                Some(JsValue::from_str("x")),
                "options must be an object",
            ),
        ];
        for (chain, opts, needle) in cases {
            let err = err_of(verify_chain(chain, pki::SERVER_NAME, opts));
            assert_eq!(code(&err), "CONFIG");
            let message = prop(&err, "message").as_string().unwrap();
            assert!(message.contains(needle), "{message:?} should say {needle}");
        }
        let err = err_of(verify_chain(
            &valid,
            "not a name!",
            trust(JsValue::UNDEFINED),
        ));
        assert_eq!(code(&err), "INVALID_SERVER_NAME");
    }
}
