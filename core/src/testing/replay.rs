//! Recording a session into a [`Transcript`] and replaying it offline.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::hex;
use super::seeded::Seed;
use super::session::{Fingerprint, Session};
use super::transcript::{Entry, Transcript};
use crate::error::{ConfigError, Error, LocalError};
use crate::event::{ConnectionInfo, Event, Output};
use crate::{Client, Input, Instant};

/// How many bytes of context a [`Divergence`] shows on each side.
const CONTEXT: usize = 16;

/// Collects a session into a [`Transcript`] as a driver reports it. Drivers that own a
/// [`Client`] call these hooks; [`RecordingClient`] calls them for you.
#[derive(Clone, Debug)]
pub struct Recorder {
    transcript: Transcript,
}

impl Recorder {
    /// Starts recording `session`; fails if its settings do not build a configuration.
    pub fn new(session: &Session) -> Result<Recorder, ConfigError> {
        let fingerprint = session.fingerprint()?;
        Ok(Recorder {
            transcript: Transcript::new(session.clone(), &fingerprint),
        })
    }

    /// The client transmitted these ciphertext bytes.
    pub fn transmitted(&mut self, ciphertext: &[u8]) {
        if !ciphertext.is_empty() {
            self.transcript
                .entries
                .push(Entry::Client(ciphertext.to_vec()));
        }
    }

    /// The client was fed these ciphertext bytes from the server.
    pub fn received(&mut self, ciphertext: &[u8]) {
        if !ciphertext.is_empty() {
            self.transcript
                .entries
                .push(Entry::Server(ciphertext.to_vec()));
        }
    }

    /// The application's plaintext that `Client::send` accepted.
    pub fn plaintext_sent(&mut self, plaintext: &[u8]) {
        if !plaintext.is_empty() {
            self.transcript
                .entries
                .push(Entry::Send(plaintext.to_vec()));
        }
    }

    /// The application called `Client::close`.
    pub fn closed(&mut self) {
        self.transcript.entries.push(Entry::Close);
    }

    /// The transport ended (`Input::Eof` was fed).
    pub fn eof(&mut self) {
        self.transcript.entries.push(Entry::Eof);
    }

    /// The transcript so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// The finished transcript.
    pub fn into_transcript(self) -> Transcript {
        self.transcript
    }
}

/// A deterministic [`Client`] that records everything crossing its doors: use it in
/// place of `Client` (same methods) to record a session with any driver.
#[derive(Debug)]
pub struct RecordingClient {
    client: Client,
    recorder: Recorder,
    eof: bool,
}

impl RecordingClient {
    /// A fresh deterministic client for `session`, recording.
    pub fn new(session: &Session) -> Result<RecordingClient, Error> {
        let recorder = Recorder::new(session)?;
        Ok(RecordingClient {
            client: session.client()?,
            recorder,
            eof: false,
        })
    }

    /// The wrapped client (getters).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The transcript so far.
    pub fn transcript(&self) -> &Transcript {
        self.recorder.transcript()
    }

    /// The finished transcript.
    pub fn into_transcript(self) -> Transcript {
        self.recorder.into_transcript()
    }

    /// [`Client::handle_input`], recording the ciphertext the client consumed.
    pub fn handle_input(&mut self, input: Input<'_>) -> Result<(), Error> {
        let live = self.client.error().is_none() && !self.eof;
        match input {
            Input::Receive(_, bytes) if live && bytes.len() <= self.client.receive_capacity() => {
                self.recorder.received(bytes)
            }
            Input::Received(_, n) if live => {
                // The bytes sit at the start of the client's receive buffer (more than it
                // offered is refused below, and not recorded).
                if let Some(bytes) = self.client.receive_buffer().get(..n) {
                    self.recorder.received(bytes)
                }
            }
            Input::Eof(_) if live => {
                self.eof = true;
                self.recorder.eof();
            }
            _ => {}
        }
        self.client.handle_input(input)
    }

    /// [`Client::receive_buffer`]: read into it, then feed [`Input::Received`].
    pub fn receive_buffer(&mut self) -> &mut [u8] {
        self.client.receive_buffer()
    }

    /// [`Client::send`], recording the plaintext accepted.
    pub fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        let n = self.client.send(data)?;
        self.recorder
            .plaintext_sent(data.get(..n).unwrap_or_default());
        Ok(n)
    }

    /// [`Client::close`], recorded.
    pub fn close(&mut self) -> Result<(), Error> {
        let live = self.client.error().is_none();
        let result = self.client.close();
        if live {
            self.recorder.closed();
        }
        result
    }

    /// [`Client::poll_output`], recording transmitted ciphertext.
    pub fn poll_output(&mut self) -> Output {
        let out = self.client.poll_output();
        if let Output::Transmit(bytes) = &out {
            self.recorder.transmitted(bytes);
        }
        out
    }
}

/// What to change when replaying.
#[derive(Clone, Debug, Default)]
pub struct ReplayOptions {
    /// Replay with this wall clock (Unix seconds) instead of the recorded one.
    pub clock: Option<u64>,
    /// Replay with this seed instead of the recorded one (the client then diverges).
    pub seed: Option<Seed>,
    /// Replay even if the configuration's fingerprint differs from the recorded one.
    pub ignore_fingerprint: bool,
}

/// A successful replay.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// The plaintext the server's recorded bytes decrypt to.
    pub reply: Vec<u8>,
    /// What the handshake negotiated (`None` if the recording ends before it completes).
    pub info: Option<ConnectionInfo>,
    /// The server's `close_notify` arrived.
    pub peer_closed: bool,
    /// Both directions closed.
    pub closed: bool,
    /// Ciphertext bytes the client sent (all matched the recording).
    pub client_bytes: usize,
    /// Ciphertext bytes fed from the recording.
    pub server_bytes: usize,
}

/// How the client's bytes departed from the recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DivergenceKind {
    /// The client sent a different byte.
    Differs,
    /// The client had not sent recorded bytes by the time the recording shows them.
    Missing,
    /// The client sent bytes beyond the end of the recording.
    Extra,
}

/// The first place where the replayed client's bytes differ from the recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// What happened.
    pub kind: DivergenceKind,
    /// The client chunk (1-based: the n-th `client` entry).
    pub chunk: usize,
    /// The line of that chunk in the transcript text.
    pub line: Option<usize>,
    /// Byte offset within that chunk.
    pub offset: usize,
    /// Byte offset within everything the client sent.
    pub stream_offset: usize,
    /// Up to 16 recorded bytes from that offset.
    pub expected: Vec<u8>,
    /// Up to 16 bytes the replayed client sent from that offset.
    pub actual: Vec<u8>,
}

impl Divergence {
    /// A guess at the cause, for people.
    pub fn hint(&self) -> &'static str {
        match (self.chunk, self.kind) {
            (1, DivergenceKind::Differs) if (11..43).contains(&self.offset) => {
                "the ClientHello random differs: a different seed?"
            }
            (1, _) => "the ClientHello differs: a different seed, configuration or rustls version?",
            (_, DivergenceKind::Extra) => {
                "the client sent more than was recorded (did the application send more?)"
            }
            (_, DivergenceKind::Missing) => "the client sent less than was recorded at this point",
            _ => "the client's bytes differ from the recording",
        }
    }
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "replay diverged at client chunk {}", self.chunk)?;
        if let Some(line) = self.line {
            write!(f, " (transcript line {line})")?;
        }
        write!(
            f,
            ", offset {} (byte {} of the client's stream): ",
            self.offset, self.stream_offset
        )?;
        match self.kind {
            DivergenceKind::Differs => write!(
                f,
                "expected {} but the client sent {}",
                spaced(&self.expected),
                spaced(&self.actual)
            )?,
            DivergenceKind::Missing => write!(
                f,
                "expected {} but the client had sent nothing more",
                spaced(&self.expected)
            )?,
            DivergenceKind::Extra => write!(
                f,
                "the recording ends but the client sent {}",
                spaced(&self.actual)
            )?,
        }
        write!(f, " ({})", self.hint())
    }
}

fn spaced(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&hex::encode(&[*b]));
    }
    if bytes.len() == CONTEXT {
        s.push_str(" …");
    }
    if s.is_empty() {
        s.push_str("(nothing)");
    }
    s
}

/// Why a replay failed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ReplayError {
    /// The recorded settings do not build a configuration.
    Config(ConfigError),
    /// The settings built a configuration different from the recorded one (another
    /// rustls, crypto provider or webpki-roots version, or an edited header).
    ConfigMismatch {
        /// The recorded fingerprint.
        recorded: [u8; 32],
        /// The recorded `config` lines, if the transcript has them.
        recorded_description: Option<String>,
        /// The fingerprint now, with its description.
        actual: Fingerprint,
    },
    /// The client's bytes departed from the recording.
    Diverged(Divergence),
    /// The client failed (an expired certificate under a moved clock, a corrupted server
    /// chunk…).
    Tls {
        /// The client's error.
        error: Error,
        /// The entry being replayed (0-based), `None` before the first.
        entry: Option<usize>,
        /// Its transcript line.
        line: Option<usize>,
    },
}

impl ReplayError {
    /// A stable code: `CONFIG`, `CONFIG_MISMATCH`, `DIVERGED`, or the client error's code
    /// (`CERT_EXPIRED`, `PROTOCOL`, …).
    pub fn code(&self) -> &'static str {
        match self {
            ReplayError::Config(_) => "CONFIG",
            ReplayError::ConfigMismatch { .. } => "CONFIG_MISMATCH",
            ReplayError::Diverged(_) => "DIVERGED",
            ReplayError::Tls { error, .. } => error.code(),
        }
    }

    /// The divergence, if this is one.
    pub fn divergence(&self) -> Option<&Divergence> {
        match self {
            ReplayError::Diverged(d) => Some(d),
            _ => None,
        }
    }

    /// The client's error, if this is one.
    pub fn tls_error(&self) -> Option<&Error> {
        match self {
            ReplayError::Tls { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Config(e) => write!(f, "the recorded settings are invalid: {e}"),
            ReplayError::ConfigMismatch {
                recorded,
                recorded_description,
                actual,
            } => {
                write!(
                    f,
                    "the configuration differs from the recording: fingerprint sha256:{} now, \
                     sha256:{} recorded",
                    hex::encode(&actual.digest),
                    hex::encode(recorded),
                )?;
                match recorded_description {
                    Some(before) => {
                        let old: Vec<&str> = before.lines().collect();
                        let new: Vec<&str> = actual.description.lines().collect();
                        for l in old.iter().filter(|l| !new.contains(l)) {
                            write!(f, "\n  recorded: {l}")?;
                        }
                        for l in new.iter().filter(|l| !old.contains(l)) {
                            write!(f, "\n  now:      {l}")?;
                        }
                        Ok(())
                    }
                    None => write!(f, "; now:\n{}", actual.description),
                }
            }
            ReplayError::Diverged(d) => d.fmt(f),
            ReplayError::Tls { error, entry, line } => {
                write!(f, "the client failed")?;
                match (entry, line) {
                    (Some(e), Some(l)) => write!(f, " at entry {} (transcript line {l})", e + 1)?,
                    (Some(e), None) => write!(f, " at entry {}", e + 1)?,
                    _ => {}
                }
                write!(f, ": {error}")
            }
        }
    }
}

impl core::error::Error for ReplayError {}

/// Replays `transcript` with its recorded seed and clock. See [`replay_with`].
pub fn replay(transcript: &Transcript) -> Result<Replay, ReplayError> {
    replay_with(transcript, &ReplayOptions::default())
}

/// Parses `text` and replays it; a parse error comes back as its message.
pub fn replay_text(text: &str) -> Result<Replay, String> {
    let transcript = Transcript::parse(text).map_err(|e| format!("{e}"))?;
    replay(&transcript).map_err(|e| format!("{e}"))
}

/// Drives a fresh deterministic client through the recording, with no socket: feeds the
/// recorded server chunks, `send`s, `close`s and EOFs in order, and checks every byte the
/// client transmits against the recorded client chunks. Returns the decrypted reply.
pub fn replay_with(
    transcript: &Transcript,
    options: &ReplayOptions,
) -> Result<Replay, ReplayError> {
    let mut session = transcript.session.clone();
    if let Some(clock) = options.clock {
        session.clock = clock;
    }
    if let Some(seed) = options.seed {
        session.seed = seed;
    }
    let config = session.config().map_err(ReplayError::Config)?;
    let fingerprint = Fingerprint::of(&config, &session.settings);
    if fingerprint.digest != transcript.fingerprint && !options.ignore_fingerprint {
        return Err(ReplayError::ConfigMismatch {
            recorded: transcript.fingerprint,
            recorded_description: transcript.description.clone(),
            actual: fingerprint,
        });
    }
    let client = Client::new(&session.server_name, &config, Instant::ZERO).map_err(|error| {
        ReplayError::Tls {
            error,
            entry: None,
            line: None,
        }
    })?;
    let mut run = Run::new(transcript, client);
    run.drain().map_err(ReplayError::Diverged)?;
    for (i, entry) in transcript.entries.iter().enumerate() {
        run.step(i, entry)?;
    }
    run.finish()
}

/// The recorded client stream and how far the replay matched it.
struct Expected {
    bytes: Vec<u8>,
    /// (start offset in `bytes`, line) of each client chunk.
    chunks: Vec<(usize, Option<usize>)>,
    matched: usize,
}

impl Expected {
    fn new(transcript: &Transcript) -> Expected {
        let mut bytes = Vec::new();
        let mut chunks = Vec::new();
        for (i, e) in transcript.entries.iter().enumerate() {
            if let Entry::Client(b) = e {
                chunks.push((bytes.len(), transcript.entry_line(i)));
                bytes.extend_from_slice(b);
            }
        }
        Expected {
            bytes,
            chunks,
            matched: 0,
        }
    }

    /// The divergence at stream offset `at`.
    fn divergence(&self, kind: DivergenceKind, at: usize, actual: &[u8]) -> Divergence {
        // The chunk holding `at`; the last chunk (offset at its end) for extra bytes.
        let index = self
            .chunks
            .partition_point(|(start, _)| *start <= at)
            .saturating_sub(1);
        let (start, line) = self.chunks.get(index).copied().unwrap_or((0, None));
        let end = (at + CONTEXT).min(self.bytes.len());
        Divergence {
            kind,
            chunk: index + 1,
            line,
            offset: at - start.min(at),
            stream_offset: at,
            expected: self.bytes.get(at..end).unwrap_or_default().to_vec(),
            actual: actual
                .get(..CONTEXT.min(actual.len()))
                .unwrap_or_default()
                .to_vec(),
        }
    }

    /// Matches transmitted `bytes` against the recording.
    fn check(&mut self, bytes: &[u8]) -> Result<(), Divergence> {
        let at = self.matched;
        let rest = self.bytes.get(at..).unwrap_or_default();
        if let Some(i) = bytes.iter().zip(rest).position(|(a, b)| a != b) {
            return Err(self.divergence(
                DivergenceKind::Differs,
                at + i,
                bytes.get(i..).unwrap_or_default(),
            ));
        }
        if bytes.len() > rest.len() {
            return Err(self.divergence(
                DivergenceKind::Extra,
                at + rest.len(),
                bytes.get(rest.len()..).unwrap_or_default(),
            ));
        }
        self.matched += bytes.len();
        Ok(())
    }

    /// Requires the client to have sent everything up to `end`.
    fn require(&self, end: usize) -> Result<(), Divergence> {
        if self.matched < end {
            return Err(self.divergence(DivergenceKind::Missing, self.matched, &[]));
        }
        Ok(())
    }
}

struct Run<'t> {
    transcript: &'t Transcript,
    client: Client,
    expected: Expected,
    /// End offset (in the client stream) of the client chunks seen so far.
    recorded_so_far: usize,
    reply: Vec<u8>,
    info: Option<ConnectionInfo>,
    peer_closed: bool,
    closed: bool,
    server_bytes: usize,
}

impl<'t> Run<'t> {
    fn new(transcript: &'t Transcript, client: Client) -> Run<'t> {
        Run {
            transcript,
            client,
            expected: Expected::new(transcript),
            recorded_so_far: 0,
            reply: Vec::new(),
            info: None,
            peer_closed: false,
            closed: false,
            server_bytes: 0,
        }
    }

    fn drain(&mut self) -> Result<(), Divergence> {
        loop {
            match self.client.poll_output() {
                Output::Transmit(bytes) => self.expected.check(&bytes)?,
                Output::Event(Event::Connected(info)) => self.info = Some(info),
                Output::Event(Event::Data(d)) => self.reply.extend_from_slice(&d),
                Output::Event(Event::PeerClosed) => self.peer_closed = true,
                Output::Event(Event::Closed) => self.closed = true,
                Output::Wait(_) => return Ok(()),
            }
        }
    }

    fn tls(&self, i: usize, error: Error) -> ReplayError {
        ReplayError::Tls {
            error,
            entry: Some(i),
            line: self.transcript.entry_line(i),
        }
    }

    /// Runs `result`, drains the client; a client error wins over the divergence its
    /// alert causes.
    fn after(&mut self, i: usize, result: Result<(), Error>) -> Result<(), ReplayError> {
        let drained = self.drain();
        result.map_err(|e| self.tls(i, e))?;
        drained.map_err(ReplayError::Diverged)
    }

    fn step(&mut self, i: usize, entry: &Entry) -> Result<(), ReplayError> {
        match entry {
            Entry::Client(bytes) => {
                self.recorded_so_far += bytes.len();
                self.expected
                    .require(self.recorded_so_far)
                    .map_err(ReplayError::Diverged)
            }
            Entry::Server(bytes) => {
                self.server_bytes += bytes.len();
                let mut rest: &[u8] = bytes;
                while !rest.is_empty() {
                    let n = rest.len().min(self.client.receive_capacity());
                    if n == 0 {
                        return Err(self.tls(
                            i,
                            Error::Local(LocalError::ReceiveBufferFull { capacity: 0 }),
                        ));
                    }
                    let (piece, tail) = rest.split_at(n);
                    let result = self
                        .client
                        .handle_input(Input::Receive(Instant::ZERO, piece));
                    self.after(i, result)?;
                    rest = tail;
                }
                Ok(())
            }
            Entry::Send(bytes) => {
                let mut rest: &[u8] = bytes;
                while !rest.is_empty() {
                    let n = match self.client.send(rest) {
                        Ok(n) => n,
                        Err(e) => return Err(self.tls(i, e)),
                    };
                    self.after(i, Ok(()))?;
                    if n == 0 && self.client.send_capacity() == 0 {
                        return Err(self.tls(
                            i,
                            Error::Local(LocalError::Environment(
                                "send buffer full and nothing drains it".into(),
                            )),
                        ));
                    }
                    rest = rest.get(n..).unwrap_or_default();
                }
                Ok(())
            }
            Entry::Close => {
                let result = self.client.close();
                self.after(i, result)
            }
            Entry::Eof => {
                let result = self.client.handle_input(Input::Eof(Instant::ZERO));
                self.after(i, result)
            }
        }
    }

    fn finish(self) -> Result<Replay, ReplayError> {
        self.expected
            .require(self.expected.bytes.len())
            .map_err(ReplayError::Diverged)?;
        Ok(Replay {
            reply: self.reply,
            info: self.info,
            peer_closed: self.peer_closed,
            closed: self.closed,
            client_bytes: self.expected.matched,
            server_bytes: self.server_bytes,
        })
    }
}
