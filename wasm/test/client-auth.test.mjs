// Client certificates live in pkg/tlsferry_client_auth_bg.wasm, out of the main module:
// the main module's TlsClient refuses clientCertPem and says where it is; connect() with a
// client certificate loads that module (and gives it the Mozilla roots when the options
// trust them); loadClientAuth() resolves to its TlsClient; a bad source is a LOCAL error
// that is forgotten. (One process: the steps depend on the modules' state, so they run
// in order.)

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { connect, tcpTransport, TlsClient, loadClientAuth, init } from "tlsferry";
import { makePki, sServer, rejectsWith } from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());
const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);
const auth = { clientCertPem: pki.clientPem, clientKeyPem: pki.clientKey };

/** s_server that requires a client certificate issued by the test CA. */
const verifyingServer = (t) =>
  sServer(t, pki, { args: ["-Verify", "1", "-CAfile", pki.path("ca.pem"), "-verify_return_error"] });

test("the main module's TlsClient refuses a client certificate and names loadClientAuth()", async () => {
  await init();
  assert.throws(
    () => new TlsClient("localhost", { caPem: pki.caPem, ...auth }),
    (e) =>
      e.code === "CONFIG" &&
      /no client certificates \(tlsferry-core without its `client-auth` feature\); they are in the package's client-auth module.*connect\(\) loads it.*loadClientAuth\(\)/.test(
        e.message,
      ),
  );
  // Without a certificate it is the TlsClient it always was.
  new TlsClient("localhost", { caPem: pki.caPem }).free();
});

test("a source that is not the client-auth module is a LOCAL error, then forgotten", async () => {
  const err = await rejectsWith(loadClientAuth(new Uint8Array([0, 97, 115, 109, 9, 9])), "LOCAL");
  assert.match(err.message, /cannot load the client-auth WebAssembly module.*loadClientAuth/);
});

test("connect() with a client certificate loads the client-auth module, roots included", async (t) => {
  const server = await verifyingServer(t);
  // extraCaPem: the Mozilla roots and the test CA, so the module must have the roots.
  const sock = connect(tcpTransport("127.0.0.1", server.port), { serverName: "localhost", extraCaPem: pki.caPem, ...auth });
  const info = await sock.opened;
  assert.equal(info.version, "TLSv1.3");
  const w = sock.writable.getWriter();
  await w.write(enc("signed by the client-auth module"));
  assert.equal(dec(await server.waitReceived(32)), "signed by the client-auth module");
  await sock.close();
});

test("a key that does not match the certificate is CONFIG, from the client-auth module", async (t) => {
  const server = await verifyingServer(t);
  const wrongKey = readFileSync(pki.path("server.key"), "utf8");
  const sock = connect(tcpTransport("127.0.0.1", server.port), {
    serverName: "localhost",
    caPem: pki.caPem,
    clientCertPem: pki.clientPem,
    clientKeyPem: wrongKey,
  });
  const err = await rejectsWith(sock.opened, "CONFIG");
  assert.match(err.message, /does not match the certificate/);
});

test("loadClientAuth() resolves to the client-auth module's TlsClient", async () => {
  const AuthClient = await loadClientAuth();
  assert.notEqual(AuthClient, TlsClient);
  assert.equal(await loadClientAuth(), AuthClient, "loaded once");
  const c = new AuthClient("localhost", { caPem: pki.caPem, ...auth });
  assert.ok(c.takeCiphertext().length > 100, "a ClientHello");
  c.free();
});
