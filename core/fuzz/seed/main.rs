//! Writes seed corpora from real handshakes: every chunk an in-memory rustls server sent
//! to the client, as `server_bytes` operations, and the PEM/DER of a generated PKI for
//! `config_inputs`. Nothing is committed: the PKI is generated on each run.
//!
//! `cargo run --release --features seed --example seed_corpus -- corpus`

use std::path::Path;

use tlsferry_core_fuzz::drive::{
    config_for_run, op_receive, OP_EOF, SEL_ALPN, SEL_DANGEROUS, SEL_SEEDED, SEL_TLS12, SEL_TLS13,
};
use tlsferry_tests::pair::{client_config, server_config, Pair};
use tlsferry_tests::pki::{KeyKind, TestPki};

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "corpus".into());
    let out = Path::new(&out);
    let flights = out.join("server_bytes");
    let inputs = out.join("config_inputs");
    let transcripts = out.join("transcript");
    for dir in [&flights, &inputs, &transcripts] {
        std::fs::create_dir_all(dir).expect("corpus dir");
    }
    // The checked-in recordings of real sessions.
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/transcripts");
    for entry in std::fs::read_dir(&recorded).expect("tests/data/transcripts") {
        let path = entry.expect("dir entry").path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, transcripts.join(name)).expect("copy transcript");
        }
    }
    let mut n = 0;
    for key in [KeyKind::EcdsaP256, KeyKind::Rsa2048, KeyKind::Ed25519] {
        let pki = TestPki::new(key);
        for (version, vbit) in [
            (&tlsferry_core::rustls::version::TLS13, SEL_TLS13),
            (&tlsferry_core::rustls::version::TLS12, SEL_TLS12),
        ] {
            for (alpn, client_auth) in [(false, false), (true, false), (false, true)] {
                let ops = record(&pki, version, alpn, client_auth, None);
                for verify in [false, true] {
                    let mut sel = vbit;
                    if !verify {
                        sel |= SEL_DANGEROUS;
                    }
                    if alpn {
                        sel |= SEL_ALPN;
                    }
                    let mut file = vec![sel];
                    file.extend_from_slice(&ops);
                    std::fs::write(flights.join(format!("flight-{n:03}")), file).expect("write");
                    n += 1;
                }
            }
        }
        // Deterministic clients: these flights answer exactly the ClientHello the fuzz
        // target sends, so the whole handshake and the data decrypt.
        for vbit in [SEL_TLS13, SEL_TLS12] {
            for alpn in [0, SEL_ALPN] {
                let sel = vbit | alpn | SEL_DANGEROUS | SEL_SEEDED;
                let version = if vbit == SEL_TLS13 {
                    &tlsferry_core::rustls::version::TLS13
                } else {
                    &tlsferry_core::rustls::version::TLS12
                };
                let ops = record(&pki, version, alpn != 0, false, Some(sel));
                let mut file = vec![sel];
                file.extend_from_slice(&ops);
                std::fs::write(flights.join(format!("seeded-{n:03}")), file).expect("write");
                n += 1;
            }
        }
        let pem_inputs: Vec<Vec<u8>> = vec![
            [&[0u8][..], pki.root.pem.as_bytes()].concat(),
            [&[0u8][..], pki.server.chain_pem.as_bytes()].concat(),
            [&[1u8][..], pki.server.key_pem.as_bytes()].concat(),
            [&[2u8][..], pki.server.der.as_ref()].concat(),
            [&[2u8][..], pki.root.der.as_ref()].concat(),
            [
                &[3u8][..],
                pki.client.chain_pem.as_bytes(),
                &[0],
                pki.client.key_pem.as_bytes(),
                &[0],
                pki.root.pem.as_bytes(),
            ]
            .concat(),
        ];
        for (i, input) in pem_inputs.iter().enumerate() {
            std::fs::write(inputs.join(format!("{key:?}-{i}")), input).expect("write");
        }
    }
    println!(
        "wrote {n} server_bytes seeds and config_inputs seeds to {}",
        out.display()
    );
}

/// One handshake plus data both ways and the server's close, as receive operations.
/// The client is the fuzz target's own for `selector`, or one trusting `pki`.
fn record(
    pki: &TestPki,
    version: &'static tlsferry_core::rustls::SupportedProtocolVersion,
    alpn: bool,
    client_auth: bool,
    selector: Option<u8>,
) -> Vec<u8> {
    let cfg = match selector {
        Some(sel) => config_for_run(sel),
        None => {
            let mut cfg = client_config(pki);
            if alpn {
                cfg = cfg.alpn(["h2", "http/1.1"]);
            }
            if client_auth {
                cfg = cfg.client_auth_pem(
                    pki.client.chain_pem.as_bytes(),
                    pki.client.key_pem.as_bytes(),
                );
            }
            cfg.build().expect("client config")
        }
    };
    let client_ca = client_auth.then_some(pki.root.pem.as_str());
    let server = server_config(
        &pki.server,
        &[version],
        if alpn { &["http/1.1"] } else { &[] },
        client_ca,
    );
    let mut pair = Pair::new(&cfg, server, "localhost").expect("pair");
    pair.handshake().expect("handshake");
    pair.client.send(b"GET / HTTP/1.1\r\n\r\n").expect("send");
    pair.run().expect("run");
    pair.server_send(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
    pair.server_close();
    pair.run().expect("run");
    let mut ops = Vec::new();
    for chunk in &pair.fed {
        for piece in chunk.chunks(u16::MAX.into()) {
            ops.extend_from_slice(&op_receive(piece));
        }
    }
    ops.push(OP_EOF);
    ops
}
