//! What `tlsferry connect` says in plaintext before TLS starts, as `openssl s_client`
//! does: an HTTP `CONNECT` through a proxy (`--proxy`), and the STARTTLS exchange of
//! SMTP, IMAP, POP3, FTP, XMPP or PostgreSQL (`--starttls`). Reads byte by byte, so that
//! no byte of the server's TLS flight is read ahead and lost.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;

/// A protocol that upgrades a plaintext connection to TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartTls {
    /// SMTP `STARTTLS` (RFC 3207).
    Smtp,
    /// IMAP `STARTTLS` (RFC 3501).
    Imap,
    /// POP3 `STLS` (RFC 2595).
    Pop3,
    /// FTP `AUTH TLS` (RFC 4217).
    Ftp,
    /// XMPP `<starttls/>` (RFC 6120).
    Xmpp,
    /// PostgreSQL `SSLRequest`.
    Postgres,
}

impl StartTls {
    /// The protocols by their `--starttls` names.
    pub const NAMES: &'static str = "smtp, imap, pop3, ftp, xmpp, postgres";

    /// Parses a `--starttls` value.
    pub fn from_name(name: &str) -> Option<StartTls> {
        Some(match name.to_ascii_lowercase().as_str() {
            "smtp" => StartTls::Smtp,
            "imap" => StartTls::Imap,
            "pop3" => StartTls::Pop3,
            "ftp" => StartTls::Ftp,
            "xmpp" => StartTls::Xmpp,
            "postgres" | "postgresql" => StartTls::Postgres,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            StartTls::Smtp => "SMTP",
            StartTls::Imap => "IMAP",
            StartTls::Pop3 => "POP3",
            StartTls::Ftp => "FTP",
            StartTls::Xmpp => "XMPP",
            StartTls::Postgres => "PostgreSQL",
        }
    }
}

/// Why the plaintext phase failed.
#[derive(Debug)]
pub enum PlaintextError {
    /// The socket failed or timed out.
    Io(io::Error),
    /// The server closed the connection before the exchange completed.
    Closed(&'static str),
    /// The server answered, but not with what the protocol expects: its words.
    Refused {
        /// Who refused (the proxy, the SMTP server…).
        who: String,
        /// What it said (first line, escaped).
        said: String,
    },
    /// A line or header block exceeded the limit.
    TooLong(&'static str),
}

impl fmt::Display for PlaintextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlaintextError::Io(e) => write!(f, "before TLS: {e}"),
            PlaintextError::Closed(during) => {
                write!(f, "the server closed the connection during {during}")
            }
            PlaintextError::Refused { who, said } => write!(f, "{who} refused: {said}"),
            PlaintextError::TooLong(what) => write!(f, "{what} is too long"),
        }
    }
}

impl std::error::Error for PlaintextError {}

impl From<io::Error> for PlaintextError {
    fn from(e: io::Error) -> Self {
        PlaintextError::Io(e)
    }
}

/// Longest line or header block read in plaintext.
const MAX_LINE: usize = 8 * 1024;

/// Reads one line ending in LF (the LF and a CR before it are dropped).
fn read_line(s: &mut TcpStream, during: &'static str) -> Result<String, PlaintextError> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if s.read(&mut byte)? == 0 {
            return Err(PlaintextError::Closed(during));
        }
        if byte[0] == b'\n' {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(String::from_utf8_lossy(&line).into_owned());
        }
        line.push(byte[0]);
        if line.len() > MAX_LINE {
            return Err(PlaintextError::TooLong("a line from the server"));
        }
    }
}

/// Reads an SMTP/FTP-style reply (`250-…` continuation lines, then `250 …`); returns
/// its code and lines.
fn read_reply(
    s: &mut TcpStream,
    during: &'static str,
) -> Result<(String, Vec<String>), PlaintextError> {
    let mut lines = Vec::new();
    loop {
        let line = read_line(s, during)?;
        let done = line.len() < 4 || line.as_bytes().get(3) != Some(&b'-');
        lines.push(line);
        if done || lines.len() > 200 {
            let code = lines
                .last()
                .map(|l| l.chars().take(3).collect())
                .unwrap_or_default();
            return Ok((code, lines));
        }
    }
}

fn refused(who: &str, said: &str) -> PlaintextError {
    PlaintextError::Refused {
        who: who.into(),
        said: said.escape_debug().to_string(),
    }
}

fn expect_code(
    s: &mut TcpStream,
    code: &str,
    who: &str,
    during: &'static str,
) -> Result<Vec<String>, PlaintextError> {
    let (got, lines) = read_reply(s, during)?;
    if got != code {
        return Err(refused(who, &lines.join(" / ")));
    }
    Ok(lines)
}

/// Asks an HTTP proxy to open a tunnel to `target` (`host:port`) with `CONNECT`.
pub fn http_connect(s: &mut TcpStream, target: &str) -> Result<(), PlaintextError> {
    s.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())?;
    let status = read_line(s, "the proxy's CONNECT")?;
    let mut total = status.len();
    // Skip the headers up to the empty line.
    loop {
        let header = read_line(s, "the proxy's CONNECT")?;
        total += header.len();
        if total > MAX_LINE * 4 {
            return Err(PlaintextError::TooLong("the proxy's answer"));
        }
        if header.is_empty() {
            break;
        }
    }
    let ok = status.starts_with("HTTP/1.")
        && status.split(' ').nth(1).is_some_and(|c| c.starts_with('2'));
    if ok {
        Ok(())
    } else {
        Err(refused(&format!("the proxy (CONNECT {target})"), &status))
    }
}

/// Runs the STARTTLS exchange of `protocol`; afterwards the next bytes are TLS.
pub fn start_tls(
    s: &mut TcpStream,
    protocol: StartTls,
    server_name: &str,
) -> Result<(), PlaintextError> {
    let who = format!("the {} server", protocol.name());
    match protocol {
        StartTls::Smtp => {
            expect_code(s, "220", &who, "the SMTP greeting")?;
            s.write_all(b"EHLO tlsferry\r\n")?;
            let caps = expect_code(s, "250", &who, "EHLO")?;
            if !caps.iter().any(|l| {
                l.get(4..)
                    .is_some_and(|c| c.eq_ignore_ascii_case("STARTTLS"))
            }) {
                return Err(PlaintextError::Refused {
                    who,
                    said: "it does not offer STARTTLS (not in its EHLO reply)".into(),
                });
            }
            s.write_all(b"STARTTLS\r\n")?;
            expect_code(s, "220", &who, "STARTTLS")?;
        }
        StartTls::Ftp => {
            expect_code(s, "220", &who, "the FTP greeting")?;
            s.write_all(b"AUTH TLS\r\n")?;
            expect_code(s, "234", &who, "AUTH TLS")?;
        }
        StartTls::Pop3 => {
            let greeting = read_line(s, "the POP3 greeting")?;
            if !greeting.starts_with("+OK") {
                return Err(refused(&who, &greeting));
            }
            s.write_all(b"STLS\r\n")?;
            let answer = read_line(s, "STLS")?;
            if !answer.starts_with("+OK") {
                return Err(refused(&who, &answer));
            }
        }
        StartTls::Imap => {
            let greeting = read_line(s, "the IMAP greeting")?;
            if !greeting.starts_with("* OK") {
                return Err(refused(&who, &greeting));
            }
            s.write_all(b"a1 STARTTLS\r\n")?;
            loop {
                let line = read_line(s, "STARTTLS")?;
                if line.starts_with("a1 ") {
                    if line.starts_with("a1 OK") {
                        break;
                    }
                    return Err(refused(&who, &line));
                }
                // Untagged lines (`* CAPABILITY …`) before the tagged answer.
            }
        }
        StartTls::Xmpp => {
            let open = format!(
                "<?xml version='1.0'?><stream:stream to='{}' xmlns='jabber:client' \
                 xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
                xml_escape(server_name)
            );
            s.write_all(open.as_bytes())?;
            let features = read_until(s, "</stream:features>", "the XMPP stream features")?;
            if !features.contains("<starttls") {
                return Err(PlaintextError::Refused {
                    who,
                    said: "it does not offer STARTTLS (no <starttls/> in its stream features)"
                        .into(),
                });
            }
            s.write_all(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")?;
            let answer = read_until(s, "/>", "the XMPP STARTTLS answer")?;
            if !answer.contains("<proceed") {
                return Err(refused(&who, answer.trim()));
            }
        }
        StartTls::Postgres => {
            // SSLRequest: length 8, code 1234.5679.
            s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])?;
            let mut answer = [0u8; 1];
            if s.read(&mut answer)? == 0 {
                return Err(PlaintextError::Closed("the SSLRequest"));
            }
            match answer[0] {
                b'S' => {}
                b'N' => {
                    return Err(PlaintextError::Refused {
                        who,
                        said: "it does not accept TLS (it answered N to the SSLRequest)".into(),
                    })
                }
                other => return Err(refused(&who, &format!("unexpected byte 0x{other:02x}"))),
            }
        }
    }
    Ok(())
}

/// Reads until `end` has been read; returns everything read.
fn read_until(
    s: &mut TcpStream,
    end: &str,
    during: &'static str,
) -> Result<String, PlaintextError> {
    let mut text = Vec::new();
    let mut byte = [0u8; 1];
    while !text.ends_with(end.as_bytes()) {
        if s.read(&mut byte)? == 0 {
            return Err(PlaintextError::Closed(during));
        }
        text.push(byte[0]);
        if text.len() > MAX_LINE * 4 {
            return Err(PlaintextError::TooLong("the server's XML"));
        }
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('\'', "&apos;")
        .replace('<', "&lt;")
}
