//! Post-quantum hybrid key exchange (X25519MLKEM768, draft-ietf-tls-ecdhe-mlkem) in the
//! default provider, against independent peers: rustls with its aws-lc-rs provider (whose
//! server takes X25519MLKEM768 when the client lists it first) as server and as client,
//! and `openssl s_server` 3.0 (no ML-KEM: it must take the X25519 share offered beside
//! the hybrid one, with no HelloRetryRequest).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::crypto::{aws_lc_rs, CryptoProvider, SupportedKxGroup};
use rustls::server::{ServerConfig, ServerConnection};
use rustls::version::{TLS12, TLS13};
use rustls::{ClientConfig, ClientConnection, NamedGroup, RootCertStore};
use tlsferry::TlsStream;
use tlsferry_core::testing::{hex_decode, Seed, Session};
use tlsferry_core::Version;
use tlsferry_tests::pair::{client_config, Pair};
use tlsferry_tests::pki::{KeyKind, TestPki};
use tlsferry_tests::servers::{OpenSslMode, OpenSslServer};

const WAIT: Duration = Duration::from_secs(20);

/// The sizes the draft fixes: ML-KEM-768 encapsulation key + X25519 key, ciphertext +
/// X25519 key.
const CLIENT_SHARE_LEN: usize = 1184 + 32;

/// aws-lc-rs' provider with only the groups `keep`, in that order (all of its default
/// groups when empty).
fn aws_lc_rs_with(keep: &[NamedGroup]) -> Arc<CryptoProvider> {
    let mut provider = aws_lc_rs::default_provider();
    if !keep.is_empty() {
        provider.kx_groups.retain(|g| keep.contains(&g.name()));
        let rank = |g: &&dyn SupportedKxGroup| keep.iter().position(|k| *k == g.name());
        provider.kx_groups.sort_by_key(rank);
        assert_eq!(
            provider.kx_groups.len(),
            keep.len(),
            "aws-lc-rs has {keep:?}"
        );
    }
    Arc::new(provider)
}

/// A rustls server on `provider` for `pki`'s server certificate, TLS 1.3 and 1.2.
fn server_on(provider: Arc<CryptoProvider>, pki: &TestPki) -> Arc<ServerConfig> {
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&TLS13, &TLS12])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.server.chain_der.clone(), pki.server.private_key())
        .unwrap();
    Arc::new(config)
}

/// The TLS records in `stream` as (content type, body).
fn records(stream: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut rest = stream;
    while rest.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let body = &rest[5..5 + len];
        out.push((rest[0], body));
        rest = &rest[5 + len..];
    }
    assert!(rest.is_empty(), "whole records");
    out
}

/// How many ClientHellos the client sent: 1 without a HelloRetryRequest, 2 with one.
/// (Every later TLS 1.3 handshake message travels encrypted, as application data.)
fn client_hellos(sent: &[u8]) -> usize {
    records(sent)
        .iter()
        .filter(|(typ, body)| *typ == 22 && body.first() == Some(&1))
        .count()
}

/// The key_share entries (group, key) of the first ClientHello in `sent`.
fn key_shares(sent: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let (_, hello) = records(sent)[0];
    assert_eq!(hello[0], 1, "a ClientHello");
    // type(1) length(3) version(2) random(32), then session id, suites, compression.
    let mut at = 4 + 2 + 32;
    at += 1 + usize::from(hello[at]);
    at += 2 + usize::from(u16::from_be_bytes([hello[at], hello[at + 1]]));
    at += 1 + usize::from(hello[at]);
    let end = at + 2 + usize::from(u16::from_be_bytes([hello[at], hello[at + 1]]));
    at += 2;
    while at < end {
        let typ = u16::from_be_bytes([hello[at], hello[at + 1]]);
        let len = usize::from(u16::from_be_bytes([hello[at + 2], hello[at + 3]]));
        let ext = &hello[at + 4..at + 4 + len];
        at += 4 + len;
        if typ == 51 {
            let mut shares = Vec::new();
            let mut i = 2;
            while i < ext.len() {
                let group = u16::from_be_bytes([ext[i], ext[i + 1]]);
                let n = usize::from(u16::from_be_bytes([ext[i + 2], ext[i + 3]]));
                shares.push((group, ext[i + 4..i + 4 + n].to_vec()));
                i += 4 + n;
            }
            return shares;
        }
    }
    panic!("no key_share extension");
}

/// Drives a handshake in `pair`, logging every byte the client sends.
fn handshake_logged(pair: &mut Pair) -> Vec<u8> {
    let mut sent = Vec::new();
    for _ in 0..1000 {
        pair.drain_client();
        sent.extend_from_slice(&pair.to_server);
        match pair.step() {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => panic!("handshake failed: {e:?}\nevents: {:?}", pair.events),
        }
    }
    assert!(!pair.client.is_handshaking(), "handshake done");
    sent
}

fn roundtrip(pair: &mut Pair) {
    let data = b"post-quantum hello".to_vec();
    pair.client.send(&data).unwrap();
    pair.run().unwrap();
    assert_eq!(pair.server_received, data);
    pair.server_send(b"and back");
    pair.run().unwrap();
    assert_eq!(pair.client_received, b"and back");
}

#[test]
fn aws_lc_rs_server_negotiates_x25519mlkem768_from_the_first_flight() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let config = client_config(&pki).build().unwrap();
    let server = server_on(aws_lc_rs_with(&[]), &pki);
    let mut pair = Pair::new(&config, server, "localhost").unwrap();
    let sent = handshake_logged(&mut pair);
    let info = pair.connected().expect("connected").clone();
    assert_eq!(info.version, Version::Tls13);
    assert_eq!(info.key_exchange_group.as_deref(), Some("X25519MLKEM768"));
    let server_group = pair
        .server
        .negotiated_key_exchange_group()
        .map(|g| g.name());
    assert_eq!(server_group, Some(NamedGroup::X25519MLKEM768));
    assert_eq!(client_hellos(&sent), 1, "no HelloRetryRequest");
    // Browser-style shares: the hybrid first, its X25519 half beside it.
    let shares = key_shares(&sent);
    assert_eq!(shares.len(), 2);
    assert_eq!(shares[0].0, 0x11ec);
    assert_eq!(shares[0].1.len(), CLIENT_SHARE_LEN);
    assert_eq!(shares[1].0, 0x001d);
    assert_eq!(
        shares[1].1,
        shares[0].1[1184..],
        "the hybrid's own X25519 key"
    );
    roundtrip(&mut pair);
}

#[test]
fn a_server_without_the_hybrid_takes_the_x25519_share_or_asks_for_another_group() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    // First contact every time: a resumed config would remember each server's group
    // and offer only that one.
    let config = client_config(&pki).resumption(false).build().unwrap();
    for (only, name, hellos) in [
        (NamedGroup::X25519, "X25519", 1),
        (NamedGroup::secp256r1, "secp256r1", 2),
        (NamedGroup::secp384r1, "secp384r1", 2),
    ] {
        let server = server_on(aws_lc_rs_with(&[only]), &pki);
        let mut pair = Pair::new(&config, server, "localhost").unwrap();
        let sent = handshake_logged(&mut pair);
        let info = pair.connected().expect("connected").clone();
        assert_eq!(info.key_exchange_group.as_deref(), Some(name));
        assert_eq!(client_hellos(&sent), hellos, "{name}");
        roundtrip(&mut pair);
    }
    // A hybrid-only server: X25519MLKEM768 again, in one flight.
    let server = server_on(aws_lc_rs_with(&[NamedGroup::X25519MLKEM768]), &pki);
    let mut pair = Pair::new(&config, server, "localhost").unwrap();
    let sent = handshake_logged(&mut pair);
    let group = pair.connected().unwrap().key_exchange_group.clone();
    assert_eq!(group.as_deref(), Some("X25519MLKEM768"));
    assert_eq!(client_hellos(&sent), 1);
}

#[test]
fn tls12_leaves_the_hybrid_out() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let config = client_config(&pki)
        .versions(&[Version::Tls12])
        .build()
        .unwrap();
    let server = server_on(aws_lc_rs_with(&[]), &pki);
    let mut pair = Pair::new(&config, server, "localhost").unwrap();
    let sent = handshake_logged(&mut pair);
    let info = pair.connected().expect("connected").clone();
    assert_eq!(info.version, Version::Tls12);
    assert_eq!(info.key_exchange_group.as_deref(), Some("X25519"));
    // The hybrid is TLS 1.3 only, so a TLS 1.2 ClientHello does not name it.
    let (_, hello) = records(&sent)[0];
    assert!(!hello.windows(2).any(|w| w == [0x11, 0xec]), "no 0x11ec");
    roundtrip(&mut pair);
}

/// Moves bytes between a rustls client and server until neither has anything to say.
fn pump(client: &mut ClientConnection, server: &mut ServerConnection) {
    for _ in 0..100 {
        let mut moved = false;
        while client.wants_write() {
            let mut buf = Vec::new();
            client.write_tls(&mut buf).unwrap();
            moved |= !buf.is_empty();
            server.read_tls(&mut &buf[..]).unwrap();
            server.process_new_packets().unwrap();
        }
        while server.wants_write() {
            let mut buf = Vec::new();
            server.write_tls(&mut buf).unwrap();
            moved |= !buf.is_empty();
            client.read_tls(&mut &buf[..]).unwrap();
            client.process_new_packets().unwrap();
        }
        if !moved {
            return;
        }
    }
    panic!("did not settle");
}

#[test]
fn a_rustls_server_on_the_default_provider_encapsulates_for_an_aws_lc_rs_client() {
    // `tlsferry demo` and the test pairs serve with the default provider: its server side
    // of the hybrid (ML-KEM encapsulation) must agree with an independent client.
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let ours = Arc::new(tlsferry_core::default_provider());
    let mut server = ServerConnection::new(server_on(ours, &pki)).unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(pki.root.der.clone()).unwrap();
    // Without rustls' `prefer-post-quantum` feature aws-lc-rs lists the hybrid last: put
    // it first, as a browser does (it then sends its X25519 half beside it).
    let pq_first = [NamedGroup::X25519MLKEM768, NamedGroup::X25519];
    let client_config = ClientConfig::builder_with_provider(aws_lc_rs_with(&pq_first))
        .with_protocol_versions(&[&TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = "localhost".try_into().unwrap();
    let mut client = ClientConnection::new(Arc::new(client_config), name).unwrap();
    pump(&mut client, &mut server);
    assert!(!client.is_handshaking() && !server.is_handshaking());
    for side in [
        client.negotiated_key_exchange_group(),
        server.negotiated_key_exchange_group(),
    ] {
        assert_eq!(side.map(|g| g.name()), Some(NamedGroup::X25519MLKEM768));
    }
    client.writer().write_all(b"ping").unwrap();
    pump(&mut client, &mut server);
    let mut got = [0u8; 4];
    server.reader().read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
}

#[test]
fn default_provider_on_both_sides_uses_the_hybrid() {
    let pki = TestPki::new(KeyKind::Ed25519);
    let config = client_config(&pki).build().unwrap();
    let server = tlsferry_tests::pair::server_config(&pki.server, &[&TLS13, &TLS12], &[], None);
    let mut pair = Pair::new(&config, server, "localhost").unwrap();
    let sent = handshake_logged(&mut pair);
    let group = pair.connected().unwrap().key_exchange_group.clone();
    assert_eq!(group.as_deref(), Some("X25519MLKEM768"));
    assert_eq!(client_hellos(&sent), 1);
    roundtrip(&mut pair);
}

/// A TCP stream that keeps a copy of everything written to it.
struct Recorded {
    tcp: TcpStream,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Read for Recorded {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.tcp.read(buf)
    }
}

impl Write for Recorded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.tcp.write(buf)?;
        self.sent.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tcp.flush()
    }
}

/// `openssl s_server` (TLS 1.3, reversing each line) for `pki`'s server, with `args`.
fn rev_server(pki: &TestPki, args: &[&str]) -> OpenSslServer {
    OpenSslServer::builder(&pki.server)
        .tls13()
        .mode(OpenSslMode::Rev)
        .args(args.iter().copied())
        .start()
}

/// Connects to `server` over TCP; returns the negotiated group and the bytes sent.
fn connect_recorded(server: &OpenSslServer, pki: &TestPki) -> (Option<String>, Vec<u8>) {
    connect_recorded_with(server, client_config(pki))
}

/// [`connect_recorded`] with a config of the caller's.
fn connect_recorded_with(
    server: &OpenSslServer,
    config: tlsferry_core::ConfigBuilder,
) -> (Option<String>, Vec<u8>) {
    let config = config
        .handshake_timeout(Some(WAIT))
        .idle_timeout(Some(WAIT))
        .build()
        .unwrap();
    let tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let io = Recorded {
        tcp,
        sent: sent.clone(),
    };
    let mut tls = TlsStream::new(io, "localhost", &config).unwrap();
    tls.write_all(b"quantum\n")
        .unwrap_or_else(|e| panic!("{e}\nserver output:\n{}", server.output()));
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.last() != Some(&b'\n') {
        assert_eq!(tls.read(&mut byte).unwrap(), 1, "a reply");
        line.push(byte[0]);
    }
    assert_eq!(line, b"mutnauq\n");
    let group = tls.info().expect("connected").key_exchange_group.clone();
    tls.shutdown().unwrap();
    let sent = sent.lock().unwrap().clone();
    (group, sent)
}

#[test]
fn openssl_without_ml_kem_picks_x25519_without_a_hello_retry() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = rev_server(&pki, &[]);
    let (group, sent) = connect_recorded(&server, &pki);
    assert_eq!(group.as_deref(), Some("X25519"));
    assert_eq!(client_hellos(&sent), 1, "no HelloRetryRequest");
    let groups: Vec<u16> = key_shares(&sent).iter().map(|(g, _)| *g).collect();
    assert_eq!(groups, [0x11ec, 0x001d]);
}

#[test]
fn openssl_asking_for_p256_gets_it_after_one_hello_retry() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = rev_server(&pki, &["-groups", "P-256"]);
    let (group, sent) = connect_recorded(&server, &pki);
    assert_eq!(group.as_deref(), Some("secp256r1"));
    assert_eq!(client_hellos(&sent), 2, "one HelloRetryRequest");
}

#[test]
fn x25519_alone_sends_one_small_share_and_openssl_takes_it() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = rev_server(&pki, &[]);
    let config = client_config(&pki).key_exchange_groups(["X25519"]);
    let (group, sent) = connect_recorded_with(&server, config);
    assert_eq!(group.as_deref(), Some("X25519"));
    assert_eq!(client_hellos(&sent), 1, "no HelloRetryRequest");
    let shares = key_shares(&sent);
    assert_eq!(shares.len(), 1);
    assert_eq!((shares[0].0, shares[0].1.len()), (0x001d, 32));
    // Without the 1,216-byte hybrid share the ClientHello fits in one small packet.
    let (_, hello) = records(&sent)[0];
    assert!(hello.len() < 600, "ClientHello of {} bytes", hello.len());
    assert!(
        !hello.windows(2).any(|w| w == [0x11, 0xec]),
        "the hybrid is not even listed"
    );
}

#[test]
fn the_group_listed_first_gets_the_share_and_openssl_takes_it() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = rev_server(&pki, &[]);
    let config = client_config(&pki).key_exchange_groups(["P-256", "X25519"]);
    let (group, sent) = connect_recorded_with(&server, config);
    assert_eq!(group.as_deref(), Some("secp256r1"));
    assert_eq!(client_hellos(&sent), 1, "no HelloRetryRequest");
    let groups: Vec<u16> = key_shares(&sent).iter().map(|(g, _)| *g).collect();
    assert_eq!(groups, [0x0017]);
}

#[test]
fn no_group_in_common_is_a_typed_refusal_that_names_the_offer() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = rev_server(&pki, &["-groups", "P-384"]);
    let config = client_config(&pki)
        .key_exchange_groups(["X25519", "P-256"])
        .handshake_timeout(Some(WAIT))
        .build()
        .unwrap();
    let err = tlsferry::connect(server.addr().as_str(), "localhost", &config).unwrap_err();
    assert_eq!(err.code(), "ALERT", "{err}");
    let text = err.to_string();
    assert!(text.contains("handshake_failure"), "{text}");
    assert!(
        text.contains("key exchange X25519, secp256r1"),
        "the message says what was offered: {text}"
    );
}

#[test]
fn the_seeded_client_hello_carries_both_shares_and_is_reproducible() {
    let session = |seed: [u8; 32]| Session::new(Seed(seed), 1_767_225_600, "example.com");
    let a = session([9; 32]).client_hello().unwrap();
    assert_eq!(
        a,
        session([9; 32]).client_hello().unwrap(),
        "same seed, same bytes"
    );
    let b = session([10; 32]).client_hello().unwrap();
    assert_ne!(a, b);
    let (shares_a, shares_b) = (key_shares(&a), key_shares(&b));
    for shares in [&shares_a, &shares_b] {
        let groups: Vec<u16> = shares.iter().map(|(g, _)| *g).collect();
        assert_eq!(groups, [0x11ec, 0x001d]);
        assert_eq!(shares[0].1.len(), CLIENT_SHARE_LEN);
        assert_eq!(shares[1].1, shares[0].1[1184..]);
    }
    assert_ne!(shares_a[0].1, shares_b[0].1, "keys follow the seed");
    // The checked-in golden (also compared through the wasm build) has them too.
    let golden: String = include_str!("../data/clienthello-golden.hex")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect();
    let golden = hex_decode(golden.trim()).unwrap();
    let groups: Vec<u16> = key_shares(&golden).iter().map(|(g, _)| *g).collect();
    assert_eq!(groups, [0x11ec, 0x001d]);
    // And the groups offered: the hybrid first, then the classic curves.
    let supported = [0x11u8, 0xec, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18];
    assert!(golden.windows(8).any(|w| w == supported));
}

#[test]
fn the_default_provider_lists_the_hybrid_first() {
    let names: Vec<NamedGroup> = tlsferry_core::default_provider()
        .kx_groups
        .iter()
        .map(|g: &&dyn SupportedKxGroup| g.name())
        .collect();
    assert_eq!(
        names,
        [
            NamedGroup::X25519MLKEM768,
            NamedGroup::X25519,
            NamedGroup::secp256r1,
            NamedGroup::secp384r1
        ]
    );
}
