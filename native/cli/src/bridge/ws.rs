//! The server side of RFC 6455, just what the bridge needs: the opening handshake and
//! the frame codec. Pure functions over byte buffers, so hostile input is a typed error,
//! never a panic, and every limit is checked before anything is allocated.

use sha1::{Digest, Sha1};

/// Largest opening handshake accepted (request line + headers).
pub const MAX_REQUEST: usize = 8 * 1024;
/// Most header lines accepted in the opening handshake.
const MAX_HEADERS: usize = 64;
/// Largest control-frame payload (RFC 6455 §5.5).
const MAX_CONTROL: usize = 125;

/// A parsed WebSocket upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The request target (path and query), e.g. `/?target=example.com:443`.
    pub path: String,
    /// The `Sec-WebSocket-Key`.
    pub key: String,
    /// The `Origin` header, if sent (browsers always send it).
    pub origin: Option<String>,
    /// Subprotocols the client offered (`Sec-WebSocket-Protocol`).
    pub protocols: Vec<String>,
}

impl Request {
    /// The value of query parameter `name`, percent-decoded (left as sent if it does
    /// not decode, so that a malformed value is refused rather than ignored).
    pub fn query(&self, name: &str) -> Option<String> {
        let (_, query) = self.path.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_decode(k).unwrap_or_else(|| k.to_string());
            (k == name).then(|| percent_decode(v).unwrap_or_else(|| v.to_string()))
        })
    }
}

/// Why an opening handshake was rejected, with the HTTP status to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeError {
    /// HTTP status code (400, 405, 426, 431).
    pub status: u16,
    /// What was wrong, for the response body and the log.
    pub reason: String,
}

fn bad(status: u16, reason: impl Into<String>) -> HandshakeError {
    HandshakeError {
        status,
        reason: reason.into(),
    }
}

/// Where the request head ends (index just past `\r\n\r\n`), if it is complete.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Parses a complete request head (up to and including the blank line).
pub fn parse_request(head: &[u8]) -> Result<Request, HandshakeError> {
    let text = std::str::from_utf8(head).map_err(|_| bad(400, "request is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, path, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(p), Some(v), None) => (m, p, v),
        _ => return Err(bad(400, "malformed request line")),
    };
    if !version.starts_with("HTTP/1.") {
        return Err(bad(400, "not an HTTP/1.x request"));
    }
    if method != "GET" {
        return Err(bad(405, "only GET can open a WebSocket"));
    }
    if !path.starts_with('/') {
        return Err(bad(400, "request target must be a path"));
    }

    let mut upgrade = false;
    let mut connection_upgrade = false;
    let mut version13 = false;
    let mut key = None;
    let mut origin = None;
    let mut protocols = Vec::new();
    for (count, line) in lines.filter(|l| !l.is_empty()).enumerate() {
        if count >= MAX_HEADERS {
            return Err(bad(431, "too many header lines"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(400, "malformed header line"))?;
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "upgrade" => upgrade = value.eq_ignore_ascii_case("websocket"),
            "connection" => {
                connection_upgrade = value
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
            }
            "sec-websocket-version" => version13 = value == "13",
            "sec-websocket-key" => key = Some(value.to_string()),
            "origin" => origin = Some(value.to_string()),
            "sec-websocket-protocol" => protocols.extend(
                value
                    .split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty()),
            ),
            _ => {}
        }
    }
    if !upgrade || !connection_upgrade {
        return Err(bad(
            400,
            "not a WebSocket upgrade (Upgrade: websocket, Connection: Upgrade)",
        ));
    }
    if !version13 {
        return Err(bad(426, "unsupported Sec-WebSocket-Version (need 13)"));
    }
    let key = key
        .filter(|k| !k.is_empty() && k.len() <= 64)
        .ok_or_else(|| bad(400, "missing Sec-WebSocket-Key"))?;
    Ok(Request {
        path: path.to_string(),
        key,
        origin,
        protocols,
    })
}

/// The `101 Switching Protocols` answer; picks the `binary` subprotocol when offered
/// (websockify's convention), none otherwise.
pub fn accept_response(req: &Request) -> String {
    let mut out = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        accept_key(&req.key)
    );
    if req.protocols.iter().any(|p| p == "binary") {
        out.push_str("Sec-WebSocket-Protocol: binary\r\n");
    }
    out.push_str("\r\n");
    out
}

/// An HTTP error answer for a rejected handshake.
pub fn error_response(e: &HandshakeError) -> String {
    let text = match e.status {
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    let body = format!("{}\n", e.reason);
    let extra = if e.status == 426 {
        "Sec-WebSocket-Version: 13\r\n"
    } else {
        ""
    };
    format!(
        "HTTP/1.1 {} {text}\r\n{extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        e.status,
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

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Frame opcodes (RFC 6455 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// Continuation of a fragmented message.
    Continuation,
    /// UTF-8 text.
    Text,
    /// Binary data.
    Binary,
    /// Close, with an optional status code and reason.
    Close,
    /// Ping: answer with a pong carrying the same payload.
    Ping,
    /// Pong.
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// One decoded (unmasked) frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The FIN bit.
    pub fin: bool,
    /// The opcode.
    pub opcode: Opcode,
    /// The payload, unmasked.
    pub payload: Vec<u8>,
}

/// A frame the bridge refuses; maps to a close code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Breaks RFC 6455 (close code 1002).
    Protocol(&'static str),
    /// Payload above the configured limit (close code 1009).
    TooBig {
        /// The payload length announced.
        len: u64,
        /// The limit.
        limit: usize,
    },
}

/// Decodes the first frame of `buf` sent by a client (which must mask), if complete.
/// Returns the frame and how many bytes it used. The length is checked against
/// `max_payload` before any payload is buffered.
pub fn parse_frame(buf: &[u8], max_payload: usize) -> Result<Option<(Frame, usize)>, FrameError> {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(FrameError::Protocol(
            "reserved bits set (no extension was agreed)",
        ));
    }
    let fin = b0 & 0x80 != 0;
    let opcode = Opcode::from_bits(b0 & 0x0F).ok_or(FrameError::Protocol("unknown opcode"))?;
    if b1 & 0x80 == 0 {
        return Err(FrameError::Protocol("client frames must be masked"));
    }
    let (len, mut pos) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => (u64::from_be_bytes(b), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    if opcode.is_control() && (!fin || len > MAX_CONTROL as u64) {
        return Err(FrameError::Protocol(
            "control frames must be final and at most 125 bytes",
        ));
    }
    if len > max_payload as u64 {
        return Err(FrameError::TooBig {
            len,
            limit: max_payload,
        });
    }
    let Some(mask) = buf.get(pos..pos + 4) else {
        return Ok(None);
    };
    let mask = [mask[0], mask[1], mask[2], mask[3]];
    pos += 4;
    // len <= max_payload, a usize.
    let len = len as usize;
    let Some(masked) = buf.get(pos..pos + len) else {
        return Ok(None);
    };
    let payload = masked
        .iter()
        .zip(mask.iter().cycle())
        .map(|(b, m)| b ^ m)
        .collect();
    Ok(Some((
        Frame {
            fin,
            opcode,
            payload,
        },
        pos + len,
    )))
}

/// Encodes a final, unmasked server frame.
pub fn encode_frame(opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(0x80 | opcode.bits());
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// A close frame with `code` and `reason` (cut to fit the 125-byte control limit on a
/// character boundary).
pub fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(MAX_CONTROL - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.get(..end).unwrap_or_default().as_bytes());
    encode_frame(Opcode::Close, &payload)
}

/// The status code of a received close payload, if it carries one.
pub fn close_code(payload: &[u8]) -> Option<u16> {
    match payload {
        [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1u8, 2, 3, 4];
        let mut out = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 65535 => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
        out
    }

    #[test]
    fn accept_key_matches_rfc_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn parses_frames_of_every_length_form_and_fragment() {
        for len in [0usize, 5, 125, 126, 65535, 65536, 70000] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let wire = masked(0x2, &payload);
            // Every strict prefix is incomplete, never an error.
            for cut in [0, 1, 2, 3, wire.len() / 2, wire.len() - 1] {
                assert_eq!(
                    parse_frame(&wire[..cut], 1 << 20),
                    Ok(None),
                    "len {len} cut {cut}"
                );
            }
            let (frame, used) = parse_frame(&wire, 1 << 20).unwrap().unwrap();
            assert_eq!(used, wire.len());
            assert_eq!(frame.payload, payload);
            assert_eq!(frame.opcode, Opcode::Binary);
        }
    }

    #[test]
    fn refuses_unmasked_oversized_and_reserved() {
        assert!(matches!(
            parse_frame(&[0x82, 0x01, 0xff], 100),
            Err(FrameError::Protocol(_))
        ));
        let big = masked(0x2, &[0u8; 200]);
        assert_eq!(
            parse_frame(&big[..4], 100),
            Err(FrameError::TooBig {
                len: 200,
                limit: 100
            })
        );
        assert!(matches!(
            parse_frame(&[0xC2, 0x80, 0, 0, 0, 0], 100),
            Err(FrameError::Protocol(_))
        ));
        assert!(matches!(
            parse_frame(&[0x83, 0x80, 0, 0, 0, 0], 100),
            Err(FrameError::Protocol(_))
        ));
        // A ping that is not final.
        assert!(matches!(
            parse_frame(&[0x09, 0x80, 0, 0, 0, 0], 100),
            Err(FrameError::Protocol(_))
        ));
        // A 2^63 length must not overflow anything.
        let mut huge = vec![0x82, 0xFF];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(
            parse_frame(&huge, 100),
            Err(FrameError::TooBig { .. })
        ));
    }

    #[test]
    fn parses_a_browser_handshake() {
        let head = b"GET /bridge?target=example.com%3A443&x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://localhost:8000\r\nSec-WebSocket-Protocol: binary, base64\r\n\r\n";
        assert_eq!(head_end(head), Some(head.len()));
        let req = parse_request(head).unwrap();
        assert_eq!(req.query("target").as_deref(), Some("example.com:443"));
        assert_eq!(req.query("nope"), None);
        assert_eq!(req.origin.as_deref(), Some("http://localhost:8000"));
        let resp = accept_response(&req);
        assert!(resp.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(resp.contains("Sec-WebSocket-Protocol: binary\r\n"));
    }

    #[test]
    fn rejects_bad_handshakes_with_a_status() {
        let cases: [(&[u8], u16); 5] = [
            (b"POST / HTTP/1.1\r\n\r\n", 405),
            (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Key: a\r\n\r\n", 426),
            (b"\xff\xfe\r\n\r\n", 400),
            (b"garbage\r\n\r\n", 400),
        ];
        for (head, status) in cases {
            assert_eq!(parse_request(head).map_err(|e| e.status), Err(status));
        }
    }

    #[test]
    fn close_reason_is_cut_on_a_char_boundary() {
        let long = "é".repeat(100);
        let frame = close_frame(1008, &long);
        assert!(frame.len() <= 2 + 125);
        let payload = &frame[2..];
        assert_eq!(close_code(payload), Some(1008));
        assert!(std::str::from_utf8(&payload[2..]).is_ok());
    }

    #[test]
    fn base64_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
