//! One log line per tunnel and per refusal, on stderr: `key=value` text or JSON lines
//! (`--log-format json`). Every field is escaped: whatever a client puts into its Origin
//! or target (CR, LF, ANSI escapes, C1 controls, quotes), a line stays one line of
//! printable ASCII, so logs cannot be forged or turn a terminal's colours.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// How connections are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Nothing per connection (startup and reload notes still go to stderr).
    Off,
    /// `key=value` text (the default).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Refusal lines per second before the rest are only counted (tunnel lines are never
/// dropped): a flood of refused connections must not turn into a flood of log writes.
const REFUSALS_PER_SECOND: u64 = 50;

/// Where log lines go.
#[derive(Debug, Clone)]
pub(crate) enum Sink {
    Stderr,
    Memory(Arc<Mutex<Vec<String>>>),
}

/// The bridge's logger.
#[derive(Debug)]
pub(crate) struct Logger {
    format: LogFormat,
    sink: Sink,
    window: AtomicU64,
    in_window: AtomicU64,
    suppressed: AtomicU64,
}

/// What happened to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A tunnel that was opened, and how it ended.
    Tunnel,
    /// A connection refused before the upgrade (with an HTTP status) or dropped.
    Refused,
}

/// The fields of one line.
#[derive(Debug, Clone)]
pub(crate) struct Record<'a> {
    pub id: u64,
    pub peer: SocketAddr,
    pub kind: Kind,
    /// HTTP status of a refusal (none when the connection was dropped without one).
    pub status: Option<u16>,
    pub origin: Option<&'a str>,
    pub target: Option<&'a str>,
    pub protocol: Option<&'a str>,
    pub up: u64,
    pub down: u64,
    pub seconds: f64,
    /// A stable word for machines: `client_closed`, `target_stalled`, `origin`, …
    pub end: &'a str,
    /// Close code sent or received, for tunnels.
    pub close_code: Option<u16>,
    /// What happened, for people.
    pub reason: &'a str,
}

impl Logger {
    pub(crate) fn new(format: LogFormat, sink: Sink) -> Logger {
        Logger {
            format,
            sink,
            window: AtomicU64::new(0),
            in_window: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Logs a tunnel's end or a refusal.
    pub(crate) fn record(&self, r: &Record<'_>) {
        if self.format == LogFormat::Off {
            return;
        }
        let mut suppressed = 0;
        if r.kind == Kind::Refused {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            if self.window.swap(now, Ordering::Relaxed) != now {
                self.in_window.store(0, Ordering::Relaxed);
            }
            if self.in_window.fetch_add(1, Ordering::Relaxed) >= REFUSALS_PER_SECOND {
                self.suppressed.fetch_add(1, Ordering::Relaxed);
                return;
            }
            suppressed = self.suppressed.swap(0, Ordering::Relaxed);
        }
        let line = match self.format {
            LogFormat::Json => json_line(r, suppressed),
            _ => text_line(r, suppressed),
        };
        self.write(line);
    }

    /// A note that is not about one connection (startup, certificate reloads).
    pub(crate) fn note(&self, message: &str) {
        let line = match self.format {
            LogFormat::Json => format!(
                "{{\"ts\":{},\"event\":\"note\",\"message\":{}}}",
                json_string(&timestamp()),
                json_string(message)
            ),
            _ => format!("tlsferry bridge: {}", escape_text(message)),
        };
        self.write(line);
    }

    fn write(&self, line: String) {
        match &self.sink {
            Sink::Stderr => {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(line.as_bytes());
                let _ = err.write_all(b"\n");
            }
            Sink::Memory(lines) => lines.lock().unwrap_or_else(|e| e.into_inner()).push(line),
        }
    }
}

fn text_line(r: &Record<'_>, suppressed: u64) -> String {
    let mut out = format!("tlsferry bridge: #{} {}", r.id, r.peer);
    match r.kind {
        Kind::Tunnel => out.push_str(" tunnel"),
        Kind::Refused => {
            out.push_str(" refused");
            if let Some(s) = r.status {
                let _ = write!(out, " status={s}");
            }
        }
    }
    for (k, v) in [
        ("origin", r.origin),
        ("target", r.target),
        ("protocol", r.protocol),
    ] {
        if let Some(v) = v {
            let _ = write!(out, " {k}={}", text_value(v));
        }
    }
    if r.kind == Kind::Tunnel {
        let _ = write!(out, " up={} down={}", r.up, r.down);
    }
    let _ = write!(out, " seconds={:.3} end={}", r.seconds, text_value(r.end));
    if let Some(c) = r.close_code {
        let _ = write!(out, " close={c}");
    }
    let _ = write!(out, " reason={}", text_value(r.reason));
    if suppressed > 0 {
        let _ = write!(out, " refusals_not_logged={suppressed}");
    }
    out
}

fn json_line(r: &Record<'_>, suppressed: u64) -> String {
    let mut out = String::from("{");
    let _ = write!(out, "\"ts\":{}", json_string(&timestamp()));
    let _ = write!(
        out,
        ",\"event\":\"{}\",\"id\":{},\"peer\":{}",
        match r.kind {
            Kind::Tunnel => "tunnel",
            Kind::Refused => "refused",
        },
        r.id,
        json_string(&r.peer.to_string())
    );
    if let Some(s) = r.status {
        let _ = write!(out, ",\"status\":{s}");
    }
    for (k, v) in [
        ("origin", r.origin),
        ("target", r.target),
        ("protocol", r.protocol),
    ] {
        let _ = write!(out, ",\"{k}\":");
        match v {
            Some(v) => out.push_str(&json_string(v)),
            None => out.push_str("null"),
        }
    }
    if r.kind == Kind::Tunnel {
        let _ = write!(out, ",\"bytes_up\":{},\"bytes_down\":{}", r.up, r.down);
    }
    let _ = write!(
        out,
        ",\"seconds\":{:.3},\"end\":{}",
        r.seconds,
        json_string(r.end)
    );
    if let Some(c) = r.close_code {
        let _ = write!(out, ",\"close_code\":{c}");
    }
    let _ = write!(out, ",\"reason\":{}", json_string(r.reason));
    if suppressed > 0 {
        let _ = write!(out, ",\"refusals_not_logged\":{suppressed}");
    }
    out.push('}');
    out
}

/// `s` with everything but printable ASCII escaped (`\n`, `\r`, `\t`, `\"`, `\\`, and
/// `\u{…}` for the rest, including every control character and all non-ASCII).
pub(crate) fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    out
}

/// A text-format value: escaped, and quoted when it is empty or holds a space, quote or `=`.
fn text_value(s: &str) -> String {
    let e = escape_text(s);
    if e.is_empty() || e.contains([' ', '"', '=']) {
        format!("\"{e}\"")
    } else {
        e
    }
}

/// A JSON string of printable ASCII only (RFC 8259; everything else as `\uXXXX`, UTF-16).
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

/// Now as RFC 3339 UTC with milliseconds, e.g. `2026-12-02T14:31:03.123Z`.
pub(crate) fn timestamp() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(d.as_secs(), d.subsec_millis())
}

fn rfc3339(secs: u64, millis: u32) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(origin: &'a str, target: &'a str) -> Record<'a> {
        Record {
            id: 7,
            peer: "127.0.0.1:5555".parse().unwrap(),
            kind: Kind::Refused,
            status: Some(403),
            origin: Some(origin),
            target: Some(target),
            protocol: None,
            up: 0,
            down: 0,
            seconds: 0.0,
            end: "target",
            close_code: None,
            reason: "target not allowed",
        }
    }

    #[test]
    fn hostile_fields_stay_on_one_printable_line() {
        let evil = "x\r\ntlsferry bridge: #1 forged\u{1b}[31mred\u{9b}2J\"q\\ é";
        let r = record(evil, evil);
        for line in [text_line(&r, 0), json_line(&r, 3)] {
            assert_eq!(line.lines().count(), 1, "{line}");
            assert!(
                line.bytes().all(|b| (0x20..0x7f).contains(&b)),
                "only printable ASCII: {line}"
            );
        }
        let t = text_line(&r, 0);
        assert!(t.contains(
            "origin=\"x\\r\\ntlsferry bridge: #1 forged\\u{1b}[31mred\\u{9b}2J\\\"q\\\\ \\u{e9}\""
        ));
        let j = json_line(&r, 3);
        assert!(j.contains("\"origin\":\"x\\r\\ntlsferry bridge: #1 forged\\u001b[31mred\\u009b2J\\\"q\\\\ \\u00e9\""));
        assert!(j.contains("\"refusals_not_logged\":3"));
        assert_eq!(json_string("😀"), "\"\\ud83d\\ude00\"");
    }

    #[test]
    fn text_values_are_quoted_when_needed() {
        assert_eq!(text_value("a:1"), "a:1");
        assert_eq!(text_value(""), "\"\"");
        assert_eq!(text_value("a b"), "\"a b\"");
        assert_eq!(text_value("a=b"), "\"a=b\"");
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339(1_796_223_063, 999), "2026-12-02T14:51:03.999Z");
    }

    #[test]
    fn refusal_lines_are_rate_limited_but_counted() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let log = Logger::new(LogFormat::Text, Sink::Memory(lines.clone()));
        for _ in 0..(REFUSALS_PER_SECOND * 3) {
            log.record(&record("o", "t"));
        }
        let n = lines.lock().unwrap().len() as u64;
        assert!(
            (REFUSALS_PER_SECOND..=REFUSALS_PER_SECOND * 3).contains(&n),
            "{n}"
        );
        let mut tunnel = record("o", "t");
        tunnel.kind = Kind::Tunnel;
        for _ in 0..(REFUSALS_PER_SECOND * 2) {
            log.record(&tunnel);
        }
        assert_eq!(
            lines.lock().unwrap().len() as u64,
            n + REFUSALS_PER_SECOND * 2,
            "tunnel lines are never dropped"
        );
    }
}
