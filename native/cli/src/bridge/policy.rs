//! Who may use the bridge and where to: the target allowlist, the Origin policy and the
//! optional bearer tokens (compared in constant time).

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `host:port` with a lowercase host, or `None` if it is not one.
pub fn normalize_target(s: &str) -> Option<String> {
    let (host, port) = s.trim().rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|p| *p > 0)?;
    if port.to_string().len() != s.trim().len() - host.len() - 1 {
        return None; // "+443", "0443"
    }
    let host = host.to_ascii_lowercase();
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(&host);
    if bare.is_empty()
        || bare.len() > 253
        || (bare.contains(':') && !host.starts_with('['))
        || (host.starts_with('[') && bare.parse::<std::net::Ipv6Addr>().is_err())
        || !bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
    {
        return None;
    }
    Some(format!("{host}:{port}"))
}

/// Why a request was refused by policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No or a wrong token (401).
    Unauthorized,
    /// The page's Origin is not allowed (403).
    Origin(String),
    /// The target is not on the allowlist (403).
    Target(String),
    /// Several targets allowed and none chosen (400).
    NoTarget,
}

impl Refusal {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Unauthorized => 401,
            Refusal::Origin(_) | Refusal::Target(_) => 403,
            Refusal::NoTarget => 400,
        }
    }

    /// The refusal reason for the response body and the log.
    pub fn reason(&self) -> String {
        match self {
            Refusal::Unauthorized => {
                "a valid token is required (Authorization: Bearer TOKEN or ?token=TOKEN)".into()
            }
            Refusal::Origin(o) => format!("origin not allowed: {o}"),
            Refusal::Target(t) => format!("target not allowed: {t}"),
            Refusal::NoTarget => "no target: add ?target=HOST:PORT to the URL".into(),
        }
    }

    /// A stable word for metrics and JSON logs.
    pub fn word(&self) -> &'static str {
        match self {
            Refusal::Unauthorized => "unauthorized",
            Refusal::Origin(_) => "origin",
            Refusal::Target(_) => "target",
            Refusal::NoTarget => "no_target",
        }
    }
}

/// Checks a page's Origin: listed in `allowed` (or `*` there), or, with an empty list,
/// a loopback page. Clients that send no Origin (not browsers) pass.
pub fn check_origin(origin: Option<&str>, allowed: &[String]) -> Result<(), Refusal> {
    let Some(o) = origin else { return Ok(()) };
    let o = o.trim_end_matches('/');
    let ok = if allowed.is_empty() {
        is_loopback_origin(o)
    } else {
        allowed
            .iter()
            .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(o))
    };
    if ok {
        Ok(())
    } else {
        Err(Refusal::Origin(o.to_string()))
    }
}

/// True if a page at `origin` (e.g. `http://localhost:8000`) is served from this machine.
pub fn is_loopback_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") || rest.contains('/') {
        return false;
    }
    let host = if let Some(v6) = rest.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, after)) if after.is_empty() || after.starts_with(':') => h,
            _ => return false,
        }
    } else {
        rest.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The target a client asked for (`?target=`), checked against the allowlist; with no
/// `?target=` and exactly one allowed target, that one.
pub fn choose_target(requested: Option<&str>, allow: &[String]) -> Result<String, Refusal> {
    match requested {
        Some(t) => match normalize_target(t) {
            Some(n) if allow.contains(&n) => Ok(n),
            _ => Err(Refusal::Target(t.to_string())),
        },
        None => match allow {
            [only] => Ok(only.clone()),
            _ => Err(Refusal::NoTarget),
        },
    }
}

/// The bearer tokens a client may present, kept as SHA-256 digests and compared in
/// constant time (neither the token's bytes nor its length leak through timing).
#[derive(Clone, Default)]
pub struct Tokens {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.digests.len())
    }
}

impl Tokens {
    /// The tokens of a token file: one per line; blank lines and `#` comments skipped.
    /// Fails if the file holds no token.
    pub fn parse(text: &str) -> Result<Tokens, String> {
        let digests: Vec<[u8; 32]> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(digest)
            .collect();
        if digests.is_empty() {
            return Err("holds no token (one per line; # starts a comment)".into());
        }
        Ok(Tokens { digests })
    }

    /// How many tokens are configured.
    pub(crate) fn len(&self) -> usize {
        self.digests.len()
    }

    /// True if `presented` is one of the tokens. Every configured token is compared, in
    /// constant time.
    pub fn accepts(&self, presented: Option<&str>) -> bool {
        let Some(p) = presented else { return false };
        let d = digest(p);
        let mut ok = subtle::Choice::from(0u8);
        for t in &self.digests {
            ok |= t.ct_eq(&d);
        }
        ok.into()
    }
}

fn digest(token: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&Sha256::digest(token.as_bytes()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            normalize_target("Example.COM:443").as_deref(),
            Some("example.com:443")
        );
        assert_eq!(
            normalize_target("[::1]:8443").as_deref(),
            Some("[::1]:8443")
        );
        for bad in [
            "nohost", "h:0", "::1:443", "h:+443", "h:0443", ":443", "[zz]:1", "a b:1", "h:99999",
        ] {
            assert_eq!(normalize_target(bad), None, "{bad}");
        }
        let allow = vec!["a:1".to_string(), "b:2".to_string()];
        assert_eq!(choose_target(Some("A:1"), &allow), Ok("a:1".into()));
        assert_eq!(
            choose_target(Some("c:3"), &allow),
            Err(Refusal::Target("c:3".into()))
        );
        assert_eq!(choose_target(None, &allow), Err(Refusal::NoTarget));
        assert_eq!(choose_target(None, &allow[..1]), Ok("a:1".into()));
    }

    #[test]
    fn origins() {
        for ok in [
            "http://localhost:8000",
            "http://127.0.0.1:5173",
            "http://[::1]:80",
            "https://LOCALHOST",
            "http://127.0.0.2/",
        ] {
            assert_eq!(check_origin(Some(ok), &[]), Ok(()), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "null",
            "http://localhost.evil.example",
            "http://[::1]evil",
            "file://localhost",
            "http://127.0.0.1@evil",
        ] {
            assert!(check_origin(Some(bad), &[]).is_err(), "{bad}");
        }
        assert_eq!(check_origin(None, &[]), Ok(()));
        let list = vec!["https://app.example".to_string()];
        assert_eq!(check_origin(Some("https://APP.example"), &list), Ok(()));
        assert!(check_origin(Some("http://localhost:8000"), &list).is_err());
        assert_eq!(check_origin(Some("null"), &["*".into()]), Ok(()));
    }

    #[test]
    fn tokens() {
        let t = Tokens::parse("# comment\n\n  s3cret  \nother\n").unwrap();
        assert_eq!(t.len(), 2);
        assert!(t.accepts(Some("s3cret")));
        assert!(t.accepts(Some("other")));
        assert!(!t.accepts(Some("s3cre")));
        assert!(!t.accepts(Some("")));
        assert!(!t.accepts(None));
        assert!(Tokens::parse("# only a comment\n").is_err());
        assert!(!format!("{t:?}").contains("s3cret"));
    }
}
