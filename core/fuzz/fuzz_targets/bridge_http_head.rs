//! `tlsferry bridge`'s hand-written parts that read what a hostile client sends before
//! and after the upgrade: the HTTP request-head scanner and parser, the query decoder, and
//! the `tlsferry.v1` control messages. The CLI's own module files are compiled here with
//! `#[path]` (they are std-only), so this target does not build the CLI crate.
//!
//! The input is used three ways: as raw bytes arriving in two reads; spliced into a valid
//! upgrade request (as the request target, then as header lines), so that the fuzzer
//! starts deep inside the parser without a seed corpus; and as a control message.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../../../native/cli/src/bridge/http_head.rs"]
#[allow(dead_code)]
mod http_head;

#[path = "../../../native/cli/src/bridge/control.rs"]
#[allow(dead_code)]
mod control;

const HEADERS: &str = "Host: bridge.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

fuzz_target!(|data: &[u8]| {
    head(data);

    let mut spliced = b"GET /?target=".to_vec();
    spliced.extend_from_slice(data);
    spliced.extend_from_slice(b" HTTP/1.1\r\n");
    spliced.extend_from_slice(HEADERS.as_bytes());
    spliced.extend_from_slice(b"\r\n");
    head(&spliced);

    let mut spliced = format!("GET /?target=a:1&token=t HTTP/1.1\r\n{HEADERS}").into_bytes();
    spliced.extend_from_slice(data);
    spliced.extend_from_slice(b"\r\n\r\n");
    head(&spliced);

    if let Ok(text) = std::str::from_utf8(data) {
        match control::parse_client_message(text) {
            Ok(control::ClientMessage::Credit(n)) => {
                assert!((1..=control::MAX_GRANT).contains(&n));
                assert_eq!(text, format!("credit {n}"), "one spelling per message");
                let _ = control::add_credit(n, n);
            }
            Ok(control::ClientMessage::Eof) => assert_eq!(text, "eof"),
            Err(why) => assert!(!why.is_empty()),
        }
        let offered: Vec<String> = text.split(',').map(str::to_string).collect();
        let _ = control::choose_subprotocol(&offered);
    }
});

/// Scans `buf` as two reads and at once (the answers must agree), then parses the head.
fn head(buf: &[u8]) {
    let whole = http_head::scan(buf, 0);
    let cut = buf.first().map_or(0, |b| usize::from(*b)).min(buf.len());
    let mut stepwise = http_head::scan(&buf[..cut], 0);
    if stepwise == Ok(None) {
        stepwise = http_head::scan(buf, http_head::resume_at(cut));
    }
    assert_eq!(whole, stepwise, "scanning in pieces changes nothing");
    match whole {
        Ok(Some(end)) => {
            assert!(end <= http_head::MAX_HEAD && buf[..end].ends_with(b"\r\n\r\n"));
            match http_head::parse_upgrade(&buf[..end]) {
                Ok(u) => {
                    assert!(u.target.starts_with('/'));
                    assert!(http_head::is_websocket_key(&u.key));
                    assert!(u.protocols.len() <= http_head::MAX_PROTOCOLS);
                    for name in ["target", "token"] {
                        if let Ok(Some(v)) = u.query(name) {
                            assert!(v.len() <= u.target.len());
                        }
                    }
                }
                Err(e) => assert!(matches!(e.status, 400 | 405 | 426 | 431 | 505)),
            }
        }
        Ok(None) => assert!(buf.len() < http_head::MAX_HEAD),
        Err(e) => assert!(matches!(e.status, 400 | 431)),
    }
}
