//! `TlsStream` against the in-process `DemoServer` over real sockets on 127.0.0.1:
//! partial and interrupted I/O, `WouldBlock` from the transport, the core's deadlines
//! turned into read timeouts, the caller's own read timeout, EOF, and the tap.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tlsferry_core::{Config, Error, PeerError, TimeoutPhase};

use tlsferry::{tls_error, Tap, TlsStream, Transport};
use tlsferry_cli::demo_server::{Behaviour, DemoServer};
use tlsferry_cli::pki::{KeyKind, TestPki};

/// Generous: only failures wait this long.
const LONG: Duration = Duration::from_secs(20);

fn config(pki: &TestPki) -> tlsferry_core::ConfigBuilder {
    tlsferry::Config::builder()
        .root_certificates_pem(pki.root.pem.as_bytes())
        .handshake_timeout(Some(LONG))
}

fn tcp(server: &DemoServer) -> TcpStream {
    TcpStream::connect(server.addr()).unwrap()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// A transport that reads and writes in small, varying pieces and is interrupted often.
struct Choppy {
    inner: TcpStream,
    calls: usize,
}

impl Choppy {
    fn step(&mut self) -> Option<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(3) {
            None // Interrupted
        } else {
            Some([1, 7, 100, 5000, 3, 16 * 1024][self.calls % 6])
        }
    }
}

impl Read for Choppy {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.step() {
            None => Err(io::ErrorKind::Interrupted.into()),
            Some(n) => {
                let n = n.min(buf.len());
                self.inner.read(&mut buf[..n])
            }
        }
    }
}

impl Write for Choppy {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.step() {
            None => Err(io::ErrorKind::Interrupted.into()),
            Some(n) => self.inner.write(&buf[..n.min(buf.len())]),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Transport for Choppy {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.set_read_timeout(timeout)
    }
}

/// Reads exactly `len` bytes, retrying `WouldBlock`.
fn read_exact_retrying<S: Read + Write>(tls: &mut TlsStream<S>, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut got = 0;
    while got < len {
        match tls.read(&mut out[got..]) {
            Ok(0) => panic!("closed after {got} of {len} bytes"),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    out
}

#[test]
fn partial_and_interrupted_io_moves_every_byte() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let cfg = config(&pki).build().unwrap();
    let io = Choppy {
        inner: tcp(&server),
        calls: 0,
    };
    let mut tls = TlsStream::new(io, "localhost", &cfg)
        .unwrap()
        .use_read_timeouts();
    tls.handshake().unwrap();
    let sent = data(300_000);
    // Write and read in turns, so neither side's socket buffers fill up.
    let mut echoed = Vec::new();
    for chunk in sent.chunks(20_000) {
        tls.write_all(chunk).unwrap();
        tls.flush().unwrap();
        echoed.extend(read_exact_retrying(&mut tls, chunk.len()));
    }
    assert!(echoed == sent, "echo differs");
    tls.shutdown().unwrap();
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).unwrap(); // the server's close_notify: Ok(0)
    assert!(rest.is_empty());
    assert!(tls.peer_closed());
    let stats = tls.stats();
    assert_eq!(stats.plaintext_sent, sent.len() as u64);
    assert_eq!(stats.plaintext_received, sent.len() as u64);
    assert!(stats.ciphertext_sent > stats.plaintext_sent);
}

/// A transport whose writes fail with `WouldBlock` every other call, writing nothing.
struct Blocky {
    inner: TcpStream,
    writes: usize,
    blocked: usize,
}

impl Read for Blocky {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for Blocky {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes += 1;
        if self.writes % 2 == 1 {
            self.blocked += 1;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[test]
fn would_block_on_write_loses_nothing() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let cfg = config(&pki).build().unwrap();
    let io = Blocky {
        inner: tcp(&server),
        writes: 0,
        blocked: 0,
    };
    let mut tls = TlsStream::new(io, "localhost", &cfg).unwrap();
    let retry = |tls: &mut TlsStream<Blocky>,
                 f: &dyn Fn(&mut TlsStream<Blocky>) -> io::Result<usize>| loop {
        match f(tls) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            other => return other.unwrap(),
        }
    };
    retry(&mut tls, &|t| t.handshake().map(|()| 0));
    let sent = data(50_000);
    let mut off = 0;
    while off < sent.len() {
        off += retry(&mut tls, &|t| t.write(&sent[off..]));
    }
    retry(&mut tls, &|t| t.flush().map(|()| 0));
    assert_eq!(read_exact_retrying(&mut tls, sent.len()), sent);
    assert!(tls.get_ref().blocked > 2, "the transport did block");
}

#[test]
fn handshake_timeout_fires_while_blocked_in_a_read() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    // Accepts TCP, never answers.
    let mute = TcpListener::bind("127.0.0.1:0").unwrap();
    let cfg = config(&pki)
        .handshake_timeout(Some(Duration::from_millis(200)))
        .build()
        .unwrap();
    let io = TcpStream::connect(mute.local_addr().unwrap()).unwrap();
    let mut tls = TlsStream::new(io, "localhost", &cfg)
        .unwrap()
        .use_read_timeouts();
    let started = std::time::Instant::now();
    let err = tls.handshake().unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    assert_eq!(
        tls_error(&err),
        Some(&Error::Timeout(TimeoutPhase::Handshake))
    );
    // Final: later calls repeat it.
    let again = tls.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(
        tls_error(&again),
        Some(&Error::Timeout(TimeoutPhase::Handshake))
    );
}

#[test]
fn idle_timeout_is_the_cores_and_final() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let cfg: Config = config(&pki)
        .idle_timeout(Some(Duration::from_millis(200)))
        .build()
        .unwrap();
    let mut tls = TlsStream::new(tcp(&server), "localhost", &cfg)
        .unwrap()
        .use_read_timeouts();
    tls.write_all(b"x").unwrap();
    assert_eq!(read_exact_retrying(&mut tls, 1), b"x");
    let err = tls.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(tls_error(&err), Some(&Error::Timeout(TimeoutPhase::Idle)));
    assert!(tls.write(b"y").is_err());
}

#[test]
fn callers_read_timeout_is_not_final() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let cfg = config(&pki).build().unwrap();
    let mut tls = TlsStream::new(tcp(&server), "localhost", &cfg)
        .unwrap()
        .use_read_timeouts();
    tls.handshake().unwrap();
    tls.set_read_timeout(Some(Duration::from_millis(100)));
    let err = tls.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    assert!(tls_error(&err).is_none(), "not a TLS failure");
    tls.write_all(b"still here").unwrap();
    assert_eq!(read_exact_retrying(&mut tls, 10), b"still here");
}

#[test]
fn without_timers_the_transports_own_timeout_checks_deadlines() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let cfg = config(&pki)
        .idle_timeout(Some(Duration::from_millis(300)))
        .build()
        .unwrap();
    let io = tcp(&server);
    io.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut tls = TlsStream::new(io, "localhost", &cfg).unwrap(); // no use_read_timeouts
    tls.write_all(b"x").unwrap();
    assert_eq!(read_exact_retrying(&mut tls, 1), b"x");
    let mut would_block = 0;
    let err = loop {
        match tls.read(&mut [0u8; 8]) {
            Err(e) if tls_error(&e).is_none() => {
                assert!(matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ));
                would_block += 1;
            }
            Err(e) => break e,
            Ok(n) => panic!("unexpected {n} bytes"),
        }
    };
    assert!(
        would_block >= 1,
        "the transport's timeouts reached the caller"
    );
    assert_eq!(tls_error(&err), Some(&Error::Timeout(TimeoutPhase::Idle)));
}

#[test]
fn eof_during_the_handshake_is_truncation() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let closer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        // Read the ClientHello, then hang up without a word.
        let _ = s.read(&mut [0u8; 4096]);
    });
    let cfg = config(&pki).build().unwrap();
    let mut tls = TlsStream::new(TcpStream::connect(addr).unwrap(), "localhost", &cfg)
        .unwrap()
        .use_read_timeouts();
    let err = tls.handshake().unwrap_err();
    closer.join().unwrap();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    assert_eq!(
        tls_error(&err),
        Some(&Error::Peer(PeerError::Truncated {
            during_handshake: true
        }))
    );
    assert!(matches!(
        tlsferry::Error::from_io(err),
        tlsferry::Error::Tls(Error::Peer(PeerError::Truncated { .. }))
    ));
}

#[derive(Default)]
struct Log {
    transmitted: Vec<Vec<u8>>,
    received: usize,
    plaintext: Vec<u8>,
    finished: usize,
}

struct Recorder(Arc<Mutex<Log>>);

impl Tap for Recorder {
    fn transmitted(&mut self, ciphertext: &[u8]) {
        self.0.lock().unwrap().transmitted.push(ciphertext.to_vec());
    }
    fn received(&mut self, ciphertext: &[u8]) {
        self.0.lock().unwrap().received += ciphertext.len();
    }
    fn plaintext_sent(&mut self, data: &[u8]) {
        self.0.lock().unwrap().plaintext.extend_from_slice(data);
    }
    fn finished(&mut self) {
        self.0.lock().unwrap().finished += 1;
    }
}

#[test]
fn the_tap_sees_the_whole_session_once() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let cfg = config(&pki).build().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let mut tls = TlsStream::new(tcp(&server), "localhost", &cfg)
        .unwrap()
        .use_read_timeouts()
        .with_tap(Box::new(Recorder(log.clone())));
    tls.write_all(b"tapped").unwrap();
    assert_eq!(read_exact_retrying(&mut tls, 6), b"tapped");
    tls.shutdown().unwrap();
    tls.read_to_end(&mut Vec::new()).unwrap();
    let stats = tls.stats();
    let tcp = tls.into_inner();
    assert_eq!(tcp.peer_addr().unwrap(), server.addr());
    let log = log.lock().unwrap();
    // The first bytes out are the ClientHello record: handshake (22), TLS 1.x.
    assert_eq!(&log.transmitted[0][..2], &[22, 3]);
    assert_eq!(log.transmitted[0][5], 1, "ClientHello");
    let sent: usize = log.transmitted.iter().map(Vec::len).sum();
    assert_eq!(sent as u64, stats.ciphertext_sent);
    assert_eq!(log.received as u64, stats.ciphertext_received);
    assert_eq!(log.plaintext, b"tapped");
    assert_eq!(log.finished, 1);
}

/// A TCP transport that records every read timeout it is given.
struct CountingTimeouts {
    inner: TcpStream,
    set: Vec<Option<Duration>>,
}

impl Read for CountingTimeouts {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Small reads: many reads per exchange.
        let n = buf.len().min(100);
        self.inner.read(&mut buf[..n])
    }
}

impl Write for CountingTimeouts {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Transport for CountingTimeouts {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.set.push(timeout);
        self.inner.set_read_timeout(timeout)
    }
}

#[test]
fn an_unchanged_read_timeout_is_not_set_again() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    // No handshake or idle deadline: the timeout is "none" for every read.
    let cfg = config(&pki).handshake_timeout(None).build().unwrap();
    let io = CountingTimeouts {
        inner: tcp(&server),
        set: Vec::new(),
    };
    let mut tls = TlsStream::new(io, "localhost", &cfg)
        .unwrap()
        .use_read_timeouts();
    let sent = data(20_000);
    tls.write_all(&sent).unwrap();
    assert_eq!(read_exact_retrying(&mut tls, sent.len()), sent);
    assert_eq!(tls.get_ref().set, [None], "set once for 200+ reads");
    // A caller's timeout is applied, and lifting it is applied too.
    tls.set_read_timeout(Some(Duration::from_millis(50)));
    assert_eq!(
        tls.read(&mut [0u8; 1]).unwrap_err().kind(),
        io::ErrorKind::TimedOut
    );
    tls.set_read_timeout(None);
    tls.write_all(b"ab").unwrap();
    assert_eq!(read_exact_retrying(&mut tls, 2), b"ab");
    let set = &tls.get_ref().set;
    assert!(
        matches!(set[1], Some(t) if t <= Duration::from_millis(50)),
        "{set:?}"
    );
    assert_eq!(set.last(), Some(&None), "{set:?}");
    // After `get_mut` the transport's timeout is unknown: set again.
    let before = tls.get_mut().set.len();
    tls.write_all(b"c").unwrap();
    assert_eq!(read_exact_retrying(&mut tls, 1), b"c");
    assert_eq!(tls.get_ref().set.len(), before + 1);
}
