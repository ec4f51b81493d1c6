// exportKeyingMaterial() (RFC 8446 §7.5 on TLS 1.3, RFC 5705 on TLS 1.2) gives the bytes
// the server derives: checked against what `openssl s_server -keymatexport LABEL
// -keymatexportlen N` prints after the handshake ("Keying material: HEX"; s_server passes
// no context), for TLS 1.3 and TLS 1.2 suites with SHA-256 and SHA-384.

import { test } from "node:test";
import assert from "node:assert/strict";

import { connect, tcpTransport, TlsClient, TlsError, init } from "tlsferry";
import { makePki, sServer, until, rejectsWith } from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());

const enc = (s) => new TextEncoder().encode(s);
const hex = (b) => Buffer.from(b).toString("hex");
const LABEL = "EXPERIMENTAL-tlsferry-test";

/** The keying material s_server printed, lowercase hex. */
async function serverKeyingMaterial(server) {
  const re = /Keying material: ([0-9A-F]+)/;
  await until(() => re.test(server.output()), "s_server printed its keying material");
  return re.exec(server.output())[1].toLowerCase();
}

for (const [version, suite, args, length] of [
  ["TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256", [], 32],
  ["TLSv1.3", "TLS_AES_256_GCM_SHA384", [], 64],
  ["TLSv1.2", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", ["-tls1_2"], 48],
  ["TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", ["-tls1_2"], 20],
]) {
  test(`exportKeyingMaterial equals openssl s_server's (${version}, ${suite}, ${length} bytes)`, async (t) => {
    const server = await sServer(t, pki, {
      quiet: false,
      args: [...args, "-keymatexport", LABEL, "-keymatexportlen", String(length)],
    });
    const sock = connect(tcpTransport("127.0.0.1", server.port), {
      serverName: "localhost",
      caPem: pki.caPem,
      cipherSuites: [suite],
      resumption: false,
    });
    assert.throws(() => sock.exportKeyingMaterial(LABEL, length), (e) => e instanceof TlsError && e.code === "LOCAL" && /handshake has not completed/.test(e.message));
    const info = await sock.opened;
    assert.equal(info.version, version);
    assert.equal(info.cipherSuite, suite);

    const ours = sock.exportKeyingMaterial(LABEL, length);
    assert.ok(ours instanceof Uint8Array);
    assert.equal(ours.length, length);
    assert.equal(hex(ours), await serverKeyingMaterial(server));
    // The label as bytes is the same label.
    assert.equal(hex(sock.exportKeyingMaterial(enc(LABEL), length)), hex(ours));
    // Another label or a context gives other bytes.
    assert.notEqual(hex(sock.exportKeyingMaterial(`${LABEL}-2`, length)), hex(ours));
    assert.notEqual(hex(sock.exportKeyingMaterial(LABEL, length, enc("context"))), hex(ours));
    // TLS 1.3 hashes no context and an empty one alike (RFC 8446 §7.5); RFC 5705 does not.
    const empty = hex(sock.exportKeyingMaterial(LABEL, length, new Uint8Array(0)));
    if (version === "TLSv1.3") assert.equal(empty, hex(ours));
    else assert.notEqual(empty, hex(ours));

    // Misuse is LOCAL, in words.
    for (const [args, why] of [
      [["master secret", 48], /label/],
      [[LABEL, 0], /length must be an integer from 1 to 65535/],
      [[LABEL, 70000], /length must be an integer from 1 to 65535/],
      [[42, 16], /label must be a string or a Uint8Array/],
      [[LABEL, 16, "context"], /context must be a Uint8Array/],
    ]) {
      assert.throws(() => sock.exportKeyingMaterial(...args), (e) => e instanceof TlsError && e.code === "LOCAL" && why.test(e.message), String(args));
    }
    await sock.close();
    assert.throws(() => sock.exportKeyingMaterial(LABEL, length), (e) => e.code === "LOCAL" && /connection is over/.test(e.message));
  });
}

test("TlsClient.exportKeyingMaterial refuses before the handshake (LOCAL)", async () => {
  await init();
  const client = new TlsClient("localhost", { caPem: pki.caPem });
  try {
    assert.throws(
      () => client.exportKeyingMaterial("EXPORTER-Channel-Binding", 32),
      (e) => e.name === "TlsError" && e.code === "LOCAL" && /^cannot export keying material: the handshake has not completed/.test(e.message),
    );
  } finally {
    client.free();
  }
});

test("a failed connection has no keying material", async (t) => {
  const server = await sServer(t, pki, { cert: "stranger" });
  const sock = connect(tcpTransport("127.0.0.1", server.port), { serverName: "localhost", caPem: pki.caPem });
  await rejectsWith(sock.opened, "CERT_UNKNOWN_ISSUER");
  assert.throws(() => sock.exportKeyingMaterial(LABEL, 32), (e) => e.code === "LOCAL" && /connection is over/.test(e.message));
});

for (const [version, args] of [
  ["TLSv1.3", []],
  ["TLSv1.2", ["-tls1_2"]],
]) {
  test(`a resumed connection exports what the server exports (${version})`, async (t) => {
    const server = await sServer(t, pki, { quiet: false, args: [...args, "-keymatexport", LABEL, "-keymatexportlen", "32"] });
    // Options of their own, so that only this test's sessions are in their cache.
    const options = { serverName: "localhost", caPem: pki.caPem, alpn: [`x-exporter-${version}`] };
    const printed = () => [...server.output().matchAll(/Keying material: ([0-9A-F]+)/g)].map((m) => m[1].toLowerCase());
    const exported = [];
    for (const resumed of [false, true]) {
      const sock = connect(tcpTransport("127.0.0.1", server.port), options);
      const info = await sock.opened;
      assert.equal(info.resumed, resumed);
      exported.push(hex(sock.exportKeyingMaterial(LABEL, 32)));
      // Read the server's line, and with it the TLS 1.3 tickets sent before it.
      server.send("1 ok\n");
      const reader = sock.readable.getReader();
      await reader.read();
      reader.releaseLock();
      await sock.close();
      await until(() => printed().length === exported.length, "s_server printed its keying material");
    }
    assert.deepEqual(exported, printed());
    assert.notEqual(exported[0], exported[1], "each connection has its own");
  });
}
