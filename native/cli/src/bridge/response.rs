//! The bridge's HTTP answers: `101 Switching Protocols` (RFC 6455 §4.2.2) and the
//! refusals before the upgrade (400, 401, 403, 405, 408, 426, 429, 431, 502, 503, 504, 505),
//! each with a one-line plain-text body that says why.

use sha1::{Digest, Sha1};

use super::log::escape_text;

/// Seconds a client is asked to wait (`Retry-After`) after a 429 or 503.
pub const RETRY_AFTER_SECS: u32 = 2;

/// The `101 Switching Protocols` answer, with the subprotocol chosen (if any).
pub fn switching_protocols(key: &str, protocol: Option<&str>) -> String {
    let mut out = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        accept_key(key)
    );
    if let Some(p) = protocol {
        out.push_str("Sec-WebSocket-Protocol: ");
        out.push_str(p);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out
}

/// An HTTP refusal with `status` and `reason` (the body; escaped, so that it is always one
/// printable line whatever a client put into it).
pub fn refusal(status: u16, reason: &str) -> String {
    let text = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    };
    let body = format!("{}\n", escape_text(reason));
    let mut extra = String::new();
    match status {
        401 => extra.push_str("WWW-Authenticate: Bearer\r\n"),
        405 => extra.push_str("Allow: GET\r\n"),
        426 => extra.push_str("Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"),
        429 | 503 => extra.push_str(&format!("Retry-After: {RETRY_AFTER_SECS}\r\n")),
        _ => {}
    }
    format!(
        "HTTP/1.1 {status} {text}\r\n{extra}Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// `Sec-WebSocket-Accept` for a client key (RFC 6455 §4.2.2).
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64(&sha.finalize())
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_matches_rfc_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let r = switching_protocols("dGhlIHNhbXBsZSBub25jZQ==", Some("tlsferry.v1"));
        assert!(r.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(r.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(r.ends_with("\r\nSec-WebSocket-Protocol: tlsferry.v1\r\n\r\n"));
        assert!(!switching_protocols("x", None).contains("Protocol:"));
    }

    #[test]
    fn refusals_are_complete_responses_with_one_line_bodies() {
        let r = refusal(403, "target not allowed: evil\r\nX-Injected: 1\u{1b}[31m");
        let (head, body) = r.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 403 Forbidden\r\n"));
        assert!(!head.contains("X-Injected"));
        assert_eq!(body.lines().count(), 1);
        assert!(!body.contains('\u{1b}'));
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(len, body.len());
        assert!(refusal(503, "full").contains("\r\nRetry-After: 2\r\n"));
        assert!(refusal(401, "token").contains("\r\nWWW-Authenticate: Bearer\r\n"));
    }

    #[test]
    fn base64_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
