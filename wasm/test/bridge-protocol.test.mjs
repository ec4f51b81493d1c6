// webSocketTransport() and README.md's "The bridge protocol", from the client's side:
// tlsferry.v1 (receive credit as the application reads, half-close both ways) and binary
// (websockify's, with a cap on what may wait unread). A bridge that speaks tlsferry.v1 is
// `tlsferry bridge` once it does, else the mock bridge (test/mock-bridge.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";

import { connect, webSocketTransport } from "tlsferry";
import {
  makePki,
  sServer,
  python,
  v1Bridge,
  mockBridge,
  bridge,
  tlsferryBridgeChoice,
  websockify,
  readAll,
  readBytes,
  pattern,
  rejectsWith,
  until,
} from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());

const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);
const opts = (extra = {}) => ({ serverName: "localhost", caPem: pki.caPem, ...extra });

/** Wraps a WebSocket constructor to record the text frames the client sends. */
function recordingWebSocket(sent) {
  const WS = globalThis.WebSocket;
  return class extends WS {
    send(data) {
      if (typeof data === "string") sent.push(data);
      super.send(data);
    }
  };
}

test("tlsferry.v1 is chosen; credit starts at the window and follows what the application reads", async (t) => {
  const server = await sServer(t, pki);
  const b = await v1Bridge(t, [server.target]);
  t.diagnostic(`bridge: ${b.kind}`);
  const sent = [];
  const window = 64 * 1024;
  const tr = webSocketTransport(b.url, { WebSocket: recordingWebSocket(sent), highWaterMark: window, protocols: b.protocols });
  const sock = connect(tr, opts());
  await sock.opened;
  assert.equal(tr.protocol, "tlsferry.v1");
  assert.equal(sent[0], `credit ${window}`, "credit W right after the WebSocket opens");

  const total = 4 * 1024 * 1024;
  server.send(pattern(total, 17));
  await new Promise((r) => setTimeout(r, 500));
  // Nobody reads: the credit granted is at most the window plus what the TLS layer took
  // to fill its own (bounded) buffers.
  const granted = () => sent.filter((m) => m.startsWith("credit ")).reduce((n, m) => n + Number(m.slice(7)), 0);
  const stalled = granted();
  assert.ok(stalled < window + 512 * 1024, `granted ${stalled} bytes while nobody read`);
  const all = await readBytes(sock.readable.getReader(), total);
  assert.ok(all.equals(pattern(total, 17)));
  assert.ok(granted() >= total, "reading grants more credit");
  for (const m of sent) assert.match(m, /^(credit [1-9][0-9]*|eof)$/);
  await sock.close();
});

test("half-close across the bridge (tlsferry.v1): after the server's close_notify and FIN the client still writes, then closes", async (t) => {
  const server = await python(t, "halfclose", [pki.path("server.pem"), pki.path("server.key")]);
  const b = await v1Bridge(t, [server.target]);
  t.diagnostic(`bridge: ${b.kind}`);
  const tr = webSocketTransport(b.url, { protocols: b.protocols });
  const sock = connect(tr, opts({ allowHalfOpen: true }));
  await sock.opened;
  assert.equal(dec(await readAll(sock.readable)), "greeting, then close_notify\n");
  await until(() => server.output().includes("sent close_notify and FIN"), "the server half-closed");
  const w = sock.writable.getWriter();
  await w.write(enc("written after the server's FIN"));
  w.releaseLock();
  await sock.close();
  await server.exited;
  assert.match(server.output(), /client close_notify\nreceived 30 bytes: b"written after the server's FIN"/);
  await until(() => tr.webSocket.readyState === 3, "the bridge closed the WebSocket once both sides ended");
});

test("half-close over binary (websockify): the bridge closes the WebSocket with the TCP connection, so later writes fail with TRANSPORT", async (t) => {
  const server = await python(t, "halfclose", [pki.path("server.pem"), pki.path("server.key")]);
  const w = await websockify(t, server.target);
  const tr = webSocketTransport(w.url);
  const sock = connect(tr, opts({ allowHalfOpen: true }));
  await sock.opened;
  assert.equal(tr.protocol, "binary");
  assert.equal(dec(await readAll(sock.readable)), "greeting, then close_notify\n");
  await until(() => tr.webSocket.readyState === 3, "websockify closed the WebSocket");
  const writer = sock.writable.getWriter();
  await rejectsWith(writer.write(enc("nobody hears this")), "TRANSPORT");
});

test("binary without WebSocketStream: more than maxBufferedBytes unread ends with RECEIVE_BUFFER_FULL", async (t) => {
  const server = await sServer(t, pki);
  const w = await websockify(t, server.target);
  const tr = webSocketTransport(w.url, { maxBufferedBytes: 1024 * 1024 });
  const sock = connect(tr, opts());
  await sock.opened;
  server.send(pattern(16 * 1024 * 1024, 2));
  const err = await rejectsWith(sock.closed, "RECEIVE_BUFFER_FULL");
  assert.match(err.message, /more than 1048576 received bytes wait unread \(maxBufferedBytes\)/);
  await until(() => tr.webSocket.readyState === 3, "the WebSocket is closed");
});

test("tlsferry.v1: a bridge that sends beyond the credit is a TRANSPORT error, not unbounded memory", async (t) => {
  const server = await sServer(t, pki);
  const b = await mockBridge(t, [server.target], { ignoreCredit: true });
  const sock = connect(webSocketTransport(b.url, { highWaterMark: 32 * 1024 }), opts());
  await sock.opened;
  server.send(pattern(4 * 1024 * 1024, 4));
  const err = await rejectsWith(sock.closed, "TRANSPORT");
  assert.match(err.message, /bytes of credit left \(tlsferry\.v1 protocol error\)/);
});

test("a bridge that speaks only binary is used as binary", async (t) => {
  const server = await sServer(t, pki);
  const b = await mockBridge(t, [server.target], { protocols: ["binary"] });
  const tr = webSocketTransport(b.url);
  const sock = connect(tr, opts());
  await sock.opened;
  assert.equal(tr.protocol, "binary");
  server.send("over binary");
  assert.equal(dec(await readBytes(sock.readable.getReader(), 11)), "over binary");
  await sock.close();
});

test("`tlsferry bridge` picks tlsferry.v1 from the package's offer (binary, tlsferry.v1)", async (t) => {
  const choice = await tlsferryBridgeChoice(t);
  t.diagnostic(`tlsferry bridge answers ${JSON.stringify(choice)}`);
  if (choice.default !== "tlsferry.v1") {
    // README.md, "The bridge protocol": tlsferry.v1 whenever it is offered. Until the
    // bridge does, this is reported, and the tlsferry.v1 tests offer it first.
    t.todo(`tlsferry bridge answers ${choice.default} to "binary, tlsferry.v1" (and ${choice.v1First} to "tlsferry.v1, binary")`);
    return;
  }
  assert.equal(choice.v1First, "tlsferry.v1");
});

test("`tlsferry bridge` with the package's default offer, byte-exact both ways", async (t) => {
  const server = await sServer(t, pki);
  const b = await bridge(t, [server.target]);
  const tr = webSocketTransport(b.url);
  const sock = connect(tr, opts());
  await sock.opened;
  t.diagnostic(`tlsferry bridge chose ${JSON.stringify(tr.protocol)}`);
  assert.ok(["tlsferry.v1", "binary"].includes(tr.protocol));
  const up = pattern(1024 * 1024, 5);
  const writer = sock.writable.getWriter();
  await writer.write(up);
  assert.ok((await server.waitReceived(up.length)).equals(up));
  writer.releaseLock();
  await sock.close();
});
