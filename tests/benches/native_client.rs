//! The tlsferry native library as a benchmark client, driven by `tests/bench` (which
//! starts the servers, interleaves this with Python, OpenSSL and the CLI, and takes
//! medians). Not a cargo bench on its own: it needs a server address.
//!
//! ```text
//! native_client handshakes ADDR CAFILE N      N full handshakes, one after the other
//! native_client bulk ADDR CAFILE BYTES        send one request line, read BYTES until close_notify
//! native_client aead MIB                      RustCrypto AES-128-GCM opening 16 KiB records
//! ```
//!
//! Prints one line `ok key=value …` (wall and CPU seconds of the measured loop, the
//! negotiated version, suite and group, the crypto provider). Build:
//! `cargo bench -p tlsferry-tests --bench native_client --no-run` (add
//! `--features tlsferry/aws-lc-rs` for the aws-lc-rs provider).

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tlsferry::{ConnectOptions, TlsStream};
use tlsferry_core::{Config, ConnectionInfo};

/// Plaintext read size of the application loop (Python's client uses the same).
const READ_SIZE: usize = 64 * 1024;
/// One TLS record of plaintext, as the AEAD row opens it.
const RECORD: usize = 16 * 1024;

fn main() -> ExitCode {
    // `cargo bench` appends `--bench`; nothing else is expected.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["handshakes", addr, cafile, n] => parse(n).and_then(|n| handshakes(addr, cafile, n)),
        ["bulk", addr, cafile, bytes] => parse(bytes).and_then(|b| bulk(addr, cafile, b)),
        ["aead", mib] => parse(mib).map(aead),
        _ => Err(
            "usage: native_client handshakes ADDR CAFILE N | bulk ADDR CAFILE BYTES | aead MIB"
                .into(),
        ),
    };
    match result {
        Ok(line) => {
            println!("ok {line} provider={}", tlsferry::provider_name());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("native_client: {e}");
            println!("error {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(s: &str) -> Result<usize, String> {
    s.parse().map_err(|_| format!("not a count: {s:?}"))
}

fn config(cafile: &str) -> Result<Config, String> {
    let pem = std::fs::read(cafile).map_err(|e| format!("{cafile}: {e}"))?;
    tlsferry::Config::builder()
        .crypto_provider(std::sync::Arc::new(tlsferry::provider()))
        .root_certificates_pem(&pem)
        .build()
        .map_err(|e| e.to_string())
}

fn describe(info: Option<&ConnectionInfo>) -> String {
    match info {
        Some(i) => format!(
            "version={:?} suite={} group={}",
            i.version,
            i.cipher_suite,
            i.key_exchange_group.as_deref().unwrap_or("-")
        ),
        None => "version=- suite=- group=-".into(),
    }
}

/// CPU time of this (single-threaded) process so far, from the scheduler's nanosecond
/// account (`/proc/self/schedstat`), so that short loops are not rounded to ticks.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

fn handshakes(addr: &str, cafile: &str, n: usize) -> Result<String, String> {
    let config = config(cafile)?;
    let opts = ConnectOptions::default();
    // One untimed handshake first: one-time initialisation (aws-lc-rs seeds its RNG with
    // ~20 ms of CPU jitter sampling per process) is not a per-handshake cost.
    drop(
        tlsferry::connect_with(addr, "localhost", &config, &opts)
            .map_err(|e| format!("warm-up: {e}"))?,
    );
    let mut last = String::new();
    let (t, c) = (Instant::now(), cpu_time());
    for i in 0..n {
        let tls = tlsferry::connect_with(addr, "localhost", &config, &opts)
            .map_err(|e| format!("handshake {}: {e}", i + 1))?;
        if i + 1 == n {
            last = describe(tls.info());
        }
        // Dropped without close_notify, like Python's `with` block around a socket.
        drop(tls);
    }
    let (wall, cpu) = (t.elapsed(), cpu_time() - c);
    Ok(format!(
        "n={n} wall={:.6} cpu={:.6} {last}",
        wall.as_secs_f64(),
        cpu.as_secs_f64()
    ))
}

fn bulk(addr: &str, cafile: &str, expected: usize) -> Result<String, String> {
    let config = config(cafile)?;
    let (t, c) = (Instant::now(), cpu_time());
    let mut tls: TlsStream<_> =
        tlsferry::connect(addr, "localhost", &config).map_err(|e| e.to_string())?;
    let info = describe(tls.info());
    tls.write_all(format!("{expected}\n").as_bytes())
        .and_then(|()| tls.flush())
        .map_err(|e| format!("request: {e}"))?;
    let mut buf = vec![0u8; READ_SIZE];
    let mut got = 0usize;
    loop {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(format!("after {got} bytes: {e}")),
        }
    }
    let (wall, cpu) = (t.elapsed(), cpu_time() - c);
    if got != expected {
        return Err(format!("received {got} bytes, expected {expected}"));
    }
    Ok(format!(
        "bytes={got} wall={:.6} cpu={:.6} {info}",
        wall.as_secs_f64(),
        cpu.as_secs_f64()
    ))
}

/// The default provider's AES-128-GCM (`tlsferry_gcm::Aes128Gcm`, as its suites run it on
/// this target) opening `mib` MiB of 16 KiB records in place, each first copied into a
/// scratch buffer as a record layer does: the ceiling for bulk receive with the default
/// provider.
fn aead(mib: usize) -> String {
    use aes_gcm::aead::{AeadInOut, KeyInit, Tag};
    use tlsferry_gcm::Aes128Gcm;
    let cipher = Aes128Gcm::new(&[7u8; 16].into());
    let records = (mib * 1024 * 1024 / RECORD).max(1);
    // A TLS 1.3 record: 16 KiB of data plus the inner content type byte.
    let sealed: Vec<(Vec<u8>, Tag<Aes128Gcm>)> = (0..records as u64)
        .map(|seq| {
            let mut buf = vec![0x5au8; RECORD + 1];
            let tag = cipher
                .encrypt_inout_detached(&nonce(seq).into(), b"hdr", buf.as_mut_slice().into())
                .unwrap_or_default();
            (buf, tag)
        })
        .collect();
    let mut scratch = vec![0u8; RECORD + 1];
    let mut ok = 0usize;
    let (t, c) = (Instant::now(), cpu_time());
    for (seq, (rec, tag)) in sealed.iter().enumerate() {
        scratch.copy_from_slice(rec);
        let opened = cipher.decrypt_inout_detached(
            &nonce(seq as u64).into(),
            b"hdr",
            scratch.as_mut_slice().into(),
            tag,
        );
        ok += usize::from(opened.is_ok());
    }
    let (wall, cpu) = (t.elapsed(), cpu_time() - c);
    format!(
        "bytes={} wall={:.6} cpu={:.6} opened={ok}/{records} suite=TLS13_AES_128_GCM_SHA256",
        records * RECORD,
        wall.as_secs_f64(),
        cpu.as_secs_f64()
    )
}

fn nonce(seq: u64) -> [u8; 12] {
    let mut n = [9u8; 12];
    for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
        *b ^= s;
    }
    n
}
