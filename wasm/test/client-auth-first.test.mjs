// An application whose first connection presents a client certificate loads the
// client-auth module, which does everything the main module does: later connections
// without a certificate, and verifyChain(), use it too, so the main module is never
// downloaded; loadMozillaRoots() gives it the roots too. (A process of its own: which
// module is loaded first is the point.)

import { test } from "node:test";
import assert from "node:assert/strict";

import { connect, tcpTransport, verifyChain, TlsClient, loadClientAuth, loadMozillaRoots } from "tlsferry";
import { makePki, sServer } from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());

/** Connects, sends a line, and returns what the server received. */
async function exchange(server, options, line) {
  const sock = connect(tcpTransport("127.0.0.1", server.port), { serverName: "localhost", caPem: pki.caPem, ...options });
  await sock.opened;
  const w = sock.writable.getWriter();
  await w.write(new TextEncoder().encode(line));
  const got = (await server.waitReceived(line.length)).toString();
  await sock.close();
  return got;
}

test("after a connection with a client certificate, the main module is never loaded", async (t) => {
  const server = await sServer(t, pki, { args: ["-verify", "1", "-CAfile", pki.path("ca.pem")] });
  assert.equal(await exchange(server, { clientCertPem: pki.clientPem, clientKeyPem: pki.clientKey }, "with"), "with");
  const plain = await sServer(t, pki);
  assert.equal(await exchange(plain, {}, "without"), "without");
  assert.equal((await verifyChain(pki.serverPem, "localhost", { caPem: pki.caPem })).ok, true);
  // The main module's own class still has no module behind it (its glue's memory is
  // not there), rather than refusing the options.
  assert.throws(
    () => new TlsClient("localhost", { caPem: pki.caPem }),
    (e) => e instanceof TypeError && e.code === undefined && /__wbindgen/.test(e.message),
  );
});

test("loadMozillaRoots() gives the roots to the loaded client-auth module too", async () => {
  const AuthClient = await loadClientAuth();
  const auth = { clientCertPem: pki.clientPem, clientKeyPem: pki.clientKey };
  // No connection so far trusted the Mozilla roots: the module has none.
  assert.throws(() => new AuthClient("example.com", auth), (e) => e.code === "CONFIG" && /Mozilla roots are not loaded/.test(e.message));
  assert.ok((await loadMozillaRoots()) > 100);
  const c = new AuthClient("example.com", auth);
  assert.ok(c.takeCiphertext().length > 100, "a ClientHello");
  c.free();
});
