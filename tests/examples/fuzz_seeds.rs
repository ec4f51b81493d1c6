//! Writes seed corpora from real handshakes with the core's in-memory `Pair`
//! (`tlsferry_core::testing`): every chunk its rustls server sent to the client, as
//! `server_bytes` operations, for every certificate verdict and server behaviour; and the
//! PEM/DER of the built-in test PKI for `config_inputs`.
//!
//! `cargo run -p tlsferry-tests --example fuzz_seeds -- core/fuzz/corpus` (what
//! `tests/suites/60-fuzz.sh` runs: built in the workspace's dev profile, which
//! `cargo test` has already compiled, instead of a release build of the fuzz workspace).

use std::path::Path;

use tlsferry_core::testing::{pki, Pair, Scenario, ServerBehaviour, TestCertificate};
use tlsferry_core::Version;

/// The fuzz targets' drivers, the very file they run.
#[path = "../../core/fuzz/src/drive.rs"]
#[allow(dead_code)]
mod drive;

use drive::{
    config_for_run, op_receive, OP_EOF, SEL_ALPN, SEL_DANGEROUS, SEL_SEEDED, SEL_TLS12, SEL_TLS13,
};

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
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/transcripts");
    for entry in std::fs::read_dir(&recorded).expect("tests/data/transcripts") {
        let path = entry.expect("dir entry").path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, transcripts.join(name)).expect("copy transcript");
        }
    }
    let mut n = 0;
    let behaviours = [
        ServerBehaviour::Reply(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello".to_vec()),
        ServerBehaviour::CloseWithoutNotify(b"partial".to_vec()),
        ServerBehaviour::KeyUpdate(b"after a key update".to_vec()),
        ServerBehaviour::HelloRetryRequest(b"after a retry".to_vec()),
        ServerBehaviour::FatalAlert(40),
    ];
    for (version, vbit) in [(Version::Tls13, SEL_TLS13), (Version::Tls12, SEL_TLS12)] {
        for alpn in [0, SEL_ALPN] {
            // The fuzz target's own deterministic client: these flights answer exactly the
            // ClientHello it sends, so the whole handshake and the data decrypt.
            for behaviour in &behaviours {
                let sel = vbit | alpn | SEL_DANGEROUS | SEL_SEEDED;
                write(
                    &flights,
                    &mut n,
                    "seeded",
                    sel,
                    record(
                        version,
                        alpn != 0,
                        behaviour,
                        Some(sel),
                        TestCertificate::Valid,
                    ),
                );
            }
            // Clients that verify: every certificate verdict.
            for cert in TestCertificate::ALL {
                write(
                    &flights,
                    &mut n,
                    "verdict",
                    vbit | alpn,
                    record(version, alpn != 0, &behaviours[0], None, cert),
                );
            }
        }
    }
    let chain_pem: String = TestCertificate::Valid
        .chain()
        .iter()
        .map(|c| tlsferry_core::cert::to_pem(c))
        .collect();
    let pem_inputs: Vec<Vec<u8>> = vec![
        [&[0u8][..], pki::root_pem().as_bytes()].concat(),
        [&[0u8][..], chain_pem.as_bytes()].concat(),
        [&[1u8][..], pki::client_key_pem().as_bytes()].concat(),
        [&[2u8][..], TestCertificate::Valid.chain()[0].as_ref()].concat(),
        [&[2u8][..], pki::root().as_ref()].concat(),
        [
            &[3u8][..],
            pki::client_chain_pem().as_bytes(),
            &[0],
            pki::client_key_pem().as_bytes(),
            &[0],
            pki::root_pem().as_bytes(),
        ]
        .concat(),
    ];
    for (i, input) in pem_inputs.iter().enumerate() {
        std::fs::write(inputs.join(format!("pki-{i}")), input).expect("write");
    }
    println!(
        "wrote {n} server_bytes seeds and {} config_inputs seeds to {}",
        pem_inputs.len(),
        out.display()
    );
}

fn write(dir: &Path, n: &mut usize, kind: &str, selector: u8, ops: Vec<u8>) {
    let mut file = vec![selector];
    file.extend_from_slice(&ops);
    std::fs::write(dir.join(format!("{kind}-{n:03}")), file).expect("write");
    *n += 1;
}

/// One session (a request, the server's behaviour, the end) as receive operations. The
/// client is the fuzz target's own for `selector`, or the Pair's verifying one.
fn record(
    version: Version,
    alpn: bool,
    behaviour: &ServerBehaviour,
    selector: Option<u8>,
    certificate: TestCertificate,
) -> Vec<u8> {
    let mut scenario = Scenario::new()
        .certificate(certificate)
        .behaviour(behaviour.clone())
        .server_versions(&[version]);
    if alpn {
        scenario = scenario
            .server_alpn(["http/1.1"])
            .client_config(|b| b.alpn(["h2", "http/1.1"]));
    }
    let mut pair = match selector {
        Some(sel) => Pair::with_config(scenario.server_name("localhost"), config_for_run(sel)),
        None => Pair::new(scenario.client_config(move |b| {
            let b = b.versions(&[version]);
            if alpn {
                b.alpn(["h2", "http/1.1"])
            } else {
                b
            }
        })),
    }
    .expect("pair");
    let _ = pair.client.send(b"GET / HTTP/1.1\r\n\r\n");
    let _ = pair.drive();
    let mut ops = Vec::new();
    for chunk in pair.flights() {
        for piece in chunk.chunks(u16::MAX.into()) {
            ops.extend_from_slice(&op_receive(piece));
        }
    }
    ops.push(OP_EOF);
    ops
}
