//! What the CLI tells a person (stderr) and a program (exit code, `--json`): exit codes,
//! one-line causes, the handshake summary, the certificate forensic report.

use std::fmt::Write as _;

use tlsferry_core::cert::CertSummary;
use tlsferry_core::{CertificateError, ConnectionInfo, Error as TlsError, LocalError, UtcTime};

use crate::json::Json;

/// Writes one line to stderr, ignoring a closed stderr (never panics).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use say;

/// The CLI's exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: success.
    Ok = 0,
    /// 1: network or I/O error (refused, reset, unresolvable, timeout).
    Network = 1,
    /// 2: usage or bad local input (bad flag, unreadable or invalid PEM, bad host name).
    Usage = 2,
    /// 3: TLS failure other than certificates (protocol error, alert, mismatch, truncation).
    Tls = 3,
    /// 4: certificate verification failed.
    Certificate = 4,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Why a session failed: exit code, one line for a person, a stable code, and for
/// certificate failures the forensic report.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// One line naming the cause.
    pub message: String,
    /// Stable machine-readable code (`CERT_EXPIRED`, `USAGE`, `CONNECT_REFUSED`, …).
    pub code: &'static str,
    /// The certificate failure with its evidence, if that is the cause.
    pub certificate: Option<Box<CertificateError>>,
}

impl Failure {
    /// A usage / bad-local-input failure (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Usage,
            message: message.into(),
            code: "USAGE",
            certificate: None,
        }
    }

    /// A network / I/O failure (exit 1).
    pub fn network(code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Network,
            message: message.into(),
            code,
            certificate: None,
        }
    }

    /// Classifies an error of the library.
    pub fn from_error(err: &tlsferry::Error, host: &str) -> Failure {
        let (exit, message) = match err {
            tlsferry::Error::Tls(e) => (tls_exit(e), e.to_string()),
            other => (Exit::Network, chain(other)),
        };
        let _ = host;
        Failure {
            exit,
            message,
            code: err.code(),
            certificate: err
                .tls()
                .and_then(TlsError::certificate)
                .cloned()
                .map(Box::new),
        }
    }

    /// Classifies an I/O error from the stream (TLS errors inside are unwrapped).
    pub fn from_io(err: std::io::Error, host: &str) -> Failure {
        Failure::from_error(&tlsferry::Error::from_io(err), host)
    }
}

/// An error and its causes on one line, each said once: `cannot connect to 1.2.3.4:443:
/// Connection refused (os error 111)`.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = e.source();
    }
    out
}

/// Where the trusted roots came from, for summaries and `--json`: the built-in Mozilla
/// roots, or a PEM file with its count (and the unusable ones skipped), or none.
pub fn trust_text(
    cafile: Option<&std::path::Path>,
    trust: tlsferry::TrustSummary,
    insecure: bool,
) -> String {
    if insecure {
        return "none (--insecure: verification skipped)".into();
    }
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    match cafile {
        Some(p) => {
            let mut text = format!(
                "PEM roots from {} ({})",
                p.display(),
                plural(trust.added, "certificate")
            );
            if trust.skipped > 0 {
                text.insert_str(
                    text.len() - 1,
                    &format!("; skipped {} unusable as trust anchors", trust.skipped),
                );
            }
            text
        }
        None => "the built-in Mozilla roots (webpki-roots)".into(),
    }
}

/// The exit code for a TLS error.
pub fn tls_exit(e: &TlsError) -> Exit {
    match e {
        TlsError::Certificate(_) => Exit::Certificate,
        TlsError::Peer(_) => Exit::Tls,
        TlsError::Timeout(_) => Exit::Network,
        TlsError::Local(LocalError::Config(_) | LocalError::InvalidServerName(_)) => Exit::Usage,
        _ => Exit::Network,
    }
}

/// The forensic report of a certificate failure (issue 7): the name asked for vs the
/// names covered, the validity window vs the clock, the chain as sent, the trust store.
/// Lines are indented; the first line (the cause) is printed separately.
pub fn certificate_report(e: &CertificateError, trust: &str) -> String {
    let mut out = String::new();
    for (i, line) in e.report().lines().enumerate() {
        if i == 0 && line.starts_with("certificate verification failed") {
            continue; // the one-line cause is already printed
        }
        out.push_str(line);
        out.push('\n');
    }
    let _ = writeln!(out, "  trust store used:      {trust}");
    out
}

fn time(t: Option<u64>) -> Json {
    Json::opt_str(t.map(|t| UtcTime(t).to_string()))
}

/// One certificate as JSON.
pub fn cert_json(c: &CertSummary) -> Json {
    Json::obj()
        .with("subject", Json::str(&c.subject))
        .with("issuer", Json::str(&c.issuer))
        .with("names", Json::Arr(c.names.iter().map(Json::str).collect()))
        .with("not_before", time(c.not_before))
        .with("not_after", time(c.not_after))
        .with("sha256", Json::str(&c.sha256))
        .with("parse_error", Json::opt_str(c.parse_error.clone()))
}

/// The certificate failure's evidence as JSON.
pub fn certificate_error_json(e: &CertificateError, trust: &str) -> Json {
    let leaf = e.chain_summary().into_iter().next();
    Json::obj()
        .with("code", Json::str(e.reason.code()))
        .with("reason", Json::str(e.reason.to_string()))
        .with("server_name", Json::str(&e.server_name))
        .with(
            "names_in_certificate",
            Json::Arr(
                leaf.as_ref()
                    .map(|l| l.names.iter().map(Json::str).collect())
                    .unwrap_or_default(),
            ),
        )
        .with("clock", time(e.now))
        .with("not_before", time(leaf.as_ref().and_then(|l| l.not_before)))
        .with("not_after", time(leaf.as_ref().and_then(|l| l.not_after)))
        .with("trust_store", Json::str(trust))
}

/// The handshake summary for stderr (like `openssl s_client -brief`).
pub fn summary(info: &ConnectionInfo, trust: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  protocol      {}", info.version);
    let _ = writeln!(out, "  cipher suite  {}", info.cipher_suite);
    let _ = writeln!(
        out,
        "  key exchange  {}",
        info.key_exchange_group.as_deref().unwrap_or("(unknown)")
    );
    let _ = writeln!(out, "  ALPN          {}", alpn_text(info));
    if let Some(leaf) = info.chain_summary().first() {
        let _ = writeln!(out, "  certificate   {}", leaf.subject);
        let _ = writeln!(out, "    issued by   {}", leaf.issuer);
        if !leaf.names.is_empty() {
            let _ = writeln!(out, "    names       {}", leaf.names.join(", "));
        }
        let _ = writeln!(out, "    valid       {}", leaf.validity());
    }
    let _ = writeln!(
        out,
        "  verification  {}",
        if info.verified {
            format!("OK ({trust})")
        } else {
            "SKIPPED (--insecure): the server was not authenticated".into()
        }
    );
    out
}

/// The negotiated ALPN protocol as text.
pub fn alpn_text(info: &ConnectionInfo) -> String {
    match (&info.alpn, info.alpn_str()) {
        (None, _) => "(none)".into(),
        (Some(_), Some(s)) => s.into(),
        (Some(raw), None) => tlsferry_core::cert::hex(raw),
    }
}

/// The peer chain as PEM, for `--show-certs`.
pub fn chain_pem(info: &ConnectionInfo) -> String {
    info.peer_certificates
        .iter()
        .map(|c| tlsferry_core::cert::to_pem(c))
        .collect()
}
