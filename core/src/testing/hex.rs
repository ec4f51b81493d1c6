//! Lowercase hex, for seeds, fingerprints and transcript chunks.

use alloc::string::String;
use alloc::vec::Vec;

/// Encodes `bytes` as lowercase hex.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(digit(b >> 4));
        out.push(digit(b & 0xf));
    }
    out
}

/// Why a hex string did not decode: the byte offset (in the text) of the culprit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HexError {
    /// A character that is not a hex digit, at this offset.
    BadDigit(usize),
    /// An odd number of digits.
    OddLength,
}

/// Decodes hex (either case) without separators.
pub fn decode(text: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::with_capacity(text.len() / 2);
    decode_into(text, &mut out)?;
    Ok(out)
}

/// Decodes hex (either case), appending to `out`.
pub fn decode_into(text: &str, out: &mut Vec<u8>) -> Result<(), HexError> {
    let bytes = text.as_bytes();
    let mut pairs = bytes.chunks_exact(2);
    for (i, pair) in pairs.by_ref().enumerate() {
        let mut value = 0u8;
        for (j, &c) in pair.iter().enumerate() {
            let digit = nibble(c).ok_or(HexError::BadDigit(2 * i + j))?;
            value = (value << 4) | digit;
        }
        out.push(value);
    }
    match pairs.remainder() {
        [] => Ok(()),
        [c] if nibble(*c).is_none() => Err(HexError::BadDigit(bytes.len() - 1)),
        _ => Err(HexError::OddLength),
    }
}

fn digit(n: u8) -> char {
    char::from(if n < 10 { b'0' + n } else { b'a' + n - 10 })
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all); // ok: test code
        assert_eq!(decode("ABcd").unwrap(), [0xab, 0xcd]); // ok: test code
        assert_eq!(decode("abc"), Err(HexError::OddLength));
        assert_eq!(decode("abcg"), Err(HexError::BadDigit(3)));
        assert_eq!(decode("ab✓"), Err(HexError::BadDigit(2)));
        assert_eq!(decode("x"), Err(HexError::BadDigit(0)));
        assert_eq!(decode("").unwrap(), Vec::<u8>::new()); // ok: test code
    }
}
