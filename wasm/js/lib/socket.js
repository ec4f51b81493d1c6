// TlsSocket: TLS over a transport, in the shape of Cloudflare's sockets (internal to js/;
// connect, startTls and TlsSocket are public through js/lib/api.js).
//
// The TLS state machine lives in Rust (TlsClient); this file moves bytes between it and
// the streams, honours back-pressure in both directions, arms the core's timers, and
// runs the lifecycle: half-close, close(), AbortSignal, and freeing the wasm client
// when the socket settles.

import { clientFor } from "./wasm.js";
import { TlsError, tlsError, asTlsError, transportError, checkOptionKeys, bytes, noop } from "./errors.js";
import { asTransport } from "./transports.js";

/** The keys connect() handles itself; the rest are TLS options for TlsClient. */
const SOCKET_KEYS = ["serverName", "allowHalfOpen", "signal", "highWaterMark", "readAhead"];

/** How long a failed connection waits for its alert to be written before it closes. */
const ALERT_GRACE_MS = 1000;
/** After a clean close, how long the peer's remaining bytes are read and dropped. */
const LINGER_MS = 5000;
/** The TLS options TlsClient reads (src/options.rs, KNOWN_KEYS). */
export const TLS_KEYS = [
  "alpn",
  "caPem",
  "extraCaPem",
  "clientCertPem",
  "clientKeyPem",
  "minVersion",
  "maxVersion",
  "cipherSuites",
  "keyExchangeGroups",
  "keyLog",
  "insecure",
  "handshakeTimeoutMs",
  "idleTimeoutMs",
  "resumption",
];

const asyncDispose = Symbol.asyncDispose ?? Symbol.for("Symbol.asyncDispose");
const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Opens TLS over `transport`: a { readable, writable } pair of byte streams or a Node.js
 * Duplex. Returns a TlsSocket at once; the handshake runs in the background.
 */
export function connect(transport, options) {
  return new TlsSocket(transport, options, "connect()");
}

/**
 * STARTTLS: TLS over a transport that already carried plaintext (SMTP STARTTLS, IMAP,
 * a Postgres SSLRequest). Release your reader and writer first; `options.readAhead`
 * takes bytes your code already read past the plaintext (they go to TLS first).
 */
export function startTls(transport, options) {
  return new TlsSocket(transport, options, "startTls()");
}

/** A TLS connection over a transport, in the shape of Cloudflare's `connect()` sockets. */
export class TlsSocket {
  #client = null;
  #reader;
  #writer;
  #readCtl;
  #readableOpen = true;
  #pullWaiter = null;
  #progressWaiters = [];
  #writing = 0;
  #idleWaiters = [];
  #allowHalfOpen = false;
  /** close_notify was queued (by close(), writable.close() or the automatic answer). */
  #closeSent = false;
  /** The transport's writable was closed. */
  #writerClosed = false;
  /** The server's close_notify arrived. */
  #peerClosed = false;
  /** Only our close_notify is left to send after the server's: a transport that is gone
   * already (a binary bridge closes its WebSocket with the TCP connection) is no error. */
  #quiet = false;
  #closing;
  #closeNotify;
  #done = false;
  #error;
  #timer;
  #started;
  #signal;
  #onAbort;
  #resolveOpened;
  #rejectOpened;
  #resolveClosed;
  #rejectClosed;

  constructor(transport, options, where = "connect()") {
    this.opened = new Promise((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    this.closed = new Promise((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    // The caller may never await these; a failure must not become an unhandled rejection.
    this.opened.catch(noop);
    this.closed.catch(noop);

    const opts = options ?? {};
    const highWaterMark = Number.isInteger(opts.highWaterMark) && opts.highWaterMark > 0 ? opts.highWaterMark : 64 * 1024;
    this.readable = new ReadableStream(
      {
        start: (c) => {
          this.#readCtl = c;
        },
        pull: () => this.#wakeReader(),
        cancel: () => {
          // The application wants no more data: drop it, keep the connection.
          this.#readableOpen = false;
          this.#wakeReader();
        },
      },
      { highWaterMark, size: (chunk) => chunk.byteLength },
    );
    this.writable = new WritableStream({
      write: (chunk) => this.#write(chunk),
      close: () => this.#closeWrite(),
      abort: (reason) => this.#fail(tlsError("LOCAL", `writable aborted: ${reason?.message ?? reason}`, reason)),
    });

    this.#started = this.#start(transport, opts, where);
    this.#started.catch(noop);
  }

  /**
   * Sends every queued write, then close_notify, closes the transport, and resolves when
   * that is done; rejects if it cannot (and `closed` rejects alike).
   */
  close() {
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  /**
   * Keying material (RFC 8446 §7.5 / RFC 5705) of this connection: `length` bytes for
   * `label` and an optional `context`, the same on the server's side, for channel
   * binding. Once `opened` resolved and until the socket settles; throws a TlsError
   * (LOCAL) otherwise.
   */
  exportKeyingMaterial(label, length, context) {
    const client = this.#client;
    if (client === null || this.#done) {
      throw tlsError(
        "LOCAL",
        this.#done
          ? "cannot export keying material: the connection is over (export it while the socket is open)"
          : "cannot export keying material: the handshake has not completed (wait for opened)",
      );
    }
    try {
      return client.exportKeyingMaterial(label, length, context);
    } catch (e) {
      throw asTlsError(e);
    }
  }

  /** `await using sock = connect(…)`: close() on leaving the scope. */
  async [asyncDispose]() {
    const failedBefore = this.#error !== undefined;
    try {
      await this.close();
    } catch (e) {
      // An error the application was already told about (opened, closed, read) is not
      // raised a second time when the scope ends.
      if (!failedBefore) throw e;
    }
  }

  // ----- internals -----

  async #start(transport, opts, where) {
    try {
      if (opts === null || typeof opts !== "object") throw tlsError("CONFIG", `${where}: options must be an object`);
      checkOptionKeys(where, opts, [...SOCKET_KEYS, ...TLS_KEYS]);
      const { serverName, allowHalfOpen = false, signal, highWaterMark, readAhead, ...tls } = opts;
      if (typeof serverName !== "string" || serverName === "") {
        throw tlsError("CONFIG", `${where}: options.serverName (the name to verify) is required`);
      }
      if (typeof allowHalfOpen !== "boolean") throw tlsError("CONFIG", `${where}: allowHalfOpen must be a boolean`);
      if (highWaterMark !== undefined && !(Number.isInteger(highWaterMark) && highWaterMark > 0)) {
        throw tlsError("CONFIG", `${where}: highWaterMark must be a positive integer (bytes)`);
      }
      if (signal !== undefined && (signal === null || typeof signal.addEventListener !== "function")) {
        throw tlsError("CONFIG", `${where}: signal must be an AbortSignal`);
      }
      this.#allowHalfOpen = allowHalfOpen;
      const t = asTransport(transport, where);
      if (t.readable.locked || t.writable.locked) {
        throw tlsError("CONFIG", `${where}: the transport's readable or writable is locked: release your reader and writer first`);
      }
      this.#writer = t.writable.getWriter();
      this.#reader = t.readable.getReader();
      // A transport that fails while the socket is not reading it (the application reads
      // slowly) still ends the socket.
      this.#reader.closed.catch((e) => this.#fail(transportError("the transport failed", e)));
      // Watched once the transport is ours: aborting closes it.
      if (signal !== undefined) this.#watch(signal);
      const TlsClient = await clientFor(tls);
      if (this.#done) return;
      this.#client = new TlsClient(serverName, tls);
      this.#process();
      if (readAhead !== undefined && readAhead !== null) {
        const early = bytes(readAhead);
        if (early.length > 0) this.#feed(early);
      }
    } catch (e) {
      this.#fail(e);
      throw this.#error ?? e;
    }
    this.#readLoop();
  }

  #watch(signal) {
    const abort = () => {
      const reason = signal.reason;
      const why = reason?.message ?? (reason === undefined ? "" : String(reason));
      this.#fail(tlsError("ABORTED", `the connection was aborted${why ? `: ${why}` : ""}`, reason));
    };
    if (signal.aborted) {
      abort();
      return;
    }
    this.#signal = signal;
    this.#onAbort = abort;
    signal.addEventListener("abort", abort, { once: true });
  }

  #wakeReader() {
    const w = this.#pullWaiter;
    this.#pullWaiter = null;
    w?.();
  }

  async #readLoop() {
    try {
      for (;;) {
        // Back-pressure: read the transport only while the plaintext readable has room.
        while (this.#readableOpen && !this.#done && this.#readCtl.desiredSize <= 0) {
          await new Promise((resolve) => {
            this.#pullWaiter = resolve;
          });
        }
        if (this.#done) return;
        let result;
        try {
          result = await this.#reader.read();
        } catch (e) {
          throw transportError("the transport failed", e);
        }
        if (this.#done) return;
        if (result.done) {
          this.#endOfStream();
          return;
        }
        this.#feed(bytes(result.value));
      }
    } catch (e) {
      this.#fail(e);
    }
  }

  #feed(chunk) {
    let offset = 0;
    while (offset < chunk.length && !this.#done) {
      // feed() splits the chunk by receiveCapacity itself.
      const n = this.#client.feed(offset === 0 ? chunk : chunk.subarray(offset));
      this.#process();
      if (n === 0 && !this.#done) throw tlsError("LOCAL", "the TLS receive buffer is full and does not drain");
      offset += n;
    }
  }

  /** The transport ended: clean only after the server's close_notify, else TRUNCATED. */
  #endOfStream() {
    // After the server's close_notify an end of stream is always clean, and the core
    // would take it for the end of both directions; half-open, ours stays open.
    if (this.#peerClosed && this.#allowHalfOpen) return;
    this.#client.feedEof();
    this.#process();
    if (this.#done) return;
    // The peer closed TLS and its side of the transport. Half-open, the application may
    // still write; otherwise the automatic close is under way (see "peerClosed").
    if (this.#client.isFinished) this.#finish();
  }

  /** Hands ciphertext to the transport and dispatches events. Synchronous on purpose: the
   * transport writer queues writes in call order. Returns the transport write promise. */
  #process() {
    const client = this.#client;
    if (client === null) return Promise.resolve();
    const written = this.#flush();
    for (let ev = client.nextEvent(); ev !== undefined && !this.#done; ev = client.nextEvent()) {
      switch (ev.type) {
        case "connected":
          this.#resolveOpened(ev.info);
          break;
        case "data":
          if (this.#readableOpen) this.#readCtl.enqueue(ev.data);
          break;
        case "peerClosed":
          this.#peerClosed = true;
          if (this.#readableOpen) {
            this.#readableOpen = false;
            this.#readCtl.close();
          }
          // Not half-open: answer with our own close_notify after the queued writes.
          if (!this.#allowHalfOpen) this.close().catch(noop);
          break;
        case "closed":
          this.#finish();
          break;
      }
    }
    if (!this.#done) this.#arm();
    const waiters = this.#progressWaiters;
    this.#progressWaiters = [];
    for (const w of waiters) w();
    return written;
  }

  #flush() {
    const ct = this.#client?.takeCiphertext();
    if (ct === undefined || this.#writer === undefined || this.#writerClosed) return Promise.resolve();
    const p = this.#writer.write(ct);
    p.catch((e) => {
      if (!this.#quiet) this.#fail(transportError("transport write failed", e));
    });
    return p;
  }

  #arm() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const due = this.#client?.dueInMs;
    if (this.#done || due === undefined) return;
    // dueInMs is measured on the monotonic clock (performance.now()), like setTimeout.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#done) return;
      try {
        this.#client.tick();
        this.#process();
      } catch (e) {
        this.#fail(e);
      }
    }, due + 1);
  }

  async #write(chunk) {
    this.#writing++;
    try {
      await this.#started;
      let data = bytes(chunk);
      while (data.length > 0) {
        if (this.#error) throw this.#error;
        if (this.#done || this.#closeSent) throw tlsError("CLOSED", "the TLS connection is closed for writing");
        let n;
        try {
          n = this.#client.write(data);
        } catch (e) {
          throw asTlsError(e);
        }
        data = data.subarray(n);
        const written = this.#process();
        if (n === 0) {
          // The send buffer is full (data queued before the handshake ends): wait for progress.
          await new Promise((resolve) => this.#progressWaiters.push(resolve));
        } else {
          await written.catch(noop); // transport back-pressure; a failure is in #error
        }
      }
      if (this.#error) throw this.#error;
    } finally {
      this.#writing--;
      if (this.#writing === 0) for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  /** Resolves once no write is in progress and none follows at once from the writable's queue. */
  async #writesIdle() {
    for (;;) {
      while (this.#writing > 0) await new Promise((resolve) => this.#idleWaiters.push(resolve));
      // The writable hands its next queued chunk to #write in a promise reaction of the
      // previous one: after a macrotask with no new write, its queue is empty.
      await macrotask();
      if (this.#writing === 0) return;
    }
  }

  /** Queues close_notify after the data and half-closes the transport (once). */
  #sendCloseNotify() {
    this.#closeNotify ??= this.#closeNotifyOnce();
    return this.#closeNotify;
  }

  async #closeNotifyOnce() {
    if (this.#done) return;
    // The core would queue close_notify until the handshake ends; the transport must stay
    // open until then.
    await this.opened;
    if (this.#done) return;
    this.#closeSent = true;
    // Every write of the application was handed over and written (#writesIdle, or the
    // writable's own close): only close_notify is left.
    const quiet = this.#peerClosed;
    if (quiet) this.#quiet = true;
    try {
      this.#client.close();
    } catch (e) {
      throw asTlsError(e);
    }
    const written = this.#process();
    try {
      await written;
    } catch (e) {
      if (!quiet) throw transportError("transport write failed", e);
    }
    if (this.#done) return;
    // Nothing more will be written: half-close the transport (TCP FIN, tlsferry.v1 "eof").
    this.#writerClosed = true;
    try {
      await this.#writer.close();
    } catch (e) {
      if (!quiet) throw transportError("closing the transport failed", e);
    }
  }

  /** writable.close(): close_notify; reading goes on until the server's close_notify. */
  async #closeWrite() {
    await this.#started;
    if (this.#error) throw this.#error;
    try {
      await this.#sendCloseNotify();
    } catch (e) {
      this.#fail(e);
      throw this.#error;
    }
    if (this.#error) throw this.#error;
  }

  async #closeAll() {
    try {
      await this.#started;
    } catch {
      return this.closed;
    }
    try {
      await this.#writesIdle();
      if (this.#error) throw this.#error;
      await this.#sendCloseNotify();
      if (this.#error) throw this.#error;
      this.#finish();
    } catch (e) {
      this.#fail(e);
    }
    return this.closed;
  }

  /** Clean end: both sides closed, or close() sent everything. */
  #finish() {
    if (this.#done) return;
    this.#settle();
    if (this.#readableOpen) {
      this.#readableOpen = false;
      try {
        this.#readCtl.close();
      } catch {
        // already closed
      }
    }
    this.#rejectOpened(tlsError("CLOSED", "the connection closed before the handshake completed"));
    this.#closeTransport().then(
      () => this.#resolveClosed(),
      (e) => {
        if (this.#quiet) return this.#resolveClosed();
        this.#error = transportError("closing the transport failed", e);
        this.#rejectClosed(this.#error);
      },
    );
  }

  #fail(e) {
    if (this.#done) return;
    const err = asTlsError(e);
    this.#error = err;
    // The core may hold an alert for the peer: send it before closing the transport.
    try {
      const alert = this.#writerClosed ? undefined : this.#client?.takeCiphertext();
      if (alert !== undefined) this.#writer?.write(alert).catch(noop);
    } catch {
      // the client is unusable; nothing to send
    }
    this.#settle();
    if (this.#readableOpen) {
      this.#readableOpen = false;
      try {
        this.#readCtl.error(err);
      } catch {
        // already errored
      }
    }
    this.#rejectOpened(err);
    this.#rejectClosed(err);
    this.#closeTransport(err).catch(noop);
  }

  /** Done: stops the timer, wakes every waiter, frees the wasm client, drops the signal. */
  #settle() {
    this.#done = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wakeReader();
    for (const w of this.#progressWaiters.splice(0)) w();
    // The wasm memory of this connection goes back now, not when the GC finds the object.
    const client = this.#client;
    this.#client = null;
    try {
      client?.free();
    } catch {
      // freed already
    }
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#signal = undefined;
    this.#onAbort = undefined;
  }

  /** Closes the transport after the queued writes (close_notify, alert) went out; only
   * then stops reading, since cancelling the readable may close the whole transport.
   * After a failure the writes get at most ALERT_GRACE_MS: the peer may not be reading. */
  /** Drops what the transport still delivers until its end, or LINGER_MS. */
  async #linger() {
    const reader = this.#reader;
    if (reader === undefined) return;
    let timer;
    const timeout = new Promise((resolve) => (timer = setTimeout(resolve, LINGER_MS)));
    try {
      for (;;) {
        const r = await Promise.race([reader.read(), timeout.then(() => ({ done: true }))]);
        if (r.done) break;
      }
    } catch {
      // the transport failed or was cancelled: nothing more to drain
    } finally {
      clearTimeout(timer);
    }
  }

  async #closeTransport(reason) {
    const cancel = () => this.#reader?.cancel(reason).catch(noop);
    if (this.#writer === undefined) return cancel();
    if (reason === undefined && !this.#writerClosed) {
      // A clean close: once our side is flushed and shut, read (and drop) what the peer
      // still sends until it closes too, for at most LINGER_MS, before the transport is
      // torn down. Tearing a TCP socket down with unread bytes (late session tickets, a
      // reply nobody reads) makes the kernel send a reset, and a reset makes the peer
      // drop what it has not read yet of ours: the writes close() promised to deliver.
      this.#writerClosed = true;
      await this.#writer.close();
      this.#linger().finally(cancel);
      return;
    }
    try {
      if (!this.#writerClosed) {
        this.#writerClosed = true;
        if (reason === undefined) {
          await this.#writer.close();
        } else {
          let timer;
          await Promise.race([
            this.#writer.close().catch(noop),
            new Promise((resolve) => (timer = setTimeout(resolve, ALERT_GRACE_MS))),
          ]);
          clearTimeout(timer);
        }
      }
    } finally {
      await cancel();
    }
  }
}

export { TlsError };
