// Side-by-side A/B of builds of the tlsferry wasm package, in one Node process (driven by
// wasm_ab.py): each build's connect() makes full handshakes (no resumption) against an
// RSA-2048 and an ECDSA P-256 server and receives bulk data with ChaCha20-Poly1305,
// AES-128-GCM and AES-256-GCM.
// Builds and measurements are interleaved in rotating order within each round, so that
// ratios between builds are measured under the same load.
//
//   node wasm_ab.mjs --pkg NAME=DIR/js/index.js [--pkg NAME=…]… --rsa PORT:CA.pem --ec PORT:CA.pem
//        [--rounds 5] [--hs 40] [--bytes 33554432] [--cases hs-rsa,hs-ec,chacha,aes128,aes256]
//        [--to-web NAME]…
//
// Each connection is a net.Socket given to the package as its README says (fromNodeStream,
// the adapter tcpTransport() uses); a build named by --to-web gets Node's Duplex.toWeb()
// instead (what the benches used until 2026-12-03, and builds without fromNodeStream).
//
// One JSON line per measurement: {"pkg", "case", "round", "n" | "bytes", "wall", "cpu",
// "suite"}; wall and cpu in seconds (cpu: this process, all threads; the servers run in
// other processes).

import fs from "node:fs";
import net from "node:net";
import { once } from "node:events";
import { Duplex } from "node:stream";
import { pathToFileURL } from "node:url";

function opts(name) {
  const out = [];
  for (let i = 0; i < process.argv.length; i++) if (process.argv[i] === name) out.push(process.argv[i + 1]);
  return out;
}
function opt(name, fallback) {
  const v = opts(name);
  if (v.length === 0) {
    if (fallback === undefined) throw new Error(`missing ${name}`);
    return fallback;
  }
  return v[0];
}

const server = (spec) => {
  const [port, ca] = spec.split(":");
  return { port: Number(port), ca: fs.readFileSync(ca, "utf8") };
};
const RSA = server(opt("--rsa"));
const EC = server(opt("--ec"));
const ROUNDS = Number(opt("--rounds", "5"));
const HS = Number(opt("--hs", "40"));
const BYTES = Number(opt("--bytes", String(32 << 20)));
const CASES = opt("--cases", "hs-rsa,hs-ec,chacha,aes128,aes256").split(",");
const TO_WEB = new Set(opts("--to-web"));

const pkgs = [];
for (const spec of opts("--pkg")) {
  const eq = spec.indexOf("=");
  const mod = await import(pathToFileURL(spec.slice(eq + 1)).href);
  await mod.init();
  // Full handshakes: builds that resume sessions by default (connections with equal
  // options share a session cache) are told not to; older builds know no such option.
  let full = {};
  try {
    new mod.TlsClient("localhost", { caPem: RSA.ca, resumption: false }).free();
    full = { resumption: false };
  } catch {
    // no `resumption` option: never resumes
  }
  const name = spec.slice(0, eq);
  const adapt = TO_WEB.has(name) || typeof mod.fromNodeStream !== "function" ? (raw) => Duplex.toWeb(raw) : mod.fromNodeStream;
  pkgs.push({ name, mod, full, adapt });
}

async function open(pkg, srv, suites) {
  const mod = pkg.mod;
  const raw = net.connect(srv.port, "127.0.0.1");
  raw.setNoDelay(true);
  await once(raw, "connect");
  const extra = suites ? { cipherSuites: suites } : {};
  const sock = mod.connect(pkg.adapt(raw), { serverName: "localhost", caPem: srv.ca, ...pkg.full, ...extra });
  const info = await sock.opened;
  return {
    sock,
    suite: info.cipherSuite,
    drop() {
      sock.closed.catch(() => {});
      raw.destroy();
    },
  };
}

async function bulk(pkg, suites, bytes) {
  const c = await open(pkg, RSA, suites);
  const w = c.sock.writable.getWriter();
  await w.write(new TextEncoder().encode(`${bytes}\n`));
  w.releaseLock();
  const r = c.sock.readable.getReader();
  let got = 0;
  for (;;) {
    const { value, done } = await r.read();
    if (done) break;
    got += value.byteLength;
  }
  c.drop();
  if (got !== bytes) throw new Error(`received ${got} bytes, expected ${bytes}`);
  return c.suite;
}

const cases = {
  "hs-rsa": { hs: RSA },
  "hs-ec": { hs: EC },
  chacha: { suites: ["TLS13_CHACHA20_POLY1305_SHA256"] },
  aes128: { suites: ["TLS13_AES_128_GCM_SHA256"] },
  aes256: { suites: ["TLS13_AES_256_GCM_SHA384"] },
};

function measure() {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  return () => {
    const u = process.cpuUsage(c);
    return { wall: Number(process.hrtime.bigint() - t) / 1e9, cpu: (u.user + u.system) / 1e6 };
  };
}

async function run(pkg, name, n) {
  const k = cases[name];
  if (k.hs) {
    let suite;
    const stop = measure();
    for (let i = 0; i < n; i++) {
      const c = await open(pkg, k.hs);
      suite = c.suite;
      c.drop();
    }
    return { n, ...stop(), suite };
  }
  const stop = measure();
  const suite = await bulk(pkg, k.suites, n);
  return { bytes: n, ...stop(), suite };
}

const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

// Warm-up (V8 compiles wasm lazily and tiers hot functions up).
for (const pkg of pkgs) {
  for (const name of CASES) await run(pkg, name, cases[name].hs ? 3 : BYTES >> 3);
}
const jobs = [];
for (const name of CASES) for (const pkg of pkgs) jobs.push([pkg, name]);
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < jobs.length; i++) {
    const [pkg, name] = jobs[(i + round) % jobs.length];
    try {
      emit({ pkg: pkg.name, case: name, round, ...(await run(pkg, name, cases[name].hs ? HS : BYTES)) });
    } catch (e) {
      emit({ pkg: pkg.name, case: name, round, error: String(e?.stack ?? e) });
    }
  }
}
process.exit(0);
