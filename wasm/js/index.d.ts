/// <reference lib="esnext.disposable" />
// Types of the tlsferry JavaScript API: one file for every entry point of "tlsferry"
// (browser, node, deno, workerd, default). The replay kit is "tlsferry/replay" (replay.d.ts).

import type {
  ConnectionInfo,
  ConnectOptions as TlsOptions,
  PeerCertificate,
  TlsEvent,
  VerifyChainOptions,
  VerifyChainResult,
} from "../pkg/tlsferry_wasm.js";
import { TlsClient } from "../pkg/tlsferry_wasm.js";

export type { ConnectionInfo, PeerCertificate, TlsEvent, TlsOptions, VerifyChainOptions, VerifyChainResult };
export { TlsClient };

/** Options of `connect()` and `startTls()`: the server name, the socket's own options, the TLS options. */
export interface ConnectOptions extends TlsOptions {
  /** The DNS name or IP address the certificate must cover (also sent as SNI). */
  serverName: string;
  /**
   * false (the default): after the server's close_notify the socket answers with its own
   * (after the queued writes), closes the transport and `closed` settles. true: the
   * readable ends but the writable stays open until you close it.
   */
  allowHalfOpen?: boolean;
  /** Aborting it ends the connection at once; `opened` and `closed` reject with code ABORTED. */
  signal?: AbortSignal;
  /** Decrypted bytes that may wait unread in `readable` before the transport is read no more (default 65536). */
  highWaterMark?: number;
  /** Bytes already read from the transport that belong to TLS (STARTTLS); they are fed first. */
  readAhead?: Uint8Array;
}

/** What a stream reader must do: a DOM, Node (stream/web), Deno or workerd ReadableStream all fit. */
export interface ByteReader {
  read(): Promise<{ done: boolean; value?: any }>;
  releaseLock(): void;
  cancel(reason?: any): Promise<void>;
}
export interface ByteWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  releaseLock(): void;
}

/**
 * Any pair of byte streams: a bridge WebSocket (webSocketTransport), a Cloudflare
 * `connect()` or `Deno.connect()` socket, `Duplex.toWeb(socket)` in Node, a test double.
 * Chunks read may be Uint8Array, ArrayBuffer or any ArrayBufferView.
 */
export interface Transport {
  readable: { readonly locked: boolean; getReader(): ByteReader };
  writable: { readonly locked: boolean; getWriter(): ByteWriter };
}

/** A Node.js stream.Duplex (net.Socket, tls.TLSSocket, …), described without @types/node. */
export interface NodeDuplexLike {
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  end(): unknown;
  pipe(destination: any): any;
  pause(): unknown;
  resume(): unknown;
  destroy(error?: Error): unknown;
}

/** What connect() runs over. */
export type TransportLike = Transport | NodeDuplexLike;

/** Every `TlsError.code`. */
export type TlsErrorCode =
  // configuration and local failures
  | "CONFIG"
  | "INVALID_SERVER_NAME"
  | "LOCAL"
  // the transport, the socket's lifecycle
  | "TRANSPORT"
  | "RECEIVE_BUFFER_FULL"
  | "CLOSED"
  | "ABORTED"
  // the peer
  | "HANDSHAKE_EOF"
  | "TRUNCATED"
  | "PROTOCOL"
  | "ALERT"
  | "INCOMPATIBLE"
  | "TIMEOUT"
  | "UNKNOWN"
  // certificate verification
  | "CERT_EXPIRED"
  | "CERT_NOT_YET_VALID"
  | "CERT_HOSTNAME_MISMATCH"
  | "CERT_UNKNOWN_ISSUER"
  | "CERT_SELF_SIGNED"
  | "CERT_INVALID_PURPOSE"
  | "CERT_BAD_SIGNATURE"
  | "HANDSHAKE_SIGNATURE"
  | "CERT_UNSUPPORTED_ALGORITHM"
  | "CERT_WEAK_KEY"
  | "CERT_BAD_ENCODING"
  | "CERT_REVOKED"
  | "CERT_MISSING"
  | "CERT_INVALID"
  // tlsferry/replay
  | "TRANSCRIPT"
  | "DIVERGED"
  | "CONFIG_MISMATCH";

/**
 * Errors of this package, with a stable `code`:
 * - CONFIG: a bad option (an unknown key is named), INVALID_SERVER_NAME, LOCAL: our side
 *   (also misuse such as exporting keying material before the handshake);
 * - TRANSPORT: the transport failed or closed; RECEIVE_BUFFER_FULL: a binary bridge sent
 *   more than maxBufferedBytes that nobody read; CLOSED: used after close; ABORTED: the signal;
 * - HANDSHAKE_EOF: the connection ended during the handshake; TRUNCATED: it ended after
 *   the handshake without close_notify (data may be missing);
 * - PROTOCOL, ALERT (the peer's fatal alert, in words), INCOMPATIBLE, TIMEOUT: the peer
 *   or the network; UNKNOWN: a failure tlsferry does not classify;
 * - CERT_*: verification failed (with `report`, `presentedNames`, `notAfter`, …);
 *   HANDSHAKE_SIGNATURE: the server's handshake signature did not verify with its
 *   certificate's key (CERT_BAD_SIGNATURE: a signature inside the chain).
 */
export class TlsError extends Error {
  constructor(code: TlsErrorCode, message: string, options?: { cause?: unknown });
  readonly name: "TlsError";
  code: TlsErrorCode;
  /** "local" (our side or configuration) or "peer"; absent on errors of the JS layer. */
  side?: "local" | "peer";
  /** Certificate failures: a multi-line forensic report (names, validity, chain as sent). */
  report?: string;
  /** Certificate failures: the reason alone, in words. */
  reason?: string;
  /** Certificate failures: the name asked for. */
  serverName?: string;
  /** CERT_HOSTNAME_MISMATCH: the names the certificate covers. */
  presentedNames?: string[];
  /** CERT_EXPIRED: the certificate's notAfter (null when not known). */
  notAfter?: Date | null;
  /** CERT_NOT_YET_VALID: the certificate's notBefore (null when not known). */
  notBefore?: Date | null;
  /** Certificate failures: the clock used. */
  now?: Date | null;
  /** Certificate failures: the unverified chain as the server sent it. */
  peerCertificates?: PeerCertificate[];
}

/** A TLS connection over a transport, in the shape of Cloudflare's `connect()` sockets. */
export class TlsSocket implements AsyncDisposable {
  /** Resolves when the handshake completed and the server was verified. */
  readonly opened: Promise<ConnectionInfo>;
  /** Plaintext from the server; ends at the server's close_notify, errors on failure. */
  readonly readable: ReadableStream<Uint8Array>;
  /**
   * Plaintext to the server (queued until the handshake completes). Its close() sends
   * close_notify and half-closes the transport; reading goes on until the server's close_notify.
   */
  readonly writable: WritableStream<Uint8Array | ArrayBuffer | ArrayBufferView | string>;
  /** Resolves when the connection closed cleanly; rejects on truncation or any error. */
  readonly closed: Promise<void>;
  /**
   * Sends every queued write, then close_notify, closes the transport and resolves;
   * rejects if it cannot (the same as `closed`).
   */
  close(): Promise<void>;
  /**
   * Keying material of this connection (RFC 8446 §7.5 on TLS 1.3, RFC 5705 on TLS 1.2):
   * `length` bytes (1 to 65535) for `label` (a string is UTF-8) and an optional
   * `context`; the server derives the same bytes (channel binding, e.g. label
   * "EXPORTER-Channel-Binding", RFC 9266). After `opened` resolved and before the socket
   * settles; otherwise, and for labels TLS reserves, it throws a TlsError with code LOCAL.
   */
  exportKeyingMaterial(label: string | Uint8Array, length: number, context?: Uint8Array): Uint8Array;
  /** `await using sock = connect(…)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Opens TLS over `transport`; returns at once, the handshake runs in the background. */
export function connect(transport: TransportLike, options: ConnectOptions): TlsSocket;

/**
 * STARTTLS: TLS over a transport that already carried plaintext. Release your reader and
 * writer first; pass bytes you read past the plaintext as `readAhead`.
 */
export function startTls(transport: TransportLike, options: ConnectOptions): TlsSocket;

/** The plaintext part of a STARTTLS protocol, then startTls() on the same transport. */
export class PlaintextSocket {
  /** The next bytes, or null at the end of stream. */
  read(): Promise<Uint8Array | null>;
  /** Exactly `n` bytes (TRANSPORT if the stream ends first). */
  readBytes(n: number): Promise<Uint8Array>;
  /** The next line without CRLF/LF, UTF-8; null at the end of stream. */
  readLine(options?: { maxLength?: number }): Promise<string | null>;
  write(data: Uint8Array | ArrayBuffer | ArrayBufferView | string): Promise<void>;
  /** TLS over the same transport; bytes read but not handed out go to TLS first. */
  startTls(options: Omit<ConnectOptions, "readAhead">): TlsSocket;
  /** Closes the transport without TLS. */
  close(): Promise<void>;
}

/** Reads and writes plaintext over `transport` until startTls(). */
export function plaintext(transport: TransportLike): PlaintextSocket;

/** A constructor with the shape of the WebSocket API: the DOM's, undici's, or the ws package's. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly protocol: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "message" | "close" | "error", listener: (event: any) => void): void;
}

/** Options of `webSocketTransport()`. */
export interface WebSocketTransportOptions {
  /** Subprotocols offered (default ["tlsferry.v1", "binary"]; see README.md, "The bridge protocol"). */
  protocols?: string[];
  /** A WebSocket constructor (default globalThis.WebSocket; on Node 20 pass one, e.g. the ws package's, or run with --experimental-websocket). Disables WebSocketStream. */
  WebSocket?: new (url: string, protocols?: string[]) => WebSocketLike;
  /** A WebSocketStream constructor (default globalThis.WebSocketStream, used when there is one). */
  WebSocketStream?: new (url: string, options?: { protocols?: string[] }) => unknown;
  /**
   * The receive window in bytes (default 1 MiB, at most 64 MiB): with tlsferry.v1 the
   * credit granted to the bridge; received bytes waiting unread never exceed it.
   */
  highWaterMark?: number;
  /**
   * With the binary subprotocol over the WebSocket API, which cannot slow the server down:
   * more than this many unread bytes end the transport with RECEIVE_BUFFER_FULL (default
   * 8 MiB, or highWaterMark if larger).
   */
  maxBufferedBytes?: number;
  /** Bytes buffered in the WebSocket before writes wait (default 1 MiB). */
  sendHighWaterMark?: number;
  /** Largest frame sent (default 64 KiB). */
  maxFrameSize?: number;
  /** Give up if the WebSocket has not opened by then (default 15000 ms). */
  openTimeoutMs?: number;
}

/** A transport through a WebSocket↔TCP bridge. */
export interface WebSocketTransport extends Transport {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  /** Resolves with the subprotocol the bridge chose once the WebSocket is open. */
  opened: Promise<{ protocol: string }>;
  /** The subprotocol the bridge chose ("" until open). */
  readonly protocol: string;
  /** The WebSocket (or WebSocketStream) in use. */
  webSocket: unknown;
}

/** A transport through a WebSocket↔TCP bridge, e.g. "ws://127.0.0.1:8080/?target=example.com:443". */
export function webSocketTransport(url: string, options?: WebSocketTransportOptions): WebSocketTransport;

/** A TCP connection as a transport: Node.js (net), Deno (Deno.connect), Cloudflare Workers (cloudflare:sockets). */
export function tcpTransport(
  host: string,
  port: number,
  options?: { highWaterMark?: number },
): Transport & { opened: Promise<unknown> };

/** A Node.js Duplex as a transport with back-pressure (connect() does this for you). */
export function fromNodeStream(duplex: NodeDuplexLike, options?: { highWaterMark?: number }): Transport;

/**
 * Verifies a PEM chain (leaf first, as a server sends it) for `serverName` offline,
 * exactly as a handshake with the same trust options would (the Mozilla roots unless
 * `caPem`; validity at `time`, default now). Resolves to `{ ok: true, chain }`; rejects
 * with the TlsError a handshake would give (CERT_EXPIRED, CERT_HOSTNAME_MISMATCH, … with
 * `report`, `presentedNames`, `notAfter`, `peerCertificates`), or CONFIG for unusable
 * input (naming it: `chainPem`, `caPem`, an unknown option).
 */
export function verifyChain(chainPem: string, serverName: string, options?: VerifyChainOptions): Promise<VerifyChainResult>;

/** What the wasm module can be loaded from. */
export type WasmSource = URL | string | Response | BufferSource | WebAssembly.Module;

/**
 * Loads the WebAssembly module; optional, connect() does it with the default location.
 * Pass a URL where a bundler did not copy the wasm, or a compiled WebAssembly.Module.
 */
export function init(source?: WasmSource): Promise<void>;

/** Synchronous init from bytes or a compiled WebAssembly.Module. */
export function initSync(source: BufferSource | WebAssembly.Module): void;

/**
 * Loads the Mozilla roots (pkg/tlsferry_roots.wasm, kept out of the main module so that
 * apps passing caPem never download them) and resolves to how many there are.
 * connect() and verifyChain() call it when their options have no caPem; call it before
 * `new TlsClient()` without caPem (they go to the client-auth module too). Pass a URL
 * where a bundler did not copy the file, its bytes, or the file compiled as a
 * WebAssembly.Module.
 */
export function loadMozillaRoots(source?: URL | string | Response | BufferSource | WebAssembly.Module): Promise<number>;

/**
 * Loads the client-auth module (pkg/tlsferry_client_auth_bg.wasm: the main module plus
 * client certificates, kept out of the main one so that connections without a client
 * certificate never download them) and resolves to its TlsClient class, the one that
 * accepts clientCertPem and clientKeyPem. connect() and startTls() call it when their
 * options have a client certificate; the main module's TlsClient refuses one (CONFIG).
 * Roots that loadMozillaRoots() loaded (before or after) are given to this module too.
 * Pass a URL where a bundler did not copy the file, or a compiled WebAssembly.Module.
 */
export function loadClientAuth(source?: WasmSource): Promise<typeof TlsClient>;
