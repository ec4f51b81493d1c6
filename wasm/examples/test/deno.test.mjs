// The Deno example over Deno.connect, run with the narrowest permissions: network access
// to exactly the server's address, read access to exactly the PEM files it is given.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";

import { DENO_MAIN, logMatching, makePki, runDeno, startOpenSslServer } from "./harness.mjs";

const MINIMAL = fileURLToPath(new URL("../deno/minimal.mjs", import.meta.url));
// minimal.mjs presents a client certificate: the package loads its client-auth module
// (and never the main one).
const WASM_FILE = fileURLToPath(new URL("../../pkg/tlsferry_client_auth_bg.wasm", import.meta.url));
const ROOTS_FILE = fileURLToPath(new URL("../../pkg/tlsferry_roots.wasm", import.meta.url));

/** Runs the example against `server` with `files` = { ca, cert?, key? } and narrow flags. */
function runExample(server, files, message = "Hello, World!\nCLOSE") {
  const readable = Object.values(files).filter(Boolean);
  const args = [
    ...["--host", "127.0.0.1", "--port", String(server.port), "--server-name", "localhost"],
    ...["--ca", files.ca, "--alpn", "http/1.1", "--message", message],
  ];
  if (files.cert) args.push("--cert", files.cert, "--key", files.key);
  return runDeno(
    [`--allow-net=127.0.0.1:${server.port}`, `--allow-read=${readable.join(",")}`],
    DENO_MAIN,
    args,
  );
}

/** The example prints one JSON object on stdout, success or not. */
function parseOutput(run) {
  try {
    return JSON.parse(run.stdout);
  } catch {
    return assert.fail(`deno exited ${run.code} without JSON:\n${run.stdout}\n${run.stderr}`);
  }
}

describe("the Deno example", { timeout: 120_000 }, () => {
  let pki;
  let server;

  before(async () => {
    pki = makePki();
    server = await startOpenSslServer(pki);
  });

  after(async () => {
    await server?.stop();
    pki?.remove();
  });

  test("TLS 1.3 with a private CA and a client certificate, narrow permissions", async () => {
    const mark = server.mark();
    const run = await runExample(server, {
      ca: pki.ca,
      cert: pki.clientCert,
      key: pki.clientKey,
    });
    const out = parseOutput(run);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(out.reply, "!dlroW ,olleH\n");
    assert.equal(out.replyComplete, true);
    assert.equal(out.handshake.version, "TLSv1.3");
    assert.equal(out.handshake.alpn, "http/1.1");
    assert.equal(out.handshake.verified, true);
    assert.equal(out.handshake.peerCertificates[0].sha256, pki.sha256(pki.serverCert));
    await logMatching(server, mark, /Peer certificate: CN = tlsferry edge client/);
  });

  test("a wrong CA fails with CERT_UNKNOWN_ISSUER", async () => {
    const run = await runExample(server, {
      ca: pki.otherCa,
      cert: pki.clientCert,
      key: pki.clientKey,
    });
    const out = parseOutput(run);
    assert.equal(run.code, 1);
    assert.equal(out.error.code, "CERT_UNKNOWN_ISSUER");
    assert.equal(out.error.side, "peer");
    assert.match(out.error.report, /not a trusted root/);
    assert.match(run.stderr, /error \[CERT_UNKNOWN_ISSUER\]/);
  });

  test("without a client certificate the server refuses the connection", async () => {
    const run = await runExample(server, { ca: pki.ca });
    const out = parseOutput(run);
    assert.equal(run.code, 1);
    assert.equal(out.error.code, "ALERT");
    assert.match(
      out.error.message,
      /the peer sent a fatal alert, certificate_required: it requires a client certificate/,
    );
  });

  test("the package's default loader finds its wasm in Deno (read access to that file only)", async () => {
    const files = [pki.ca, pki.clientCert, pki.clientKey];
    const run = await runDeno(
      [`--allow-net=127.0.0.1:${server.port}`, `--allow-read=${[WASM_FILE, ...files].join(",")}`],
      MINIMAL,
      [String(server.port), ...files],
    );
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.equal(JSON.parse(run.stdout).reply, "!dlroW ,olleH\n");
  });

  test("without caPem the default loader reads the Mozilla roots file (which does not know the test CA)", async () => {
    const files = [pki.clientCert, pki.clientKey];
    const run = await runDeno(
      [
        `--allow-net=127.0.0.1:${server.port}`,
        `--allow-read=${[WASM_FILE, ROOTS_FILE, ...files].join(",")}`,
      ],
      MINIMAL,
      [String(server.port), "-", ...files],
    );
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    assert.equal(JSON.parse(run.stdout).error.code, "CERT_UNKNOWN_ISSUER", run.stdout);
  });
});
