// Types of the tlsferry JavaScript API (js/index.js).

import type { ConnectionInfo, ConnectOptions as CoreOptions, PeerCertificate, TlsEvent } from "../pkg/tlsferry_wasm.js";
import { TlsClient } from "../pkg/tlsferry_wasm.js";

export type { ConnectionInfo, PeerCertificate, TlsEvent };
export { TlsClient };

/** Options of `connect()`: the server name to verify plus the TLS options. */
export interface ConnectOptions extends CoreOptions {
  /** The DNS name or IP address the certificate must cover (also sent as SNI). */
  serverName: string;
}

/** Any pair of byte streams: a bridge WebSocket, a workerd / Deno TCP socket, a test double. */
export interface Transport {
  readable: ReadableStream<Uint8Array | ArrayBuffer | ArrayBufferView>;
  writable: WritableStream<Uint8Array>;
}

/**
 * Errors of this package. `code` is stable: CONFIG, INVALID_SERVER_NAME, LOCAL, TRANSPORT,
 * TRUNCATED, PROTOCOL, ALERT, INCOMPATIBLE, TIMEOUT, CLOSED, CERT_EXPIRED,
 * CERT_NOT_YET_VALID, CERT_HOSTNAME_MISMATCH, CERT_UNKNOWN_ISSUER, CERT_SELF_SIGNED,
 * CERT_INVALID_PURPOSE, CERT_BAD_SIGNATURE, CERT_UNSUPPORTED_ALGORITHM, CERT_WEAK_KEY,
 * CERT_BAD_ENCODING, CERT_REVOKED, CERT_MISSING, CERT_INVALID.
 */
export class TlsError extends Error {
  constructor(code: string, message: string, options?: { cause?: unknown });
  readonly name: "TlsError";
  code: string;
  /** "local" (our side or configuration) or "peer"; absent on TRANSPORT errors. */
  side?: "local" | "peer";
  /** Certificate failures: a multi-line forensic report (names, validity, chain as sent). */
  report?: string;
  /** Certificate failures: the reason alone, in words. */
  reason?: string;
  /** Certificate failures: the name asked for. */
  serverName?: string;
  /** CERT_HOSTNAME_MISMATCH: the names the certificate covers. */
  presentedNames?: string[];
  /** CERT_EXPIRED: the certificate's notAfter. */
  notAfter?: Date;
  /** CERT_NOT_YET_VALID: the certificate's notBefore. */
  notBefore?: Date;
  /** Certificate failures: the clock used. */
  now?: Date | null;
  /** Certificate failures: the unverified chain as the server sent it. */
  peerCertificates?: PeerCertificate[];
}

/** A TLS connection over a transport, in the shape of Cloudflare's `connect()` sockets. */
export class TlsSocket {
  /** Resolves when the handshake completed and the server was verified. */
  readonly opened: Promise<ConnectionInfo>;
  /** Plaintext from the server; ends at the server's close_notify, errors on failure. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Plaintext to the server (queued until the handshake completes); close() sends close_notify. */
  readonly writable: WritableStream<Uint8Array | ArrayBuffer | ArrayBufferView | string>;
  /** Resolves when the connection closed cleanly; rejects on truncation or any error. */
  readonly closed: Promise<void>;
  /** Sends close_notify after the queued data, closes the transport, resolves `closed`. */
  close(): Promise<void>;
}

/** Opens TLS over `transport`; returns at once, the handshake runs in the background. */
export function connect(transport: Transport, options: ConnectOptions): TlsSocket;

/** Options of `webSocketTransport()`. */
export interface WebSocketTransportOptions {
  /** Subprotocols offered (default ["binary"], what websockify and tlsferry bridge accept). */
  protocols?: string[];
  /** A WebSocket constructor (default globalThis.WebSocket; on Node 20 pass one or run with --experimental-websocket). */
  WebSocket?: new (url: string, protocols?: string[]) => WebSocket;
  /** Bytes buffered in the socket before writes wait (default 1 MiB). */
  highWaterMark?: number;
  /** Largest frame sent (default 64 KiB). */
  maxFrameSize?: number;
  /** Give up if the WebSocket has not opened by then (default 15000 ms). */
  openTimeoutMs?: number;
}

/** A transport through a WebSocket↔TCP bridge, e.g. "ws://127.0.0.1:8080/?target=example.com:443". */
export function webSocketTransport(
  url: string,
  options?: WebSocketTransportOptions,
): Transport & { opened: Promise<void>; webSocket: WebSocket };

/** What the wasm module can be loaded from. */
export type WasmSource = URL | string | Response | BufferSource | WebAssembly.Module;

/**
 * Loads the WebAssembly module; optional, connect() does it with the default location.
 * Pass a compiled WebAssembly.Module where .wasm files are imported as modules (workerd).
 */
export function init(source?: WasmSource): Promise<void>;

/** Synchronous init from bytes or a compiled WebAssembly.Module. */
export function initSync(source: BufferSource | WebAssembly.Module): void;

/** The result of `replay()`. */
export interface ReplayResult {
  reply: Uint8Array;
  info: ConnectionInfo;
  clientBytes: number;
  serverBytes: number;
  peerClosed: boolean;
  closed: boolean;
}

/** Replays a transcript recorded with `tlsferry connect --record` (testing; see js/replay.js). */
export function replay(transcript: string, options?: { time?: number; seed?: string }): Promise<ReplayResult>;

/**
 * Loads the replay kit's own wasm module (pkg/replay/). Optional: replay() and
 * deterministicClientHello() load it from the default location on first use.
 */
export function initReplay(source?: WasmSource): Promise<void>;

/** The ClientHello record of a deterministic client (testing; see js/replay.js). */
export function deterministicClientHello(seedHex: string, serverName: string, alpn?: string[], time?: number): Promise<Uint8Array>;
