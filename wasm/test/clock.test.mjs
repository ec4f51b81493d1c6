// Two clocks (issue 17, item 1): handshake and idle timeouts run on the monotonic clock
// (performance.timeOrigin + performance.now()), so a wall-clock step (NTP, a laptop
// waking up) neither fires nor delays them; certificate validity uses the wall clock.
// Date.now is replaced for a moment to step the wall clock.

import { test } from "node:test";
import assert from "node:assert/strict";
import tls from "node:tls";

import { connect, tcpTransport, TlsClient, init } from "tlsferry";
import { makePki, tcpServer, rejectsWith } from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());

const realNow = Date.now;
const HOUR = 3600 * 1000;

test("a wall clock set back during the handshake does not delay the handshake timeout", async (t) => {
  const silent = await tcpServer(t, (s) => s.on("data", () => {}));
  await init(); // the client is then made at once, with the stepped clock
  t.after(() => (Date.now = realNow));
  // The wall clock is an hour fast when the connection starts, then corrected.
  Date.now = () => realNow() + HOUR;
  const started = performance.now();
  const sock = connect(tcpTransport("127.0.0.1", silent.port), { serverName: "localhost", handshakeTimeoutMs: 300 });
  setTimeout(() => (Date.now = realNow), 50);
  let timer;
  const bound = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("no TIMEOUT within 10 s: the timer followed the wall clock")), 10_000);
  });
  try {
    const err = await Promise.race([rejectsWith(sock.opened, "TIMEOUT"), bound]);
    assert.match(err.message, /handshake/);
  } finally {
    clearTimeout(timer);
  }
  assert.ok(performance.now() - started >= 250);
});

test("a wall clock that jumps ahead does not fire the timeout early (TlsClient.tick)", async () => {
  await init();
  const c = new TlsClient("localhost", { handshakeTimeoutMs: 60_000 });
  try {
    assert.ok(c.dueInMs > 59_000 && c.dueInMs <= 60_000, `dueInMs ${c.dueInMs}`);
    Date.now = () => realNow() + HOUR;
    c.tick(); // before the fix: TIMEOUT, the deadline lay an hour in the "past"
    assert.equal(c.error, undefined);
    assert.ok(c.dueInMs > 59_000, `dueInMs ${c.dueInMs} after the wall clock jumped`);
  } finally {
    Date.now = realNow;
    c.free();
  }
});

test("certificate validity still uses the wall clock: ten years on, the certificate has expired", async (t) => {
  const server = tls.createServer({ key: pki.serverKey, cert: pki.serverPem }, (s) => s.on("error", () => {}));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => new Promise((r) => server.close(r)));
  t.after(() => (Date.now = realNow));
  Date.now = () => realNow() + 10 * 365 * 24 * HOUR;
  const sock = connect(tcpTransport("127.0.0.1", server.address().port), { serverName: "localhost", caPem: pki.caPem });
  const err = await rejectsWith(sock.opened, "CERT_EXPIRED");
  Date.now = realNow;
  assert.ok(err.now.getFullYear() >= new Date().getFullYear() + 9, `the clock used: ${err.now.toISOString()}`);
});
