//! The transcript format: a versioned, line-based, diff-friendly record of one
//! deterministic session. See [`Transcript`] for the grammar.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use rustls::pki_types::CertificateDer;

use super::hex;
use super::seeded::Seed;
use super::session::{escape, unescape, Fingerprint, Session, Settings};
use crate::config::Version;

/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The first line of every transcript, followed by a space and the version.
pub const MAGIC: &str = "tlsferry-transcript";
/// The largest chunk the parser accepts (bytes).
pub const MAX_CHUNK: usize = 64 * 1024 * 1024;
/// Bytes per hex line when writing.
const BYTES_PER_LINE: usize = 32;

/// One step of a recorded session, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// Ciphertext the client transmitted.
    Client(Vec<u8>),
    /// Ciphertext the client received from the server.
    Server(Vec<u8>),
    /// Plaintext the application handed to the client (`Client::send`).
    Send(Vec<u8>),
    /// The application closed its sending direction (`Client::close`).
    Close,
    /// The transport reached end of stream (`Input::Eof`).
    Eof,
}

impl Entry {
    fn keyword(&self) -> &'static str {
        match self {
            Entry::Client(_) => "client",
            Entry::Server(_) => "server",
            Entry::Send(_) => "send",
            Entry::Close => "close",
            Entry::Eof => "eof",
        }
    }
}

/// A recorded deterministic session.
///
/// # Format (version 1)
///
/// UTF-8 text, one item per line. `#` starts a comment (a whole line, or the rest of a
/// keyword line after ` #`); blank lines are ignored. Lines:
///
/// ```text
/// tlsferry-transcript 1                    first line: magic and format version
/// seed <64 hex digits>                     the ChaCha20 seed of every random byte
/// clock <unix seconds>                     the fixed wall clock for certificate checks
/// server-name <name>                       SNI and the name verified
/// versions TLSv1.3 TLSv1.2                 protocol versions offered
/// cipher-suites default | <IANA names…>
/// alpn [<protocol>…]                       printable ASCII, other bytes and %,# as %XX
/// sni on|off
/// verify on|off                            off: dangerous_accept_any_certificate
/// mozilla-roots on|off                     whether webpki-roots are trusted
/// root <length>                            (repeatable) an extra trust anchor, DER,
///   <hex…>                                   as indented hex lines
/// config <key> <values…>                   (repeatable, optional) what the fingerprint
///                                            digests, for people and mismatch reports
/// fingerprint sha256:<64 hex digits>       SHA-256 of the configuration these settings
///                                            built (the config lines)
/// client <length>                          then the session, in order: ciphertext the
///   <hex…>                                   client transmitted,
/// server <length>                          ciphertext it received,
/// send <length>                            plaintext the application sent,
/// close                                    the application closed its side,
/// eof                                      the transport ended,
/// end                                      last line: the transcript is complete
/// ```
///
/// Header lines (up to `fingerprint`) come in any order, each once (`root` and `config`
/// may repeat); all but `root` and `config` are required. A chunk's data follows its keyword line as indented hex
/// lines (any split; the writer puts 32 bytes per line) and must add up to the declared
/// length.
///
/// Two transcripts are equal when their contents are: comments and layout do not count.
#[derive(Clone, Debug)]
pub struct Transcript {
    /// Seed, clock, server name and settings.
    pub session: Session,
    /// The configuration fingerprint at recording time.
    pub fingerprint: [u8; 32],
    /// The session, in order.
    pub entries: Vec<Entry>,
    /// The line of each entry's keyword in the parsed text (empty when not parsed).
    lines: Vec<usize>,
    /// What the fingerprint digests (the `config` lines), for reports; not trusted.
    pub description: Option<String>,
}

/// Where and why a transcript failed to parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based byte column in that line.
    pub column: usize,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

/// What is wrong with a transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The first line is not `tlsferry-transcript <version>`.
    NotATranscript,
    /// A format version this build does not read.
    UnsupportedVersion(String),
    /// A keyword this format does not define.
    UnknownKeyword(String),
    /// A header line given twice.
    Duplicate(&'static str),
    /// A required header line is absent.
    Missing(&'static str),
    /// A header line after the session began.
    HeaderAfterSession(&'static str),
    /// A value does not parse.
    BadValue {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// Not a hex digit, or an odd number of digits.
    BadHex,
    /// An indented data line with no chunk keyword before it.
    DataOutsideChunk,
    /// A chunk's data does not add up to its declared length.
    LengthMismatch {
        /// Declared on the keyword line.
        declared: usize,
        /// Found in the data lines.
        found: usize,
    },
    /// A declared length above [`MAX_CHUNK`].
    TooLarge(usize),
    /// The text ends without `end`: the transcript is truncated.
    MissingEnd,
    /// Something other than comments after `end`.
    AfterEnd,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "transcript line {}, column {}: {}",
            self.line, self.column, self.kind
        )
    }
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::NotATranscript => {
                write!(
                    f,
                    "not a transcript (expected \"{MAGIC} {FORMAT_VERSION}\")"
                )
            }
            ParseErrorKind::UnsupportedVersion(v) => write!(
                f,
                "unsupported transcript version {v:?} (this build reads {FORMAT_VERSION})"
            ),
            ParseErrorKind::UnknownKeyword(k) => write!(f, "unknown keyword {k:?}"),
            ParseErrorKind::Duplicate(k) => write!(f, "{k} given twice"),
            ParseErrorKind::Missing(k) => write!(f, "required line \"{k}\" is missing"),
            ParseErrorKind::HeaderAfterSession(k) => {
                write!(f, "header line \"{k}\" after the session began")
            }
            ParseErrorKind::BadValue { field, reason } => write!(f, "bad {field}: {reason}"),
            ParseErrorKind::BadHex => f.write_str("not hex (pairs of 0-9a-f)"),
            ParseErrorKind::DataOutsideChunk => f.write_str("indented data line outside a chunk"),
            ParseErrorKind::LengthMismatch { declared, found } => write!(
                f,
                "chunk declares {declared} bytes but its data lines hold {found}"
            ),
            ParseErrorKind::TooLarge(n) => {
                write!(f, "chunk of {n} bytes exceeds the {MAX_CHUNK}-byte limit")
            }
            ParseErrorKind::MissingEnd => {
                f.write_str("no \"end\" line: the transcript is truncated")
            }
            ParseErrorKind::AfterEnd => f.write_str("content after \"end\""),
        }
    }
}

impl core::error::Error for ParseError {}

impl Transcript {
    /// An empty transcript of `session`, whose configuration has `fingerprint`.
    pub fn new(session: Session, fingerprint: &Fingerprint) -> Transcript {
        Transcript {
            session,
            fingerprint: fingerprint.digest,
            entries: Vec::new(),
            lines: Vec::new(),
            description: Some(fingerprint.description.clone()),
        }
    }

    /// The line of entry `index` in the text it was parsed from, or in [`Transcript::to_text`].
    pub fn entry_line(&self, index: usize) -> Option<usize> {
        if self.lines.len() == self.entries.len() {
            self.lines.get(index).copied()
        } else {
            self.render().1.get(index).copied()
        }
    }

    /// Total ciphertext bytes the client sent and received.
    pub fn ciphertext_len(&self) -> (usize, usize) {
        let mut sent = 0;
        let mut received = 0;
        for e in &self.entries {
            match e {
                Entry::Client(b) => sent += b.len(),
                Entry::Server(b) => received += b.len(),
                _ => {}
            }
        }
        (sent, received)
    }

    /// The transcript as text (see the format in [`Transcript`]'s docs).
    pub fn to_text(&self) -> String {
        self.render().0
    }

    fn render(&self) -> (String, Vec<usize>) {
        let mut w = Writer::default();
        let s = &self.session;
        w.line(&format!("{MAGIC} {FORMAT_VERSION}"));
        w.line("# A deterministic TLS session recorded by tlsferry (testing only). Every random");
        w.line("# byte of the client, its key-exchange secrets included, derives from the seed:");
        w.line("# anyone holding this file can decrypt the session.");
        w.line(&format!("seed {}", s.seed.to_hex()));
        w.line(&format!(
            "clock {}  # {}",
            s.clock,
            crate::time::UtcTime(s.clock)
        ));
        w.line(&format!("server-name {}", s.server_name));
        let versions: Vec<String> = s.settings.versions.iter().map(|v| v.to_string()).collect();
        w.line(&join("versions", &versions));
        match &s.settings.cipher_suites {
            None => w.line("cipher-suites default"),
            Some(names) => w.line(&join("cipher-suites", names)),
        }
        let alpn: Vec<String> = s.settings.alpn.iter().map(|p| escape(p)).collect();
        w.line(&join("alpn", &alpn));
        w.line(&format!("sni {}", on_off(s.settings.sni)));
        w.line(&format!("verify {}", on_off(s.settings.verify)));
        w.line(&format!(
            "mozilla-roots {}",
            on_off(s.settings.mozilla_roots)
        ));
        for root in &s.settings.extra_roots {
            let summary = crate::cert::CertSummary::from_der(root);
            w.line(&format!("# trust anchor: {}", summary.subject));
            w.chunk("root", root, None);
        }
        if let Some(description) = &self.description {
            for l in description.lines() {
                w.line(&format!("config {l}"));
            }
        }
        w.line(&format!(
            "fingerprint sha256:{}",
            hex::encode(&self.fingerprint)
        ));
        let mut lines = Vec::with_capacity(self.entries.len());
        let mut client_records = RecordWalker::default();
        let mut server_records = RecordWalker::default();
        let mut n_client = 0;
        let mut n_server = 0;
        for e in &self.entries {
            lines.push(w.next_line());
            match e {
                Entry::Client(b) => {
                    n_client += 1;
                    let note = format!("client chunk {n_client}: {}", client_records.walk(b));
                    w.chunk("client", b, Some(&note));
                }
                Entry::Server(b) => {
                    n_server += 1;
                    let note = format!("server chunk {n_server}: {}", server_records.walk(b));
                    w.chunk("server", b, Some(&note));
                }
                Entry::Send(b) => {
                    let note = preview(b);
                    w.chunk("send", b, Some(&note));
                }
                Entry::Close | Entry::Eof => w.line(e.keyword()),
            }
        }
        w.line("end");
        (w.out, lines)
    }

    /// Parses a transcript. Never panics: every problem is a [`ParseError`] with its line
    /// and column.
    pub fn parse(text: &str) -> Result<Transcript, ParseError> {
        Parser::default().run(text)
    }
}

impl PartialEq for Transcript {
    fn eq(&self, other: &Self) -> bool {
        self.session == other.session
            && self.fingerprint == other.fingerprint
            && self.description == other.description
            && self.entries == other.entries
    }
}

impl Eq for Transcript {}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

fn join(key: &str, values: &[String]) -> String {
    let mut s = String::from(key);
    for v in values {
        s.push(' ');
        s.push_str(v);
    }
    s
}

/// A short, escaped text preview of plaintext, for a comment.
fn preview(bytes: &[u8]) -> String {
    const MAX: usize = 60;
    let text = String::from_utf8_lossy(bytes.get(..MAX).unwrap_or(bytes));
    let mut out = format!("{:?}", text.as_ref());
    if bytes.len() > MAX {
        out.push('…');
    }
    out
}

#[derive(Default)]
struct Writer {
    out: String,
    line: usize,
}

impl Writer {
    fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push('\n');
        self.line += 1;
    }

    fn next_line(&self) -> usize {
        self.line + 1
    }

    fn chunk(&mut self, keyword: &str, bytes: &[u8], note: Option<&str>) {
        match note {
            Some(n) => self.line(&format!("{keyword} {}  # {n}", bytes.len())),
            None => self.line(&format!("{keyword} {}", bytes.len())),
        }
        for piece in bytes.chunks(BYTES_PER_LINE) {
            self.line(&format!("  {}", hex::encode(piece)));
        }
    }
}

/// Follows TLS records across the chunks of one direction, to annotate each chunk with
/// the records it holds (`handshake 512`, `application_data 53 (continues)`…).
#[derive(Default)]
struct RecordWalker {
    /// Bytes of a record header seen so far (a header can straddle chunks).
    header: Vec<u8>,
    /// Body bytes of the current record still to come, and its type.
    remaining: usize,
    current: u8,
}

impl RecordWalker {
    fn walk(&mut self, mut bytes: &[u8]) -> String {
        let mut parts: Vec<String> = Vec::new();
        while !bytes.is_empty() {
            if self.remaining > 0 {
                let n = self.remaining.min(bytes.len());
                parts.push(format!("…{} {n}", content_type(self.current)));
                self.remaining -= n;
                bytes = bytes.get(n..).unwrap_or_default();
                continue;
            }
            let need = 5 - self.header.len();
            let take = need.min(bytes.len());
            self.header
                .extend_from_slice(bytes.get(..take).unwrap_or_default());
            bytes = bytes.get(take..).unwrap_or_default();
            if let [t, _, _, hi, lo] = *self.header.as_slice() {
                self.header.clear();
                let len = usize::from(u16::from_be_bytes([hi, lo]));
                let n = len.min(bytes.len());
                let mut part = format!("{} {len}", content_type(t));
                if n < len {
                    part.push_str(" (continues)");
                }
                parts.push(part);
                self.current = t;
                self.remaining = len - n;
                bytes = bytes.get(n..).unwrap_or_default();
            } else {
                parts.push("(record header continues)".into());
            }
        }
        if parts.is_empty() {
            return "empty".into();
        }
        parts.join(", ")
    }
}

fn content_type(t: u8) -> String {
    match t {
        20 => "change_cipher_spec".into(),
        21 => "alert".into(),
        22 => "handshake".into(),
        23 => "application_data".into(),
        other => format!("type{other}"),
    }
}

/// An open chunk: where its data goes and what it declared.
struct Open {
    kind: ChunkKind,
    declared: usize,
    data: Vec<u8>,
    line: usize,
}

#[derive(Clone, Copy)]
enum ChunkKind {
    Root,
    Client,
    Server,
    Send,
}

#[derive(Default)]
struct Parser {
    seed: Option<Seed>,
    clock: Option<u64>,
    server_name: Option<String>,
    versions: Option<Vec<Version>>,
    suites: Option<Option<Vec<String>>>,
    alpn: Option<Vec<Vec<u8>>>,
    sni: Option<bool>,
    verify: Option<bool>,
    mozilla: Option<bool>,
    roots: Vec<CertificateDer<'static>>,
    fingerprint: Option<[u8; 32]>,
    description: Option<String>,
    entries: Vec<Entry>,
    lines: Vec<usize>,
    in_session: bool,
    open: Option<Open>,
    ended: bool,
}

fn err(line: usize, column: usize, kind: ParseErrorKind) -> ParseError {
    ParseError { line, column, kind }
}

fn bad(line: usize, column: usize, field: &'static str, reason: impl Into<String>) -> ParseError {
    err(
        line,
        column,
        ParseErrorKind::BadValue {
            field,
            reason: reason.into(),
        },
    )
}

impl Parser {
    fn run(mut self, text: &str) -> Result<Transcript, ParseError> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        // The magic line.
        let (n, first) = lines
            .next()
            .ok_or_else(|| err(1, 1, ParseErrorKind::NotATranscript))?;
        let first = strip_comment(first);
        let mut words = first.split_ascii_whitespace();
        if words.next() != Some(MAGIC) {
            return Err(err(n, 1, ParseErrorKind::NotATranscript));
        }
        match (words.next(), words.next()) {
            (Some(v), None) if v == FORMAT_VERSION.to_string() => {}
            (Some(v), _) => {
                return Err(err(
                    n,
                    MAGIC.len() + 2,
                    ParseErrorKind::UnsupportedVersion(v.into()),
                ))
            }
            (None, _) => return Err(err(n, first.len() + 1, ParseErrorKind::NotATranscript)),
        }
        let mut last_line = n;
        for (n, raw) in lines {
            last_line = n;
            if raw.trim().is_empty() || raw.starts_with('#') {
                continue;
            }
            if self.ended {
                return Err(err(n, 1, ParseErrorKind::AfterEnd));
            }
            if raw.starts_with([' ', '\t']) {
                self.data_line(n, raw)?;
            } else {
                self.close_chunk()?;
                self.keyword_line(n, strip_comment(raw))?;
            }
        }
        if !self.ended {
            return Err(err(last_line + 1, 1, ParseErrorKind::MissingEnd));
        }
        self.finish(last_line)
    }

    fn data_line(&mut self, n: usize, raw: &str) -> Result<(), ParseError> {
        let Some(open) = self.open.as_mut() else {
            return Err(err(n, 1, ParseErrorKind::DataOutsideChunk));
        };
        let trimmed = raw.trim_start_matches([' ', '\t']);
        if trimmed.starts_with('#') {
            return Ok(());
        }
        let indent = raw.len() - trimmed.len();
        let digits = strip_comment(trimmed).trim_end();
        hex::decode_into(digits, &mut open.data).map_err(|e| {
            let at = match e {
                hex::HexError::BadDigit(i) => i,
                hex::HexError::OddLength => digits.len(),
            };
            err(n, indent + at + 1, ParseErrorKind::BadHex)
        })?;
        if open.data.len() > open.declared {
            return Err(err(
                n,
                1,
                ParseErrorKind::LengthMismatch {
                    declared: open.declared,
                    found: open.data.len(),
                },
            ));
        }
        Ok(())
    }

    fn close_chunk(&mut self) -> Result<(), ParseError> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        if open.data.len() != open.declared {
            return Err(err(
                open.line,
                1,
                ParseErrorKind::LengthMismatch {
                    declared: open.declared,
                    found: open.data.len(),
                },
            ));
        }
        let entry = match open.kind {
            ChunkKind::Root => {
                self.roots.push(CertificateDer::from(open.data));
                return Ok(());
            }
            ChunkKind::Client => Entry::Client(open.data),
            ChunkKind::Server => Entry::Server(open.data),
            ChunkKind::Send => Entry::Send(open.data),
        };
        self.entries.push(entry);
        self.lines.push(open.line);
        Ok(())
    }

    fn keyword_line(&mut self, n: usize, line: &str) -> Result<(), ParseError> {
        let line = line.trim_end();
        let (keyword, rest) = match line.split_once([' ', '\t']) {
            Some((k, r)) => (k, r.trim()),
            None => (line, ""),
        };
        let value_col = line.len() - rest.len() + 1;
        let header = |slot_taken: bool, name: &'static str| -> Result<(), ParseError> {
            if slot_taken {
                return Err(err(n, 1, ParseErrorKind::Duplicate(name)));
            }
            Ok(())
        };
        let header_allowed = |this: &Self, name: &'static str| -> Result<(), ParseError> {
            if this.in_session {
                return Err(err(n, 1, ParseErrorKind::HeaderAfterSession(name)));
            }
            Ok(())
        };
        match keyword {
            "seed" => {
                header_allowed(self, "seed")?;
                header(self.seed.is_some(), "seed")?;
                let seed = Seed::from_hex(rest)
                    .ok_or_else(|| bad(n, value_col, "seed", "expected 64 hex digits"))?;
                self.seed = Some(seed);
            }
            "clock" => {
                header_allowed(self, "clock")?;
                header(self.clock.is_some(), "clock")?;
                let v = rest
                    .parse::<u64>()
                    .map_err(|_| bad(n, value_col, "clock", "expected Unix seconds"))?;
                self.clock = Some(v);
            }
            "server-name" => {
                header_allowed(self, "server-name")?;
                header(self.server_name.is_some(), "server-name")?;
                if rest.is_empty() || rest.contains(char::is_whitespace) {
                    return Err(bad(n, value_col, "server-name", "expected one name"));
                }
                self.server_name = Some(rest.into());
            }
            "versions" => {
                header_allowed(self, "versions")?;
                header(self.versions.is_some(), "versions")?;
                let mut versions = Vec::new();
                for word in rest.split_ascii_whitespace() {
                    versions.push(match word {
                        "TLSv1.3" => Version::Tls13,
                        "TLSv1.2" => Version::Tls12,
                        other => {
                            return Err(bad(
                                n,
                                value_col,
                                "versions",
                                format!("unknown version {other:?} (TLSv1.3, TLSv1.2)"),
                            ))
                        }
                    });
                }
                self.versions = Some(versions);
            }
            "cipher-suites" => {
                header_allowed(self, "cipher-suites")?;
                header(self.suites.is_some(), "cipher-suites")?;
                self.suites = Some(match rest {
                    "default" => None,
                    "" => return Err(bad(n, value_col, "cipher-suites", "expected names")),
                    names => Some(names.split_ascii_whitespace().map(String::from).collect()),
                });
            }
            "alpn" => {
                header_allowed(self, "alpn")?;
                header(self.alpn.is_some(), "alpn")?;
                let mut alpn = Vec::new();
                for word in rest.split_ascii_whitespace() {
                    alpn.push(unescape(word).map_err(|_| {
                        bad(n, value_col, "alpn", format!("bad %XX escape in {word:?}"))
                    })?);
                }
                self.alpn = Some(alpn);
            }
            "sni" | "verify" | "mozilla-roots" => {
                let name: &'static str = match keyword {
                    "sni" => "sni",
                    "verify" => "verify",
                    _ => "mozilla-roots",
                };
                header_allowed(self, name)?;
                let value = match rest {
                    "on" => true,
                    "off" => false,
                    _ => return Err(bad(n, value_col, name, "expected on or off")),
                };
                let slot = match keyword {
                    "sni" => &mut self.sni,
                    "verify" => &mut self.verify,
                    _ => &mut self.mozilla,
                };
                header(slot.is_some(), name)?;
                *slot = Some(value);
            }
            "config" => {
                header_allowed(self, "config")?;
                let d = self.description.get_or_insert_with(String::new);
                d.push_str(rest);
                d.push('\n');
            }
            "fingerprint" => {
                header_allowed(self, "fingerprint")?;
                header(self.fingerprint.is_some(), "fingerprint")?;
                let digits = rest.strip_prefix("sha256:").ok_or_else(|| {
                    bad(
                        n,
                        value_col,
                        "fingerprint",
                        "expected sha256:<64 hex digits>",
                    )
                })?;
                let bytes = hex::decode(digits)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        bad(
                            n,
                            value_col,
                            "fingerprint",
                            "expected sha256:<64 hex digits>",
                        )
                    })?;
                self.fingerprint = Some(bytes);
            }
            "root" | "client" | "server" | "send" => {
                let kind = match keyword {
                    "root" => {
                        header_allowed(self, "root")?;
                        ChunkKind::Root
                    }
                    "client" => ChunkKind::Client,
                    "server" => ChunkKind::Server,
                    _ => ChunkKind::Send,
                };
                if !matches!(kind, ChunkKind::Root) {
                    self.begin_session(n)?;
                }
                let declared = rest
                    .parse::<usize>()
                    .map_err(|_| bad(n, value_col, "length", "expected a byte count"))?;
                if declared > MAX_CHUNK {
                    return Err(err(n, value_col, ParseErrorKind::TooLarge(declared)));
                }
                self.open = Some(Open {
                    kind,
                    declared,
                    data: Vec::with_capacity(declared.min(64 * 1024)),
                    line: n,
                });
            }
            "close" | "eof" | "end" => {
                if !rest.is_empty() {
                    return Err(bad(
                        n,
                        value_col,
                        "line",
                        format!("{keyword} takes no value"),
                    ));
                }
                self.begin_session(n)?;
                match keyword {
                    "close" => self.push(Entry::Close, n),
                    "eof" => self.push(Entry::Eof, n),
                    _ => self.ended = true,
                }
            }
            other => {
                return Err(err(
                    n,
                    1,
                    ParseErrorKind::UnknownKeyword(other.chars().take(40).collect()),
                ))
            }
        }
        Ok(())
    }

    fn push(&mut self, entry: Entry, n: usize) {
        self.entries.push(entry);
        self.lines.push(n);
    }

    /// The first session line: every required header must be there.
    fn begin_session(&mut self, n: usize) -> Result<(), ParseError> {
        if self.in_session {
            return Ok(());
        }
        let missing = |what: &'static str| err(n, 1, ParseErrorKind::Missing(what));
        let checks: [(bool, &'static str); 10] = [
            (self.seed.is_some(), "seed"),
            (self.clock.is_some(), "clock"),
            (self.server_name.is_some(), "server-name"),
            (self.versions.is_some(), "versions"),
            (self.suites.is_some(), "cipher-suites"),
            (self.alpn.is_some(), "alpn"),
            (self.sni.is_some(), "sni"),
            (self.verify.is_some(), "verify"),
            (self.mozilla.is_some(), "mozilla-roots"),
            (self.fingerprint.is_some(), "fingerprint"),
        ];
        if let Some((_, what)) = checks.iter().find(|(present, _)| !present) {
            return Err(missing(what));
        }
        self.in_session = true;
        Ok(())
    }

    fn finish(self, last_line: usize) -> Result<Transcript, ParseError> {
        let missing = |what: &'static str| err(last_line, 1, ParseErrorKind::Missing(what));
        let settings = Settings {
            versions: self.versions.ok_or_else(|| missing("versions"))?,
            cipher_suites: self.suites.ok_or_else(|| missing("cipher-suites"))?,
            alpn: self.alpn.ok_or_else(|| missing("alpn"))?,
            sni: self.sni.ok_or_else(|| missing("sni"))?,
            mozilla_roots: self.mozilla.ok_or_else(|| missing("mozilla-roots"))?,
            extra_roots: self.roots,
            verify: self.verify.ok_or_else(|| missing("verify"))?,
        };
        Ok(Transcript {
            session: Session {
                seed: self.seed.ok_or_else(|| missing("seed"))?,
                clock: self.clock.ok_or_else(|| missing("clock"))?,
                server_name: self.server_name.ok_or_else(|| missing("server-name"))?,
                settings,
            },
            fingerprint: self.fingerprint.ok_or_else(|| missing("fingerprint"))?,
            entries: self.entries,
            lines: self.lines,
            description: self.description,
        })
    }
}

/// A keyword line without its trailing ` #…` comment: a `#` after any ASCII whitespace,
/// the same whitespace that separates values (a `\r` or form feed too, so that what is
/// printed back parses the same).
fn strip_comment(line: &str) -> &str {
    let cut = line
        .as_bytes()
        .windows(2)
        .position(|w| matches!(w, [space, b'#'] if space.is_ascii_whitespace()));
    match cut {
        Some(i) => line.get(..i).unwrap_or(line),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn a_comment_starts_after_any_whitespace_that_separates_values() {
        assert_eq!(
            strip_comment("cipher-suites a b # why"),
            "cipher-suites a b"
        );
        assert_eq!(
            strip_comment("cipher-suites a\tb\t#x"),
            "cipher-suites a\tb"
        );
        // Found by the `transcript` fuzz target: `\r#` was a value, printed back as ` #`.
        assert_eq!(
            strip_comment("cipher-suites )y i\r#5default"),
            "cipher-suites )y i"
        );
        assert_eq!(strip_comment("cipher-suites a#b"), "cipher-suites a#b");
        assert_eq!(strip_comment("#"), "#");
    }

    fn sample() -> Transcript {
        let mut session = Session::new(Seed([9; 32]), 1_700_000_000, "localhost");
        session.settings.alpn = vec![b"http/1.1".to_vec(), b"odd #%\x00".to_vec()];
        session.settings.cipher_suites = Some(vec!["TLS13_AES_128_GCM_SHA256".into()]);
        session.settings = session
            .settings
            .with_roots_only(vec![CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])]);
        let fp = Fingerprint {
            digest: [0xab; 32],
            description: "versions TLSv1.3\n".into(),
        };
        let mut t = Transcript::new(session, &fp);
        t.entries = vec![
            Entry::Client((0..=255).collect()),
            Entry::Server(vec![22, 3, 3, 0, 2, 1]),
            Entry::Server(vec![2]),
            Entry::Send(b"Hello, World!\n".to_vec()),
            Entry::Close,
            Entry::Eof,
        ];
        t
    }

    fn parse_err(text: &str) -> ParseError {
        Transcript::parse(text).unwrap_err()
    }

    #[test]
    fn round_trip_and_line_numbers() {
        let t = sample();
        let text = t.to_text();
        let back = Transcript::parse(&text).unwrap(); // ok: test code
        assert_eq!(back, t);
        assert_eq!(back.to_text(), text);
        for i in 0..t.entries.len() {
            let line = back.entry_line(i).unwrap(); // ok: test code
            assert_eq!(t.entry_line(i), Some(line));
            let keyword = text.lines().nth(line - 1).unwrap(); // ok: test code
            assert!(keyword.starts_with(t.entries[i].keyword()), "{keyword}");
        }
        assert!(text.contains("server chunk 1: handshake 2 (continues)"));
        assert!(text.contains("server chunk 2: …handshake 1"));
        assert!(text.contains("alpn http/1.1 odd%20%23%25%00"));
        assert!(text.contains("\"Hello, World!\\n\""));
    }

    #[test]
    fn accepts_crlf_comments_and_any_hex_split() {
        let text = sample().to_text();
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(Transcript::parse(&crlf).unwrap(), sample()); // ok: test code
                                                                 // Re-split the first client chunk's hex: one byte per line, upper case, comments.
        let mut out = String::new();
        let mut in_first = false;
        for l in text.lines() {
            if l.starts_with("client 256") {
                in_first = true;
                out.push_str("client 256 # a comment\n  # an indented comment\n\n");
                for b in 0..=255u8 {
                    out.push_str(&format!("\t{}\n", hex::encode(&[b]).to_uppercase()));
                }
                continue;
            }
            if in_first && l.starts_with(' ') {
                continue;
            }
            in_first = false;
            out.push_str(l);
            out.push('\n');
        }
        assert_eq!(Transcript::parse(&out).unwrap(), sample()); // ok: test code
    }

    #[test]
    fn malformed_input_names_line_and_column() {
        let good = sample().to_text();
        let line_of = |prefix: &str| good.lines().position(|l| l.starts_with(prefix)).unwrap() + 1; // ok: test code

        let e = parse_err("");
        assert_eq!((e.line, e.kind), (1, ParseErrorKind::NotATranscript));
        let e = parse_err("hello\n");
        assert_eq!(e.kind, ParseErrorKind::NotATranscript);
        let e = parse_err("tlsferry-transcript 2\n");
        assert_eq!(e.kind, ParseErrorKind::UnsupportedVersion("2".into()));
        assert_eq!(e.column, 21);

        let e = parse_err(&good.replace("\nend\n", "\n"));
        assert_eq!(e.kind, ParseErrorKind::MissingEnd);
        let e = parse_err(&format!("{good}client 1\n  00\n"));
        assert_eq!(e.kind, ParseErrorKind::AfterEnd);

        let seed_line = line_of("seed ");
        let e = parse_err(&good.replace("seed 0909", "seed zz09"));
        assert_eq!((e.line, e.column), (seed_line, 6));
        assert!(matches!(
            e.kind,
            ParseErrorKind::BadValue { field: "seed", .. }
        ));
        let e = parse_err(&good.replace("sni on", "sni maybe"));
        assert!(matches!(
            e.kind,
            ParseErrorKind::BadValue { field: "sni", .. }
        ));
        let e = parse_err(&good.replace("clock ", "clock -"));
        assert!(matches!(
            e.kind,
            ParseErrorKind::BadValue { field: "clock", .. }
        ));
        let e = parse_err(&good.replace("versions TLSv1.3", "versions SSLv3"));
        assert!(e.to_string().contains("SSLv3"), "{e}");
        let e = parse_err(&good.replace("alpn http", "alpn %zhttp"));
        assert!(matches!(
            e.kind,
            ParseErrorKind::BadValue { field: "alpn", .. }
        ));
        let e = parse_err(&good.replace("fingerprint sha256:ab", "fingerprint md5:ab"));
        assert!(matches!(
            e.kind,
            ParseErrorKind::BadValue {
                field: "fingerprint",
                ..
            }
        ));

        let e = parse_err(&good.replace("sni on\n", "sni on\nsni off\n"));
        assert_eq!(e.kind, ParseErrorKind::Duplicate("sni"));
        assert_eq!(e.line, line_of("sni ") + 1);
        let e = parse_err(&good.replace("sni on\n", ""));
        assert_eq!(e.kind, ParseErrorKind::Missing("sni"));
        assert_eq!(e.line, line_of("client ") - 1);
        let e = parse_err(&good.replace("close\n", "close\nseed 00\n"));
        assert_eq!(e.kind, ParseErrorKind::HeaderAfterSession("seed"));
        let e = parse_err(&good.replace("close\n", "bogus\n"));
        assert_eq!(e.kind, ParseErrorKind::UnknownKeyword("bogus".into()));
        let e = parse_err(&good.replace("close\n", "close now\n"));
        assert!(matches!(e.kind, ParseErrorKind::BadValue { .. }));

        // Chunk data.
        let client = line_of("client ");
        let e = parse_err(&good.replace("client 256", "client 257"));
        assert_eq!(e.line, client);
        assert_eq!(
            e.kind,
            ParseErrorKind::LengthMismatch {
                declared: 257,
                found: 256
            }
        );
        let e = parse_err(&good.replace("client 256", "client 255"));
        assert_eq!(e.line, client + 8);
        let e = parse_err(&good.replace("  000102", "  00x102"));
        assert_eq!(
            (e.line, e.column, e.kind),
            (client + 1, 5, ParseErrorKind::BadHex)
        );
        let e = parse_err(&good.replace("  000102", "  0000102"));
        assert_eq!(e.kind, ParseErrorKind::BadHex);
        let e = parse_err(&good.replace("client 256", "client lots"));
        assert!(matches!(
            e.kind,
            ParseErrorKind::BadValue {
                field: "length",
                ..
            }
        ));
        let e = parse_err(&good.replace("client 256", "client 99999999999"));
        assert_eq!(e.kind, ParseErrorKind::TooLarge(99_999_999_999));
        let e = parse_err(&good.replace("close\n", "close\n  00\n"));
        assert_eq!(e.kind, ParseErrorKind::DataOutsideChunk);
        assert!(e.to_string().starts_with("transcript line "));
    }

    /// A tiny deterministic generator for the mutation test (no dependency).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (self.0 >> 33) as usize
        }
    }

    #[test]
    fn never_panics_on_mutations_or_truncations() {
        let good = sample().to_text();
        let bytes = good.as_bytes();
        for cut in 0..bytes.len() {
            let _ = Transcript::parse(&String::from_utf8_lossy(&bytes[..cut]));
        }
        let alphabet = b" \t\r\n#%0123456789abcdefxyzZ-:\xff";
        let mut rng = Lcg(42);
        for _ in 0..3000 {
            let mut m = bytes.to_vec();
            for _ in 0..1 + rng.next() % 4 {
                let at = rng.next() % m.len();
                match rng.next() % 3 {
                    0 => m[at] = alphabet[rng.next() % alphabet.len()],
                    1 => {
                        m.remove(at);
                    }
                    _ => m.insert(at, alphabet[rng.next() % alphabet.len()]),
                }
            }
            if let Ok(t) = Transcript::parse(&String::from_utf8_lossy(&m)) {
                // Whatever parses must write back to something that parses to the same.
                assert_eq!(Transcript::parse(&t.to_text()).unwrap(), t); // ok: test code
            }
        }
    }
}
