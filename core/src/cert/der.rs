//! A minimal DER reader: tag-length-value walking over a byte slice, for the few X.509
//! fields certificate summaries show. Never panics; any malformed length, an indefinite
//! length or a high tag number ends the walk with `None`. It does not check everything
//! DER requires (webpki does that for verification); it only has to read what webpki
//! already accepted, and to fail cleanly on what it did not.

/// Universal tags used by the certificate parser.
pub(crate) const BOOLEAN: u8 = 0x01;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const OID: u8 = 0x06;
pub(crate) const UTC_TIME: u8 = 0x17;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;

/// One encoded element: its tag, its contents, and the whole encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub contents: &'a [u8],
    pub encoded: &'a [u8],
}

/// The unread rest of a DER encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Der(bytes)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next element, whatever its tag.
    pub(crate) fn any(&mut self) -> Option<Tlv<'a>> {
        let (&tag, rest) = self.0.split_first()?;
        if tag & 0x1f == 0x1f {
            return None; // high tag numbers do not occur in the fields read here
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = match first {
            0..=0x7f => (usize::from(first), rest),
            0x81..=0x84 => {
                let (bytes, rest) = rest.split_at_checked(usize::from(first & 0x7f))?;
                let len = bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
                (len, rest)
            }
            _ => return None, // indefinite (0x80) or absurdly long
        };
        let (contents, rest) = rest.split_at_checked(len)?;
        let encoded = self.0.get(..self.0.len() - rest.len())?;
        self.0 = rest;
        Some(Tlv {
            tag,
            contents,
            encoded,
        })
    }

    /// The contents of the next element if it has tag `tag`; nothing is consumed otherwise
    /// (so an absent OPTIONAL field is skipped by ignoring `None`).
    pub(crate) fn take(&mut self, tag: u8) -> Option<&'a [u8]> {
        let mut ahead = *self;
        let tlv = ahead.any().filter(|t| t.tag == tag)?;
        *self = ahead;
        Some(tlv.contents)
    }
}

/// An OBJECT IDENTIFIER's contents in dotted form (`2.5.4.3`); `None` if malformed.
pub(crate) fn dotted_oid(contents: &[u8]) -> Option<alloc::string::String> {
    use core::fmt::Write as _;
    let mut out = alloc::string::String::new();
    let mut arc: u64 = 0;
    let mut first = true;
    for (i, &b) in contents.iter().enumerate() {
        if arc == 0 && b == 0x80 {
            return None; // non-minimal arc
        }
        arc = arc.checked_mul(128)? | u64::from(b & 0x7f);
        if b & 0x80 != 0 {
            if i + 1 == contents.len() {
                return None; // the last arc is unfinished
            }
            continue;
        }
        if first {
            let (a, b) = match arc {
                0..=39 => (0, arc),
                40..=79 => (1, arc - 40),
                _ => (2, arc - 80),
            };
            let _ = write!(out, "{a}.{b}");
            first = false;
        } else {
            let _ = write!(out, ".{arc}");
        }
        arc = 0;
    }
    (!first).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths_and_refuses_the_rest() {
        let mut d = Der::new(&[0x02, 0x01, 0x05, 0x04, 0x81, 0x02, 0xaa, 0xbb]);
        let t = d.any().unwrap(); // ok: test code
        assert_eq!(
            (t.tag, t.contents, t.encoded),
            (0x02, &[5u8][..], &[2u8, 1, 5][..])
        );
        assert_eq!(d.take(OCTET_STRING), Some(&[0xaa, 0xbb][..]));
        assert!(d.is_empty());
        for bad in [
            &[0x30, 0x80, 0x00, 0x00][..], // indefinite length
            &[0x04, 0x05, 0x01],           // longer than the input
            &[0x04, 0x82, 0x01],           // truncated length
            &[0x1f, 0x01, 0x00],           // high tag number
            &[0x04, 0x85, 1, 1, 1, 1, 1],  // five length bytes
            &[0x04],                       // no length
        ] {
            assert!(Der::new(bad).any().is_none(), "{bad:02x?}");
        }
        // A mismatched tag consumes nothing.
        let mut d = Der::new(&[0x02, 0x01, 0x05]);
        assert!(d.take(SEQUENCE).is_none());
        assert_eq!(d.take(INTEGER), Some(&[5u8][..]));
    }

    #[test]
    fn oids_in_dotted_form() {
        assert_eq!(dotted_oid(&[0x55, 0x04, 0x03]).as_deref(), Some("2.5.4.3"));
        let rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
        assert_eq!(dotted_oid(&rsa).as_deref(), Some("1.2.840.113549.1.1.1"));
        assert_eq!(dotted_oid(&[0x09]).as_deref(), Some("0.9"));
        assert_eq!(dotted_oid(&[0x88, 0x37]).as_deref(), Some("2.999"));
        for bad in [&[][..], &[0x55, 0x84], &[0x55, 0x80, 0x01]] {
            assert_eq!(dotted_oid(bad), None, "{bad:02x?}");
        }
        let huge = [
            0x2a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ];
        assert_eq!(dotted_oid(&huge), None, "arc overflows u64");
    }
}
