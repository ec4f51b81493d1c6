//! The HTTP/1.1 request head of a WebSocket upgrade (RFC 9112 §2–5, RFC 6455 §4.2.1),
//! checked strictly before the bridge answers, so that a refusal is an HTTP status and
//! never a surprise after the upgrade.
//!
//! Pure functions over bytes, `std` only and no `crate::` paths: the fuzz target
//! `bridge_http_head` (in `core/fuzz`) compiles this very file on its own with `#[path]`.
//! Every limit is checked before anything grows; every refusal is a [`HeadError`] with
//! the status to answer.

/// Largest request head accepted (request line, headers, blank line).
pub const MAX_HEAD: usize = 8 * 1024;
/// Most header lines accepted.
pub const MAX_HEADERS: usize = 64;
/// Most subprotocols a client may offer.
pub const MAX_PROTOCOLS: usize = 16;

/// Why a request head was refused, and the HTTP status to answer it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadError {
    /// 400, 405, 426, 431 or 505.
    pub status: u16,
    /// What was wrong, for the response body and the log (fixed text: never an echo of
    /// the request).
    pub reason: &'static str,
}

const fn bad(status: u16, reason: &'static str) -> HeadError {
    HeadError { status, reason }
}

/// Finds the end of the request head in `buf` (the index just past the blank line).
///
/// `from` is where an earlier call on a shorter prefix of the same buffer stopped (0 the
/// first time): bytes before it are not looked at again. A bare LF or a bare CR anywhere
/// in the head is refused (400); a head that does not end within [`MAX_HEAD`] bytes is
/// refused with 431 as soon as that is certain.
pub fn scan(buf: &[u8], from: usize) -> Result<Option<usize>, HeadError> {
    let start = from.min(buf.len());
    for i in start..buf.len() {
        let Some(&b) = buf.get(i) else { break };
        match b {
            b'\n' => {
                if i == 0 || buf.get(i - 1) != Some(&b'\r') {
                    return Err(bad(
                        400,
                        "bare LF in the request head (lines end with CRLF)",
                    ));
                }
                if i >= 3 && buf.get(i - 3..=i) == Some(b"\r\n\r\n".as_slice()) {
                    let end = i + 1;
                    if end > MAX_HEAD {
                        return Err(too_large());
                    }
                    return Ok(Some(end));
                }
            }
            b'\r' => {
                if let Some(&next) = buf.get(i + 1) {
                    if next != b'\n' {
                        return Err(bad(400, "bare CR in the request head"));
                    }
                }
            }
            _ => {}
        }
        if i + 1 >= MAX_HEAD {
            return Err(too_large());
        }
    }
    Ok(None)
}

fn too_large() -> HeadError {
    bad(431, "request head larger than 8192 bytes")
}

/// Where to resume [`scan`] after it returned `Ok(None)` for `len` bytes.
pub fn resume_at(len: usize) -> usize {
    // The blank line is four bytes; a CR at the very end has not been judged yet.
    len.saturating_sub(3)
}

/// A checked WebSocket upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// The request target (origin-form: path and query), e.g. `/?target=example.com:443`.
    pub target: String,
    /// The `Host` header.
    pub host: String,
    /// `Sec-WebSocket-Key`: 24 characters of base64 for 16 bytes.
    pub key: String,
    /// The `Origin` header, if sent (browsers always send it).
    pub origin: Option<String>,
    /// The subprotocols offered (`Sec-WebSocket-Protocol`), in the client's order.
    pub protocols: Vec<String>,
    /// The credentials of `Authorization: Bearer …`, if sent.
    pub bearer: Option<String>,
}

impl Upgrade {
    /// The percent-decoded value of query parameter `name` (see [`query_param`]).
    pub fn query(&self, name: &str) -> Result<Option<String>, HeadError> {
        query_param(&self.target, name)
    }
}

/// Parses and checks a complete request head as [`scan`] delimited it.
pub fn parse_upgrade(head: &[u8]) -> Result<Upgrade, HeadError> {
    let body = head
        .strip_suffix(b"\r\n\r\n")
        .ok_or(bad(400, "the request head does not end with a blank line"))?;
    if head.len() > MAX_HEAD {
        return Err(too_large());
    }
    if !body.is_ascii() {
        return Err(bad(400, "non-ASCII byte in the request head"));
    }
    // ASCII only from here on, so the conversion cannot fail.
    let text = std::str::from_utf8(body).map_err(|_| bad(400, "request head is not ASCII"))?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let target = request_line_target(request_line)?;

    let mut host = None;
    let mut key = None;
    let mut origin = None;
    let mut bearer = None;
    let mut upgrade = false;
    let mut connection_upgrade = false;
    let mut version = None;
    let mut protocols = Vec::new();
    for (count, line) in lines.enumerate() {
        if count >= MAX_HEADERS {
            return Err(bad(431, "more than 64 header lines"));
        }
        let (name, value) = header_line(line)?;
        match name.to_ascii_lowercase().as_str() {
            "host" => set_once(&mut host, value, "Host")?,
            "sec-websocket-key" => set_once(&mut key, value, "Sec-WebSocket-Key")?,
            "origin" => set_once(&mut origin, value, "Origin")?,
            "sec-websocket-version" => set_once(&mut version, value, "Sec-WebSocket-Version")?,
            "authorization" => {
                let mut slot = None;
                set_once(&mut slot, value, "Authorization")?;
                if bearer.is_some() {
                    return Err(bad(400, "Authorization given twice"));
                }
                bearer = Some(bearer_token(value)?);
            }
            "upgrade" => upgrade |= list_has(value, "websocket"),
            "connection" => connection_upgrade |= list_has(value, "upgrade"),
            "sec-websocket-protocol" => {
                for p in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    if !is_token(p) {
                        return Err(bad(400, "malformed Sec-WebSocket-Protocol"));
                    }
                    if protocols.len() >= MAX_PROTOCOLS {
                        return Err(bad(400, "more than 16 subprotocols offered"));
                    }
                    protocols.push(p.to_string());
                }
            }
            "content-length" if value != "0" => {
                return Err(bad(400, "a WebSocket upgrade has no body"));
            }
            "transfer-encoding" => return Err(bad(400, "a WebSocket upgrade has no body")),
            _ => {}
        }
    }
    let host = host.ok_or(bad(400, "missing Host"))?;
    if host.is_empty() {
        return Err(bad(400, "empty Host"));
    }
    if !upgrade || !connection_upgrade {
        return Err(bad(
            400,
            "not a WebSocket upgrade (needs Upgrade: websocket and Connection: Upgrade)",
        ));
    }
    if version != Some("13") {
        return Err(bad(
            426,
            "unsupported Sec-WebSocket-Version (this bridge speaks 13)",
        ));
    }
    let key = key.ok_or(bad(400, "missing Sec-WebSocket-Key"))?;
    if !is_websocket_key(key) {
        return Err(bad(
            400,
            "malformed Sec-WebSocket-Key (must be 16 bytes in base64)",
        ));
    }
    Ok(Upgrade {
        target: target.to_string(),
        host: host.to_string(),
        key: key.to_string(),
        origin: origin.map(str::to_string),
        protocols,
        bearer,
    })
}

/// The request target of `GET TARGET HTTP/1.1`, after checking the method and version.
fn request_line_target(line: &str) -> Result<&str, HeadError> {
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(400, "malformed request line"));
    };
    if method.is_empty() || !is_token(method) {
        return Err(bad(400, "malformed request line"));
    }
    let Some(v) = version.strip_prefix("HTTP/") else {
        return Err(bad(400, "not an HTTP request"));
    };
    let digits = v.as_bytes();
    if digits.len() != 3
        || !digits.first().is_some_and(u8::is_ascii_digit)
        || digits.get(1) != Some(&b'.')
        || !digits.get(2).is_some_and(u8::is_ascii_digit)
    {
        return Err(bad(400, "malformed HTTP version"));
    }
    if v != "1.1" {
        return Err(bad(505, "a WebSocket upgrade needs HTTP/1.1"));
    }
    if method != "GET" {
        return Err(bad(405, "only GET can open a WebSocket"));
    }
    if !target.starts_with('/') || target.starts_with("//") {
        return Err(bad(400, "the request target must be a path (/…)"));
    }
    if !target.bytes().all(|b| b.is_ascii_graphic()) || target.contains('#') {
        return Err(bad(400, "malformed request target"));
    }
    Ok(target)
}

/// `Name: value` with a token name, no space before the colon, no obsolete line folding
/// and no control characters; the value without surrounding spaces and tabs.
fn header_line(line: &str) -> Result<(&str, &str), HeadError> {
    if line.starts_with([' ', '\t']) {
        return Err(bad(400, "obsolete line folding in a header"));
    }
    let (name, value) = line
        .split_once(':')
        .ok_or(bad(400, "malformed header line (no colon)"))?;
    if name.is_empty() || !is_token(name) {
        return Err(bad(400, "malformed header name"));
    }
    if !value
        .bytes()
        .all(|b| b == b'\t' || b == b' ' || b.is_ascii_graphic())
    {
        return Err(bad(400, "control character in a header value"));
    }
    Ok((name, value.trim_matches([' ', '\t'])))
}

fn set_once<'a>(
    slot: &mut Option<&'a str>,
    value: &'a str,
    name: &'static str,
) -> Result<(), HeadError> {
    if slot.is_some() {
        return Err(bad(
            400,
            match name {
                "Host" => "Host given twice",
                "Sec-WebSocket-Key" => "Sec-WebSocket-Key given twice",
                "Origin" => "Origin given twice",
                "Sec-WebSocket-Version" => "Sec-WebSocket-Version given twice",
                _ => "a header that may appear once is given twice",
            },
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// The credentials of `Bearer CREDENTIALS` (RFC 6750 §2.1); other schemes are refused.
fn bearer_token(value: &str) -> Result<String, HeadError> {
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(bad(400, "malformed Authorization (expected Bearer TOKEN)"))?;
    let token = token.trim_start_matches(' ');
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(bad(400, "malformed Authorization (expected Bearer TOKEN)"));
    }
    Ok(token.to_string())
}

/// True if the comma-separated `list` holds `item` (ASCII case-insensitive).
fn list_has(list: &str, item: &str) -> bool {
    list.split(',')
        .any(|t| t.trim_matches([' ', '\t']).eq_ignore_ascii_case(item))
}

/// RFC 9110 `token`: one or more `tchar`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// RFC 6455 §4.1: the key is a base64-encoded 16-byte value: 22 base64 characters, the
/// last of which carries 2 bits (so its low 4 bits are zero), then `==`.
pub fn is_websocket_key(key: &str) -> bool {
    let b = key.as_bytes();
    if b.len() != 24 || b.get(22..) != Some(b"==".as_slice()) {
        return false;
    }
    let value = |c: u8| -> Option<u8> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let Some(data) = b.get(..22) else {
        return false;
    };
    data.iter().all(|&c| value(c).is_some())
        && data
            .last()
            .and_then(|&c| value(c))
            .is_some_and(|v| v & 0x0F == 0)
}

/// The value of query parameter `name` in `target`, percent-decoded (`+` stays `+`).
/// A parameter given twice, a malformed escape or a value that is not UTF-8 is refused
/// rather than guessed at.
pub fn query_param(target: &str, name: &str) -> Result<Option<String>, HeadError> {
    let Some((_, query)) = target.split_once('?') else {
        return Ok(None);
    };
    let mut found = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_decode(k).ok().as_deref() != Some(name) {
            continue;
        }
        if found.is_some() {
            return Err(bad(400, "a query parameter is given twice"));
        }
        found = Some(percent_decode(v)?);
    }
    Ok(found)
}

fn percent_decode(s: &str) -> Result<String, HeadError> {
    const MALFORMED: HeadError = bad(400, "malformed percent-encoding in the query");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(MALFORMED)?;
            let digit = |c: u8| (c as char).to_digit(16).ok_or(MALFORMED);
            let (hi, lo) = (
                digit(hex.first().copied().unwrap_or(0))?,
                digit(hex.get(1).copied().unwrap_or(0))?,
            );
            out.push(u8::try_from(hi * 16 + lo).map_err(|_| MALFORMED)?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad(400, "a query parameter is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "GET /bridge?target=example.com%3A443&x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://localhost:8000\r\nSec-WebSocket-Protocol: tlsferry.v1, binary\r\n\r\n";

    fn with(replace: &str, by: &str) -> Vec<u8> {
        assert!(GOOD.contains(replace), "{replace}");
        GOOD.replacen(replace, by, 1).into_bytes()
    }

    fn status(head: &[u8]) -> u16 {
        match scan(head, 0) {
            Err(e) => e.status,
            Ok(None) => 0,
            Ok(Some(end)) => parse_upgrade(&head[..end]).map_or_else(|e| e.status, |_| 101),
        }
    }

    #[test]
    fn parses_a_browser_upgrade() {
        let head = GOOD.as_bytes();
        assert_eq!(scan(head, 0), Ok(Some(head.len())));
        let u = parse_upgrade(head).unwrap();
        assert_eq!(u.query("target"), Ok(Some("example.com:443".into())));
        assert_eq!(u.query("nope"), Ok(None));
        assert_eq!(u.origin.as_deref(), Some("http://localhost:8000"));
        assert_eq!(u.protocols, ["tlsferry.v1", "binary"]);
        assert_eq!(u.host, "127.0.0.1:8080");
        assert_eq!(u.bearer, None);
    }

    #[test]
    fn scans_incrementally_and_finds_the_end_once() {
        let head = GOOD.as_bytes();
        let mut from = 0;
        for len in 1..head.len() {
            assert_eq!(scan(&head[..len], from), Ok(None), "{len}");
            from = resume_at(len);
        }
        assert_eq!(scan(head, from), Ok(Some(head.len())));
        // Bytes after the head (a client's first frame) are not part of it.
        let mut more = head.to_vec();
        more.extend_from_slice(&[0x82, 0x80, 1, 2, 3, 4]);
        assert_eq!(scan(&more, 0), Ok(Some(head.len())));
    }

    #[test]
    fn refuses_bare_lf_and_bare_cr() {
        assert_eq!(status(&with("Host: 127.0.0.1:8080\r\n", "Host: x\n")), 400);
        assert_eq!(status(b"GET / HTTP/1.1\n\n"), 400);
        assert_eq!(
            status(&with("Host: 127.0.0.1:8080\r\n", "Host: x\rY\r\n")),
            400
        );
        assert_eq!(
            scan(b"\n", 0).unwrap_err().reason,
            "bare LF in the request head (lines end with CRLF)"
        );
    }

    #[test]
    fn refuses_oversized_heads_with_431_as_soon_as_certain() {
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_HEAD));
        assert_eq!(scan(&long[..MAX_HEAD - 1], 0), Ok(None));
        assert_eq!(scan(&long, 0).unwrap_err().status, 431);
        let many: String = (0..70).map(|i| format!("X-{i}: y\r\n")).collect();
        assert_eq!(
            status(&with("Origin", &format!("{many}Origin"))),
            431,
            "too many header lines"
        );
    }

    #[test]
    fn checks_the_key() {
        assert!(is_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(is_websocket_key("AAAAAAAAAAAAAAAAAAAAAA=="));
        for bad_key in [
            "",
            "x",
            "dGhlIHNhbXBsZSBub25jZQ=",
            "dGhlIHNhbXBsZSBub25jZR==", // low bits set: not canonical for 16 bytes
            "dGhlIHNhbXBsZSBub25jZQ==AAAA",
            "dGhlIHNhbXBsZSBub25j*Q==",
            "dGhlIHNhbXBsZSBub25jZQAA",
        ] {
            assert!(!is_websocket_key(bad_key), "{bad_key}");
        }
        assert_eq!(status(&with("dGhlIHNhbXBsZSBub25jZQ==", "not-a-key")), 400);
    }

    #[test]
    fn refuses_what_is_not_a_websocket_upgrade() {
        let cases: &[(&[u8], u16)] = &[
            (b"POST / HTTP/1.1\r\nHost: x\r\n\r\n", 405),
            (b"GET / HTTP/1.0\r\nHost: x\r\n\r\n", 505),
            (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            (b"GET / HTTQ/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET  / HTTP/1.1\r\n\r\n", 400),
            (b"GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"\xff\xfe\r\n\r\n", 400),
            (b"garbage\r\n\r\n", 400),
            (b"\r\n\r\n", 400),
        ];
        for (head, want) in cases {
            assert_eq!(status(head), *want, "{}", String::from_utf8_lossy(head));
        }
        assert_eq!(status(&with("13", "8")), 426);
        assert_eq!(status(&with("Upgrade: websocket\r\n", "")), 400);
        assert_eq!(status(&with("keep-alive, Upgrade", "keep-alive")), 400);
        assert_eq!(status(&with("Host: 127.0.0.1:8080\r\n", "")), 400);
        assert_eq!(
            status(&with("Host: 127.0.0.1:8080\r\n", "Host: a\r\nHost: b\r\n")),
            400
        );
        assert_eq!(status(&with("Origin:", "Origin : x\r\nOrigin:")), 400);
        assert_eq!(status(&with("Origin:", " folded\r\nOrigin:")), 400);
        assert_eq!(status(&with("Origin:", "X: a\x01b\r\nOrigin:")), 400);
        assert_eq!(
            status(&with("Origin:", "Content-Length: 5\r\nOrigin:")),
            400
        );
        assert_eq!(
            status(&with("Origin:", "Content-Length: 0\r\nOrigin:")),
            101
        );
        assert_eq!(
            status(&with("Origin:", "Transfer-Encoding: chunked\r\nOrigin:")),
            400
        );
        assert_eq!(
            status(&with(
                "Origin: http://localhost:8000\r\n",
                "Origin: a\r\nOrigin: b\r\n"
            )),
            400
        );
        assert_eq!(status(&with("tlsferry.v1, binary", "a b")), 400);
        assert_eq!(status(&with("/bridge?", "/bridge#frag?")), 400);
    }

    #[test]
    fn bearer_tokens() {
        let u = parse_upgrade(&with(
            "Origin:",
            "Authorization: Bearer abc.DEF-123\r\nOrigin:",
        ))
        .unwrap();
        assert_eq!(u.bearer.as_deref(), Some("abc.DEF-123"));
        assert_eq!(
            status(&with("Origin:", "Authorization: Basic abc\r\nOrigin:")),
            400
        );
        assert_eq!(
            status(&with("Origin:", "Authorization: Bearer\r\nOrigin:")),
            400
        );
    }

    #[test]
    fn query_parameters() {
        let q = |t: &str, n: &str| query_param(t, n).map_err(|e| e.status);
        assert_eq!(q("/?target=a%3A1", "target"), Ok(Some("a:1".into())));
        assert_eq!(q("/?token=a+b%2Bc", "token"), Ok(Some("a+b+c".into())));
        assert_eq!(q("/?%74arget=x", "target"), Ok(Some("x".into())));
        assert_eq!(q("/?target", "target"), Ok(Some(String::new())));
        assert_eq!(q("/", "target"), Ok(None));
        assert_eq!(q("/?target=a&target=b", "target"), Err(400));
        assert_eq!(q("/?target=%ZZ", "target"), Err(400));
        assert_eq!(q("/?target=%4", "target"), Err(400));
        assert_eq!(q("/?target=%ff", "target"), Err(400));
        assert_eq!(
            q("/?x=%ZZ&%ZZ=1&target=ok", "target"),
            Ok(Some("ok".into()))
        );
    }
}
