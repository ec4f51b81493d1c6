// Transports: what connect() runs TLS over. A transport is a { readable, writable } pair
// of Web byte streams; this file adapts Node.js Duplex streams, promises of transports
// (Deno.connect) and WebSockets to bridges into that shape. Internal to js/; the public
// names are re-exported by js/lib/api.js.

import { tlsError, transportError, checkOptionKeys, bytes, noop } from "./errors.js";

// ----- Node.js streams -----

/** True for a Node.js stream.Duplex (net.Socket, tls.TLSSocket, any Duplex). */
export function isNodeDuplex(t) {
  return (
    t != null &&
    typeof t.on === "function" &&
    typeof t.write === "function" &&
    typeof t.pipe === "function" &&
    typeof t.readable?.getReader !== "function"
  );
}

/**
 * A Node.js Duplex as a transport, with back-pressure both ways: the socket is paused
 * while `highWaterMark` bytes wait unread, so TCP flow control reaches the peer; writes
 * wait for 'drain'. Closing the writable ends the Duplex's write side (TCP FIN);
 * cancelling the readable destroys the Duplex.
 */
export function nodeDuplexTransport(duplex, { highWaterMark = 64 * 1024 } = {}) {
  let failure;
  let readCtl;
  const onFailure = new Set();
  const fail = (e) => {
    if (failure !== undefined) return;
    failure = transportError("the socket failed", e);
    try {
      readCtl?.error(failure);
    } catch {
      // already closed
    }
    for (const f of onFailure) f(failure);
  };
  duplex.on("error", fail);

  const readable = new ReadableStream(
    {
      start(c) {
        readCtl = c;
        duplex.on("data", (chunk) => {
          try {
            c.enqueue(typeof chunk === "string" ? new TextEncoder().encode(chunk) : bytes(chunk));
          } catch {
            return; // cancelled or closed
          }
          if (c.desiredSize <= 0) duplex.pause();
        });
        duplex.once("end", () => {
          try {
            c.close();
          } catch {
            // cancelled
          }
        });
        duplex.once("close", () => {
          // After 'end' the readable is closed and this is a no-op; otherwise the socket
          // went away without an end of stream (destroyed, reset).
          try {
            c.error(failure ?? tlsError("TRANSPORT", "the socket closed before its end of stream"));
          } catch {
            // already closed
          }
        });
        duplex.pause();
      },
      pull() {
        duplex.resume();
      },
      cancel() {
        readCtl = undefined;
        duplex.destroy();
      },
    },
    { highWaterMark, size: (chunk) => chunk.byteLength },
  );

  /** Resolves when `event` fires, rejects when the Duplex fails or closes first. */
  const until = (event) =>
    new Promise((resolve, reject) => {
      const done = (f) => {
        duplex.off(event, ok);
        duplex.off("close", closed);
        onFailure.delete(failed);
        f();
      };
      const ok = () => done(resolve);
      const failed = (e) => done(() => reject(e));
      const closed = () => done(() => reject(failure ?? tlsError("TRANSPORT", "the socket is closed")));
      duplex.once(event, ok);
      duplex.once("close", closed);
      onFailure.add(failed);
    });

  const writable = new WritableStream({
    async write(chunk) {
      if (failure !== undefined) throw failure;
      if (duplex.destroyed || duplex.writableEnded) throw tlsError("TRANSPORT", "the socket is closed for writing");
      const drained = duplex.write(chunk);
      if (!drained) await until("drain");
      if (failure !== undefined) throw failure;
    },
    async close() {
      if (failure !== undefined) throw failure;
      if (duplex.writableFinished) return;
      const finished = until("finish");
      duplex.end();
      await finished;
    },
    abort() {
      duplex.destroy();
    },
  });
  return { readable, writable };
}

// ----- transports that are not ready yet -----

/**
 * A transport for a promise of one (Deno.connect()): reads and writes wait for it.
 * `opened` resolves when it is there.
 */
export function lazyTransport(promise, describe = "the transport") {
  let reader;
  let writer;
  const ready = Promise.resolve(promise).then(
    (t) => {
      reader = t.readable.getReader();
      writer = t.writable.getWriter();
      return t;
    },
    (e) => {
      throw transportError(`${describe} failed`, e);
    },
  );
  ready.catch(noop);
  const readable = new ReadableStream(
    {
      async pull(c) {
        await ready;
        const { value, done } = await reader.read();
        if (done) c.close();
        else c.enqueue(value);
      },
      async cancel(reason) {
        await ready.then(() => reader.cancel(reason), noop);
      },
    },
    { highWaterMark: 0 },
  );
  const writable = new WritableStream({
    async write(chunk) {
      await ready;
      await writer.write(chunk);
    },
    async close() {
      await ready;
      await writer.close();
    },
    async abort(reason) {
      await ready.then(() => writer.abort(reason), noop);
    },
  });
  return { readable, writable, opened: ready.then(noop) };
}

/** What connect() accepts, as a { readable, writable } pair of Web streams. */
export function asTransport(t, where) {
  if (isNodeDuplex(t)) return nodeDuplexTransport(t);
  if (t != null && typeof t.readable?.getReader === "function" && typeof t.writable?.getWriter === "function") return t;
  throw tlsError(
    "CONFIG",
    `${where}: the transport must be a { readable, writable } pair of byte streams ` +
      "(a WebSocket transport, a Cloudflare or Deno TCP socket, Duplex.toWeb(socket)) or a Node.js Duplex such as a net.Socket",
  );
}

// ----- WebSockets to a bridge -----

// binary first: websockify 0.10 (Debian 12) refuses an offer whose first entry is not one
// it speaks ("tlsferry.v1, binary" is a 400). A bridge that speaks tlsferry.v1 picks it
// wherever it stands in the offer (README.md, "The bridge protocol").
const PROTOCOLS = ["binary", "tlsferry.v1"];
const MAX_CREDIT = 64 * 1024 * 1024;
const WS_KEYS = [
  "protocols",
  "WebSocket",
  "WebSocketStream",
  "highWaterMark",
  "maxBufferedBytes",
  "sendHighWaterMark",
  "maxFrameSize",
  "openTimeoutMs",
];

function describeClose(url, code, reason, wasOpen) {
  const why = reason ? `: ${reason}` : "";
  const when = wasOpen ? "" : " before it opened (is the bridge running and the URL right?)";
  return `WebSocket ${url} closed with code ${code}${why}${when}`;
}

function positiveInteger(where, name, value, fallback, max = Number.MAX_SAFE_INTEGER) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw tlsError("CONFIG", `${where}: ${name} must be an integer from 1 to ${max}`);
  }
  return value;
}

/**
 * The receiving half of a WebSocket transport: a queue of binary messages behind a
 * ReadableStream that hands them out only when read (highWaterMark 0), so what is queued
 * is exactly what arrived and was not read yet. With tlsferry.v1 it grants the bridge
 * credit for what was read; with binary it ends the transport when more than
 * `maxBuffered` bytes wait (a WebSocket cannot be told to stop).
 */
class Inbox {
  queue = [];
  queued = 0;
  eof = false;
  error = undefined;
  waiter = null;
  /** "credit" (tlsferry.v1), "cap" (binary over a WebSocket), "pull" (binary over a WebSocketStream). */
  mode = undefined;
  outstanding = 0;
  ungranted = 0;
  /** (n) => sends "credit n". */
  grant = noop;
  /** () => reads one more message (mode "pull"). */
  readMore = undefined;

  constructor({ window, maxBuffered, onCancel }) {
    this.window = window;
    this.maxBuffered = maxBuffered;
    this.threshold = Math.max(1, Math.floor(window / 4));
    this.readable = new ReadableStream(
      { start: (c) => void (this.ctl = c), pull: (c) => this.#pull(c), cancel: (r) => onCancel(r) },
      { highWaterMark: 0 },
    );
  }

  /** The bridge chose its protocol: starts the credit, if any. */
  start(mode) {
    this.mode = mode;
    if (mode === "credit") {
      this.outstanding = this.window;
      this.grant(this.window);
    }
    this.#wake();
  }

  push(data) {
    if (this.eof || this.error) return;
    if (data.byteLength === 0) return;
    if (this.mode === "credit") {
      if (data.byteLength > this.outstanding) {
        this.fail(tlsError("TRANSPORT", `the bridge sent ${data.byteLength} bytes with ${this.outstanding} bytes of credit left (tlsferry.v1 protocol error)`), true);
        return;
      }
      this.outstanding -= data.byteLength;
    } else if (this.mode === "cap" && this.queued + data.byteLength > this.maxBuffered) {
      this.fail(
        tlsError(
          "RECEIVE_BUFFER_FULL",
          `more than ${this.maxBuffered} received bytes wait unread (maxBufferedBytes): the bridge speaks the binary ` +
            "subprotocol, which cannot slow the server down; read faster, raise maxBufferedBytes, or use a bridge with tlsferry.v1",
        ),
        true,
      );
      return;
    }
    this.queue.push(data);
    this.queued += data.byteLength;
    this.#wake();
  }

  /** A clean end of stream, after what is queued. */
  end() {
    this.eof = true;
    this.#wake();
  }

  /** Ends with `err`: at once (dropping what is queued) or after what is queued. */
  fail(err, now = false) {
    if (this.error) return;
    this.error = err;
    if (now) {
      this.queue = [];
      this.queued = 0;
      // Errored at once, so that a reader that is not reading learns of it too.
      try {
        this.ctl.error(err);
      } catch {
        // closed already
      }
    }
    this.#wake();
  }

  #wake() {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  async #pull(c) {
    for (;;) {
      if (this.queue.length > 0) {
        const data = this.queue.shift();
        this.queued -= data.byteLength;
        c.enqueue(data);
        if (this.mode === "credit" && !this.eof && !this.error) {
          this.ungranted += data.byteLength;
          if (this.ungranted >= this.threshold) {
            const n = this.ungranted;
            this.ungranted = 0;
            this.outstanding += n;
            this.grant(n);
          }
        }
        return;
      }
      if (this.error) {
        try {
          c.error(this.error);
        } catch {
          // errored already
        }
        return;
      }
      if (this.eof) return c.close();
      if (this.mode === "pull" && this.readMore) await this.readMore();
      else await new Promise((resolve) => (this.waiter = resolve));
    }
  }
}

/**
 * A transport over a WebSocket to a WebSocket↔TCP bridge (`tlsferry bridge`, websockify).
 * See index.d.ts (WebSocketTransportOptions) and README.md, "The bridge protocol".
 */
export function webSocketTransport(url, options = {}) {
  const where = "webSocketTransport()";
  if (options === null || typeof options !== "object") throw tlsError("CONFIG", `${where}: options must be an object`);
  checkOptionKeys(where, options, WS_KEYS);
  const window = positiveInteger(where, "highWaterMark", options.highWaterMark, 1024 * 1024, MAX_CREDIT);
  const maxBuffered = positiveInteger(where, "maxBufferedBytes", options.maxBufferedBytes, Math.max(8 * 1024 * 1024, window));
  const sendHighWaterMark = positiveInteger(where, "sendHighWaterMark", options.sendHighWaterMark, 1024 * 1024);
  const maxFrame = positiveInteger(where, "maxFrameSize", options.maxFrameSize, 64 * 1024);
  const openTimeoutMs = positiveInteger(where, "openTimeoutMs", options.openTimeoutMs, 15000);
  const protocols = options.protocols ?? PROTOCOLS;
  const WSS = options.WebSocket === undefined ? (options.WebSocketStream ?? globalThis.WebSocketStream) : undefined;
  const WS = options.WebSocket ?? globalThis.WebSocket;
  const settings = { url, protocols, window, maxBuffered, sendHighWaterMark, maxFrame, openTimeoutMs };
  if (typeof WSS === "function") return viaWebSocketStream(WSS, settings);
  if (typeof WS !== "function") {
    throw tlsError(
      "TRANSPORT",
      "no WebSocket implementation: on Node 20 run with --experimental-websocket, or pass { WebSocket } (e.g. from the ws package)",
    );
  }
  return viaWebSocket(WS, settings);
}

const modeOf = (protocol, capped) => (protocol === "tlsferry.v1" ? "credit" : capped ? "cap" : "pull");

/** Handles a text frame: tlsferry.v1's "eof"; anything else ends the transport. */
function control(inbox, protocol, text, protocolError) {
  if (protocol === "tlsferry.v1" && text === "eof") {
    inbox.end();
    return;
  }
  protocolError(
    protocol === "tlsferry.v1"
      ? `the bridge sent an unknown control message ${JSON.stringify(text.slice(0, 40))} (tlsferry.v1)`
      : "the bridge sent a text frame; expected binary frames",
  );
}

function viaWebSocket(WS, s) {
  const { url } = s;
  const ws = new WS(url, s.protocols);
  ws.binaryType = "arraybuffer";
  let wasOpen = false;
  let closed = false;
  let writeEnded = false;
  let closeError;
  let protocol = "";
  let resolveOpened;
  let rejectOpened;
  const opened = new Promise((resolve, reject) => {
    resolveOpened = resolve;
    rejectOpened = reject;
  });
  opened.catch(noop);

  const closeSocket = (code) => {
    if (ws.readyState <= 1) ws.close(code, "");
  };
  const inbox = new Inbox({
    window: s.window,
    maxBuffered: s.maxBuffered,
    onCancel: () => {
      finish();
      closeSocket(1000);
    },
  });
  inbox.grant = (n) => {
    if (ws.readyState === 1) ws.send(`credit ${n}`);
  };

  // Ends the transport once: after a clean close (err undefined) or with an error.
  const finish = (err, now = false) => {
    if (closed) return;
    closed = true;
    clearTimeout(openTimer);
    closeError = err ?? tlsError("TRANSPORT", `WebSocket ${url} is closed`);
    rejectOpened(closeError);
    if (err === undefined) inbox.end();
    else inbox.fail(err, now);
  };
  const protocolError = (message) => {
    finish(tlsError("TRANSPORT", message), true);
    closeSocket(protocol === "tlsferry.v1" ? 1002 : 4000);
  };
  const openTimer = setTimeout(() => {
    finish(tlsError("TRANSPORT", `WebSocket ${url} did not open within ${s.openTimeoutMs} ms`));
    closeSocket(4000);
  }, s.openTimeoutMs);

  ws.addEventListener("open", () => {
    wasOpen = true;
    clearTimeout(openTimer);
    protocol = ws.protocol ?? "";
    inbox.start(modeOf(protocol, true));
    resolveOpened({ protocol });
  });
  ws.addEventListener("message", (ev) => {
    if (closed) return;
    if (typeof ev.data === "string") control(inbox, protocol, ev.data, protocolError);
    else if (inbox.eof) protocolError("the bridge sent data after eof (tlsferry.v1)");
    else inbox.push(bytes(ev.data));
    if (inbox.error && !closed) {
      finish(inbox.error, true);
      closeSocket(4000);
    }
  });
  ws.addEventListener("close", (ev) => {
    // 1000 (normal) and 1005 (no status) after a successful open: the tunnel ended.
    if (wasOpen && (ev.code === 1000 || ev.code === 1005)) finish();
    else finish(tlsError("TRANSPORT", describeClose(url, ev.code, ev.reason, wasOpen)));
  });
  ws.addEventListener("error", (ev) => {
    // A close event with the code and reason normally follows; some implementations
    // (Node 20's) never send it when the handshake fails, so do not wait for it then.
    const detail = ev?.message ? `: ${ev.message}` : "";
    if (!wasOpen) {
      finish(tlsError("TRANSPORT", `WebSocket ${url} failed before it opened${detail} (is the bridge running and the URL right?)`));
    } else {
      setTimeout(() => finish(tlsError("TRANSPORT", `WebSocket ${url} failed${detail}`)), 1000);
    }
  });

  const writable = new WritableStream({
    async write(chunk) {
      await opened;
      if (ws.readyState !== 1 || writeEnded) throw closeError ?? tlsError("TRANSPORT", `WebSocket ${url} is closed`);
      // One frame per piece: bridges limit the frame size (tlsferry bridge: 1 MiB).
      const data = bytes(chunk);
      for (let off = 0; off < data.length; off += s.maxFrame) ws.send(data.subarray(off, off + s.maxFrame));
      // The WebSocket API has no write back-pressure but bufferedAmount: poll it.
      while (ws.bufferedAmount > s.sendHighWaterMark && ws.readyState === 1) {
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async close() {
      await opened.catch(noop);
      writeEnded = true;
      // tlsferry.v1 half-closes (the bridge shuts the target's write side); binary cannot,
      // so the WebSocket stays open for what the server still sends.
      if (protocol === "tlsferry.v1" && ws.readyState === 1) ws.send("eof");
    },
    abort() {
      finish(tlsError("TRANSPORT", `WebSocket ${url} was aborted`), true);
      closeSocket(4000);
    },
  });

  return {
    readable: inbox.readable,
    writable,
    opened,
    webSocket: ws,
    get protocol() {
      return protocol;
    },
  };
}

function viaWebSocketStream(WSS, s) {
  const { url } = s;
  let wasOpen = false;
  let closed = false;
  let writeEnded = false;
  let closeError;
  let protocol = "";
  let reader;
  let writer;
  const wss = new WSS(url, { protocols: s.protocols });
  const closeSocket = (closeCode) => {
    try {
      wss.close({ closeCode, reason: "" });
    } catch {
      // closed already
    }
  };
  const inbox = new Inbox({
    window: s.window,
    maxBuffered: s.maxBuffered,
    onCancel: () => {
      finish();
      closeSocket(1000);
    },
  });
  const finish = (err, now = false) => {
    if (closed) return;
    closed = true;
    clearTimeout(openTimer);
    closeError = err ?? tlsError("TRANSPORT", `WebSocket ${url} is closed`);
    if (err === undefined) inbox.end();
    else inbox.fail(err, now);
  };
  const protocolError = (message) => {
    finish(tlsError("TRANSPORT", message), true);
    closeSocket(protocol === "tlsferry.v1" ? 1002 : 4000);
  };
  const openTimer = setTimeout(() => {
    finish(tlsError("TRANSPORT", `WebSocket ${url} did not open within ${s.openTimeoutMs} ms`));
    closeSocket(4000);
  }, s.openTimeoutMs);

  /** Reads one message; false when the stream ended. */
  const readOne = async () => {
    let r;
    try {
      r = await reader.read();
    } catch (e) {
      finish(transportError(`WebSocket ${url} failed`, e));
      return false;
    }
    if (r.done) {
      finish();
      return false;
    }
    if (typeof r.value === "string") control(inbox, protocol, r.value, protocolError);
    else if (inbox.eof) protocolError("the bridge sent data after eof (tlsferry.v1)");
    else inbox.push(bytes(r.value));
    if (inbox.error) {
      if (!closed) {
        finish(inbox.error, true);
        closeSocket(4000);
      }
      return false;
    }
    return true;
  };

  const opened = wss.opened.then(
    (o) => {
      if (closed) {
        closeSocket(1000);
        throw closeError;
      }
      wasOpen = true;
      clearTimeout(openTimer);
      protocol = o.protocol ?? "";
      reader = o.readable.getReader();
      writer = o.writable.getWriter();
      inbox.grant = (n) => writer.write(`credit ${n}`).catch(noop);
      const mode = modeOf(protocol, false);
      inbox.start(mode);
      if (mode === "credit") {
        // The credit bounds what arrives: read eagerly.
        (async () => {
          while (!closed && (await readOne()));
        })();
      } else {
        // No credit: read a message only when one is wanted, so the browser's
        // WebSocketStream stops reading the socket and TCP slows the bridge down.
        inbox.readMore = async () => {
          if (!closed) await readOne();
        };
      }
      return { protocol };
    },
    (e) => {
      const err = transportError(`WebSocket ${url} failed before it opened (is the bridge running and the URL right?)`, e);
      finish(err);
      throw err;
    },
  );
  opened.catch(noop);
  wss.closed.then(
    ({ closeCode, reason }) => {
      if (wasOpen && (closeCode === 1000 || closeCode === 1005 || closeCode === undefined)) finish();
      else finish(tlsError("TRANSPORT", describeClose(url, closeCode, reason, wasOpen)));
    },
    (e) => finish(transportError(`WebSocket ${url} failed`, e)),
  );

  const writable = new WritableStream({
    async write(chunk) {
      await opened;
      if (closed || writeEnded) throw closeError ?? tlsError("TRANSPORT", `WebSocket ${url} is closed`);
      const data = bytes(chunk);
      for (let off = 0; off < data.length; off += s.maxFrame) {
        // A copy: the stream keeps the chunk until it is sent.
        await writer.write(data.slice(off, off + s.maxFrame));
      }
    },
    async close() {
      await opened.catch(noop);
      writeEnded = true;
      if (protocol === "tlsferry.v1" && !closed) await writer.write("eof").catch(noop);
    },
    abort() {
      finish(tlsError("TRANSPORT", `WebSocket ${url} was aborted`), true);
      closeSocket(4000);
    },
  });

  return {
    readable: inbox.readable,
    writable,
    opened,
    webSocket: wss,
    get protocol() {
      return protocol;
    },
  };
}

/** tcpTransport() for Node.js, given node:net: a net.Socket with back-pressure. */
export function nodeTcpTransport(net, host, port, options) {
  // allowHalfOpen: the TLS socket decides when our side closes, not the peer's FIN.
  const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
  const opened = new Promise((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  opened.catch(noop);
  return { ...nodeDuplexTransport(socket, options), opened, socket };
}

/** tcpTransport() for Deno, given the Deno namespace. */
export function denoTcpTransport(deno, host, port) {
  const conn = deno.connect({ hostname: host, port });
  return { ...lazyTransport(conn, `Deno.connect(${host}:${port})`), conn };
}
