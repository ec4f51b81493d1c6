//! A raw-record TLS test server on 127.0.0.1 for the peers openssl cannot imitate:
//! oversized records, handshake messages over 64 KiB, plain HTTP or random bytes in reply
//! to a ClientHello, unknown alerts, stalls, a ServerHello choosing what the client did
//! not offer. It accepts one connection and plays a [`Step`] script; it is stopped and its
//! socket closed when dropped.
//!
//! The record helpers ([`record`], [`handshake`], [`alert`], [`server_hello`]) build the
//! bytes; [`ClientHello`] decodes the few fields a reply must echo. [`Conn`] drives the
//! core over a socket for tests against this and other real servers.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tlsferry_core::{Client, Config, Error, Event, Input, Output};

/// TLS record content types.
pub const CHANGE_CIPHER_SPEC: u8 = 20;
/// Alert records.
pub const ALERT: u8 = 21;
/// Handshake records.
pub const HANDSHAKE: u8 = 22;
/// Application data records.
pub const APPLICATION_DATA: u8 = 23;

/// Largest plaintext record payload TLS allows (2^14).
pub const MAX_PLAINTEXT: usize = 16 * 1024;

/// A function of the ClientHello that produces the bytes to send.
pub type Reply = Box<dyn FnOnce(&ClientHello) -> Vec<u8> + Send>;

/// One step of the server's script.
pub enum Step {
    /// Reads whole records until the client's first handshake message (the ClientHello)
    /// is complete.
    ReadClientHello,
    /// Sends these bytes.
    Send(Vec<u8>),
    /// Sends the bytes computed from the ClientHello (echoing its session id, say).
    Reply(Reply),
    /// Waits this long.
    Sleep(Duration),
    /// Holds the connection open, reading and discarding, until the server is dropped.
    Stall,
    /// Closes the sending direction (the client sees EOF) and keeps reading.
    CloseWrite,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::ReadClientHello => f.write_str("ReadClientHello"),
            Step::Send(b) => write!(f, "Send({} bytes)", b.len()),
            Step::Reply(_) => f.write_str("Reply(..)"),
            Step::Sleep(d) => write!(f, "Sleep({d:?})"),
            Step::Stall => f.write_str("Stall"),
            Step::CloseWrite => f.write_str("CloseWrite"),
        }
    }
}

/// The fields of a ClientHello a scripted reply needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// The whole handshake message (type, length, body).
    pub message: Vec<u8>,
    /// legacy_session_id, echoed by a TLS 1.3 ServerHello.
    pub session_id: Vec<u8>,
    /// Offered cipher suites.
    pub cipher_suites: Vec<u16>,
    /// Groups in the supported_groups extension.
    pub groups: Vec<u16>,
}

impl ClientHello {
    /// Decodes a ClientHello handshake message; `None` if it is not one.
    pub fn parse(message: &[u8]) -> Option<ClientHello> {
        let mut r = Reader(message);
        if r.u8()? != 1 {
            return None;
        }
        let body_len = r.u24()?;
        let mut body = Reader(r.take(body_len)?);
        body.take(2 + 32)?; // legacy_version, random
        let sid_len = usize::from(body.u8()?);
        let session_id = body.take(sid_len)?.to_vec();
        let suites_len = usize::from(body.u16()?);
        let mut suites = Reader(body.take(suites_len)?);
        let mut cipher_suites = Vec::new();
        while let Some(s) = suites.u16() {
            cipher_suites.push(s);
        }
        let comp_len = usize::from(body.u8()?);
        body.take(comp_len)?;
        let mut groups = Vec::new();
        if let Some(ext_len) = body.u16() {
            let mut exts = Reader(body.take(usize::from(ext_len))?);
            while let (Some(typ), Some(len)) = (exts.u16(), exts.u16()) {
                let data = exts.take(usize::from(len))?;
                if typ == 10 {
                    let mut g = Reader(data);
                    g.u16()?;
                    while let Some(v) = g.u16() {
                        groups.push(v);
                    }
                }
            }
        }
        Some(ClientHello {
            message: message.to_vec(),
            session_id,
            cipher_suites,
            groups,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|b| usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }
}

/// One TLS record (version 0x0303) around `payload`, whatever its length: oversized
/// payloads make oversized records.
pub fn record(content_type: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).expect("record payload fits a u16 length");
    let mut v = vec![content_type, 3, 3];
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// `payload` split into records of at most [`MAX_PLAINTEXT`] bytes.
pub fn records(content_type: u8, payload: &[u8]) -> Vec<u8> {
    payload
        .chunks(MAX_PLAINTEXT)
        .flat_map(|c| record(content_type, c))
        .collect()
}

/// A handshake message: type, 24-bit length, body.
pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).expect("body length");
    assert!(len < 1 << 24, "handshake body over 16 MiB");
    let mut v = vec![msg_type];
    v.extend_from_slice(&len.to_be_bytes()[1..]);
    v.extend_from_slice(body);
    v
}

/// An alert record: level (1 warning, 2 fatal) and description.
pub fn alert(level: u8, description: u8) -> Vec<u8> {
    record(ALERT, &[level, description])
}

/// What a scripted ServerHello says.
#[derive(Clone, Debug)]
pub struct ServerHelloSpec {
    /// The chosen cipher suite.
    pub cipher_suite: u16,
    /// TLS 1.3 (supported_versions = 0x0304 and a key share) or TLS 1.2.
    pub tls13: bool,
    /// The key share's group (TLS 1.3 only).
    pub key_share_group: u16,
    /// The key share's public value (TLS 1.3 only).
    pub key_share: Vec<u8>,
}

/// A ServerHello handshake message answering `hello` as `spec` says.
pub fn server_hello(hello: &ClientHello, spec: &ServerHelloSpec) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend((0..32u8).map(|i| i.wrapping_mul(37).wrapping_add(11)));
    let sid = if spec.tls13 {
        &hello.session_id[..]
    } else {
        &[][..]
    };
    body.push(u8::try_from(sid.len()).expect("session id length"));
    body.extend_from_slice(sid);
    body.extend_from_slice(&spec.cipher_suite.to_be_bytes());
    body.push(0); // compression: null
    let mut exts = Vec::new();
    if spec.tls13 {
        exts.extend_from_slice(&[0, 43, 0, 2, 3, 4]); // supported_versions: TLS 1.3
        let mut ks = spec.key_share_group.to_be_bytes().to_vec();
        let klen = u16::try_from(spec.key_share.len()).expect("key share length");
        ks.extend_from_slice(&klen.to_be_bytes());
        ks.extend_from_slice(&spec.key_share);
        exts.extend_from_slice(&[0, 51]);
        exts.extend_from_slice(&u16::try_from(ks.len()).expect("ext").to_be_bytes());
        exts.extend_from_slice(&ks);
    } else {
        exts.extend_from_slice(&[0xff, 0x01, 0, 1, 0]); // renegotiation_info (empty)
    }
    body.extend_from_slice(&u16::try_from(exts.len()).expect("exts").to_be_bytes());
    body.extend_from_slice(&exts);
    handshake(2, &body)
}

/// The scripted server. Dropping it stops the script and closes the connection.
#[derive(Debug)]
pub struct RawServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    received: Arc<Mutex<Vec<u8>>>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl RawServer {
    /// Listens on 127.0.0.1 (a free port) and plays `script` to the first client.
    pub fn start(script: Vec<Step>) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let stop = stop.clone();
            let received = received.clone();
            std::thread::spawn(move || serve(listener, script, &stop, &received))
        };
        RawServer {
            addr,
            stop,
            received,
            thread: Some(thread),
        }
    }

    /// The address to connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every byte the client sent so far.
    pub fn received(&self) -> Vec<u8> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits up to `timeout` until the client has sent more than `len` bytes; returns
    /// everything it sent.
    pub fn received_more_than(&self, len: usize, timeout: Duration) -> Vec<u8> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() > len || Instant::now() >= deadline {
                return got;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Stops the script, closes the connection, and returns the script's own error if
    /// it failed (e.g. the client never sent a ClientHello).
    pub fn finish(mut self) -> Result<(), String> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), String> {
        self.stop.store(true, Ordering::SeqCst);
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        // Unblock a pending accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        thread
            .join()
            .map_err(|_| "raw server thread panicked".to_string())?
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// How often a blocked read wakes to check for the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// Longest any script waits for the client.
const CLIENT_WAIT: Duration = Duration::from_secs(20);

fn serve(
    listener: TcpListener,
    script: Vec<Step>,
    stop: &AtomicBool,
    received: &Mutex<Vec<u8>>,
) -> Result<(), String> {
    let (mut conn, _) = listener.accept().map_err(|e| e.to_string())?;
    if stop.load(Ordering::SeqCst) {
        return Ok(());
    }
    conn.set_read_timeout(Some(POLL))
        .map_err(|e| e.to_string())?;
    let mut hello = ClientHello::default();
    for step in script {
        match step {
            Step::ReadClientHello => {
                let msg = read_first_handshake_message(&mut conn, stop, received)?;
                hello = ClientHello::parse(&msg)
                    .ok_or("the client's first message is not a ClientHello")?;
            }
            Step::Send(bytes) => send(&mut conn, &bytes)?,
            Step::Reply(f) => send(&mut conn, &f(&hello))?,
            Step::Sleep(d) => std::thread::sleep(d),
            Step::Stall => {
                while !stop.load(Ordering::SeqCst) {
                    if read_some(&mut conn, received).is_err() {
                        break;
                    }
                }
            }
            Step::CloseWrite => {
                let _ = conn.shutdown(Shutdown::Write);
            }
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
    }
    // Keep the connection until the test is done with it, so the client sees exactly
    // the script's bytes and EOFs.
    let deadline = Instant::now() + CLIENT_WAIT;
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match read_some(&mut conn, received) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

fn send(conn: &mut TcpStream, bytes: &[u8]) -> Result<(), String> {
    // The client may have given up already (that is what many scripts provoke).
    let _ = conn.write_all(bytes);
    let _ = conn.flush();
    Ok(())
}

/// Reads what is there (0 at EOF); a read timeout counts as `Ok(usize::MAX)`.
fn read_some(conn: &mut TcpStream, received: &Mutex<Vec<u8>>) -> std::io::Result<usize> {
    let mut buf = [0u8; 16 * 1024];
    match conn.read(&mut buf) {
        Ok(n) => {
            received.lock().expect("lock").extend_from_slice(&buf[..n]);
            Ok(n)
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Ok(usize::MAX)
        }
        Err(e) => Err(e),
    }
}

fn read_first_handshake_message(
    conn: &mut TcpStream,
    stop: &AtomicBool,
    received: &Mutex<Vec<u8>>,
) -> Result<Vec<u8>, String> {
    let deadline = Instant::now() + CLIENT_WAIT;
    loop {
        if let Some(msg) = first_handshake_message(&received.lock().expect("lock")) {
            return Ok(msg);
        }
        if stop.load(Ordering::SeqCst) || Instant::now() > deadline {
            return Err("no ClientHello arrived".into());
        }
        match read_some(conn, received) {
            Ok(0) => return Err("client closed before its ClientHello".into()),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The first complete handshake message in a stream of records, if there is one yet.
pub fn first_handshake_message(stream: &[u8]) -> Option<Vec<u8>> {
    let mut payload = Vec::new();
    let mut r = Reader(stream);
    while let (Some(typ), Some(_version), Some(len)) = (r.u8(), r.u16(), r.u16()) {
        let body = r.take(usize::from(len))?;
        if typ != HANDSHAKE {
            continue;
        }
        payload.extend_from_slice(body);
        let mut h = Reader(&payload);
        if let (Some(_t), Some(n)) = (h.u8(), h.u24()) {
            if payload.len() >= 4 + n {
                return Some(payload[..4 + n].to_vec());
            }
        }
    }
    None
}

/// No verdict may take longer than this: a hang is a failure.
pub const VERDICT_WITHIN: Duration = Duration::from_secs(20);

/// A minimal blocking driver of the core over a `TcpStream`, with the real monotonic
/// clock. Deliberately independent of the native crate's driver, so that a bug there
/// cannot hide one in the core (or the other way round).
#[derive(Debug)]
pub struct Conn {
    pub client: Client,
    pub sock: TcpStream,
    pub origin: std::time::Instant,
    pub events: Vec<Event>,
    pub received: Vec<u8>,
    pub error: Option<Error>,
    pub eof: bool,
    /// Ciphertext bytes read from the socket so far.
    pub ciphertext_in: usize,
}

impl Conn {
    /// Connects to `addr` and sends the ClientHello for `name`.
    pub fn open(config: &Config, addr: SocketAddr, name: &str) -> Conn {
        let sock = TcpStream::connect(addr).expect("connect to 127.0.0.1");
        let origin = std::time::Instant::now();
        let client = Client::new(name, config, tlsferry_core::Instant::ZERO).expect("client");
        let mut c = Conn {
            client,
            sock,
            origin,
            events: Vec::new(),
            received: Vec::new(),
            error: None,
            eof: false,
            ciphertext_in: 0,
        };
        c.flush();
        c
    }

    /// Now on the driver's monotonic clock.
    pub fn now(&self) -> tlsferry_core::Instant {
        tlsferry_core::Instant::from_duration(self.origin.elapsed())
    }

    /// Drains the outputs, writing ciphertext to the socket; returns the deadline.
    pub fn flush(&mut self) -> Option<tlsferry_core::Instant> {
        loop {
            match self.client.poll_output() {
                Output::Transmit(b) => {
                    // The peer may be gone; the verdict comes from the core.
                    let _ = self.sock.write_all(&b);
                }
                Output::Event(Event::Data(d)) => self.received.extend_from_slice(&d),
                Output::Event(e) => self.events.push(e),
                Output::Wait(deadline) => return deadline,
            }
        }
    }

    /// Feeds one input, keeping the first error.
    pub fn feed(&mut self, input: Input<'_>) {
        if let Err(e) = self.client.handle_input(input) {
            self.error.get_or_insert(e);
        }
    }

    /// One read from the socket (or a tick when the core's deadline comes first).
    pub fn step(&mut self) {
        let deadline = self.flush();
        let mut wait = Duration::from_millis(100);
        if let Some(d) = deadline {
            wait = wait.min(d.saturating_duration_since(self.now()));
        }
        self.sock
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .expect("timeout");
        let capacity = self.client.receive_capacity();
        assert!(
            capacity > 0,
            "the core's receive buffer is full and it cannot make progress"
        );
        let mut buf = vec![0u8; capacity.min(32 * 1024)];
        match self.sock.read(&mut buf) {
            Ok(0) => {
                self.eof = true;
                let now = self.now();
                self.feed(Input::Eof(now));
            }
            Ok(n) => {
                let now = self.now();
                self.ciphertext_in += n;
                self.feed(Input::Receive(now, &buf[..n]));
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                let now = self.now();
                self.feed(Input::Tick(now));
            }
            Err(_) => {
                // A reset is an EOF without close_notify as far as TLS can tell.
                self.eof = true;
                let now = self.now();
                self.feed(Input::Eof(now));
            }
        }
        self.flush();
    }

    /// Steps until `done` holds, the connection failed or ended; panics on a hang.
    pub fn run_until(&mut self, mut done: impl FnMut(&Conn) -> bool) {
        let start = std::time::Instant::now();
        while !done(self) && self.error.is_none() && !self.client.is_finished() && !self.eof {
            assert!(
                start.elapsed() < VERDICT_WITHIN,
                "no verdict within {VERDICT_WITHIN:?}: the client hangs"
            );
            self.step();
        }
    }

    /// Runs to the end and returns the error that ended the connection.
    pub fn expect_error(mut self) -> Error {
        self.run_until(|_| false);
        self.error.take().unwrap_or_else(|| {
            panic!(
                "the connection ended without an error: events {:?}",
                self.events
            )
        })
    }

    /// True once `Connected` was seen.
    pub fn connected(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::Connected(_)))
    }

    /// Queues `data` (all of it) and transmits what can go.
    pub fn send(&mut self, data: &[u8]) {
        assert_eq!(self.client.send(data).expect("send"), data.len());
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_round_trips_through_the_parser() {
        let mut body = vec![3, 3];
        body.extend([7u8; 32]);
        body.extend([4, 1, 2, 3, 4]); // session id
        body.extend([0, 4, 0x13, 0x01, 0x13, 0x02]); // suites
        body.extend([1, 0]); // compression
        let ext = [0u8, 10, 0, 6, 0, 4, 0, 29, 0, 23];
        body.extend((ext.len() as u16).to_be_bytes());
        body.extend(ext);
        let msg = handshake(1, &body);
        let stream = [record(HANDSHAKE, &msg[..10]), record(HANDSHAKE, &msg[10..])].concat();
        let found = first_handshake_message(&stream).expect("complete message");
        assert_eq!(found, msg);
        let hello = ClientHello::parse(&found).expect("parses");
        assert_eq!(hello.session_id, [1, 2, 3, 4]);
        assert_eq!(hello.cipher_suites, [0x1301, 0x1302]);
        assert_eq!(hello.groups, [29, 23]);
        assert!(first_handshake_message(&stream[..stream.len() - 1]).is_none());
    }
}
