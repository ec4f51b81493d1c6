// Test harness for the edge-runtime examples: a throw-away PKI made with the openssl CLI,
// `openssl s_server` on 127.0.0.1 (free port, killed when done), workerd serving the
// example Worker on a free loopback port, and the Deno example as a child process.
// Nothing is downloaded and nothing listens beyond loopback.

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** wasm/examples/ (holds package.json and node_modules with workerd and deno). */
export const EXAMPLES_DIR = fileURLToPath(new URL("..", import.meta.url));
export const WORKERD = join(EXAMPLES_DIR, "node_modules", ".bin", "workerd");
/**
 * The deno executable itself. (node_modules/.bin/deno is a Node wrapper that runs it as a
 * child: killing the wrapper on a timeout would leave deno running.)
 */
export const DENO = createRequire(join(EXAMPLES_DIR, "package.json"))("deno/install_api.cjs")
  .runInstall();
export const WORKER_CONFIG = join(EXAMPLES_DIR, "worker", "config.capnp");
export const DENO_MAIN = join(EXAMPLES_DIR, "deno", "main.ts");

const STARTUP_TIMEOUT_MS = 20_000;

// Children still running and temporary directories still present when the test process
// exits (a failed assertion, a crash) are removed here, so no server outlives its test.
const children = new Set();
const tempDirs = new Set();
const cleanUp = () => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // best effort while exiting
    }
  }
};
process.on("exit", cleanUp);
// Interrupted (Ctrl-C, or the test runner stopping this file): clean up, then die of the
// same signal.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    cleanUp();
    process.kill(process.pid, signal);
  });
}

/** A fresh directory under the system's temporary directory, removed at exit at the latest. */
function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function removeTempDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

function track(child) {
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

// A server runs under this sh watchdog: the server in the background, and a reader of the
// watchdog's stdin (a pipe from this process) that kills the server when the pipe closes,
// that is when stop() ends it or when this process dies in any way, even by SIGKILL, e.g.
// when the test runner is stopped. The watchdog exits with the server's status.
const WATCHDOG = `exec 9<&0 </dev/null
"$@" 9<&- &
pid=$!
{ read -r _ <&9; kill "$pid" 2>/dev/null; } &
wait "$pid"`;

/** Spawns `command args` under the watchdog; `stdio` gives fds 1 and up (0 is the pipe). */
function spawnGuarded(command, args, options) {
  const [, ...rest] = options.stdio;
  return track(
    spawn("sh", ["-c", WATCHDOG, "watchdog", command, ...args], {
      ...options,
      stdio: ["pipe", ...rest],
    }),
  );
}

/**
 * Stops `child` and waits for it to exit: a watchdog by closing its stdin, anything else
 * by SIGTERM; SIGKILL after 3 s.
 */
async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  if (child.stdin) child.stdin.end();
  else child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

/** Collects a child's output stream as text; `text()` returns all of it so far. */
function collect(stream) {
  let text = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    text += chunk;
  });
  return () => text;
}

/**
 * Waits until `test(text)` returns a value for the text collected from `stream`, rejecting
 * if the child exits or STARTUP_TIMEOUT_MS passes first (with `describe()` in the message).
 */
function waitFor(child, stream, test, describe) {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk) => {
      text += chunk;
      const value = test(text);
      if (value !== undefined) {
        cleanup();
        resolve(value);
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`${describe()} exited (${signal ?? code}) before it was ready:\n${text}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${describe()} was not ready within ${STARTUP_TIMEOUT_MS} ms:\n${text}`));
    }, STARTUP_TIMEOUT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      stream.off("data", onData);
      child.off("exit", onExit);
    };
    stream.setEncoding("utf8");
    stream.on("data", onData);
    child.on("exit", onExit);
  });
}

/** Splits a command line of plain words (no quoting) into arguments. */
const words = (line) => line.trim().split(/\s+/);

function openssl(cwd, ...args) {
  return execFileSync("openssl", args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function makeCa(dir, name, commonName) {
  openssl(
    dir,
    ...words(`req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2
              -keyout ${name}.key -out ${name}.pem
              -addext basicConstraints=critical,CA:TRUE
              -addext keyUsage=critical,keyCertSign,cRLSign`),
    "-subj",
    `/CN=${commonName}`,
  );
}

function makeLeaf(dir, name, ca, commonName, extensions) {
  openssl(
    dir,
    ...words(`req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes
              -keyout ${name}.key -out ${name}.csr`),
    "-subj",
    `/CN=${commonName}`,
  );
  writeFileSync(join(dir, `${name}.ext`), extensions.join("\n") + "\n");
  openssl(
    dir,
    ...words(`x509 -req -in ${name}.csr -CA ${ca}.pem -CAkey ${ca}.key -CAcreateserial
              -out ${name}.pem -days 1 -extfile ${name}.ext`),
  );
}

/**
 * Generates a test PKI in a fresh temporary directory with the openssl CLI: a root CA, a
 * server leaf for localhost and 127.0.0.1, a client leaf (clientAuth), and an unrelated CA
 * for the wrong-CA cases. Returns the file paths, `read(path)`, `sha256(path)` (the
 * certificate's SHA-256 fingerprint as lowercase hex) and `remove()`.
 */
export function makePki() {
  const dir = tempDir("tlsferry-edge-pki-");
  makeCa(dir, "ca", "tlsferry edge test CA");
  makeCa(dir, "other-ca", "tlsferry unrelated CA");
  makeLeaf(dir, "server", "ca", "localhost", [
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "extendedKeyUsage=serverAuth",
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature",
  ]);
  makeLeaf(dir, "client", "ca", "tlsferry edge client", [
    "extendedKeyUsage=clientAuth",
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature",
  ]);
  return {
    dir,
    ca: join(dir, "ca.pem"),
    otherCa: join(dir, "other-ca.pem"),
    serverCert: join(dir, "server.pem"),
    serverKey: join(dir, "server.key"),
    clientCert: join(dir, "client.pem"),
    clientKey: join(dir, "client.key"),
    read: (path) => readFileSync(path, "utf8"),
    sha256: (path) =>
      openssl(dir, "x509", "-in", path, "-noout", "-fingerprint", "-sha256")
        .trim()
        .replace(/^.*=/, "")
        .replaceAll(":", "")
        .toLowerCase(),
    remove: () => removeTempDir(dir),
  };
}

/**
 * Starts `openssl s_server` on 127.0.0.1 (a free port) in `-rev` mode: it answers each
 * line with the line reversed and, on a line "CLOSE", sends close_notify and closes.
 * Client certificates are REQUIRED (`-Verify 1`) and checked against the PKI's CA.
 * `extraArgs` adds options (e.g. "-tls1_2"). Returns { port, mark(), log(since), stop() }:
 * log() is the server's diagnostic output (it names each client certificate it accepted),
 * log(mark()) only what it printed after that mark.
 */
export async function startOpenSslServer(pki, extraArgs = []) {
  // (The PKI's paths come from mkdtemp under the temp dir: no spaces.)
  const args = [
    ...words(`s_server -accept 127.0.0.1:0 -rev -alpn http/1.1
              -cert ${pki.serverCert} -key ${pki.serverKey} -CAfile ${pki.ca} -Verify 1`),
    ...extraArgs,
  ];
  const child = spawnGuarded("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const port = await waitFor(
    child,
    child.stdout,
    (text) => {
      const m = /^ACCEPT 127\.0\.0\.1:(\d+)$/m.exec(text);
      return m ? Number(m[1]) : undefined;
    },
    () => `openssl ${args.join(" ")}\n${stderr()}`,
  );
  return {
    port,
    mark: () => ({ out: stdout().length, err: stderr().length }),
    log: (since = { out: 0, err: 0 }) => stdout().slice(since.out) + stderr().slice(since.err),
    stop: () => stopChild(child),
  };
}

/**
 * Serves the example Worker with workerd on 127.0.0.1 (a free port, reported by workerd
 * on its control fd). `env` becomes workerd's whole environment besides PATH, so the
 * Worker's `fromEnvironment` bindings see exactly these values. Returns
 * { url, log(), stop() }.
 */
export async function startWorkerd(env) {
  const args = ["serve", WORKER_CONFIG, ...words("--socket-addr http=127.0.0.1:0 --control-fd 3")];
  const child = spawnGuarded(WORKERD, args, {
    cwd: EXAMPLES_DIR,
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  const output = collect(child.stderr);
  const stdout = collect(child.stdout);
  const port = await waitFor(
    child,
    child.stdio[3],
    (text) => {
      for (const line of text.split("\n")) {
        if (!line.startsWith("{")) continue;
        const msg = JSON.parse(line);
        if (msg.event === "listen" && msg.socket === "http") return msg.port;
      }
      return undefined;
    },
    () => `workerd ${args.join(" ")}\n${stdout()}${output()}`,
  );
  return {
    url: `http://127.0.0.1:${port}/`,
    log: () => stdout() + output(),
    stop: () => stopChild(child),
  };
}

/**
 * Runs `deno run FLAGS SCRIPT ARGS` and resolves { code, stdout, stderr } when it exits
 * (killing it after `timeoutMs`). Deno's update check is off: the tests reach no network
 * beyond loopback. Deno keeps its usual cache (DENO_DIR or ~/.cache/deno).
 */
export function runDeno(flags, script, args, timeoutMs = 30_000) {
  const env = { PATH: process.env.PATH, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
  for (const name of ["HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  const child = track(
    spawn(DENO, ["run", ...flags, script, ...args], {
      cwd: EXAMPLES_DIR,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout: stdout(), stderr: stderr() });
    });
  });
}

/**
 * Resolves with the server's log since `mark` once it matches `pattern`; rejects after
 * `timeoutMs` with the log in the message. (The server writes its log through a pipe, so
 * a line may arrive a moment after the client has its answer.)
 */
export async function logMatching(server, mark, pattern, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = server.log(mark);
    if (pattern.test(log)) return log;
    if (Date.now() > deadline) {
      throw new Error(`the server log does not match ${pattern}:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
