//! [`TlsClient`]: the sans-IO core as a JavaScript class, for people who move the bytes
//! themselves. `connect()` in `wasm/js/` drives it over Web Streams.

use std::collections::VecDeque;

use js_sys::{Function, Object, Uint8Array};
use tlsferry_core::{Client, Error, Event, Input, Instant, LocalError, Output};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::clock;
use crate::convert::{self, set};
use crate::keylog::KeyLogQueue;
use crate::options;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A certificate as the server sent it: PEM plus what it says about itself (not verified). */
export interface PeerCertificate {
  pem: string;
  subject: string;
  issuer: string;
  /** DNS names and IP addresses from subjectAltName. */
  names: string[];
  notBefore: Date | null;
  notAfter: Date | null;
  /** SHA-256 of the DER encoding, lowercase hex. */
  sha256: string;
  /** Why the certificate could not be decoded, if it could not. */
  parseError: string | null;
}

/** What the handshake negotiated. */
export interface ConnectionInfo {
  /** "TLSv1.3" or "TLSv1.2". */
  version: string;
  /** IANA name, e.g. "TLS_CHACHA20_POLY1305_SHA256". */
  cipherSuite: string;
  keyExchangeGroup: string | null;
  /** The ALPN protocol the server chose, or null. */
  alpn: string | null;
  /**
   * True if this connection resumed an earlier session (of a connection with the same
   * options, in this module): no certificate was sent, and `peerCertificates` is the
   * chain verified when the session was made.
   */
  resumed: boolean;
  serverName: string;
  /** False only with `insecure: true`. */
  verified: boolean;
  /** The server's chain as sent, leaf first. */
  peerCertificates: PeerCertificate[];
}

/** Options of `connect()` and `new TlsClient()`. */
export interface ConnectOptions {
  /** ALPN protocols to offer, most preferred first. */
  alpn?: string | string[];
  /** Trust only these CA certificates (PEM) instead of the built-in Mozilla roots. */
  caPem?: string;
  /** Trust these CA certificates (PEM) in addition to the built-in roots. */
  extraCaPem?: string;
  /** Client certificate chain (PEM, leaf first); requires clientKeyPem. */
  clientCertPem?: string;
  /** Client private key (PEM: PKCS#8, PKCS#1 or SEC1). */
  clientKeyPem?: string;
  minVersion?: "TLSv1.2" | "TLSv1.3";
  maxVersion?: "TLSv1.2" | "TLSv1.3";
  /** IANA cipher suite names in order of preference (default: ChaCha20-Poly1305 first). */
  cipherSuites?: string[];
  /**
   * Key-exchange groups to offer, most preferred first: "X25519MLKEM768", "X25519",
   * "secp256r1" ("P-256"), "secp384r1" ("P-384"). Default: all four, the post-quantum
   * hybrid first. Leaving it out gives up post-quantum protection for a smaller
   * ClientHello and less CPU per handshake.
   */
  keyExchangeGroups?: string[];
  /** Receives NSS key-log lines (SSLKEYLOGFILE format) for Wireshark. */
  keyLog?: (line: string) => void;
  /** DANGEROUS: accept any certificate. Encrypted, but to a server nobody vouched for. */
  insecure?: boolean;
  /** Handshake deadline in milliseconds (default 30000; 0 fails at once). */
  handshakeTimeoutMs?: number;
  /** Fail when nothing arrives for this many milliseconds (default: never). */
  idleTimeoutMs?: number;
  /**
   * Resume sessions of earlier connections with the same options (default true): they
   * share one configuration and its session cache, per module. false: this connection
   * neither resumes nor leaves a session to resume. Never 0-RTT.
   */
  resumption?: boolean;
}

/** Options of `verifyChain()`. */
export interface VerifyChainOptions {
  /** Trust only these CA certificates (PEM) instead of the built-in Mozilla roots. */
  caPem?: string;
  /** Trust these CA certificates (PEM) in addition to the built-in roots. */
  extraCaPem?: string;
  /** Check validity at this time (a Date, or Unix seconds) instead of now. */
  time?: Date | number;
  /** Not an option here: a check that accepts any certificate would say nothing. */
  insecure?: never;
}

/** What `verifyChain()` resolves to. */
export interface VerifyChainResult {
  ok: true;
  /** The chain as given, leaf first. */
  chain: PeerCertificate[];
}

/** An event of the low-level client, in the order it happened. */
export type TlsEvent =
  | { type: "connected"; info: ConnectionInfo }
  | { type: "data"; data: Uint8Array }
  | { type: "peerClosed" }
  | { type: "closed" };
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console)]
    fn warn(message: &str);
}

/// The sans-IO TLS client: feed it ciphertext from the transport, take ciphertext for the
/// transport, write plaintext, take events (`connected`, `data`, `peerClosed`, `closed`),
/// and call `tick()` when `dueInMs` has passed. Every method that fails throws a `TlsError` with a
/// stable `code`; after a fatal error, `takeCiphertext()` still holds the alert for the
/// peer.
#[wasm_bindgen]
#[derive(Debug)]
pub struct TlsClient {
    client: Client,
    /// Ciphertext for the transport, in order.
    outgoing: Vec<u8>,
    /// Events (as JS objects) not yet taken.
    events: VecDeque<JsValue>,
    /// When `tick()` is due.
    deadline: Option<Instant>,
    key_log: Option<(std::sync::Arc<KeyLogQueue>, Function)>,
}

#[wasm_bindgen]
impl TlsClient {
    /// Starts a connection to `serverName` (DNS name or IP address) with the
    /// `ConnectOptions`; the ClientHello is ready in `takeCiphertext()` at once.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = serverName)] server_name: &str,
        #[wasm_bindgen(unchecked_param_type = "ConnectOptions | undefined")] options: JsValue,
    ) -> Result<TlsClient, JsValue> {
        let opts = options::read(&options).map_err(convert::config_error)?;
        if opts.insecure {
            warn(&format!(
                "tlsferry: insecure: true: the certificate of {server_name} is NOT verified. \
                 The connection is encrypted, but anyone on the path can impersonate the server. \
                 Never use this in production."
            ));
        }
        let client =
            Client::new(server_name, &opts.config, clock::now()).map_err(|e| convert::error(&e))?;
        let mut this = TlsClient {
            client,
            outgoing: Vec::new(),
            events: VecDeque::new(),
            deadline: None,
            key_log: opts.key_log,
        };
        this.drain();
        Ok(this)
    }

    // ----- getters -----

    /// The server name this connection verifies against.
    #[wasm_bindgen(getter, js_name = serverName)]
    pub fn server_name(&self) -> String {
        self.client.server_name().into()
    }

    /// True until the handshake has completed.
    #[wasm_bindgen(getter, js_name = isHandshaking)]
    pub fn is_handshaking(&self) -> bool {
        self.client.is_handshaking()
    }

    /// True once both directions are closed or the connection failed.
    #[wasm_bindgen(getter, js_name = isFinished)]
    pub fn is_finished(&self) -> bool {
        self.client.is_finished()
    }

    /// How many ciphertext bytes the core accepts now (`feed` splits larger chunks and
    /// stops at this limit).
    #[wasm_bindgen(getter, js_name = receiveCapacity)]
    pub fn receive_capacity(&self) -> usize {
        self.client.receive_capacity()
    }

    /// How many plaintext bytes `write` accepts now.
    #[wasm_bindgen(getter, js_name = sendCapacity)]
    pub fn send_capacity(&self) -> usize {
        self.client.send_capacity()
    }

    /// What the handshake negotiated, once connected; otherwise `undefined`.
    #[wasm_bindgen(getter, js_name = connectionInfo, unchecked_return_type = "ConnectionInfo | undefined")]
    pub fn connection_info(&self) -> JsValue {
        self.client
            .connection_info()
            .map_or(JsValue::UNDEFINED, convert::connection_info)
    }

    /// The `TlsError` that ended the connection, if any.
    #[wasm_bindgen(getter, unchecked_return_type = "Error | undefined")]
    pub fn error(&self) -> JsValue {
        self.client
            .error()
            .map_or(JsValue::UNDEFINED, convert::error)
    }

    /// When `tick()` is due, in whole milliseconds on the monotonic clock
    /// `performance.timeOrigin + performance.now()` (not `Date.now()`, which can step);
    /// `undefined` when no deadline is pending. `dueInMs` is easier to use.
    #[wasm_bindgen(getter)]
    pub fn deadline(&self) -> Option<f64> {
        self.deadline.map(clock::to_ms)
    }

    /// Milliseconds from now until `tick()` is due (0 if it is due already), measured on
    /// the monotonic clock; `undefined` when no deadline is pending. Arm a timer with it.
    #[wasm_bindgen(getter, js_name = dueInMs)]
    pub fn due_in_ms(&self) -> Option<f64> {
        self.deadline
            .map(|d| clock::ms_until(d, clock::monotonic_ms()))
    }

    // ----- inputs -----

    /// Feeds ciphertext received from the transport. Feeds it in pieces of at most
    /// `receiveCapacity` bytes and returns how many bytes were consumed: fewer than given
    /// only if the core's buffer stays full (then take events and feed the rest later).
    pub fn feed(&mut self, data: &[u8]) -> Result<usize, JsValue> {
        let mut consumed = 0;
        while consumed < data.len() {
            let capacity = self.client.receive_capacity();
            if capacity == 0 {
                break;
            }
            let end = consumed.saturating_add(capacity).min(data.len());
            let piece = data.get(consumed..end).unwrap_or_default();
            let result = self
                .client
                .handle_input(Input::Receive(clock::now(), piece));
            self.drain();
            result.map_err(|e| convert::error(&e))?;
            consumed = end;
        }
        Ok(consumed)
    }

    /// The transport ended (end of stream). Without the peer's `close_notify` first this
    /// throws `TRUNCATED`.
    #[wasm_bindgen(js_name = feedEof)]
    pub fn feed_eof(&mut self) -> Result<(), JsValue> {
        let result = self.client.handle_input(Input::Eof(clock::now()));
        self.drain();
        result.map_err(|e| convert::error(&e))
    }

    /// Checks the deadlines (handshake and idle timeouts, code `TIMEOUT`); call it at
    /// `deadline`.
    pub fn tick(&mut self) -> Result<(), JsValue> {
        let result = self.client.handle_input(Input::Tick(clock::now()));
        self.drain();
        result.map_err(|e| convert::error(&e))
    }

    // ----- mutators -----

    /// Queues plaintext for the server (sent once the handshake completes). Returns how
    /// many bytes were accepted: fewer than given when `sendCapacity` is reached.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, JsValue> {
        let result = self.client.send(data);
        self.drain();
        result.map_err(|e| convert::error(&e))
    }

    /// Closes the sending direction: queued data, then `close_notify`. Receiving goes on
    /// until the server's `close_notify` (`peerClosed`), then `closed`.
    pub fn close(&mut self) -> Result<(), JsValue> {
        let result = self.client.close();
        self.drain();
        result.map_err(|e| convert::error(&e))
    }

    // ----- outputs -----

    /// All ciphertext waiting for the transport, or `undefined` if there is none.
    #[wasm_bindgen(js_name = takeCiphertext)]
    pub fn take_ciphertext(&mut self) -> Option<Uint8Array> {
        if self.outgoing.is_empty() {
            return None;
        }
        let bytes = std::mem::take(&mut self.outgoing);
        Some(Uint8Array::from(bytes.as_slice()))
    }

    /// The next event, or `undefined`: `{ type: "connected", info }`,
    /// `{ type: "data", data }`, `{ type: "peerClosed" }`, `{ type: "closed" }`.
    #[wasm_bindgen(js_name = nextEvent, unchecked_return_type = "TlsEvent | undefined")]
    pub fn next_event(&mut self) -> JsValue {
        self.events.pop_front().unwrap_or(JsValue::UNDEFINED)
    }

    /// How many events are waiting in `nextEvent()`.
    #[wasm_bindgen(getter, js_name = pendingEvents)]
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// Keying material (RFC 8446 §7.5 on TLS 1.3, RFC 5705 on TLS 1.2): `length` bytes
    /// (1 to 65535) for `label` (a string is taken as UTF-8) and an optional `context`,
    /// the same on both ends of this connection, for channel binding (e.g. label
    /// "EXPORTER-Channel-Binding", RFC 9266). Only after the handshake; throws a
    /// `TlsError` with code `LOCAL` otherwise, and for a reserved label.
    #[wasm_bindgen(js_name = exportKeyingMaterial)]
    pub fn export_keying_material(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] label: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] length: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Uint8Array")] context: Option<JsValue>,
    ) -> Result<Uint8Array, JsValue> {
        let misuse = |why: &str| convert::error(&Error::Local(LocalError::Exporter(why.into())));
        let label = match label.as_string() {
            Some(text) => text.into_bytes(),
            None => label
                .dyn_ref::<Uint8Array>()
                .map(Uint8Array::to_vec)
                .ok_or_else(|| misuse("label must be a string or a Uint8Array"))?,
        };
        let length = length
            .as_f64()
            .filter(|n| n.fract() == 0.0 && (1.0..=65535.0).contains(n))
            .ok_or_else(|| misuse("length must be an integer from 1 to 65535"))?;
        let context = context
            .map(|c| {
                c.dyn_ref::<Uint8Array>()
                    .map(Uint8Array::to_vec)
                    .ok_or_else(|| misuse("context must be a Uint8Array or undefined"))
            })
            .transpose()?;
        let mut out = vec![0u8; length as usize];
        self.client
            .export_keying_material(&mut out, &label, context.as_deref())
            .map_err(|e| convert::error(&e))?;
        Ok(Uint8Array::from(out.as_slice()))
    }
}

impl TlsClient {
    /// Polls the core until it waits, sorting its outputs into the queues.
    fn drain(&mut self) {
        loop {
            match self.client.poll_output() {
                Output::Transmit(bytes) => {
                    if self.outgoing.is_empty() {
                        self.outgoing = bytes;
                    } else {
                        self.outgoing.extend_from_slice(&bytes);
                    }
                }
                Output::Event(event) => {
                    if let Some(e) = event_object(event) {
                        self.events.push_back(e);
                    }
                }
                Output::Wait(deadline) => {
                    self.deadline = deadline;
                    break;
                }
            }
        }
        if let Some((queue, callback)) = &self.key_log {
            for line in queue.take() {
                // A throwing callback must not break the connection.
                let _ = callback.call1(&JsValue::UNDEFINED, &JsValue::from_str(&line));
            }
        }
    }
}

fn event_object(event: Event) -> Option<JsValue> {
    let obj: JsValue = Object::new().into();
    match event {
        Event::Connected(info) => {
            set(&obj, "type", "connected");
            set(&obj, "info", convert::connection_info(&info));
        }
        Event::Data(data) => {
            set(&obj, "type", "data");
            set(&obj, "data", Uint8Array::from(data.as_slice()));
        }
        Event::PeerClosed => set(&obj, "type", "peerClosed"),
        Event::Closed => set(&obj, "type", "closed"),
        _ => return None,
    }
    Some(obj)
}
