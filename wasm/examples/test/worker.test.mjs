// The example Worker in workerd: bundled like wrangler does (worker/build.mjs: esbuild,
// the "workerd" export condition, the .wasm as a module of its own), served on 127.0.0.1,
// it opens plain TCP with connect() from cloudflare:sockets to openssl s_server (private
// CA, client certificate required) and runs TLS with tlsferry's wasm package inside the
// Worker, imported as `import { connect } from "tlsferry"`.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { buildWorker } from "../worker/build.mjs";

import {
  EXAMPLES_DIR,
  logMatching,
  makePki,
  startOpenSslServer,
  startWorkerd,
} from "./harness.mjs";

const MESSAGE = "Hello, World!\nCLOSE\n"; // s_server -rev: reverse the line, then close

/** The Worker's environment for `server`, as a deployment would set it. */
function workerEnv(pki, server, overrides = {}) {
  const env = {
    TARGET_HOST: "127.0.0.1",
    TARGET_PORT: String(server.port),
    SERVER_NAME: "localhost",
    ALPN: "http/1.1",
    CA_PEM: pki.read(pki.ca),
    CLIENT_CERT_PEM: pki.read(pki.clientCert),
    CLIENT_KEY_PEM: pki.read(pki.clientKey),
    ...overrides,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/** Starts workerd with `env`, POSTs `body` to the Worker, stops workerd. */
async function askWorker(env, body = MESSAGE) {
  const workerd = await startWorkerd(env);
  try {
    const res = await fetch(workerd.url, { method: "POST", body });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      assert.fail(`the Worker answered ${res.status} with non-JSON:\n${text}\n${workerd.log()}`);
    }
    return { status: res.status, body: json, log: workerd.log() };
  } finally {
    await workerd.stop();
  }
}

describe("the example Worker in workerd", { timeout: 120_000 }, () => {
  let pki;
  let tls13;
  let tls12;

  before(async () => {
    const wasmModules = await buildWorker();
    assert.deepEqual(
      wasmModules.sort(),
      ["tlsferry_client_auth_bg.wasm", "tlsferry_roots.wasm", "tlsferry_wasm_bg.wasm"],
      "the main module, the client-auth module and the Mozilla roots, no replay kit",
    );
    const bundle = readFileSync(join(EXAMPLES_DIR, "worker", "dist", "worker.js"), "utf8");
    assert.match(bundle, /runtime\.name = "workerd"/, "the package's workerd entry was bundled");
    assert.match(bundle, /from "\.\/tlsferry_wasm_bg\.wasm"/);
    // The other two are imported only when a connection needs them.
    assert.match(bundle, /import\("\.\/tlsferry_client_auth_bg\.wasm"\)/);
    assert.match(bundle, /import\("\.\/tlsferry_roots\.wasm"\)/);
    pki = makePki();
    tls13 = await startOpenSslServer(pki);
    tls12 = await startOpenSslServer(pki, ["-tls1_2"]);
  });

  after(async () => {
    await tls13?.stop();
    await tls12?.stop();
    pki?.remove();
  });

  test("TLS 1.3 to a private-CA server that requires a client certificate", async () => {
    const mark = tls13.mark();
    const { status, body, log } = await askWorker(workerEnv(pki, tls13));
    assert.equal(status, 200, `${JSON.stringify(body)}\n${log}`);
    assert.equal(body.reply, "!dlroW ,olleH\n");
    assert.equal(body.replyComplete, true);
    const hs = body.handshake;
    assert.equal(hs.version, "TLSv1.3");
    assert.equal(hs.alpn, "http/1.1");
    assert.equal(hs.serverName, "localhost");
    assert.equal(hs.verified, true);
    assert.match(
      hs.cipherSuite,
      /^TLS_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+$/,
      "a TLS 1.3 suite by its IANA name",
    );
    // The chain the Worker reports is the one the server sent.
    const leaf = hs.peerCertificates[0];
    assert.equal(leaf.subject, "CN=localhost");
    assert.equal(leaf.issuer, "CN=tlsferry edge test CA");
    assert.deepEqual(leaf.names, ["localhost", "127.0.0.1"]);
    assert.equal(leaf.sha256, pki.sha256(pki.serverCert));
    assert.match(leaf.pem, /^-----BEGIN CERTIFICATE-----\n/);
    // The server accepted the Worker's client certificate.
    await logMatching(tls13, mark, /Peer certificate: CN = tlsferry edge client/);
  });

  test("TLS 1.2 with the same client certificate", async () => {
    const mark = tls12.mark();
    const { status, body, log } = await askWorker(workerEnv(pki, tls12));
    assert.equal(status, 200, `${JSON.stringify(body)}\n${log}`);
    assert.equal(body.reply, "!dlroW ,olleH\n");
    assert.equal(body.handshake.version, "TLSv1.2");
    assert.equal(body.handshake.alpn, "http/1.1");
    await logMatching(tls12, mark, /Peer certificate: CN = tlsferry edge client/);
  });

  test("a CA that did not issue the server's certificate fails with CERT_UNKNOWN_ISSUER", async () => {
    const { status, body } = await askWorker(
      workerEnv(pki, tls13, { CA_PEM: pki.read(pki.otherCa) }),
    );
    assert.equal(status, 502);
    assert.equal(body.error.code, "CERT_UNKNOWN_ISSUER");
    assert.match(body.error.message, /tlsferry edge test CA/);
    assert.match(body.error.report, /server name asked for: localhost/);
  });

  test("without CA_PEM the Worker trusts the Mozilla roots (their module loads on demand)", async () => {
    const { status, body } = await askWorker(workerEnv(pki, tls13, { CA_PEM: undefined }));
    assert.equal(status, 502);
    assert.equal(body.error.code, "CERT_UNKNOWN_ISSUER", JSON.stringify(body.error));
    assert.match(body.error.report, /server name asked for: localhost/);
  });

  test("without a client certificate the server refuses the connection", async () => {
    const mark = tls13.mark();
    const { status, body } = await askWorker(
      workerEnv(pki, tls13, { CLIENT_CERT_PEM: undefined, CLIENT_KEY_PEM: undefined }),
    );
    assert.equal(status, 502);
    assert.equal(body.error.code, "ALERT");
    assert.match(
      body.error.message,
      /the peer sent a fatal alert, certificate_required: it requires a client certificate/,
    );
    await logMatching(tls13, mark, /peer did not return a certificate|certificate required/i);
  });

  test("a missing target is a configuration error, not a crash", async () => {
    const { status, body } = await askWorker(workerEnv(pki, tls13, { TARGET_PORT: undefined }));
    assert.equal(status, 500);
    assert.equal(body.error.code, "CONFIG");
    assert.match(body.error.message, /TARGET_PORT/);
  });
});
