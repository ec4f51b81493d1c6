// Test fixtures for the Node tests: a PKI made with the openssl CLI at test time, and real
// peers on 127.0.0.1 (openssl s_server, tlsferry bridge, websockify, the mock bridge,
// Python servers, small Node servers), each killed when its test ends.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

import { TlsError } from "tlsferry";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The tlsferry binary: $TLSFERRY_BIN, else the workspace's debug build. */
export const TLSFERRY_BIN = process.env.TLSFERRY_BIN ?? join(ROOT, "target", "debug", "tlsferry");

function openssl(args, cwd) {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/**
 * A throw-away PKI in a temporary directory: a root CA, a leaf for localhost/127.0.0.1,
 * an expired leaf, a leaf from an unrelated CA, and a client certificate.
 * Returns PEM strings and file paths; call `remove()` when done.
 */
export function makePki() {
  const dir = mkdtempSync(join(tmpdir(), "tlsferry-wasm-pki-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  const ca = (name) =>
    openssl(["req", "-x509", ...ec, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=tlsferry test ${name}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  ca("ca");
  ca("other-ca");
  writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  writeFileSync(join(dir, "client.ext"), "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
  const leaf = (name, issuer, ext, cn) => {
    openssl(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`], dir);
    openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${issuer}.pem`, "-CAkey", `${issuer}.key`, "-set_serial", String(Date.now() % 1e9),
      "-days", "2", "-extfile", ext, "-out", `${name}.pem`], dir);
  };
  leaf("server", "ca", "server.ext", "localhost");
  leaf("stranger", "other-ca", "server.ext", "localhost");
  leaf("client", "ca", "client.ext", "tlsferry test client");

  // An expired leaf: `openssl ca` is the one OpenSSL 3.0 command that takes explicit dates.
  openssl(["req", ...ec, "-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=localhost"], dir);
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "1000\n");
  writeFileSync(join(dir, "ca.cnf"), [
    "[ca]", "default_ca = test", "[test]", `dir = ${dir}`, "database = $dir/index.txt", "new_certs_dir = $dir",
    "serial = $dir/serial", "default_md = sha256", "policy = any", "unique_subject = no", "copy_extensions = none",
    "[any]", "commonName = supplied", "",
  ].join("\n"));
  openssl(["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "expired.csr", "-out", "expired.pem",
    "-startdate", "20200101000000Z", "-enddate", "20210101000000Z", "-extfile", "server.ext", "-notext"], dir);

  const read = (f) => readFileSync(join(dir, f), "utf8");
  return {
    dir,
    path: (f) => join(dir, f),
    caPem: read("ca.pem"),
    otherCaPem: read("other-ca.pem"),
    serverPem: read("server.pem"),
    serverKey: read("server.key"),
    clientPem: read("client.pem"),
    clientKey: read("client.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Resolves once something accepts TCP connections on `port`. */
export async function waitForPort(port, what, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Kills a child process and waits for it. */
function killer(child) {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await gone;
  };
}

/**
 * `openssl s_server` on 127.0.0.1 in "quiet" mode: bytes written to `stdin()` go to the
 * client, bytes from the client collect in `received()`. `args` adds options (-tls1_2, …).
 * With `quiet: false` its stdout also has what it reports about each connection
 * ("Reused session-id", "Keying material: …"), mixed with the client's bytes.
 * `t` is the node:test context; the server is killed when the test ends.
 */
export async function sServer(t, pki, { cert = "server", args = [], quiet = true } = {}) {
  const port = await freePort();
  const child = spawn("openssl", ["s_server", "-accept", `127.0.0.1:${port}`, "-cert", pki.path(`${cert}.pem`),
    "-key", pki.path(`${cert}.key`), ...(quiet ? ["-quiet"] : []), ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const chunks = [];
  let stderr = "";
  child.stdout.on("data", (d) => chunks.push(d));
  child.stderr.on("data", (d) => (stderr += d));
  // s_server stops reading its stdin when the connection ends: what is still queued for it
  // is of no interest then.
  child.stdin.on("error", () => {});
  t.after(killer(child));
  await waitForPort(port, "openssl s_server");
  return {
    port,
    target: `127.0.0.1:${port}`,
    send: (data) => child.stdin.write(data),
    received: () => Buffer.concat(chunks),
    /** stdout as text (with `quiet: false`: the server's reports too). */
    output: () => Buffer.concat(chunks).toString("latin1"),
    stderr: () => stderr,
    /** Waits until at least `n` bytes arrived from the client. */
    async waitReceived(n, ms = 30000) {
      const deadline = Date.now() + ms;
      while (Buffer.concat(chunks).length < n) {
        if (Date.now() > deadline) throw new Error(`s_server got ${Buffer.concat(chunks).length} of ${n} bytes`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return Buffer.concat(chunks);
    },
  };
}

/** Spawns a bridge that prints "listening on ws://…"; returns its URL, log and process. */
async function spawnBridge(t, command, args, what) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  t.after(killer(child));
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 20 s: ${log}`)), 20000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (ws:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}): ${log}`));
    });
  });
  return { url, log: () => log, pid: child.pid };
}

/** `tlsferry bridge` allowing `targets`; returns its ws:// URL and its log. */
export async function bridge(t, targets, extra = []) {
  const args = ["bridge", "--listen", "127.0.0.1:0", ...targets.flatMap((x) => ["--allow", x]), ...extra];
  return spawnBridge(t, TLSFERRY_BIN, args, "tlsferry bridge");
}

/**
 * The mock bridge in Node (test/mock-bridge.mjs), in its own process: `protocols` limits
 * what it speaks, `ignoreCredit` makes it send without credit (a misbehaving bridge).
 */
export async function mockBridge(t, targets, { protocols, ignoreCredit = false } = {}) {
  const args = [join(dirname(fileURLToPath(import.meta.url)), "mock-bridge.mjs"), ...targets.flatMap((x) => ["--allow", x])];
  if (protocols) args.push("--protocols", protocols.join(","));
  if (ignoreCredit) args.push("--ignore-credit");
  return spawnBridge(t, process.execPath, args, "mock bridge");
}

let realBridgeChoice;

/** What `tlsferry bridge` answers to a WebSocket upgrade offering `offer` (its 101's subprotocol, or null). */
async function bridgeAnswer(port, target, offer) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let text = "";
    s.setTimeout(5000, () => s.destroy(new Error("no answer to the WebSocket handshake")));
    s.on("data", (d) => {
      text += d;
      if (text.includes("\r\n\r\n")) {
        s.destroy();
        resolve(/^sec-websocket-protocol: *(\S+)\r$/im.exec(text)?.[1] ?? null);
      }
    });
    s.on("error", reject);
    s.write(
      `GET /?target=${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
        `Sec-WebSocket-Protocol: ${offer}\r\nOrigin: http://127.0.0.1\r\n\r\n`,
    );
  });
}

/**
 * How `tlsferry bridge` negotiates (asked once, against a live target): `default` is what
 * it picks from the package's offer ("binary, tlsferry.v1"), `v1First` from
 * "tlsferry.v1, binary".
 */
export async function tlsferryBridgeChoice(t) {
  if (realBridgeChoice === undefined) {
    const target = await tcpServer(t, (s) => s.on("data", () => {}));
    const b = await bridge(t, [target.target]);
    const port = Number(new URL(b.url).port);
    realBridgeChoice = {
      default: await bridgeAnswer(port, target.target, "binary, tlsferry.v1"),
      v1First: await bridgeAnswer(port, target.target, "tlsferry.v1, binary"),
    };
  }
  return realBridgeChoice;
}

/**
 * A bridge that speaks tlsferry.v1, as { url, kind, protocols }: `tlsferry bridge` when it
 * does, else the mock bridge (test/mock-bridge.mjs). Pass `protocols` on to
 * webSocketTransport(): it is set only while `tlsferry bridge` picks tlsferry.v1 just when
 * it is offered first (README.md: it should whenever it is offered).
 */
export async function v1Bridge(t, targets) {
  const choice = await tlsferryBridgeChoice(t);
  if (choice.default === "tlsferry.v1") return { ...(await bridge(t, targets)), kind: "tlsferry bridge", protocols: undefined };
  if (choice.v1First === "tlsferry.v1") {
    return { ...(await bridge(t, targets)), kind: "tlsferry bridge, tlsferry.v1 offered first", protocols: ["tlsferry.v1", "binary"] };
  }
  return { ...(await mockBridge(t, targets)), kind: "mock bridge", protocols: undefined };
}

/** Debian's websockify in front of `target` (HOST:PORT). */
export async function websockify(t, target) {
  const port = await freePort();
  const child = spawn("websockify", [`127.0.0.1:${port}`, target], { stdio: ["ignore", "ignore", "pipe"] });
  t.after(killer(child));
  await waitForPort(port, "websockify");
  return { url: `ws://127.0.0.1:${port}/` };
}

/** A plain TCP server on 127.0.0.1 whose connections go to `onConnection`. */
export async function tcpServer(t, onConnection) {
  const srv = net.createServer(onConnection);
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const sockets = new Set();
  srv.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => srv.close(r));
  });
  return { port: srv.address().port, target: `127.0.0.1:${srv.address().port}` };
}

/**
 * A Python script (test/servers/NAME.py) as a child process; resolves once it printed a
 * line "PORT n", with { port, target, output(), errors(), exited }. Killed when the test ends.
 */
export async function python(t, name, args = []) {
  const script = join(dirname(fileURLToPath(import.meta.url)), "servers", `${name}.py`);
  const child = spawn("python3", ["-u", script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  t.after(killer(child));
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise((r) => child.once("exit", (code) => r(code)));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`python did not start within 20 s: ${err}`)), 20000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/^PORT (\d+)$/m);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`python exited (${code}): ${err}`));
    });
  });
  return { port, target: `127.0.0.1:${port}`, output: () => out, errors: () => err, exited };
}

/** Waits until `check()` is true, polling every 20 ms; throws `what` after `ms`. */
export async function until(check, what, ms = 10000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Reads a ReadableStream to its end, concatenated. */
export async function readAll(readable) {
  const parts = [];
  for await (const chunk of readable) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Reads at least `n` bytes from a stream reader. */
export async function readBytes(reader, n) {
  const parts = [];
  let got = 0;
  while (got < n) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    got += value.length;
  }
  return Buffer.concat(parts);
}

/** Deterministic pseudo-random bytes (xorshift), so a failure can be reproduced. */
export function pattern(n, seed = 1) {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Asserts that `promise` rejects with a TlsError of `code`; returns the error. */
export async function rejectsWith(promise, code) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a ${code} error, got success`);
  assert.ok(err instanceof TlsError, `expected a TlsError, got ${err?.name}: ${err?.message}`);
  assert.equal(err.code, code, `wrong code, message: ${err.message}`);
  assert.ok(err.message.length > 10, "a message a person can read");
  return err;
}
