//! The deterministic kit (feature `testing`; never on by default): a crypto provider
//! whose every random byte comes from a seed, a fixed wall clock, and record/replay of
//! whole sessions as text transcripts — a real handshake turned into a unit test.
//!
//! **Never use it for real traffic**: anyone who knows the seed can decrypt the session.
//!
//! ```
//! use tlsferry_core::testing::{Seed, Session};
//!
//! let session = Session::new(Seed([7; 32]), 1_767_225_600, "example.com");
//! let a = session.client_hello()?;
//! let b = session.client_hello()?;
//! assert_eq!(a, b); // same seed + same settings: the same ClientHello, byte for byte
//! # Ok::<(), tlsferry_core::Error>(())
//! ```
//!
//! Testing without sockets: a [`Pair`] is a client and an in-memory server, seeded and on
//! a fixed clock, with a built-in test PKI ([`pki`]) and scripted server behaviours
//! ([`Scenario`], [`ServerBehaviour`]).
//!
//! Recording: drive a [`RecordingClient`] (or call a [`Recorder`]'s hooks from your own
//! driver), then write [`Transcript::to_text`]. Replaying: [`Transcript::parse`] then
//! [`replay`] (or [`replay_with`] to move the clock or change the seed): no socket, the
//! client's bytes are checked against the recording and the reply comes out as plaintext.
//!
//! Everything here is `no_std` + `alloc`.

mod hex;
mod pair;
pub mod pki;
mod replay;
mod seeded;
mod session;
mod transcript;

pub use hex::{decode as hex_decode, encode as hex_encode, HexError};
pub use pair::{Pair, Scenario, Server, ServerBehaviour};
pub use pki::TestCertificate;
pub use replay::{
    replay, replay_text, replay_with, Divergence, DivergenceKind, Recorder, RecordingClient,
    Replay, ReplayError, ReplayOptions,
};
pub use seeded::{seeded_provider, Seed};
pub use session::{Fingerprint, FixedTime, Session, Settings};
pub use transcript::{
    Entry, ParseError, ParseErrorKind, Transcript, FORMAT_VERSION, MAGIC, MAX_CHUNK,
};
