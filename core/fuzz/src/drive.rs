//! The fuzz drivers. This file depends on `tlsferry-core` and `std` only, so the
//! regression tests in `tests/tests/hostile.rs` include it with `#[path]` and replay
//! crash inputs and the seed corpus through exactly the code the fuzzer ran.
//!
//! Input format of [`server_bytes`]: one selector byte (which configuration, see
//! [`config_for_run`]), then a sequence of operations, each one opcode byte (low 3 bits: kind,
//! high 5 bits: parameter) and its operands:
//!
//! | kind | operation |
//! |---|---|
//! | 0 | receive the next `u16` (big-endian) bytes |
//! | 1 | receive the next `param + 1` bytes (small fragments) |
//! | 7 | the same through `receive_buffer` + `Input::Received` (the no-copy path) |
//! | 2 | receive the next `u8 + 1` bytes |
//! | 3 | tick, `param × 500 ms` later |
//! | 4 | transport EOF |
//! | 5 | `send` `param` bytes of application data |
//! | 6 | `close()` |

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tlsferry_core::testing::{Seed, Session, Transcript};
use tlsferry_core::{
    Client, Config, Error, Event, Input, Instant, Limits, Output, TimeProvider, UnixTime, Version,
};

/// The wall clock every fuzz configuration uses: 2026-01-01 00:00:00 UTC.
pub const FUZZ_UNIX_TIME: u64 = 1_767_225_600;

/// A wall clock frozen at [`FUZZ_UNIX_TIME`]: runs are reproducible.
#[derive(Debug)]
pub struct FixedClock;

impl TimeProvider for FixedClock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(Duration::from_secs(
            FUZZ_UNIX_TIME,
        )))
    }
}

/// Selector bit: offer TLS 1.2 only (with [`SEL_TLS13`] clear).
pub const SEL_TLS12: u8 = 1;
/// Selector bit: offer TLS 1.3 only (with [`SEL_TLS12`] clear).
pub const SEL_TLS13: u8 = 2;
/// Selector bit: accept any certificate (reach the code after verification).
pub const SEL_DANGEROUS: u8 = 4;
/// Selector bit: offer ALPN `h2`, `http/1.1`.
pub const SEL_ALPN: u8 = 8;
/// Selector bit: a tiny send buffer (back-pressure paths).
pub const SEL_SMALL_SEND: u8 = 16;
/// Selector bit: handshake and idle timeouts.
pub const SEL_TIMEOUTS: u8 = 32;
/// Selector bit: connect to the IP address 127.0.0.1 instead of `localhost`.
pub const SEL_IP: u8 = 64;
/// Selector bit: the deterministic provider (`tlsferry_core::testing`, seed [`FUZZ_SEED`]):
/// the client's bytes are the same on every run, so a recorded server flight decrypts and
/// the fuzzer reaches the encrypted handshake messages and application data.
pub const SEL_SEEDED: u8 = 128;

/// The seed of every [`SEL_SEEDED`] run.
pub const FUZZ_SEED: [u8; 32] = [0x5e; 32];

/// The configuration for one run under `selector`: with [`SEL_SEEDED`] a fresh
/// deterministic one (its random stream starts over), otherwise a cached one.
pub fn config_for_run(selector: u8) -> Config {
    if selector & SEL_SEEDED == 0 {
        return config_for(selector);
    }
    let mut session = Session::new(Seed(FUZZ_SEED), FUZZ_UNIX_TIME, server_name_for(selector));
    session.settings.versions = match selector & 3 {
        SEL_TLS12 => vec![Version::Tls12],
        SEL_TLS13 => vec![Version::Tls13],
        _ => vec![Version::Tls13, Version::Tls12],
    };
    if selector & SEL_ALPN != 0 {
        session.settings.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    }
    session.settings.verify = selector & SEL_DANGEROUS == 0;
    session
        .config_with(|b| adjust(b, selector))
        .expect("every fuzz configuration is valid")
}

/// The configuration for `selector` (its low 7 bits), built once and cached.
pub fn config_for(selector: u8) -> Config {
    static CONFIGS: OnceLock<Vec<Config>> = OnceLock::new();
    let all = CONFIGS.get_or_init(|| (0..=127u8).map(build_config).collect());
    all[usize::from(selector & 0x7f)].clone()
}

fn build_config(selector: u8) -> Config {
    let mut b = Config::builder().time_provider(Arc::new(FixedClock));
    match selector & 3 {
        SEL_TLS12 => b = b.versions(&[Version::Tls12]),
        SEL_TLS13 => b = b.versions(&[Version::Tls13]),
        _ => {}
    }
    if selector & SEL_DANGEROUS != 0 {
        b = b.dangerous_accept_any_certificate();
    }
    if selector & SEL_ALPN != 0 {
        b = b.alpn(["h2", "http/1.1"]);
    }
    adjust(b, selector)
        .build()
        .expect("every fuzz configuration is valid")
}

/// What does not change the client's bytes: limits and timeouts.
fn adjust(mut b: tlsferry_core::ConfigBuilder, selector: u8) -> tlsferry_core::ConfigBuilder {
    if selector & SEL_SMALL_SEND != 0 {
        b = b.limits(Limits::default().with_send_buffer(64));
    }
    if selector & SEL_TIMEOUTS != 0 {
        b = b
            .handshake_timeout(Some(Duration::from_secs(5)))
            .idle_timeout(Some(Duration::from_secs(10)));
    }
    b
}

/// The server name the client asks for under `selector`.
pub fn server_name_for(selector: u8) -> &'static str {
    if selector & SEL_IP != 0 {
        "127.0.0.1"
    } else {
        "localhost"
    }
}

/// The monotonic instant every run starts at (the in-memory `Pair` starts there too).
pub const FUZZ_START: Instant = Instant::from_millis(1_000);

/// Most outputs one input may produce before the core is deemed stuck in a loop.
const MAX_OUTPUTS_PER_INPUT: usize = 10_000;
/// Most heap the connection's own buffers may hold: far above the configured limits
/// (96 KiB receive, 1 MiB send), far below "unbounded".
const MAX_BUFFERED: usize = 4 * 1024 * 1024;

/// What one run of [`server_bytes`] observed, for tests.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The handshake completed.
    pub connected: bool,
    /// Plaintext the client decrypted.
    pub received: Vec<u8>,
    /// The fatal error, if the connection failed.
    pub error: Option<Error>,
    /// Ciphertext bytes the client transmitted.
    pub transmitted: usize,
}

/// Runs a client against the server bytes and operations in `data`, checking the
/// invariants on the way: no panic, outputs drain to `Wait`, errors are sticky, memory
/// stays bounded, `Connected` comes at most once and before any data (also when the
/// connection fails in the input that completed the handshake).
pub fn server_bytes(data: &[u8]) -> Outcome {
    let mut out = Outcome::default();
    let Some((&selector, mut rest)) = data.split_first() else {
        return out;
    };
    let config = config_for_run(selector);
    let mut now = FUZZ_START;
    let mut client = match Client::new(server_name_for(selector), &config, now) {
        Ok(c) => c,
        Err(e) => panic!("Client::new failed on a valid configuration: {e:?}"),
    };
    drain(&mut client, &mut out);
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let param = usize::from(op >> 3);
        let result = match op & 7 {
            kind @ (0 | 1 | 2 | 7) => {
                let len = match kind {
                    0 => {
                        let (len, tail) = take_u16(rest);
                        rest = tail;
                        len
                    }
                    2 => {
                        let (len, tail) = take_u8(rest);
                        rest = tail;
                        len + 1
                    }
                    _ => param + 1,
                };
                let (chunk, tail) = rest.split_at(len.min(rest.len()));
                rest = tail;
                if kind == 7 {
                    // The no-copy path: written into the client's buffer, then Received
                    // (what does not fit is cut, as a short read would leave it).
                    let buf = client.receive_buffer();
                    let n = chunk.len().min(buf.len());
                    if let (Some(to), Some(from)) = (buf.get_mut(..n), chunk.get(..n)) {
                        to.copy_from_slice(from);
                    }
                    client.handle_input(Input::Received(now, n))
                } else {
                    client.handle_input(Input::Receive(now, chunk))
                }
            }
            3 => {
                now = now + Duration::from_millis(500 * param as u64);
                client.handle_input(Input::Tick(now))
            }
            4 => client.handle_input(Input::Eof(now)),
            5 => {
                let payload = vec![b'x'; param];
                match client.send(&payload) {
                    Ok(n) => {
                        assert!(n <= param, "send accepted more than offered");
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            _ => client.close(),
        };
        if let Err(e) = &result {
            exercise_error(e);
        }
        if let Some(fatal) = client.error().cloned() {
            // Sticky: every later call reports the same error.
            assert_eq!(client.handle_input(Input::Tick(now)), Err(fatal.clone()));
            assert_eq!(client.send(b"late"), Err(fatal.clone()));
            out.error = Some(fatal);
        }
        drain(&mut client, &mut out);
        assert!(
            client.buffered_capacity() <= MAX_BUFFERED,
            "buffers grew to {} bytes",
            client.buffered_capacity()
        );
    }
    out
}

fn drain(client: &mut Client, out: &mut Outcome) {
    for _ in 0..MAX_OUTPUTS_PER_INPUT {
        match client.poll_output() {
            Output::Transmit(bytes) => {
                assert!(!bytes.is_empty(), "empty Transmit");
                out.transmitted += bytes.len();
            }
            Output::Event(Event::Connected(info)) => {
                assert!(!out.connected, "Connected reported twice");
                assert!(out.received.is_empty(), "data before Connected");
                let _ = (info.version.to_string(), info.alpn_str());
                out.connected = true;
            }
            Output::Event(Event::Data(d)) => {
                assert!(!d.is_empty(), "empty Data event");
                assert!(out.connected, "Data before (or without) Connected");
                out.received.extend_from_slice(&d);
            }
            Output::Event(_) => {}
            Output::Wait(_) => return,
        }
    }
    panic!("poll_output did not reach Wait after {MAX_OUTPUTS_PER_INPUT} outputs");
}

/// Formats the error the way the CLI and JS do (code, message, forensic report): the
/// report decodes the unverified chain, so hostile certificates reach that parser too.
fn exercise_error(e: &Error) {
    let _ = (e.code(), e.to_string(), e.is_local(), e.is_peer());
    if let Some(cert) = e.certificate() {
        let _ = cert.report();
    }
}

fn take_u16(b: &[u8]) -> (usize, &[u8]) {
    match b {
        [hi, lo, rest @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), rest),
        _ => (0, &[]),
    }
}

fn take_u8(b: &[u8]) -> (usize, &[u8]) {
    match b.split_first() {
        Some((n, rest)) => (usize::from(*n), rest),
        None => (0, &[]),
    }
}

/// Encodes a receive operation for [`server_bytes`] (kind 0, any length up to 64 KiB).
pub fn op_receive(chunk: &[u8]) -> Vec<u8> {
    let len = u16::try_from(chunk.len()).expect("chunk of at most 64 KiB");
    let mut v = vec![0u8];
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(chunk);
    v
}

/// The opcode for transport EOF.
pub const OP_EOF: u8 = 4;
/// The opcode for `close()`.
pub const OP_CLOSE: u8 = 6;

/// Runs the PEM and configuration parsers on `data`: selector byte, then up to three
/// NUL-separated parts. Checks that DER survives the PEM round trip.
pub fn config_inputs(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |b| *b == 0);
    let a = parts.next().unwrap_or_default();
    let b = parts.next().unwrap_or_default();
    let c = parts.next().unwrap_or_default();
    let builder = || Config::builder().time_provider(Arc::new(FixedClock));
    match selector % 4 {
        0 => {
            if let Ok(certs) =
                tlsferry_core::parse_certificates(a, tlsferry_core::PemInput::Certificates)
            {
                for cert in &certs {
                    summarize(cert);
                }
            }
            report_config(builder().root_certificates_pem(a).build());
            report_config(builder().add_root_certificates_pem(a).build());
        }
        1 => {
            if let Err(e) = tlsferry_core::parse_private_key(a) {
                let _ = e.to_string();
            }
        }
        2 => {
            summarize(a);
            // DER → PEM → DER is the identity.
            let pem = tlsferry_core::cert::to_pem(a);
            match tlsferry_core::parse_certificates(
                pem.as_bytes(),
                tlsferry_core::PemInput::Certificates,
            ) {
                Ok(back) if !a.is_empty() => {
                    assert_eq!(back.len(), 1);
                    assert_eq!(back[0].as_ref(), a, "PEM round trip changed the bytes");
                }
                Ok(_) => {}
                Err(e) => assert!(a.is_empty(), "to_pem output did not parse: {e}"),
            }
        }
        _ => report_config(
            builder()
                .root_certificates_pem(c)
                .client_auth_pem(a, b)
                .build(),
        ),
    }
}

fn summarize(der: &[u8]) {
    let s = tlsferry_core::CertSummary::from_der(der);
    assert_eq!(s.sha256.len(), 64);
    let _ = s.validity();
}

fn report_config(r: Result<Config, tlsferry_core::ConfigError>) {
    if let Err(e) = r {
        let _ = e.to_string();
    }
}

/// Parses `data` as a session transcript; a transcript that parses must print back to
/// text that parses to the same transcript, and is then replayed (a deterministic client
/// fed the recorded server bytes: any divergence must be a typed error, never a panic).
pub fn transcript(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = Transcript::parse(text) else {
        return;
    };
    let printed = parsed.to_text();
    let reparsed = match Transcript::parse(&printed) {
        Ok(t) => t,
        Err(e) => panic!("to_text output does not parse: {e}\n{printed}"),
    };
    assert_eq!(reparsed.to_text(), printed, "to_text is not a fixed point");
    if let Err(e) = tlsferry_core::testing::replay(&parsed) {
        let _ = (e.code(), e.to_string());
    }
}
