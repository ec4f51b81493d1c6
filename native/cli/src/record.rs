//! Recording and replaying deterministic sessions: `tlsferry connect --record FILE` and
//! `tlsferry replay FILE`, plus [`replay_file`], the one-call test helper.
//!
//! A recorded session used keys derived from a seed written into the transcript: anyone
//! holding the file can decrypt it. Record only test traffic.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::args::ReplayArgs;
use std::sync::{Arc, Mutex};

use tlsferry_core::testing::{
    replay_with, ParseError, Recorder, Replay, ReplayError, ReplayOptions, Seed, Session, Settings,
    Transcript,
};
use tlsferry_core::{Config, ConfigBuilder, ConfigError, Version};

use tlsferry::Tap;

/// Why [`replay_file`] failed.
#[derive(Debug)]
pub enum ReplayFileError {
    /// The file could not be read.
    Io(PathBuf, std::io::Error),
    /// The file is not a valid transcript.
    Parse(PathBuf, ParseError),
    /// The replay failed: divergence, client error or configuration mismatch.
    Replay(PathBuf, Box<ReplayError>),
}

impl ReplayFileError {
    /// The replay failure, if the file parsed.
    pub fn replay_error(&self) -> Option<&ReplayError> {
        match self {
            ReplayFileError::Replay(_, e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for ReplayFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayFileError::Io(p, e) => write!(f, "cannot read {}: {e}", p.display()),
            ReplayFileError::Parse(p, e) => write!(f, "{}: {e}", p.display()),
            ReplayFileError::Replay(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

impl std::error::Error for ReplayFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReplayFileError::Io(_, e) => Some(e),
            ReplayFileError::Parse(_, e) => Some(e),
            ReplayFileError::Replay(_, e) => Some(&**e),
        }
    }
}

/// Reads a transcript file.
pub fn read_transcript(path: impl AsRef<Path>) -> Result<Transcript, ReplayFileError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| ReplayFileError::Io(path.into(), e))?;
    Transcript::parse(&text).map_err(|e| ReplayFileError::Parse(path.into(), e))
}

/// Replays the transcript in `path` with its recorded seed and clock, offline, in one
/// call: the test helper.
///
/// ```no_run
/// let replay = tlsferry_cli::record::replay_file("tests/data/transcripts/openssl-tls13.transcript")?;
/// assert_eq!(replay.reply, b"!dlroW ,olleH\n");
/// # Ok::<(), tlsferry_cli::record::ReplayFileError>(())
/// ```
pub fn replay_file(path: impl AsRef<Path>) -> Result<Replay, ReplayFileError> {
    replay_file_with(path, &ReplayOptions::default())
}

/// [`replay_file`] with options (another clock or seed).
pub fn replay_file_with(
    path: impl AsRef<Path>,
    options: &ReplayOptions,
) -> Result<Replay, ReplayFileError> {
    let path = path.as_ref();
    let transcript = read_transcript(path)?;
    replay_with(&transcript, options).map_err(|e| ReplayFileError::Replay(path.into(), Box::new(e)))
}

/// Writes `transcript` to `path`.
pub fn write_transcript(path: impl AsRef<Path>, transcript: &Transcript) -> std::io::Result<()> {
    std::fs::write(path, transcript.to_text())
}

/// A random seed from the operating system, for recordings without `--seed`.
pub fn random_seed() -> Seed {
    use rand_core::RngCore;
    let mut seed = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut seed);
    Seed(seed)
}

/// A `connect --record FILE` session: the deterministic configuration to connect with,
/// the [`Tap`] to attach to the stream, and the file to save.
#[derive(Debug)]
pub struct Recording {
    path: PathBuf,
    session: Session,
    recorder: Arc<Mutex<Recorder>>,
}

impl Recording {
    /// Prepares recording `session` into `path` (written by [`Recording::save`]).
    pub fn new(path: impl Into<PathBuf>, session: Session) -> Result<Recording, ConfigError> {
        let recorder = Recorder::new(&session)?;
        Ok(Recording {
            path: path.into(),
            session,
            recorder: Arc::new(Mutex::new(recorder)),
        })
    }

    /// The session being recorded.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Where the transcript goes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The deterministic configuration to connect with; `adjust` may set what does not
    /// change the client's bytes (timeouts, key log).
    pub fn config(
        &self,
        adjust: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
    ) -> Result<Config, ConfigError> {
        self.session.config_with(adjust)
    }

    /// The tap to attach to the [`tlsferry::TlsStream`] before its first I/O.
    pub fn tap(&self) -> Box<dyn Tap> {
        Box::new(RecordTap(self.recorder.clone()))
    }

    /// The loud note that deterministic keys are in use, for stderr.
    pub fn warning(&self) -> String {
        format!(
            "tlsferry: WARNING: --record uses DETERMINISTIC keys derived from seed {}: \
             anyone with {} can decrypt this session. Testing only.",
            self.session.seed,
            self.path.display()
        )
    }

    /// Writes the transcript so far; returns how many entries it holds.
    pub fn save(&self) -> std::io::Result<usize> {
        let transcript = lock(&self.recorder).transcript().clone();
        write_transcript(&self.path, &transcript)?;
        Ok(transcript.entries.len())
    }
}

/// Builds the [`Session`] of a `connect --record`: `seed` (random if `None`), the
/// system clock now, and the options that shape the client's bytes: versions, ALPN,
/// trust (the CA file's PEM, or the Mozilla roots), `--insecure`.
pub fn connect_session(
    seed: Option<Seed>,
    server_name: &str,
    versions: &[Version],
    alpn: &[String],
    cafile_pem: Option<&[u8]>,
    insecure: bool,
) -> Result<Session, ConfigError> {
    let mut settings = Settings {
        alpn: alpn.iter().map(|p| p.as_bytes().to_vec()).collect(),
        verify: !insecure,
        ..Settings::default()
    };
    if !versions.is_empty() {
        settings.versions = versions.to_vec();
    }
    if let Some(pem) = cafile_pem {
        let roots =
            tlsferry_core::parse_certificates(pem, tlsferry_core::PemInput::CaCertificates)?;
        settings = settings.with_roots_only(roots);
    }
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(Session {
        seed: seed.unwrap_or_else(random_seed),
        clock,
        server_name: server_name.into(),
        settings,
    })
}

fn lock(recorder: &Mutex<Recorder>) -> std::sync::MutexGuard<'_, Recorder> {
    recorder
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Feeds a [`TlsStream`](tlsferry::TlsStream)'s [`Tap`] calls into a [`Recorder`].
struct RecordTap(Arc<Mutex<Recorder>>);

impl Tap for RecordTap {
    fn transmitted(&mut self, ciphertext: &[u8]) {
        lock(&self.0).transmitted(ciphertext);
    }

    fn received(&mut self, ciphertext: &[u8]) {
        lock(&self.0).received(ciphertext);
    }

    fn plaintext_sent(&mut self, data: &[u8]) {
        lock(&self.0).plaintext_sent(data);
    }

    fn closed(&mut self) {
        lock(&self.0).closed();
    }

    fn eof(&mut self) {
        lock(&self.0).eof();
    }
}

/// Help for `tlsferry replay`.
pub const REPLAY_HELP: &str =
    "usage: tlsferry replay FILE [--time UNIX] [--seed HEX] [--ignore-fingerprint]

Replays a transcript recorded with `tlsferry connect --record FILE`, offline: a fresh
deterministic client is fed the recorded server bytes, its own bytes must match the
recording, and the decrypted reply is printed on stdout.

  --time UNIX            check certificates at this Unix time instead of the recorded clock
  --seed HEX             use another 32-byte seed (64 hex digits): the replay then diverges
  --ignore-fingerprint   replay even if this build configures the client differently

exit codes: 0 the replay matched; 2 bad usage or unreadable/invalid transcript;
            3 the replay failed (divergence, TLS or certificate error, config mismatch)";

/// Runs `tlsferry replay` with parsed arguments and returns the process exit code.
pub fn replay_cli(args: &ReplayArgs) -> ExitCode {
    let options = ReplayOptions {
        clock: args.time,
        seed: args.seed,
        ignore_fingerprint: args.ignore_fingerprint,
    };
    let file = &args.file;
    match replay_file_with(file, &options) {
        Ok(replay) => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(&replay.reply)
                .and_then(|_| out.flush())
                .is_err()
            {
                return ExitCode::from(1);
            }
            let negotiated = replay
                .info
                .as_ref()
                .map(|i| format!("{} {}", i.version, i.cipher_suite))
                .unwrap_or_else(|| "handshake incomplete".into());
            eprintln!(
                "tlsferry: replay matched the recording ({negotiated}; client sent {} bytes, \
                 server {} bytes; reply {} bytes)",
                replay.client_bytes,
                replay.server_bytes,
                replay.reply.len()
            );
            ExitCode::SUCCESS
        }
        Err(e @ (ReplayFileError::Io(..) | ReplayFileError::Parse(..))) => {
            eprintln!("tlsferry: {e}");
            ExitCode::from(2)
        }
        Err(ReplayFileError::Replay(_, e)) => {
            eprintln!("tlsferry: replay failed [{}]: {e}", e.code());
            if let Some(cert) = e.tls_error().and_then(|t| t.certificate()) {
                eprint!("{}", cert.report());
            }
            ExitCode::from(3)
        }
    }
}
