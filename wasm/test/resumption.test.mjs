// Session resumption in JS: connections with the same options share one configuration
// (cached per module) and with it the session cache, so the second connect() to a server
// resumes: TLS 1.3 tickets and TLS 1.2 sessions, against openssl s_server over TCP and
// through `tlsferry bridge`. The server's own report ("Reused session-id") confirms it.

import { test } from "node:test";
import assert from "node:assert/strict";

import { connect, tcpTransport, webSocketTransport } from "tlsferry";
import { makePki, sServer, bridge, readBytes } from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());

const dec = (b) => new TextDecoder().decode(b);
const opts = (extra = {}) => ({ serverName: "localhost", caPem: pki.caPem, ...extra });

/**
 * Opens a connection, checks that data moves both ways, and closes it cleanly. Reading
 * the server's line first also reads the TLS 1.3 tickets the server sends before it.
 */
async function session(server, transport, options) {
  const sock = connect(transport, options);
  const info = await sock.opened;
  const line = `1 hello ${Math.random().toString(36).slice(2)}\n`;
  server.send(line);
  assert.equal(dec(await readBytes(sock.readable.getReader(), line.length)), line);
  await sock.close();
  return info;
}

/** How many connections s_server reported as resumed. */
const reused = (server) => server.output().split("Reused session-id").length - 1;

const pems = (info) => info.peerCertificates.map((c) => c.pem);

for (const [version, args] of [
  ["TLSv1.3", []],
  ["TLSv1.2", ["-tls1_2"]],
]) {
  test(`a second connect() with the same options resumes (${version}, openssl s_server over TCP)`, async (t) => {
    const server = await sServer(t, pki, { quiet: false, args });
    const tcp = () => tcpTransport("127.0.0.1", server.port);
    // Options of their own (cipherSuites), so no earlier test's session is offered here.
    const own = { cipherSuites: version === "TLSv1.3" ? ["TLS_AES_128_GCM_SHA256"] : ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"] };

    const first = await session(server, tcp(), opts(own));
    assert.equal(first.version, version);
    assert.equal(first.resumed, false);
    assert.equal(reused(server), 0);

    const second = await session(server, tcp(), opts(own));
    assert.equal(second.version, version);
    assert.equal(second.resumed, true, "the second connection resumed");
    assert.equal(reused(server), 1, "s_server says it resumed too");
    // The chain verified when the session was made is still reported.
    assert.equal(second.verified, true);
    assert.deepEqual(pems(second), pems(first));
    assert.equal(second.peerCertificates[0].subject, "CN=localhost");
    assert.equal(second.cipherSuite, first.cipherSuite);

    // resumption: false neither resumes nor leaves a session: a full handshake, twice.
    for (let i = 0; i < 2; i++) {
      const off = await session(server, tcp(), opts({ ...own, resumption: false }));
      assert.equal(off.resumed, false, "resumption: false");
      assert.deepEqual(pems(off), pems(first));
    }
    // Other options are another configuration, with sessions of its own.
    assert.equal((await session(server, tcp(), opts({ ...own, alpn: ["x-other"] }))).resumed, false);
    // A keyLog function cannot be compared: its connection gets a configuration of its own.
    const lines = [];
    assert.equal((await session(server, tcp(), opts({ ...own, keyLog: (l) => lines.push(l) }))).resumed, false);
    assert.ok(lines.length > 0);
    assert.equal(reused(server), 1, "none of these resumed on the server either");

    // The shared configuration still resumes, again and again (each resumption brings
    // new tickets, or keeps the TLS 1.2 session).
    for (let i = 0; i < 3; i++) {
      const again = await session(server, tcp(), opts(own));
      assert.equal(again.resumed, true, `resumption ${i + 2}`);
      assert.deepEqual(pems(again), pems(first));
    }
    assert.equal(reused(server), 4);
  });
}

test("resumption through tlsferry bridge (TLS 1.3, another server name: 127.0.0.1)", async (t) => {
  const server = await sServer(t, pki, { quiet: false });
  const b = await bridge(t, [server.target]);
  const ws = () => webSocketTransport(b.url);
  const options = { serverName: "127.0.0.1", caPem: pki.caPem };
  const first = await session(server, ws(), options);
  assert.equal(first.resumed, false);
  const second = await session(server, ws(), options);
  assert.equal(second.resumed, true);
  assert.equal(second.serverName, "127.0.0.1");
  assert.deepEqual(pems(second), pems(first));
  assert.equal(reused(server), 1);
});
