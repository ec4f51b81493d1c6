//! Verifies x509-limbo testcases with `Config::verify_server_chain`, the verification a
//! handshake runs: one line per case on stdin, one verdict per line on stdout. Driven by
//! `tests/limbo/run`, which reads limbo.json and compares the verdicts.
//!
//! Input, tab-separated: id, validation time (Unix seconds), expected peer name, then
//! hex of the trusted roots (PEM text), hex of the leaf (DER), hex of each untrusted
//! intermediate (DER). Output: `id<TAB>SUCCESS` or `id<TAB>FAILURE<TAB>code: message`.

use std::io::{BufRead, Write};

use tlsferry_core::testing::hex_decode;
use tlsferry_core::Config;

fn main() {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        let mut fields = line.split('\t');
        let (Some(id), Some(time), Some(name), Some(roots), Some(leaf)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            panic!("malformed input line: {line}");
        };
        let time: u64 = time.parse().expect("validation time");
        let der = |hex: &str| hex_decode(hex).expect("hex").into();
        let mut chain = vec![der(leaf)];
        chain.extend(fields.filter(|f| !f.is_empty()).map(der));
        let verdict = Config::builder()
            .root_certificates_pem(&hex_decode(roots).expect("hex"))
            .build()
            .map_err(tlsferry_core::Error::from)
            .and_then(|config| config.verify_server_chain(&chain, name, Some(time)));
        match verdict {
            Ok(()) => writeln!(out, "{id}\tSUCCESS"),
            Err(e) => writeln!(
                out,
                "{id}\tFAILURE\t{}: {}",
                e.code(),
                e.to_string().replace(['\t', '\n'], " ")
            ),
        }
        .expect("stdout");
    }
}
