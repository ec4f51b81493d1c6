// The socket's lifecycle, rule by rule (the shape of Cloudflare's sockets):
// allowHalfOpen, close() flushing queued writes or rejecting, the wasm client freed when
// the socket settles, AbortSignal, Symbol.asyncDispose, unknown options.

import { test } from "node:test";
import assert from "node:assert/strict";
import tls from "node:tls";
import { getEventListeners } from "node:events";

import { connect, tcpTransport, webSocketTransport, TlsClient, init, loadMozillaRoots } from "tlsferry";
import initGlue from "../pkg/tlsferry_wasm.js";
import { makePki, sServer, tcpServer, python, bridge, readAll, readBytes, pattern, rejectsWith, until } from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());

const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);
const opts = (extra = {}) => ({ serverName: "localhost", caPem: pki.caPem, ...extra });

/** A Node TLS server on 127.0.0.1; `onSecure(socket)` for each connection. */
async function nodeTlsServer(t, onSecure, options = {}) {
  const server = tls.createServer({ key: pki.serverKey, cert: pki.serverPem, ...options }, onSecure);
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const sockets = new Set();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return { port: server.address().port, target: `127.0.0.1:${server.address().port}` };
}

/** A server that greets, then sends close_notify and waits for the client's (test/servers/greeter.py). */
async function greeter(t) {
  const server = await python(t, "greeter", [pki.path("server.pem"), pki.path("server.key")]);
  return { ...server, answered: () => until(() => /^(answered|no close_notify).*$/m.test(server.output()), "the server's verdict").then(() => /^(answered|no close_notify).*$/m.exec(server.output())[0]) };
}

for (const [name, transport] of [
  ["a direct TCP transport", (server) => tcpTransport("127.0.0.1", server.port)],
  ["the bridge", async (server, t) => webSocketTransport((await bridge(t, [server.target])).url)],
]) {
  test(`allowHalfOpen false (default), over ${name}: the server's close_notify is answered and \`closed\` settles`, async (t) => {
    const server = await greeter(t);
    const tr = await transport(server, t);
    const sock = connect(tr, opts());
    await sock.opened;
    assert.equal(dec(await readAll(sock.readable)), "bye\n");
    // No close() call: the socket answers the server's close_notify by itself.
    await sock.closed;
    assert.equal(await server.answered(), "answered with close_notify");
    if (tr.webSocket) await until(() => tr.webSocket.readyState === 3, "the bridge WebSocket is closed (its slot freed)");
    const w = sock.writable.getWriter();
    await rejectsWith(w.write(enc("too late")), "CLOSED");
  });
}

test("allowHalfOpen true: the readable ends, writes still reach the server, close() ends it", async (t) => {
  const server = await python(t, "halfclose", [pki.path("server.pem"), pki.path("server.key")]);
  const sock = connect(tcpTransport("127.0.0.1", server.port), opts({ allowHalfOpen: true }));
  await sock.opened;
  assert.equal(dec(await readAll(sock.readable)), "greeting, then close_notify\n");
  await until(() => server.output().includes("sent close_notify and FIN"), "the server half-closed");
  // Half-open: the socket waits for us.
  const w = sock.writable.getWriter();
  await w.write(enc("still talking after your close_notify"));
  w.releaseLock();
  await sock.close();
  await sock.closed;
  await server.exited;
  assert.match(server.output(), /client close_notify\nreceived 37 bytes: b'still talking after your close_notify'/);
});

test("writable.close() half-closes: close_notify, then reading goes on until the server's", async (t) => {
  const server = await sServer(t, pki);
  const sock = connect(tcpTransport("127.0.0.1", server.port), opts());
  await sock.opened;
  const w = sock.writable.getWriter();
  await w.write(enc("last words\n"));
  await w.close();
  // s_server answers our close_notify with its own; the socket then settles.
  assert.equal((await readAll(sock.readable)).length, 0);
  await sock.closed;
  assert.equal(dec(await server.waitReceived(11)), "last words\n");
});

for (const [name, transport] of [
  ["a direct TCP transport", (server) => tcpTransport("127.0.0.1", server.port)],
  ["the bridge", async (server, t) => webSocketTransport((await bridge(t, [server.target])).url)],
]) {
  test(`close() over ${name} sends every queued write (4 MiB), then close_notify`, async (t) => {
    const server = await sServer(t, pki);
    const sock = connect(await transport(server, t), opts());
    const data = pattern(4 * 1024 * 1024, 21);
    const w = sock.writable.getWriter();
    // Queued, not awaited: close() must not overtake them.
    const writes = [w.write(data.subarray(0, 1024 * 1024)), w.write(data.subarray(1024 * 1024))];
    await sock.close();
    await Promise.all(writes);
    const got = await server.waitReceived(data.length);
    assert.equal(got.length, data.length);
    assert.ok(got.equals(data), "the server got every byte, in order");
  });
}

test("close() rejects when it cannot send the queued writes (and `closed` rejects alike)", async (t) => {
  const server = await sServer(t, pki);
  const tcp = tcpTransport("127.0.0.1", server.port);
  // A transport whose write side breaks after 1 MiB.
  let written = 0;
  const inner = tcp.writable.getWriter();
  const writable = new WritableStream({
    async write(chunk) {
      written += chunk.byteLength;
      if (written > 1024 * 1024) throw new Error("connection reset by the test");
      await inner.write(chunk);
    },
    close: () => inner.close(),
  });
  const sock = connect({ readable: tcp.readable, writable }, opts());
  const w = sock.writable.getWriter();
  w.write(pattern(4 * 1024 * 1024, 3)).catch(() => {});
  const err = await rejectsWith(sock.close(), "TRANSPORT");
  assert.match(err.message, /connection reset by the test/);
  await rejectsWith(sock.closed, "TRANSPORT");
});

test("the wasm client is freed when the socket settles: 10,000 sequential connections, no growth", async (t) => {
  const server = await nodeTlsServer(t, (s) => {
    s.on("data", () => {});
    s.on("error", () => {});
  });
  await init();
  const wasm = await initGlue(); // initialised already: returns the module's exports
  const memory = () => wasm.memory.buffer.byteLength;
  // Every socket stays referenced, so only an explicit free() can give its memory back
  // (the FinalizationRegistry cannot): growth here is a leak. One connection in 25 is a
  // full handshake over TCP and a clean close; the others end early (the transport ends
  // at once: HANDSHAKE_EOF) and offer TLS 1.2 only (no key shares to make): a tenth of the
  // time, and a leak just the same.
  const sockets = [];
  const once = async (i) => {
    if (i % 25 === 0) {
      const sock = connect(tcpTransport("127.0.0.1", server.port), opts());
      sockets.push(sock);
      await sock.opened;
      await sock.close();
    } else {
      const ended = new TransformStream({ start: (c) => c.terminate() });
      const sock = connect(ended, opts({ maxVersion: "TLSv1.2" }));
      sockets.push(sock);
      await sock.closed.catch(() => {});
    }
  };
  const started = performance.now();
  for (let i = 0; i < 500; i++) await once(i);
  const warm = memory();
  for (let i = 500; i < 10_000; i++) await once(i);
  const after = memory();
  t.diagnostic(
    `wasm memory after 500 connections: ${warm} bytes, after 10,000: ${after} bytes ` +
      `(${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  assert.ok(after - warm <= 1024 * 1024, `wasm memory grew by ${after - warm} bytes over 9,500 connections`);
  assert.equal(sockets.length, 10_000);
});

test("TlsClient.free() by hand, and what a freed socket still answers", async () => {
  await loadMozillaRoots(); // a TlsClient trusting the built-in roots needs them loaded
  const c = new TlsClient("example.com", {});
  assert.ok(c.takeCiphertext().length > 100);
  c.free();
  assert.throws(() => c.takeCiphertext());
});

test("signal: aborting ends the connection with ABORTED, before or after the handshake", async (t) => {
  // Already aborted.
  const pre = connect(new TransformStream(), opts({ signal: AbortSignal.abort(new Error("user gave up")) }));
  const e0 = await rejectsWith(pre.opened, "ABORTED");
  assert.match(e0.message, /user gave up/);

  // During the handshake: the server never answers; the socket closes its transport.
  let serverSawEnd;
  const ended = new Promise((r) => (serverSawEnd = r));
  const silent = await tcpServer(t, (s) => {
    s.on("data", () => {});
    s.on("close", () => serverSawEnd());
  });
  const ac = new AbortController();
  const a = connect(tcpTransport("127.0.0.1", silent.port), opts({ signal: ac.signal }));
  setTimeout(() => ac.abort(), 100);
  await rejectsWith(a.opened, "ABORTED");
  await rejectsWith(a.closed, "ABORTED");
  await ended;

  // After the handshake, while reading.
  const server = await sServer(t, pki);
  const ac2 = new AbortController();
  const b = connect(tcpTransport("127.0.0.1", server.port), opts({ signal: ac2.signal }));
  await b.opened;
  const reader = b.readable.getReader();
  const read = reader.read();
  ac2.abort();
  await rejectsWith(read, "ABORTED");
  await rejectsWith(b.closed, "ABORTED");

  // One long-lived signal for many connections: each removes its listener when it settles.
  const shared = new AbortController();
  for (let i = 0; i < 5; i++) {
    const s = connect(tcpTransport("127.0.0.1", server.port), opts({ signal: shared.signal }));
    await s.opened;
    await s.close();
  }
  assert.equal(getEventListeners(shared.signal, "abort").length, 0);
});

test("Symbol.asyncDispose closes the socket (await using), and stays quiet after an error it reported", async (t) => {
  const server = await sServer(t, pki);
  const sock = connect(tcpTransport("127.0.0.1", server.port), opts());
  await sock.opened;
  const w = sock.writable.getWriter();
  await w.write(enc("disposed\n"));
  w.releaseLock();
  assert.equal(typeof sock[Symbol.asyncDispose], "function");
  await sock[Symbol.asyncDispose]();
  await sock.closed;
  assert.equal(dec(await server.waitReceived(9)), "disposed\n");

  const bad = connect(tcpTransport("127.0.0.1", server.port), opts({ serverName: "wrong.example" }));
  await rejectsWith(bad.opened, "CERT_HOSTNAME_MISMATCH");
  await bad[Symbol.asyncDispose](); // the error was reported by `opened` already
});

test("keyExchangeGroups chooses the key exchange; a group in common with nobody is a CONFIG error or an ALERT", async (t) => {
  const server = await sServer(t, pki);
  // The default against OpenSSL 3.0 (no ML-KEM): X25519, the share sent beside the hybrid.
  const plain = connect(tcpTransport("127.0.0.1", server.port), opts({ resumption: false }));
  assert.equal((await plain.opened).keyExchangeGroup, "X25519");
  await plain.close();
  const p256 = connect(tcpTransport("127.0.0.1", server.port), opts({ resumption: false, keyExchangeGroups: ["P-256"] }));
  assert.equal((await p256.opened).keyExchangeGroup, "secp256r1");
  await p256.close();
  const unknown = await rejectsWith(connect(tcpTransport("127.0.0.1", server.port), opts({ keyExchangeGroups: ["X448"] })).opened, "CONFIG");
  assert.match(unknown.message, /unknown key-exchange group "X448"/);
  const only384 = await sServer(t, pki, { args: ["-groups", "P-384"] });
  const refused = connect(tcpTransport("127.0.0.1", only384.port), opts({ keyExchangeGroups: ["X25519"] }));
  const e = await rejectsWith(refused.opened, "ALERT");
  assert.match(e.message, /handshake_failure.*key exchange X25519$/s);
});

test("unknown option keys are CONFIG errors naming the key (TlsClient too)", async () => {
  await loadMozillaRoots();
  assert.throws(
    () => new TlsClient("localhost", { caPEM: "" }),
    (e) => e.code === "CONFIG" && /unknown option "caPEM" \(did you mean "caPem"\?\)/.test(e.message),
  );
  // Every TLS option the JS layer lets through is one the wasm side knows.
  for (const key of ["alpn", "caPem", "extraCaPem", "clientCertPem", "clientKeyPem", "minVersion", "maxVersion", "cipherSuites", "keyExchangeGroups", "keyLog", "insecure", "handshakeTimeoutMs", "idleTimeoutMs", "resumption"]) {
    new TlsClient("localhost", { [key]: undefined }).free();
  }
});

test("readable back-pressure on a direct transport: an unread socket stops reading TCP", async (t) => {
  const server = await sServer(t, pki);
  const tcp = tcpTransport("127.0.0.1", server.port);
  const sock = connect(tcp, opts({ highWaterMark: 16 * 1024 }));
  await sock.opened;
  server.send(pattern(8 * 1024 * 1024, 9));
  await new Promise((r) => setTimeout(r, 1000));
  const buffered = tcp.socket.readableLength;
  // Node's socket buffer, our stream queue and the plaintext queue stay small: the rest
  // waits in the kernel and in the server (TCP flow control).
  assert.ok(tcp.socket.bytesRead < 4 * 1024 * 1024, `read ${tcp.socket.bytesRead} bytes while nobody read (buffered ${buffered})`);
  const all = await readBytes(sock.readable.getReader(), 8 * 1024 * 1024);
  assert.ok(all.equals(pattern(8 * 1024 * 1024, 9)));
  await sock.close();
});
