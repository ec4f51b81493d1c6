//! Deterministic handshakes (issue 5): the seeded provider gives the same ClientHello on
//! every run and every target (a checked-in golden), real sessions recorded against
//! `openssl s_server` on 127.0.0.1 replay offline, and every way a replay can fail says
//! where.
//!
//! `TLSFERRY_BLESS=1 cargo test -p tlsferry-tests --test determinism` rewrites the
//! checked-in golden ClientHello and example transcripts (only when they must change,
//! e.g. after a rustls upgrade that changes the ClientHello).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use rustls::server::ServerConnection;
use rustls::version::{TLS12, TLS13};
use tlsferry_core::testing::{
    hex_decode, hex_encode, replay, replay_with, DivergenceKind, Entry, RecordingClient,
    ReplayError, ReplayOptions, Seed, Session, Settings, Transcript,
};
use tlsferry_core::{CertSummary, Event, Input, Instant, Output, Version};
use tlsferry_tests::pair::server_config;
use tlsferry_tests::pki::{KeyKind, TestPki};
use tlsferry_tests::servers::{OpenSslMode, OpenSslServer};

/// 2026-01-01 00:00:00 UTC: the golden ClientHello's clock (it does not affect the bytes).
const GOLDEN_CLOCK: u64 = 1_767_225_600;
const REQUEST: &[u8] = b"Hello, World!\n";
const REVERSED: &[u8] = b"!dlroW ,olleH\n";

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn bless() -> bool {
    std::env::var_os("TLSFERRY_BLESS").is_some_and(|v| v == "1")
}

/// The seed of the golden ClientHello and the examples: bytes 0x00..=0x1f.
fn fixed_seed() -> Seed {
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = i as u8;
    }
    Seed(seed)
}

/// The golden session: fixed seed and clock, `example.com`, ALPN http/1.1, defaults
/// otherwise (TLS 1.3 + 1.2, all suites, Mozilla roots).
fn golden_session() -> Session {
    let mut s = Session::new(fixed_seed(), GOLDEN_CLOCK, "example.com");
    s.settings.alpn = vec![b"http/1.1".to_vec()];
    s
}

/// Reads the hex of a golden file: `#` lines are comments, whitespace is ignored.
fn read_golden_hex(text: &str) -> Vec<u8> {
    let digits: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    hex_decode(&digits).expect("golden file is hex")
}

#[test]
fn golden_client_hello_is_reproduced_byte_for_byte() {
    let session = golden_session();
    let hello = session.client_hello().expect("ClientHello");
    // Same process, fresh provider: identical.
    assert_eq!(hello, session.client_hello().unwrap());
    let path = data_dir().join("clienthello-golden.hex");
    if bless() {
        let mut text = String::from(
            "# The ClientHello record of tlsferry's deterministic client (tests/tests/determinism.rs\n\
             # golden_session): seed 000102…1f, server name example.com, ALPN http/1.1, TLS 1.3+1.2,\n\
             # tlsferry's pure-Rust provider (RustCrypto): its suites, X25519MLKEM768 + X25519 key\n\
             # shares, groups X25519MLKEM768/X25519/P-256/P-384. Compared by cargo test and by Node\n\
             # through the wasm build (wasm/test/replay.test.mjs). 32 bytes per line.\n",
        );
        for line in hello.chunks(32) {
            text.push_str(&hex_encode(line));
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
    }
    let golden = read_golden_hex(&std::fs::read_to_string(&path).expect("golden file"));
    assert_eq!(
        hex_encode(&hello),
        hex_encode(&golden),
        "the ClientHello changed: rustls or the provider changed its bytes? \
         (TLSFERRY_BLESS=1 rewrites {})",
        path.display()
    );
    // It is a real ClientHello for example.com with the fixed random from the seed.
    assert_eq!(hello[0], 22, "handshake record");
    assert_eq!(hello[5], 1, "ClientHello");
    assert!(hello.windows(11).any(|w| w == b"example.com"));
    assert!(hello.windows(8).any(|w| w == b"http/1.1"));
}

#[test]
fn a_different_seed_or_setting_changes_the_client_hello() {
    let base = golden_session().client_hello().unwrap();
    let mut other_seed = golden_session();
    other_seed.seed = Seed([0xee; 32]);
    let a = other_seed.client_hello().unwrap();
    assert_eq!(a.len(), base.len());
    assert_ne!(a[11..43], base[11..43], "client random");
    let mut no_alpn = golden_session();
    no_alpn.settings.alpn.clear();
    assert_ne!(no_alpn.client_hello().unwrap(), base);
    // The clock does not enter the ClientHello.
    let mut later = golden_session();
    later.clock += 86_400 * 365;
    assert_eq!(later.client_hello().unwrap(), base);
}

/// Connects to `addr` with a recording deterministic client, sends `request`, waits for
/// `expect`, closes, reads to the end. Returns the transcript.
fn record_over_tcp(addr: &str, session: &Session, request: &[u8], expect: &[u8]) -> Transcript {
    let mut sock = TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut tls = RecordingClient::new(session).expect("client");
    tls.send(request).unwrap();
    let mut reply = Vec::new();
    let mut closing = false;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut closed = false;
        loop {
            match tls.poll_output() {
                Output::Transmit(b) => sock.write_all(&b).expect("write"),
                Output::Event(Event::Data(d)) => reply.extend_from_slice(&d),
                Output::Event(Event::Closed) => closed = true,
                Output::Event(_) => {}
                Output::Wait(_) => break,
            }
        }
        if closed {
            break;
        }
        if !closing && reply.ends_with(expect) {
            closing = true;
            tls.close().unwrap();
            continue;
        }
        let cap = tls.client().receive_capacity().min(buf.len());
        let n = sock
            .read(&mut buf[..cap])
            .unwrap_or_else(|e| panic!("read: {e}; reply so far {reply:?}"));
        if n == 0 {
            tls.handle_input(Input::Eof(Instant::ZERO))
                .expect("clean EOF");
            while !matches!(tls.poll_output(), Output::Wait(_)) {}
            break;
        }
        tls.handle_input(Input::Receive(Instant::ZERO, &buf[..n]))
            .expect("client");
    }
    assert_eq!(reply, expect);
    tls.into_transcript()
}

/// A session for a server of `pki` on 127.0.0.1, trusting only its root.
fn pki_session(pki: &TestPki, seed: Seed, versions: &[Version]) -> Session {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Session {
        seed,
        clock: now,
        server_name: "localhost".into(),
        settings: Settings {
            versions: versions.to_vec(),
            ..Settings::default()
        }
        .with_roots_only(vec![pki.root.der.clone()]),
    }
}

fn record_openssl(version: Version, seed: Seed) -> (Transcript, TestPki) {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let builder = OpenSslServer::builder(&pki.server).mode(OpenSslMode::Rev);
    let server = match version {
        Version::Tls12 => builder.tls12(),
        _ => builder.tls13(),
    }
    .start();
    let session = pki_session(&pki, seed, &[Version::Tls13, Version::Tls12]);
    let t = record_over_tcp(&server.addr(), &session, REQUEST, REVERSED);
    (t, pki)
}

/// The replays every recording must pass and the failures it must produce.
fn check_recording(t: &Transcript, pki: &TestPki, version: Version) {
    // Through text and back: the file is the contract.
    let text = t.to_text();
    let t = Transcript::parse(&text).expect("parses");

    let r = replay(&t).unwrap_or_else(|e| panic!("replay failed: {e}\n{text}"));
    assert_eq!(r.reply, REVERSED);
    let info = r.info.clone().expect("connected");
    assert_eq!(info.version, version);
    assert!(info.verified);
    assert!(r.peer_closed && r.closed, "{r:?}");
    assert_eq!(r.client_bytes + r.server_bytes, {
        let (c, s) = t.ciphertext_len();
        c + s
    });

    // The clock moved past the leaf's notAfter: the certificate has expired.
    let not_after = CertSummary::from_der(&pki.server.der).not_after.unwrap();
    let err = replay_with(
        &t,
        &ReplayOptions {
            clock: Some(not_after + 1),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "CERT_EXPIRED", "{err}");
    assert!(err.to_string().contains("expired"), "{err}");

    // Another seed: the first client chunk (the ClientHello) differs at the random.
    let err = replay_with(
        &t,
        &ReplayOptions {
            seed: Some(Seed([0x55; 32])),
            ..Default::default()
        },
    )
    .unwrap_err();
    let d = err.divergence().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(
        (d.chunk, d.offset, d.kind),
        (1, 11, DivergenceKind::Differs)
    );
    let first_client = t
        .entries
        .iter()
        .position(|e| matches!(e, Entry::Client(_)))
        .unwrap();
    assert_eq!(d.line, t.entry_line(first_client));
    assert!(err.to_string().contains("client chunk 1"), "{err}");
    assert!(err.to_string().contains("seed"), "{err}");

    // A flipped byte in a recorded client chunk (not the first): named exactly.
    let (index, chunk_no) = t
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Entry::Client(_)))
        .map(|(i, _)| i)
        .zip(1..)
        .nth(1)
        .expect("a second client chunk");
    let mut flipped = t.clone();
    let Entry::Client(bytes) = &mut flipped.entries[index] else {
        unreachable!()
    };
    let at = bytes.len() / 2;
    let original = bytes[at];
    bytes[at] ^= 0x40;
    let recorded = bytes[at];
    let err = replay(&flipped).unwrap_err();
    let d = err.divergence().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(
        (d.chunk, d.offset, d.kind),
        (chunk_no, at, DivergenceKind::Differs)
    );
    assert_eq!(d.expected[0], recorded);
    assert_eq!(d.actual[0], original);
    assert_eq!(d.line, t.entry_line(index));
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("client chunk {chunk_no}")) && msg.contains(&format!("offset {at}")),
        "{msg}"
    );

    // A flipped byte in the server chunk carrying the reply (the last before the client
    // closed): the client cannot decrypt it, and the error names that entry.
    let close = t.entries.iter().position(|e| *e == Entry::Close).unwrap();
    let index = t.entries[..close]
        .iter()
        .rposition(|e| matches!(e, Entry::Server(_)))
        .expect("a server chunk");
    let mut flipped = t.clone();
    let Entry::Server(bytes) = &mut flipped.entries[index] else {
        unreachable!()
    };
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    match replay(&flipped).unwrap_err() {
        ReplayError::Tls { error, entry, line } => {
            assert_eq!(entry, Some(index), "{error}");
            assert_eq!(line, t.entry_line(index));
            assert!(error.is_peer(), "{error}");
        }
        other => panic!("expected a TLS error, got {other}"),
    }

    // A truncated recording: the replayed client sends bytes the recording lacks.
    let mut short = t.clone();
    let last_client = short
        .entries
        .iter()
        .rposition(|e| matches!(e, Entry::Client(_)))
        .unwrap();
    short.entries.remove(last_client);
    let err = replay(&short).unwrap_err();
    let d = err.divergence().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(d.kind, DivergenceKind::Extra, "{err}");
}

#[test]
fn openssl_tls13_session_records_and_replays_offline() {
    let (t, pki) = record_openssl(Version::Tls13, Seed([0x13; 32]));
    check_recording(&t, &pki, Version::Tls13);
}

#[test]
fn openssl_tls12_session_records_and_replays_offline() {
    let (t, pki) = record_openssl(Version::Tls12, Seed([0x12; 32]));
    check_recording(&t, &pki, Version::Tls12);
}

/// An in-process rustls server (std): the recording's ALPN and settings survive the
/// round trip, and an edited setting is caught by the fingerprint.
#[test]
fn in_memory_session_with_alpn_and_fingerprint_mismatch() {
    let pki = TestPki::new(KeyKind::Ed25519);
    let mut session = pki_session(&pki, Seed([0xa1; 32]), &[Version::Tls13]);
    session.settings.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut server = ServerConnection::new(server_config(
        &pki.server,
        &[&TLS13, &TLS12],
        &["http/1.1"],
        None,
    ))
    .unwrap();
    let mut tls = RecordingClient::new(&session).unwrap();
    tls.send(b"ping").unwrap();
    let mut reply = Vec::new();
    let mut answered = false;
    for _ in 0..50 {
        let mut to_server = Vec::new();
        loop {
            match tls.poll_output() {
                Output::Transmit(b) => to_server.extend_from_slice(&b),
                Output::Event(Event::Data(d)) => reply.extend_from_slice(&d),
                Output::Event(_) => {}
                Output::Wait(_) => break,
            }
        }
        if reply == b"pong" && !answered {
            answered = true;
            tls.close().unwrap();
            continue;
        }
        let mut rd = &to_server[..];
        while !rd.is_empty() {
            server.read_tls(&mut rd).unwrap();
        }
        server.process_new_packets().unwrap();
        let mut got = Vec::new();
        let _ = server.reader().read_to_end(&mut got);
        if got == b"ping" {
            server.writer().write_all(b"pong").unwrap();
        }
        if answered && !to_server.is_empty() {
            server.send_close_notify();
        }
        let mut from_server = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut from_server).unwrap();
        }
        if from_server.is_empty() {
            if answered {
                break;
            }
            continue;
        }
        // Deliver in two pieces: the transcript keeps the chunking.
        let (a, b) = from_server.split_at(from_server.len() / 2);
        tls.handle_input(Input::Receive(Instant::ZERO, a)).unwrap();
        tls.handle_input(Input::Receive(Instant::ZERO, b)).unwrap();
    }
    assert_eq!(reply, b"pong");
    let t = Transcript::parse(&tls.into_transcript().to_text()).unwrap();
    assert!(t.entries.contains(&Entry::Send(b"ping".to_vec())));
    assert!(t.entries.contains(&Entry::Close));
    let r = replay(&t).unwrap();
    assert_eq!(r.reply, b"pong");
    let info = r.info.unwrap();
    assert_eq!(info.alpn_str(), Some("http/1.1"));
    assert_eq!(info.version, Version::Tls13);

    // Edit the header: offer only h2. The fingerprint no longer matches, and the error
    // shows what changed.
    let text = t.to_text().replace("\nalpn h2 http/1.1\n", "\nalpn h2\n");
    let edited = Transcript::parse(&text).unwrap();
    let err = replay(&edited).unwrap_err();
    assert_eq!(err.code(), "CONFIG_MISMATCH", "{err}");
    let msg = err.to_string();
    assert!(msg.contains("recorded: alpn h2 http/1.1"), "{msg}");
    assert!(msg.contains("now:      alpn h2"), "{msg}");
    // Forcing it through: the ClientHello differs.
    let err = replay_with(
        &edited,
        &ReplayOptions {
            ignore_fingerprint: true,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.divergence().map(|d| d.chunk), Some(1), "{err}");
}

/// The checked-in example transcripts (recorded from `openssl s_server -rev` with a
/// generated PKI) replay with their recorded clock, long after that certificate expired
/// in real time.
#[test]
fn checked_in_examples_replay() {
    let dir = data_dir().join("transcripts");
    for (name, version) in [
        ("openssl-tls13.transcript", Version::Tls13),
        ("openssl-tls12.transcript", Version::Tls12),
    ] {
        let path = dir.join(name);
        if bless() {
            let (t, _pki) = record_openssl(version, fixed_seed());
            tlsferry_cli::record::write_transcript(&path, &t).unwrap();
        }
        let r = tlsferry_cli::record::replay_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.reply, REVERSED, "{name}");
        assert_eq!(r.info.as_ref().map(|i| i.version), Some(version));
        // Only the recorded clock makes it pass once the certificate has expired.
        let t = tlsferry_cli::record::read_transcript(&path).unwrap();
        let leaf = CertSummary::from_der(&r.info.as_ref().unwrap().peer_certificates[0]);
        let err = tlsferry_cli::record::replay_file_with(
            &path,
            &ReplayOptions {
                clock: Some(leaf.not_after.unwrap() + 1),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            err.replay_error().map(ReplayError::code),
            Some("CERT_EXPIRED")
        );
        assert_eq!(t.session.seed, fixed_seed());
    }
}

#[test]
fn session_settings_need_their_roots() {
    // A transcript trusting only its own root keeps that root: it replays anywhere.
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let s = pki_session(&pki, Seed([1; 32]), &[Version::Tls13]);
    let rec = RecordingClient::new(&s).unwrap();
    let text = rec.transcript().to_text();
    assert!(text.contains("mozilla-roots off"));
    assert!(text.contains(&format!("root {}", pki.root.der.len())));
    assert_eq!(Transcript::parse(&text).unwrap().session, s);
}

/// `tlsferry connect --record FILE --seed HEX` against `openssl s_server`, then
/// `tlsferry replay FILE` (the library entry points the binary calls).
#[test]
fn cli_connect_record_then_replay() {
    use std::process::ExitCode;

    let dir = tlsferry_tests::pki::TempDir::new("tlsferry-record");
    for (version, flag) in [(Version::Tls13, "--tls1.3"), (Version::Tls12, "--tls1.2")] {
        let pki = TestPki::new(KeyKind::EcdsaP256);
        let server = OpenSslServer::builder(&pki.server)
            .mode(OpenSslMode::Rev)
            .start();
        let ca = dir.write("ca.pem", &pki.root.pem);
        let file = dir.path().join(format!("session-{flag}.transcript"));
        let out = dir.path().join("reply.bin");
        let seed = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let argv: Vec<String> = [
            server.addr().as_str(),
            "--cafile",
            ca.to_str().unwrap(),
            "--servername",
            "localhost",
            flag,
            "--send",
            "Hello, World!\n",
            "--timeout",
            "1",
            "--output",
            out.to_str().unwrap(),
            "--record",
            file.to_str().unwrap(),
            "--seed",
            seed,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let connect = std::iter::once("connect".to_string()).chain(argv);
        assert_eq!(tlsferry_cli::run(connect), ExitCode::SUCCESS);
        assert_eq!(std::fs::read(&out).unwrap(), REVERSED);

        let t = tlsferry_cli::record::read_transcript(&file).unwrap();
        assert_eq!(t.session.seed, Seed::from_hex(seed).unwrap());
        assert_eq!(t.session.settings.versions, vec![version]);
        assert!(t.entries.contains(&Entry::Send(REQUEST.to_vec())));
        assert!(t.entries.contains(&Entry::Close), "shutdown is recorded");
        drop(server); // offline from here on
        let r = tlsferry_cli::record::replay_file(&file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.reply, REVERSED);
        assert_eq!(r.info.unwrap().version, version);

        let replay_cli = |extra: &[&str]| {
            let mut a = vec!["replay".to_string(), file.to_str().unwrap().to_string()];
            a.extend(extra.iter().map(|s| s.to_string()));
            tlsferry_cli::run(a)
        };
        assert_eq!(replay_cli(&[]), ExitCode::SUCCESS);
        assert_eq!(replay_cli(&["--seed", &"ab".repeat(32)]), ExitCode::from(3));
        let expired = CertSummary::from_der(&pki.server.der).not_after.unwrap() + 1;
        assert_eq!(
            replay_cli(&["--time", &expired.to_string()]),
            ExitCode::from(3)
        );
        assert_eq!(replay_cli(&["--time", "soon"]), ExitCode::from(2));
        assert_eq!(
            replay_cli(&[&format!("--time={}", expired - 2)]),
            ExitCode::SUCCESS
        );
        assert_eq!(replay_cli(&["--bogus"]), ExitCode::from(2));
    }
    let missing = dir.path().join("missing.transcript");
    assert_eq!(
        tlsferry_cli::run(["replay", missing.to_str().unwrap()]),
        ExitCode::from(2)
    );
    let garbage = dir.write("garbage.transcript", "hello\n");
    assert_eq!(
        tlsferry_cli::run(["replay", garbage.to_str().unwrap()]),
        ExitCode::from(2)
    );

    // Flag combinations that cannot work are usage errors.
    let parse =
        |a: &[&str]| tlsferry_cli::args::parse(std::iter::once(&"connect").chain(a).copied());
    let err = parse(&["localhost:1", "--seed", &"00".repeat(32)]).unwrap_err();
    assert!(err.0.contains("--seed needs --record"), "{err:?}");
    let err = parse(&["localhost:1", "--record", "f", "--seed", "xyz"]).unwrap_err();
    assert!(err.0.contains("64 hex digits"), "{err:?}");
    let err = parse(&["localhost:1", "--record", "f", "--cert", "c", "--key", "k"]).unwrap_err();
    assert!(err.0.contains("--record"), "{err:?}");
}

#[test]
fn recording_warns_loudly() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let s = pki_session(&pki, Seed([3; 32]), &[Version::Tls13]);
    let r = tlsferry_cli::record::Recording::new("x.transcript", s).unwrap();
    let w = r.warning();
    assert!(
        w.contains("DETERMINISTIC") && w.contains(&"03".repeat(32)),
        "{w}"
    );
}
