// The JS API end to end in Node: connect() over webSocketTransport() through
// `tlsferry bridge` (and websockify) to openssl s_server and other loopback peers.
// Run: npm test, i.e. node --experimental-websocket --test test/*.test.mjs (after
// wasm/build.sh and a debug build of the tlsferry binary). The package is imported by
// its name, so Node resolves it through package.json's "exports" (the "node" entry).

import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { Duplex } from "node:stream";

import { connect, webSocketTransport } from "tlsferry";
import {
  makePki,
  sServer,
  bridge,
  websockify,
  tcpServer,
  readAll,
  readBytes,
  pattern,
  rejectsWith,
} from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());

const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);

/** Connects through a fresh bridge to `target`. */
async function viaBridge(t, target, options) {
  const b = await bridge(t, [target]);
  return connect(webSocketTransport(b.url), { serverName: "localhost", caPem: pki.caPem, ...options });
}

test("TLS 1.3 through tlsferry bridge: handshake summary, chain, send and receive, clean close", async (t) => {
  const server = await sServer(t, pki);
  const sock = await viaBridge(t, server.target, {});
  const info = await sock.opened;
  assert.equal(info.version, "TLSv1.3");
  assert.equal(info.cipherSuite, "TLS_CHACHA20_POLY1305_SHA256", "ChaCha20 is preferred in wasm (IANA name)");
  assert.equal(info.resumed, false, "a first connection is a full handshake");
  assert.equal(info.verified, true);
  assert.equal(info.serverName, "localhost");
  assert.equal(info.peerCertificates.length, 1);
  const leaf = info.peerCertificates[0];
  assert.deepEqual(leaf.names, ["localhost", "127.0.0.1"]);
  assert.equal(leaf.subject, "CN=localhost");
  assert.equal(leaf.issuer, "CN=tlsferry test ca");
  assert.ok(leaf.notBefore instanceof Date && leaf.notAfter instanceof Date);
  assert.ok(leaf.notBefore < new Date() && new Date() < leaf.notAfter);
  assert.equal(leaf.pem.trim(), pki.serverPem.trim(), "PEM round-trips byte for byte");
  assert.match(leaf.sha256, /^[0-9a-f]{64}$/);

  const writer = sock.writable.getWriter();
  await writer.write(enc("Hello, World!\n"));
  assert.equal(dec(await server.waitReceived(14)), "Hello, World!\n");
  server.send("Hello back\n");
  const reader = sock.readable.getReader();
  assert.equal(dec(await readBytes(reader, 11)), "Hello back\n");
  reader.releaseLock();

  // Half-close: our close_notify; s_server answers with its own, the readable ends.
  await writer.close();
  assert.equal((await readAll(sock.readable)).length, 0);
  await sock.closed;
});

test("TLS 1.2 (server limited to 1.2, and client limited to 1.2)", async (t) => {
  const server12 = await sServer(t, pki, { args: ["-tls1_2"] });
  const a = await viaBridge(t, server12.target, {});
  const infoA = await a.opened;
  assert.equal(infoA.version, "TLSv1.2");
  assert.equal(infoA.cipherSuite, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
  const w = a.writable.getWriter();
  await w.write(enc("over 1.2"));
  assert.equal(dec(await server12.waitReceived(8)), "over 1.2");
  server12.send("ok");
  assert.equal(dec(await readBytes(a.readable.getReader(), 2)), "ok");
  await a.close();

  const server = await sServer(t, pki);
  const b = await viaBridge(t, server.target, { maxVersion: "TLSv1.2" });
  assert.equal((await b.opened).version, "TLSv1.2");
  await b.close();
  await b.closed;
});

test("large transfers are byte-exact both ways (4 MiB up, 4 MiB down)", async (t) => {
  const server = await sServer(t, pki);
  const sock = await viaBridge(t, server.target, {});
  await sock.opened;
  const up = pattern(4 * 1024 * 1024, 7);
  const down = pattern(4 * 1024 * 1024, 11);
  const writer = sock.writable.getWriter();
  // Odd-sized writes, to cross record and frame boundaries.
  for (let off = 0; off < up.length; off += 300_001) await writer.write(up.subarray(off, off + 300_001));
  const got = await server.waitReceived(up.length, 120_000);
  assert.equal(got.length, up.length);
  assert.ok(got.equals(up), "upload differs");
  server.send(down);
  const received = await readBytes(sock.readable.getReader(), down.length);
  assert.equal(received.length, down.length);
  assert.ok(received.equals(down), "download differs");
  await sock.close();
});

test("ALPN, client certificates and the key log", async (t) => {
  const server = await sServer(t, pki, {
    args: ["-alpn", "http/1.1", "-Verify", "1", "-CAfile", pki.path("ca.pem"), "-verify_return_error"],
  });
  const lines = [];
  const sock = await viaBridge(t, server.target, {
    alpn: ["h2", "http/1.1"],
    clientCertPem: pki.clientPem,
    clientKeyPem: pki.clientKey,
    keyLog: (line) => lines.push(line),
  });
  const info = await sock.opened;
  assert.equal(info.alpn, "http/1.1");
  const w = sock.writable.getWriter();
  await w.write(enc("with a client cert"));
  assert.equal(dec(await server.waitReceived(18)), "with a client cert");
  await sock.close();
  const labels = new Set(lines.map((l) => l.split(" ")[0]));
  for (const l of ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"]) {
    assert.ok(labels.has(l), `key log has ${l}`);
  }
  assert.match(lines[0], /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64,96}$/);
});

test("CERT_EXPIRED carries the dates and the report", async (t) => {
  const server = await sServer(t, pki, { cert: "expired" });
  const sock = await viaBridge(t, server.target, {});
  const err = await rejectsWith(sock.opened, "CERT_EXPIRED");
  assert.match(err.message, /expired/);
  assert.equal(err.notAfter.toISOString(), "2021-01-01T00:00:00.000Z");
  assert.match(err.report, /leaf validity: +2020-01-01 00:00:00 UTC … 2021-01-01 00:00:00 UTC/);
  assert.equal(err.peerCertificates.length, 1);
  await rejectsWith(sock.closed, "CERT_EXPIRED");
  await assert.rejects(readAll(sock.readable), (e) => e.code === "CERT_EXPIRED");
});

test("CERT_HOSTNAME_MISMATCH names what the certificate covers", async (t) => {
  const server = await sServer(t, pki);
  const sock = await viaBridge(t, server.target, { serverName: "wrong.example" });
  const err = await rejectsWith(sock.opened, "CERT_HOSTNAME_MISMATCH");
  assert.deepEqual(err.presentedNames, ["localhost", "127.0.0.1"]);
  assert.match(err.message, /certificate is for localhost, 127\.0\.0\.1, not wrong\.example/);
  assert.equal(err.serverName, "wrong.example");
});

test("CERT_UNKNOWN_ISSUER for a chain from a CA we do not trust", async (t) => {
  const server = await sServer(t, pki, { cert: "stranger" });
  const sock = await viaBridge(t, server.target, {});
  const err = await rejectsWith(sock.opened, "CERT_UNKNOWN_ISSUER");
  assert.equal(err.peerCertificates[0].issuer, "CN=tlsferry test other-ca");
  // The built-in Mozilla roots do not know our CA either.
  const server2 = await sServer(t, pki);
  const b = await bridge(t, [server2.target]);
  const sock2 = connect(webSocketTransport(b.url), { serverName: "localhost" });
  await rejectsWith(sock2.opened, "CERT_UNKNOWN_ISSUER");
});

test("TRUNCATED when the server closes TCP without close_notify", async (t) => {
  const server = tls.createServer({ key: pki.serverKey, cert: pki.serverPem }, (s) => {
    s.write("partial data", () => setTimeout(() => s._parent?.destroy?.() ?? s.destroy(), 50));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => new Promise((r) => server.close(r)));
  const sock = await viaBridge(t, `127.0.0.1:${server.address().port}`, {});
  await sock.opened;
  const reader = sock.readable.getReader();
  assert.equal(dec((await reader.read()).value), "partial data");
  await assert.rejects(reader.read(), (e) => e.code === "TRUNCATED" && /close_notify/.test(e.message));
  await rejectsWith(sock.closed, "TRUNCATED");
});

test("HANDSHAKE_EOF when the server hangs up during the handshake, PROTOCOL for a server that does not speak TLS", async (t) => {
  const hangUp = await tcpServer(t, (s) => s.once("data", () => s.destroy()));
  const a = await viaBridge(t, hangUp.target, {});
  const err = await rejectsWith(a.opened, "HANDSHAKE_EOF");
  assert.match(err.message, /during the TLS handshake/);

  const http = await tcpServer(t, (s) => s.once("data", () => s.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")));
  const b = await viaBridge(t, http.target, {});
  await rejectsWith(b.opened, "PROTOCOL");
});

test("TIMEOUT when the handshake does not finish in time", async (t) => {
  const silent = await tcpServer(t, () => {});
  const sock = await viaBridge(t, silent.target, { handshakeTimeoutMs: 300 });
  const started = Date.now();
  const err = await rejectsWith(sock.opened, "TIMEOUT");
  assert.match(err.message, /handshake/);
  assert.ok(Date.now() - started >= 250);
});

test("TRANSPORT errors say why the bridge refused", async (t) => {
  const server = await sServer(t, pki);
  const b = await bridge(t, [server.target]);
  const url = `${b.url}?target=${encodeURIComponent("127.0.0.1:1")}`;
  const sock = connect(webSocketTransport(url), { serverName: "localhost", caPem: pki.caPem });
  const err = await rejectsWith(sock.opened, "TRANSPORT");
  // The bridge refuses before the upgrade (HTTP 403): a WebSocket sees only a failed open.
  assert.match(err.message, /1008: target not allowed: 127\.0\.0\.1:1|failed before it opened/);
  await rejectsWith(sock.closed, "TRANSPORT");

  // Not a WebSocket server: an HTTP 404.
  const http = await tcpServer(t, (s) => s.once("data", () => s.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")));
  const sock2 = connect(webSocketTransport(`ws://127.0.0.1:${http.port}/`), { serverName: "localhost" });
  const err2 = await rejectsWith(sock2.opened, "TRANSPORT");
  assert.match(err2.message, /before it opened/);

  // A server that hangs up during the WebSocket handshake: the open timeout ends it.
  const rude = await tcpServer(t, (s) => s.destroy());
  const sock3 = connect(webSocketTransport(`ws://127.0.0.1:${rude.port}/`, { openTimeoutMs: 500 }), { serverName: "localhost" });
  const err3 = await rejectsWith(sock3.opened, "TRANSPORT");
  assert.match(err3.message, /before it opened|did not open within 500 ms/);
});

test("configuration errors are CONFIG / INVALID_SERVER_NAME, and insecure warns loudly", async (t) => {
  const transport = () => {
    const { readable, writable } = new TransformStream();
    return { readable, writable };
  };
  await rejectsWith(connect(transport(), { serverName: "localhost", caPem: "not a pem" }).opened, "CONFIG");
  await rejectsWith(connect(transport(), { serverName: "localhost", minVersion: "TLSv1.3", maxVersion: "TLSv1.2" }).opened, "CONFIG");
  await rejectsWith(connect(transport(), { serverName: "localhost", clientCertPem: pki.clientPem }).opened, "CONFIG");
  await rejectsWith(connect(transport(), {}).opened, "CONFIG");
  await rejectsWith(connect(transport(), { serverName: "bad name!" }).opened, "INVALID_SERVER_NAME");
  // A misspelt option is named, not ignored (it would surface as CERT_UNKNOWN_ISSUER).
  const typo = await rejectsWith(connect(transport(), { serverName: "localhost", caPEM: pki.caPem }).opened, "CONFIG");
  assert.match(typo.message, /unknown option "caPEM" \(did you mean "caPem"\?\)/);
  const typo2 = await rejectsWith(connect(transport(), { serverName: "localhost", allowHalfopen: true }).opened, "CONFIG");
  assert.match(typo2.message, /unknown option "allowHalfopen" \(did you mean "allowHalfOpen"\?\)/);
  assert.throws(() => webSocketTransport("ws://127.0.0.1:1/", { highWatermark: 5 }), (e) => e.code === "CONFIG" && /"highWatermark" \(did you mean "highWaterMark"\?\)/.test(e.message));

  const warnings = [];
  t.mock.method(console, "warn", (m) => warnings.push(m));
  const server = await sServer(t, pki, { cert: "stranger" });
  const sock = await viaBridge(t, server.target, { serverName: "wrong.example", insecure: true, caPem: undefined });
  const info = await sock.opened;
  assert.equal(info.verified, false);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /NOT verified/);
  await sock.close();
});

test("the same client through websockify", async (t) => {
  const server = await sServer(t, pki);
  const w = await websockify(t, server.target);
  const sock = connect(webSocketTransport(w.url), { serverName: "localhost", caPem: pki.caPem });
  const info = await sock.opened;
  assert.equal(info.version, "TLSv1.3");
  const data = pattern(256 * 1024, 3);
  const writer = sock.writable.getWriter();
  await writer.write(data);
  assert.ok((await server.waitReceived(data.length)).equals(data));
  server.send("via websockify");
  assert.equal(dec(await readBytes(sock.readable.getReader(), 14)), "via websockify");
  await sock.close();
});

test("any { readable, writable } pair is a transport (a Node TCP socket, as edge runtimes give)", async (t) => {
  const server = await sServer(t, pki);
  const socket = net.connect(server.port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  t.after(() => socket.destroy());
  const sock = connect(Duplex.toWeb(socket), { serverName: "127.0.0.1", caPem: pki.caPem });
  assert.equal((await sock.opened).serverName, "127.0.0.1");
  server.send("direct");
  assert.equal(dec(await readBytes(sock.readable.getReader(), 6)), "direct");
  await sock.close();
});

test("back-pressure: an unread readable stops reading the transport", async (t) => {
  const server = await sServer(t, pki);
  const b = await bridge(t, [server.target]);
  const ws = webSocketTransport(b.url);
  // Count the ciphertext the TLS socket pulls from the transport.
  let pulled = 0;
  const source = ws.readable.getReader();
  const counted = new ReadableStream(
    {
      async pull(c) {
        const { value, done } = await source.read();
        if (done) return c.close();
        pulled += value.length;
        c.enqueue(value);
      },
      cancel: (reason) => source.cancel(reason),
    },
    { highWaterMark: 0 }, // pull only when the TLS socket reads
  );
  const sock = connect({ readable: counted, writable: ws.writable }, { serverName: "localhost", caPem: pki.caPem });
  await sock.opened;
  const total = 8 * 1024 * 1024;
  server.send(pattern(total, 5));
  // Read nothing for a while: the socket must stop pulling once its readable is full.
  await new Promise((r) => setTimeout(r, 1500));
  const stalled = pulled;
  assert.ok(stalled > 0, "some data arrived");
  assert.ok(stalled < 1024 * 1024, `pulled ${stalled} bytes of ciphertext while nobody read`);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(pulled, stalled, "still stalled");
  const all = await readBytes(sock.readable.getReader(), total);
  assert.ok(all.equals(pattern(total, 5)));
  assert.ok(pulled > total);
  await sock.close();
});

/** Re-chunks a byte stream into pieces of at least `min` bytes (or what came within 20 ms). */
function coalescing(readable, min, stats) {
  const src = readable.getReader();
  let pending = null;
  return new ReadableStream(
    {
      async pull(c) {
        const parts = [];
        let n = 0;
        for (;;) {
          const next = pending ?? src.read();
          pending = null;
          const r = n === 0 ? await next : await Promise.race([next, new Promise((res) => setTimeout(() => res(null), 20))]);
          if (r === null) {
            pending = next;
            break;
          }
          if (r.done) {
            if (n === 0) return c.close();
            break;
          }
          parts.push(r.value);
          n += r.value.length;
          if (n >= min) break;
        }
        stats.largest = Math.max(stats.largest, n);
        c.enqueue(Buffer.concat(parts));
      },
      cancel: (reason) => src.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

test("transport chunks larger than the core's receive buffer are split by receiveCapacity", async (t) => {
  const server = await sServer(t, pki);
  const socket = net.connect(server.port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  t.after(() => socket.destroy());
  const tcp = Duplex.toWeb(socket);
  const stats = { largest: 0 };
  const sock = connect({ readable: coalescing(tcp.readable, 1024 * 1024, stats), writable: tcp.writable }, { serverName: "localhost", caPem: pki.caPem });
  await sock.opened;
  const down = pattern(4 * 1024 * 1024, 13);
  server.send(down);
  const got = await readBytes(sock.readable.getReader(), down.length);
  assert.ok(got.equals(down));
  assert.ok(stats.largest > 200 * 1024, `a chunk of ${stats.largest} bytes exercised the split`);
  await sock.close();
});
