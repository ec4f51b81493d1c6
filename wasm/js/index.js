// tlsferry for JavaScript: TLS in WebAssembly over any byte stream.
//
//   const sock = connect(transport, { serverName, caPem, alpn, ... });
//   const info = await sock.opened;          // version, cipherSuite, alpn, peerCertificates
//   sock.writable / sock.readable            // plaintext, Web Streams of Uint8Array
//   await sock.closed;                       // rejects on truncation or any error
//
// A transport is any { readable, writable } pair of byte streams: webSocketTransport(url)
// through a WebSocket↔TCP bridge, a Cloudflare Workers / Deno TCP socket, or a test double.
// The TLS state machine lives in Rust (TlsClient); this file only moves bytes, honours
// back-pressure in both directions and arms the core's timers.

import initWasm, { initSync as initWasmSync, TlsClient } from "../pkg/tlsferry_wasm.js";
import { packageWasm } from "./wasm_source.js";

export { TlsClient };
export { replay, deterministicClientHello, initReplay } from "./replay.js";

/** The error type of this package: `code` is stable (CERT_EXPIRED, TRUNCATED, TRANSPORT, …). */
export class TlsError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = "TlsError";
    this.code = code;
  }
}

let ready;

/**
 * Loads the WebAssembly module. Optional: connect() calls it with the default location.
 * `source` may be a URL, a Response, bytes, or a compiled WebAssembly.Module (Cloudflare
 * workerd imports .wasm files as modules: `import wasm from "tlsferry/tlsferry_wasm_bg.wasm"`).
 */
export function init(source) {
  if (ready === undefined || source !== undefined) {
    ready = (async () => {
      await initWasm({ module_or_path: source ?? (await packageWasm("../pkg/tlsferry_wasm_bg.wasm")) });
    })();
    ready.catch(() => {
      ready = undefined;
    });
  }
  return ready;
}

/** Synchronous init from bytes or a compiled WebAssembly.Module. */
export function initSync(source) {
  initWasmSync({ module: source });
  ready = Promise.resolve();
}


function tlsError(code, message, cause) {
  return new TlsError(code, message, cause === undefined ? undefined : { cause });
}

/** Errors thrown by the wasm side are plain Errors named TlsError; make them TlsError instances. */
function asTlsError(e) {
  if (e instanceof TlsError) return e;
  if (e instanceof Error && e.name === "TlsError" && typeof e.code === "string") {
    const t = new TlsError(e.code, e.message);
    for (const key of Object.keys(e)) t[key] = e[key];
    return t;
  }
  return tlsError("LOCAL", `unexpected failure: ${e?.message ?? e}`, e);
}

function bytes(chunk) {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === "string") return new TextEncoder().encode(chunk);
  throw new TypeError("expected a Uint8Array, ArrayBuffer, typed array or string");
}

const noop = () => {};

/**
 * Opens TLS over `transport` ({ readable, writable } byte streams).
 * Returns { opened, readable, writable, closed, close() } at once; the handshake runs in
 * the background.
 */
export function connect(transport, options) {
  return new TlsSocket(transport, options ?? {});
}

/** A TLS connection over a byte-stream transport. */
export class TlsSocket {
  #client;
  #reader;
  #writer;
  #readCtl;
  #readableOpen = true;
  #readableCancelled = false;
  #pullWaiter = null;
  #progressWaiters = [];
  #done = false;
  #error;
  #timer;
  #started;
  #resolveOpened;
  #rejectOpened;
  #resolveClosed;
  #rejectClosed;

  constructor(transport, options) {
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

    this.readable = new ReadableStream(
      {
        start: (c) => {
          this.#readCtl = c;
        },
        pull: () => {
          const w = this.#pullWaiter;
          this.#pullWaiter = null;
          w?.();
        },
        cancel: () => {
          // The application wants no more data: drop it, keep the connection.
          this.#readableCancelled = true;
          this.#readableOpen = false;
          this.#pullWaiter?.();
        },
      },
      { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
    );
    this.writable = new WritableStream({
      write: (chunk) => this.#write(chunk),
      close: () => this.#closeWrite(),
      abort: (reason) => this.#fail(tlsError("LOCAL", `writable aborted: ${reason?.message ?? reason}`, reason)),
    });

    const { serverName, ...rest } = options;
    this.#started = this.#start(transport, serverName, rest);
    this.#started.catch(noop);
  }

  /** Sends close_notify after the queued data, closes the transport, and resolves `closed`. */
  async close() {
    if (!this.#done) {
      try {
        await this.#started;
        if (!this.#done) {
          this.#client.close();
          this.#flush();
          this.#finish();
        }
      } catch (e) {
        this.#fail(e);
      }
    }
    return this.closed;
  }

  // ----- internals -----

  async #start(transport, serverName, rest) {
    try {
      if (!transport || !transport.readable || !transport.writable) {
        throw tlsError("CONFIG", "connect(): the transport must be a { readable, writable } pair of byte streams");
      }
      if (typeof serverName !== "string" || serverName === "") {
        throw tlsError("CONFIG", "connect(): options.serverName (the name to verify) is required");
      }
      await init();
      this.#client = new TlsClient(serverName, rest);
      this.#writer = transport.writable.getWriter();
      this.#reader = transport.readable.getReader();
    } catch (e) {
      this.#fail(e);
      throw e;
    }
    this.#process();
    this.#readLoop();
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
          throw tlsError("TRANSPORT", `transport failed: ${e?.message ?? e}`, e);
        }
        if (this.#done) return;
        if (result.done) {
          // End of stream: clean only after the server's close_notify, else TRUNCATED.
          this.#client.feedEof();
          this.#process();
          if (!this.#done) this.#finish();
          return;
        }
        const chunk = bytes(result.value);
        let offset = 0;
        while (offset < chunk.length) {
          // feed() splits the chunk by receiveCapacity itself.
          const n = this.#client.feed(offset === 0 ? chunk : chunk.subarray(offset));
          this.#process();
          if (n === 0) throw tlsError("LOCAL", "the TLS receive buffer is full and does not drain");
          offset += n;
        }
      }
    } catch (e) {
      this.#fail(e);
    }
  }

  /** Hands ciphertext to the transport and dispatches events. Synchronous on purpose: the
   * transport writer queues writes in call order. Returns the transport write promise. */
  #process() {
    const written = this.#flush();
    const client = this.#client;
    for (let ev = client.nextEvent(); ev !== undefined; ev = client.nextEvent()) {
      switch (ev.type) {
        case "connected":
          this.#resolveOpened(ev.info);
          break;
        case "data":
          if (this.#readableOpen) this.#readCtl.enqueue(ev.data);
          break;
        case "peerClosed":
          if (this.#readableOpen) {
            this.#readableOpen = false;
            this.#readCtl.close();
          }
          break;
        case "closed":
          this.#finish();
          break;
      }
    }
    this.#arm();
    const waiters = this.#progressWaiters;
    this.#progressWaiters = [];
    for (const w of waiters) w();
    return written;
  }

  #flush() {
    const ct = this.#client?.takeCiphertext();
    if (ct === undefined || this.#writer === undefined) return Promise.resolve();
    const p = this.#writer.write(ct);
    p.catch((e) => this.#fail(tlsError("TRANSPORT", `transport write failed: ${e?.message ?? e}`, e)));
    return p;
  }

  #arm() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const deadline = this.#client?.deadline;
    if (this.#done || deadline === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#done) return;
      try {
        this.#client.tick();
        this.#process();
      } catch (e) {
        this.#fail(e);
      }
    }, Math.max(0, deadline - Date.now()) + 1);
  }

  async #write(chunk) {
    await this.#started;
    let data = bytes(chunk);
    while (data.length > 0) {
      if (this.#error) throw this.#error;
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
        await written; // transport back-pressure
      }
    }
    if (this.#error) throw this.#error;
  }

  async #closeWrite() {
    await this.#started;
    if (this.#error) throw this.#error;
    if (this.#done) return;
    try {
      this.#client.close();
    } catch (e) {
      throw asTlsError(e);
    }
    await this.#process();
  }

  /** Clean end: both sides closed (or close() was called). */
  #finish() {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    if (this.#readableOpen) {
      this.#readableOpen = false;
      try {
        this.#readCtl.close();
      } catch {
        // already closed
      }
    }
    this.#rejectOpened(tlsError("CLOSED", "the connection closed before the handshake completed"));
    this.#pullWaiter?.();
    for (const w of this.#progressWaiters.splice(0)) w();
    this.#closeTransport();
    this.#resolveClosed();
  }

  #fail(e) {
    if (this.#done) return;
    const err = asTlsError(e);
    this.#error = err;
    this.#done = true;
    clearTimeout(this.#timer);
    // The core may hold an alert for the peer: send it before closing the transport.
    try {
      const alert = this.#client?.takeCiphertext();
      if (alert !== undefined) this.#writer?.write(alert).catch(noop);
    } catch {
      // the client is unusable; nothing to send
    }
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
    this.#pullWaiter?.();
    for (const w of this.#progressWaiters.splice(0)) w();
    this.#closeTransport(err);
  }

  /** Closes the transport after the queued writes (close_notify, alert) went out; only
   * then stops reading, since cancelling the readable may close the whole transport. */
  #closeTransport(reason) {
    const cancel = () => this.#reader?.cancel(reason).catch(noop);
    if (this.#writer) this.#writer.close().then(cancel, cancel);
    else cancel();
  }
}

function describeClose(url, ev, wasOpen) {
  const reason = ev.reason ? `: ${ev.reason}` : "";
  const when = wasOpen ? "" : " before it opened (is the bridge running and the URL right?)";
  return `WebSocket ${url} closed with code ${ev.code}${reason}${when}`;
}

/**
 * A transport over a WebSocket to a WebSocket↔TCP bridge (`tlsferry bridge`, websockify).
 * `url` is e.g. "ws://127.0.0.1:8080/?target=example.com:443". Options: `protocols`
 * (default ["binary"]), `WebSocket` (a constructor, e.g. from the "ws" package; default
 * globalThis.WebSocket), `highWaterMark` (bytes buffered in the socket before writes wait),
 * `maxFrameSize` (largest frame sent, default 64 KiB), `openTimeoutMs` (default 15000).
 */
export function webSocketTransport(url, options = {}) {
  const WS = options.WebSocket ?? globalThis.WebSocket;
  if (typeof WS !== "function") {
    throw tlsError(
      "TRANSPORT",
      "no WebSocket implementation: on Node 20 run with --experimental-websocket, or pass { WebSocket } (e.g. from the ws package)",
    );
  }
  const highWaterMark = options.highWaterMark ?? 1024 * 1024;
  const maxFrame = options.maxFrameSize ?? 64 * 1024;
  const ws = new WS(url, options.protocols ?? ["binary"]);
  ws.binaryType = "arraybuffer";
  let wasOpen = false;
  let ended = false;
  let closeError;
  let readCtl;
  let resolveOpened;
  let rejectOpened;
  const opened = new Promise((resolve, reject) => {
    resolveOpened = resolve;
    rejectOpened = reject;
  });
  opened.catch(noop);

  // Ends the transport once: a clean end (err undefined) or an error.
  const end = (err) => {
    if (ended) return;
    ended = true;
    clearTimeout(openTimer);
    closeError = err ?? tlsError("TRANSPORT", `WebSocket ${url} is closed`);
    rejectOpened(closeError);
    try {
      if (err === undefined) readCtl.close();
      else readCtl.error(err);
    } catch {
      // the readable was cancelled already
    }
    if (ws.readyState <= 1) ws.close(err === undefined ? 1000 : 4000, "");
  };
  const openTimeoutMs = options.openTimeoutMs ?? 15000;
  const openTimer = setTimeout(
    () => end(tlsError("TRANSPORT", `WebSocket ${url} did not open within ${openTimeoutMs} ms`)),
    openTimeoutMs,
  );

  ws.addEventListener("open", () => {
    wasOpen = true;
    clearTimeout(openTimer);
    resolveOpened();
  });
  ws.addEventListener("message", (ev) => {
    if (ended) return;
    if (typeof ev.data === "string") {
      end(tlsError("TRANSPORT", "the bridge sent a text frame; expected binary frames"));
      return;
    }
    readCtl.enqueue(new Uint8Array(ev.data));
  });
  ws.addEventListener("close", (ev) => {
    // 1000 (normal) and 1005 (no status) after a successful open: the TCP side ended.
    if (wasOpen && (ev.code === 1000 || ev.code === 1005)) end();
    else end(tlsError("TRANSPORT", describeClose(url, ev, wasOpen)));
  });
  ws.addEventListener("error", (ev) => {
    // A close event with the code and reason normally follows; some implementations
    // (Node 20's) never send it when the handshake fails, so do not wait for it then.
    const detail = ev?.message ? `: ${ev.message}` : "";
    if (!wasOpen) end(tlsError("TRANSPORT", `WebSocket ${url} failed before it opened${detail} (is the bridge running and the URL right?)`));
    else setTimeout(() => end(tlsError("TRANSPORT", `WebSocket ${url} failed${detail}`)), 1000);
  });

  const readable = new ReadableStream({
    start(c) {
      readCtl = c;
    },
    cancel() {
      ended = true;
      clearTimeout(openTimer);
      if (ws.readyState <= 1) ws.close(1000);
    },
  });

  const writable = new WritableStream({
    async write(chunk) {
      await opened;
      if (ws.readyState !== 1) throw closeError ?? tlsError("TRANSPORT", `WebSocket ${url} is closed`);
      // One frame per piece: bridges limit the frame size (tlsferry bridge: 1 MiB).
      const data = bytes(chunk);
      for (let off = 0; off < data.length; off += maxFrame) ws.send(data.subarray(off, off + maxFrame));
      while (ws.bufferedAmount > highWaterMark && ws.readyState === 1) {
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close() {
      if (ws.readyState <= 1) ws.close(1000);
    },
    abort() {
      if (ws.readyState <= 1) ws.close(1000);
    },
  });

  return { readable, writable, opened, webSocket: ws };
}
