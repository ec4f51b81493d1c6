// `tlsferry bridge` over wss:// with a private CA: Node's built-in WebSocket and the JS
// package's connect(webSocketTransport(url)) both reach TCP targets through it. Node reads
// NODE_EXTRA_CA_CERTS only at startup, so each client runs in a child Node process started
// with it (and one without it, which must fail: the private CA is what makes it work).
// Run: npm test (after wasm/build.sh and a debug build of the tlsferry binary).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { makePki, sServer, tcpServer, TLSFERRY_BIN } from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());
const JS_INDEX = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "js", "index.js")).href;

/** `tlsferry bridge` serving wss:// with the test PKI's localhost certificate. */
async function wssBridge(t, targets, extra = []) {
  const args = ["bridge", "--listen", "127.0.0.1:0", "--cert", pki.path("server.pem"), "--key", pki.path("server.key"),
    ...targets.flatMap((x) => ["--allow", x]), ...extra];
  const child = spawn(TLSFERRY_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on wss:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve(`wss://localhost:${m[1]}/`);
    });
    child.once("exit", (code) => reject(new Error(`tlsferry bridge exited (${code}): ${log}`)));
  });
  return { url, log: () => log };
}

/** Runs `code` (an ES module) in a child Node; resolves with the JSON line it prints. */
function runChild(code, { extraCa = true } = {}) {
  const file = join(pki.dir, `child-${Date.now()}-${Math.random().toString(16).slice(2)}.mjs`);
  writeFileSync(file, code);
  const env = { ...process.env };
  if (extraCa) env.NODE_EXTRA_CA_CERTS = pki.path("ca.pem");
  else delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn(process.execPath, ["--experimental-websocket", "--no-warnings", file], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 30000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (!line) reject(new Error(`child exited ${code} without a result: ${err}`));
      else resolve(JSON.parse(line));
    });
  });
}

/** A child that opens a WebSocket with `protocols`, speaks tlsferry.v1 to an echo target. */
const nodeWebSocketClient = (url) => `
const ws = new WebSocket(${JSON.stringify(url)}, ["tlsferry.v1", "binary"]);
ws.binaryType = "arraybuffer";
const result = { protocol: null, echoed: null, closeCode: null, error: null };
const done = () => { console.log(JSON.stringify(result)); process.exit(0); };
ws.addEventListener("open", () => {
  result.protocol = ws.protocol;
  ws.send("credit 65536");
  ws.send(new TextEncoder().encode("hello over wss"));
});
ws.addEventListener("message", (ev) => {
  if (typeof ev.data === "string") return;
  result.echoed = new TextDecoder().decode(ev.data);
  ws.close(1000);
});
ws.addEventListener("error", (ev) => {
  result.error = String(ev.message ?? ev.error ?? "error");
  setTimeout(done, 500); // Node 20 may not follow a failed handshake with "close"
});
ws.addEventListener("close", (ev) => { result.closeCode = ev.code; done(); });
setTimeout(() => { result.error = result.error ?? "timeout"; done(); }, 20000);
`;

test("Node's WebSocket reaches an echo target through wss:// with a private CA", async (t) => {
  const echo = await tcpServer(t, (s) => s.pipe(s));
  const b = await wssBridge(t, [echo.target]);
  const r = await runChild(nodeWebSocketClient(b.url));
  assert.equal(r.error, null, JSON.stringify(r));
  assert.equal(r.protocol, "tlsferry.v1");
  assert.equal(r.echoed, "hello over wss");
  assert.equal(r.closeCode, 1000);

  // Without the private CA, Node refuses the bridge's certificate: no tunnel.
  const refused = await runChild(nodeWebSocketClient(b.url), { extraCa: false });
  assert.equal(refused.echoed, null, JSON.stringify(refused));
  assert.notEqual(refused.closeCode, 1000);
  assert.match(b.log(), /TLS handshake failed/);
});

test("the JS package's connect() reaches a TLS server through wss:// (TLS inside TLS)", async (t) => {
  const server = await sServer(t, pki);
  const b = await wssBridge(t, [server.target]);
  const code = `
import { connect, webSocketTransport } from ${JSON.stringify(JS_INDEX)};
const result = { version: null, reply: null, error: null };
try {
  const sock = connect(webSocketTransport(${JSON.stringify(b.url)}), {
    serverName: "localhost",
    caPem: ${JSON.stringify(pki.caPem)},
  });
  const info = await sock.opened;
  result.version = info.version;
  const writer = sock.writable.getWriter();
  await writer.write(new TextEncoder().encode("Hello, World!\\n"));
  const reader = sock.readable.getReader();
  const { value } = await reader.read();
  result.reply = new TextDecoder().decode(value);
  reader.releaseLock();
  writer.releaseLock();
  await sock.close().catch(() => {});
} catch (e) {
  result.error = (e && (e.code + ": " + e.message)) || String(e);
}
console.log(JSON.stringify(result));
process.exit(0);
`;
  const child = runChild(code);
  assert.equal((await server.waitReceived(14)).toString(), "Hello, World!\n");
  server.send("Hello back\n");
  const r = await child;
  assert.equal(r.error, null, JSON.stringify(r));
  assert.equal(r.version, "TLSv1.3");
  assert.equal(r.reply, "Hello back\n");
  assert.match(b.log(), /tunnel/);
});
