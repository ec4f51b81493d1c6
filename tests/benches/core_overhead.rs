//! Core overhead: tlsferry-core's `Client` against a hand-driven rustls
//! `UnbufferedClientConnection` with the same provider, both in memory against the same
//! rustls server. Measures client CPU only, interleaving the two implementations so
//! machine noise hits both alike; prints medians and the ratio as a Markdown table.
//!
//! Run: `cargo bench -p tlsferry-tests --bench core_overhead` (env `BULK_MIB`, `ROUNDS`).

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use aes_gcm::aead::{AeadInOut, KeyInit};
use rustls::client::UnbufferedClientConnection;
use rustls::pki_types::ServerName;
use rustls::server::{ServerConfig, ServerConnection};
use rustls::unbuffered::{ConnectionState, EncodeError, UnbufferedStatus};
use tlsferry_core::{Client, Config, Event, Input, Instant, Output};
use tlsferry_tests::pair::{client_config, server_config};
use tlsferry_tests::pki::{KeyKind, TestPki};

const RECORD: usize = 16 * 1024;
const CHUNK: usize = 64 * 1024;

/// A client under test: either tlsferry or raw rustls.
trait Subject {
    /// Feeds server bytes; returns the client's bytes for the server and plaintext count.
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> usize;
    fn connected(&self) -> bool;
}

struct Ferry {
    client: Client,
    connected: bool,
    /// With [`Ferry::reading`]: the caller's buffer `Client::read` decrypts into.
    sink: Option<Vec<u8>>,
}

impl Ferry {
    fn new(cfg: &Config, out: &mut Vec<u8>) -> Ferry {
        let mut f = Ferry {
            client: Client::new("localhost", cfg, Instant::ZERO).unwrap(),
            connected: false,
            sink: None,
        };
        f.drain(out);
        f
    }

    /// From now on takes data with `decrypt_on_read` + `read` into a 64 KiB buffer
    /// (what `TlsStream` does) instead of `Data` events.
    fn reading(mut self) -> Ferry {
        self.client.decrypt_on_read();
        self.sink = Some(vec![0; CHUNK]);
        self
    }

    fn drain(&mut self, out: &mut Vec<u8>) -> usize {
        let mut plain = 0;
        if let Some(sink) = &mut self.sink {
            while let Ok(n @ 1..) = self.client.read(sink) {
                plain += n;
            }
        }
        loop {
            match self.client.poll_output() {
                Output::Transmit(b) => out.extend_from_slice(&b),
                Output::Event(Event::Data(d)) => plain += d.len(),
                Output::Event(Event::Connected(_)) => self.connected = true,
                Output::Event(_) => {}
                Output::Wait(_) => return plain,
            }
        }
    }
}

impl Subject for Ferry {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> usize {
        let mut plain = 0;
        for chunk in bytes.chunks(CHUNK) {
            self.client
                .handle_input(Input::Receive(Instant::ZERO, chunk))
                .unwrap();
            plain += self.drain(out);
        }
        plain
    }

    fn connected(&self) -> bool {
        self.connected
    }
}

/// The minimal correct hand-written loop over rustls' unbuffered API.
struct Raw {
    conn: UnbufferedClientConnection,
    incoming: Vec<u8>,
    sink: Vec<u8>,
}

impl Raw {
    fn new(cfg: Arc<rustls::ClientConfig>, out: &mut Vec<u8>) -> Raw {
        let mut r = Raw {
            conn: UnbufferedClientConnection::new(cfg, ServerName::try_from("localhost").unwrap())
                .unwrap(),
            incoming: Vec::new(),
            sink: Vec::new(),
        };
        r.process(out);
        r
    }

    fn process(&mut self, out: &mut Vec<u8>) -> usize {
        let mut plain = 0;
        loop {
            let UnbufferedStatus { mut discard, state } =
                self.conn.process_tls_records(&mut self.incoming);
            let mut stop = false;
            match state.unwrap() {
                ConnectionState::ReadTraffic(mut t) => {
                    while let Some(r) = t.next_record() {
                        let r = r.unwrap();
                        discard += r.discard;
                        // Deliver the plaintext, as tlsferry does.
                        self.sink.clear();
                        self.sink.extend_from_slice(r.payload);
                        plain += r.payload.len();
                    }
                }
                ConnectionState::EncodeTlsData(mut e) => {
                    let start = out.len();
                    out.resize(start + 4096, 0);
                    let n = match e.encode(&mut out[start..]) {
                        Ok(n) => n,
                        Err(EncodeError::InsufficientSize(s)) => {
                            out.resize(start + s.required_size, 0);
                            e.encode(&mut out[start..]).unwrap()
                        }
                        Err(e) => panic!("{e}"),
                    };
                    out.truncate(start + n);
                }
                ConnectionState::TransmitTlsData(t) => t.done(),
                ConnectionState::BlockedHandshake | ConnectionState::WriteTraffic(_) => stop = true,
                other => panic!("unexpected {other:?}"),
            }
            self.incoming.drain(..discard);
            if stop {
                return plain;
            }
        }
    }
}

impl Subject for Raw {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> usize {
        let mut plain = 0;
        for chunk in bytes.chunks(CHUNK) {
            self.incoming.extend_from_slice(chunk);
            plain += self.process(out);
        }
        plain
    }

    fn connected(&self) -> bool {
        !self.conn.is_handshaking()
    }
}

/// Runs one handshake; returns the client-side CPU time and the connected pair.
fn handshake<S: Subject>(
    make: impl FnOnce(&mut Vec<u8>) -> S,
    server_cfg: &Arc<ServerConfig>,
) -> (Duration, S, ServerConnection) {
    let mut server = ServerConnection::new(server_cfg.clone()).unwrap();
    let mut to_server = Vec::new();
    let t = StdInstant::now();
    let mut client = make(&mut to_server);
    let mut spent = t.elapsed();
    for _ in 0..10 {
        let mut rd = &to_server[..];
        while !rd.is_empty() {
            server.read_tls(&mut rd).unwrap();
            server.process_new_packets().unwrap();
        }
        to_server.clear();
        let mut to_client = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut to_client).unwrap();
        }
        if to_client.is_empty() && client.connected() {
            break;
        }
        let t = StdInstant::now();
        client.feed(&to_client, &mut to_server);
        spent += t.elapsed();
    }
    assert!(client.connected());
    (spent, client, server)
}

/// The server's ciphertext for `total` bytes of application data in 16 KiB writes.
fn server_flight(server: &mut ServerConnection, total: usize) -> Vec<u8> {
    let block = vec![0x5au8; RECORD];
    let mut out = Vec::with_capacity(total + total / 16 * 1024);
    let mut sent = 0;
    while sent < total {
        server.writer().write_all(&block).unwrap();
        sent += block.len();
        while server.wants_write() {
            server.write_tls(&mut out).unwrap();
        }
    }
    out
}

/// The AEAD `A` opening 16 KiB records in place after copying each into a scratch buffer,
/// as a record layer does (MB/s). With the provider's AES-128-GCM (`tlsferry_gcm`), the
/// ceiling for bulk receive, measured in the same run; next to `aes-gcm` 0.11, what the
/// provider's own AES-GCM gains.
fn open_mbps<A: AeadInOut + KeyInit>(key: &[u8], total: usize) -> f64 {
    let cipher = A::new_from_slice(key).unwrap();
    let records = total / RECORD;
    let sealed: Vec<(Vec<u8>, aes_gcm::aead::Tag<A>)> = (0..records as u64)
        .map(|seq| {
            let mut buf = vec![0x5au8; RECORD + 1];
            let nonce = nonce_for(seq);
            let tag = cipher
                .encrypt_inout_detached(
                    nonce.as_slice().try_into().unwrap(),
                    b"hdr",
                    buf.as_mut_slice().into(),
                )
                .unwrap();
            (buf, tag)
        })
        .collect();
    let mut scratch = vec![0u8; RECORD + 1];
    let t = StdInstant::now();
    for (seq, (rec, tag)) in sealed.iter().enumerate() {
        scratch.copy_from_slice(rec);
        let nonce = nonce_for(seq as u64);
        cipher
            .decrypt_inout_detached(
                nonce.as_slice().try_into().unwrap(),
                b"hdr",
                scratch.as_mut_slice().into(),
                tag,
            )
            .unwrap();
    }
    (records * RECORD) as f64 / t.elapsed().as_secs_f64() / 1e6
}

/// ECDSA P-256 / SHA-256 verifications per second of `n` signed messages, key and
/// signature decoded each time: by the default provider's algorithm as webpki calls it
/// (`own`), or by `p256` 0.14's `VerifyingKey`.
fn ecdsa_verifies_per_second(own: bool, n: u32) -> f64 {
    use p256::ecdsa::signature::{Signer, Verifier};
    use rustls::pki_types::alg_id;
    let key = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let public = key.verifying_key().to_sec1_bytes();
    let signed: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
        .map(|i| {
            let message = format!("message {i}").into_bytes();
            let sig: p256::ecdsa::Signature = key.sign(&message);
            (message, sig.to_der().as_bytes().to_vec())
        })
        .collect();
    let provider = tlsferry_core::default_provider();
    let alg = provider
        .signature_verification_algorithms
        .all
        .iter()
        .find(|a| {
            a.public_key_alg_id() == alg_id::ECDSA_P256
                && a.signature_alg_id() == alg_id::ECDSA_SHA256
        })
        .unwrap();
    let t = StdInstant::now();
    for (message, der) in &signed {
        if own {
            alg.verify_signature(&public, message, der).unwrap();
        } else {
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&public).unwrap();
            let sig = p256::ecdsa::Signature::from_der(der).unwrap();
            vk.verify(message, &sig).unwrap();
        }
    }
    f64::from(n) / t.elapsed().as_secs_f64()
}

fn nonce_for(seq: u64) -> [u8; 12] {
    let mut n = [9u8; 12];
    for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
        *b ^= s;
    }
    n
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let bulk_mib: usize = std::env::var("BULK_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let handshakes_per_round = 50;

    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server_cfg = server_config(&pki.server, &[&rustls::version::TLS13], &[], None);
    // Full handshakes only, on every client here (tlsferry resumes by default).
    let ferry_cfg = client_config(&pki)
        .cipher_suites(["TLS13_AES_128_GCM_SHA256"])
        .resumption(false)
        .build()
        .unwrap();
    // The cost of post-quantum key exchange: the same client offering X25519 alone (the
    // server, on the same provider, negotiates X25519MLKEM768 whenever it is offered).
    let x25519_cfg = {
        let mut provider = tlsferry_core::default_provider();
        provider
            .kx_groups
            .retain(|g| g.name() == rustls::NamedGroup::X25519);
        client_config(&pki)
            .cipher_suites(["TLS13_AES_128_GCM_SHA256"])
            .crypto_provider(Arc::new(provider))
            .resumption(false)
            .build()
            .unwrap()
    };
    assert_eq!(
        handshake(|o| Ferry::new(&ferry_cfg, o), &server_cfg)
            .2
            .negotiated_key_exchange_group()
            .map(|g| g.name()),
        Some(rustls::NamedGroup::X25519MLKEM768),
        "the default client and this server should agree on the hybrid group"
    );
    // The same provider, roots and suite for raw rustls.
    let raw_cfg = {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.root.der.clone()).unwrap();
        let mut provider = tlsferry_core::default_provider();
        provider
            .cipher_suites
            .retain(|s| s.suite() == rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
        let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        cfg.resumption = rustls::client::Resumption::disabled();
        Arc::new(cfg)
    };

    let (mut hs_ferry, mut hs_raw, mut hs_x25519) = (Vec::new(), Vec::new(), Vec::new());
    let (mut bulk_ferry, mut bulk_raw, mut bulk_read) = (Vec::new(), Vec::new(), Vec::new());
    let mut aead = Vec::new();
    let (mut own256, mut crate256, mut own128, mut crate128) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut own_ecdsa, mut crate_ecdsa) = (Vec::new(), Vec::new());
    let total = bulk_mib * 1024 * 1024;
    for round in 0..rounds {
        // Handshakes, interleaved one by one.
        let (mut tf, mut tr, mut tx) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        for _ in 0..handshakes_per_round {
            tf += handshake(|o| Ferry::new(&ferry_cfg, o), &server_cfg).0;
            tr += handshake(|o| Raw::new(raw_cfg.clone(), o), &server_cfg).0;
            tx += handshake(|o| Ferry::new(&x25519_cfg, o), &server_cfg).0;
        }
        hs_ferry.push(handshakes_per_round as f64 / tf.as_secs_f64());
        hs_raw.push(handshakes_per_round as f64 / tr.as_secs_f64());
        hs_x25519.push(handshakes_per_round as f64 / tx.as_secs_f64());

        // Bulk receive: decrypt the same amount on each side.
        let (_, mut f, mut fs) = handshake(|o| Ferry::new(&ferry_cfg, o), &server_cfg);
        let (_, mut r, mut rs) = handshake(|o| Raw::new(raw_cfg.clone(), o), &server_cfg);
        let (_, rd, mut rds) = handshake(|o| Ferry::new(&ferry_cfg, o), &server_cfg);
        let mut rd = rd.reading();
        let flight_f = server_flight(&mut fs, total);
        let flight_r = server_flight(&mut rs, total);
        let flight_rd = server_flight(&mut rds, total);
        let mut sink = Vec::new();
        let order: [bool; 2] = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        // The read path first or last too, alternating.
        let read_first = round % 2 == 1;
        let mut time_read = |sink: &mut Vec<u8>| {
            let t = StdInstant::now();
            assert_eq!(rd.feed(&flight_rd, sink), total);
            bulk_read.push(total as f64 / t.elapsed().as_secs_f64() / 1e6);
        };
        if read_first {
            time_read(&mut sink);
        }
        for ferry_first in order {
            if ferry_first {
                let t = StdInstant::now();
                assert_eq!(f.feed(&flight_f, &mut sink), total);
                bulk_ferry.push(total as f64 / t.elapsed().as_secs_f64() / 1e6);
            } else {
                let t = StdInstant::now();
                assert_eq!(r.feed(&flight_r, &mut sink), total);
                bulk_raw.push(total as f64 / t.elapsed().as_secs_f64() / 1e6);
            }
        }
        if !read_first {
            time_read(&mut sink);
        }
        let aead_bytes = total.min(64 << 20);
        aead.push(open_mbps::<tlsferry_gcm::Aes128Gcm>(&[7; 16], aead_bytes));
        // The provider's AES-GCM next to aes-gcm 0.11's, alternating which goes first.
        for own_first in order {
            if own_first {
                own256.push(open_mbps::<tlsferry_gcm::Aes256Gcm>(&[7; 32], aead_bytes));
                own128.push(open_mbps::<tlsferry_gcm::Aes128Gcm>(&[7; 16], aead_bytes));
            } else {
                crate256.push(open_mbps::<aes_gcm::Aes256Gcm>(&[7; 32], aead_bytes));
                crate128.push(open_mbps::<aes_gcm::Aes128Gcm>(&[7; 16], aead_bytes));
            }
        }
        for own_first in order {
            if own_first {
                own_ecdsa.push(ecdsa_verifies_per_second(true, 200));
            } else {
                crate_ecdsa.push(ecdsa_verifies_per_second(false, 200));
            }
        }
        eprintln!("round {}/{rounds} done", round + 1);
    }
    let (hf, hr) = (median(&mut hs_ferry), median(&mut hs_raw));
    let (bf, br) = (median(&mut bulk_ferry), median(&mut bulk_raw));
    println!("| measure (client CPU, in memory, TLS 1.3, ECDSA P-256, AES-128-GCM) | tlsferry-core | raw rustls unbuffered | tlsferry / raw |");
    println!("|---|---|---|---|");
    println!("| full handshakes per second (median of {rounds} rounds × {handshakes_per_round}) | {hf:.0} | {hr:.0} | {:.3} |", hf / hr);
    let hx = median(&mut hs_x25519);
    println!(
        "| post-quantum cost: client CPU per full handshake, X25519MLKEM768 (default) vs X25519 only | {:.0} µs | {:.0} µs (X25519 only) | {:.2}× |",
        1e6 / hf,
        1e6 / hx,
        hx / hf
    );
    let a = median(&mut aead);
    println!("| bulk receive MB/s ({bulk_mib} MiB in 16 KiB records, median of {rounds}) | {bf:.0} | {br:.0} | {:.3} |", bf / br);
    let bd = median(&mut bulk_read);
    println!("| bulk receive with `decrypt_on_read` + `read` into a 64 KiB buffer, as the streams read (MB/s, median of {rounds}) | {bd:.0} | {br:.0} | {:.3} |", bd / br);
    println!("| raw AES-128-GCM open of 16 KiB records, same provider (MB/s) | {a:.0} (tlsferry bulk = {:.0} % of it) | | |", bf / a * 100.0);
    for (name, own, theirs) in [
        ("AES-128-GCM", &mut own128, &mut crate128),
        ("AES-256-GCM", &mut own256, &mut crate256),
    ] {
        let (o, c) = (median(own), median(theirs));
        println!(
            "| {name} open of 16 KiB records (MB/s), provider's (`tlsferry-gcm`) vs `aes-gcm` 0.11 | {o:.0} | {c:.0} (aes-gcm 0.11) | {:.2}× |",
            o / c
        );
    }
    let (o, c) = (median(&mut own_ecdsa), median(&mut crate_ecdsa));
    println!(
        "| ECDSA P-256 / SHA-256 verifications per second, provider's (fiat-crypto field, 64-bit targets) vs `p256` 0.14 | {o:.0} | {c:.0} (p256 0.14) | {:.2}× |",
        o / c
    );
}
