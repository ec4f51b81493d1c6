//! The control messages of the `tlsferry.v1` subprotocol (README, "The bridge protocol"):
//! text frames, ASCII, one message per frame, fields separated by one space.
//!
//! `std` only and no `crate::` paths: the fuzz target `bridge_http_head` compiles this
//! file on its own with `#[path]`.

/// The subprotocol with receive credit and half-close.
pub const TLSFERRY_V1: &str = "tlsferry.v1";
/// websockify's subprotocol: binary frames, nothing else.
pub const BINARY: &str = "binary";
/// Largest single grant: `credit N` takes 1 … 2^31.
pub const MAX_GRANT: u64 = 1 << 31;
/// Outstanding credit (granted, not yet used) above this is a protocol error.
pub const MAX_OUTSTANDING: u64 = 64 << 20;

/// A message from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientMessage {
    /// `credit N`: the client can take `N` more bytes of target data.
    Credit(u64),
    /// `eof`: the client sends no more data.
    Eof,
}

/// The message the bridge sends when the target closed its side.
pub const EOF: &str = "eof";

/// Parses one client control message; the error says what is wrong with it.
pub fn parse_client_message(text: &str) -> Result<ClientMessage, &'static str> {
    if text == "eof" {
        return Ok(ClientMessage::Eof);
    }
    let Some(n) = text.strip_prefix("credit ") else {
        return Err("unknown control message (expected `credit N` or `eof`)");
    };
    if n.is_empty() || n.len() > 10 || !n.bytes().all(|b| b.is_ascii_digit()) || n.starts_with('0')
    {
        return Err("malformed credit (expected `credit N`, N from 1 to 2^31 in decimal)");
    }
    match n.parse::<u64>() {
        Ok(v) if (1..=MAX_GRANT).contains(&v) => Ok(ClientMessage::Credit(v)),
        _ => Err("malformed credit (expected `credit N`, N from 1 to 2^31 in decimal)"),
    }
}

/// The outstanding credit after granting `grant` more on top of `outstanding`, or the
/// protocol error if it goes above [`MAX_OUTSTANDING`].
pub fn add_credit(outstanding: u64, grant: u64) -> Result<u64, &'static str> {
    match outstanding.checked_add(grant) {
        Some(total) if total <= MAX_OUTSTANDING => Ok(total),
        _ => Err("outstanding credit above 64 MiB"),
    }
}

/// The subprotocol to answer with: `tlsferry.v1` whenever it is offered, wherever in the
/// list (clients offer `binary, tlsferry.v1`, because websockify refuses an offer whose
/// first entry it does not speak), else `binary`; `None` if the client offered none
/// (websockify's behaviour: plain binary frames), or `Err` if it offered only ones the
/// bridge does not speak.
pub fn choose_subprotocol(offered: &[String]) -> Result<Option<&'static str>, &'static str> {
    if offered.is_empty() {
        return Ok(None);
    }
    if offered.iter().any(|p| p == TLSFERRY_V1) {
        return Ok(Some(TLSFERRY_V1));
    }
    if offered.iter().any(|p| p == BINARY) {
        return Ok(Some(BINARY));
    }
    Err("no subprotocol offered that this bridge speaks (tlsferry.v1, binary)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_two_messages_strictly() {
        assert_eq!(parse_client_message("eof"), Ok(ClientMessage::Eof));
        assert_eq!(
            parse_client_message("credit 1"),
            Ok(ClientMessage::Credit(1))
        );
        assert_eq!(
            parse_client_message("credit 2147483648"),
            Ok(ClientMessage::Credit(1 << 31))
        );
        for bad in [
            "",
            "EOF",
            "eof ",
            " eof",
            "credit",
            "credit ",
            "credit 0",
            "credit 01",
            "credit -1",
            "credit +1",
            "credit 1 ",
            "credit  1",
            "credit 2147483649",
            "credit 99999999999",
            "credit 0x10",
            "credit 1\n",
            "hello",
        ] {
            assert!(parse_client_message(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn outstanding_credit_is_capped() {
        assert_eq!(add_credit(0, 1), Ok(1));
        assert_eq!(add_credit(MAX_OUTSTANDING - 1, 1), Ok(MAX_OUTSTANDING));
        assert!(add_credit(MAX_OUTSTANDING, 1).is_err());
        assert!(add_credit(u64::MAX, 1).is_err());
    }

    #[test]
    fn prefers_tlsferry_v1_wherever_it_is_offered() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(choose_subprotocol(&v(&[])), Ok(None));
        assert_eq!(
            choose_subprotocol(&v(&["tlsferry.v1", "binary"])),
            Ok(Some("tlsferry.v1"))
        );
        assert_eq!(
            choose_subprotocol(&v(&["base64", "binary", "tlsferry.v1"])),
            Ok(Some("tlsferry.v1"))
        );
        assert_eq!(
            choose_subprotocol(&v(&["base64", "binary"])),
            Ok(Some("binary"))
        );
        assert!(choose_subprotocol(&v(&["base64"])).is_err());
    }
}
