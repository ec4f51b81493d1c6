// The package in bundled browser apps: test/app/ (`import { connect } from "tlsferry"`)
// is built with Vite and with esbuild against the packed package (npm pack, unpacked into
// the app's node_modules as npm would), served from 127.0.0.1 and opened in headless
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core). The page connects
// through a bridge to `openssl s_server -rev` and checks the reply.
//
// Run: node --test test/*.browser.mjs   (needs wasm/build.sh and the tlsferry binary)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, copyFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join, dirname, extname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { build as viteBuild } from "vite";
import * as esbuild from "esbuild";

import { makePki, v1Bridge, websockify } from "./helpers.mjs";

const WASM_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const MAIN_WASM = statSync(join(WASM_DIR, "pkg", "tlsferry_wasm_bg.wasm")).size;

const pki = makePki();
let work;
let context;
let profile;
let server; // openssl s_server -rev
const servers = [];

/** openssl s_server -rev on a free port: answers each line reversed; "CLOSE" ends the connection. */
async function startRevServer() {
  const child = spawn("openssl", ["s_server", "-accept", "127.0.0.1:0", "-rev", "-cert", pki.path("server.pem"), "-key", pki.path("server.key")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const port = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("openssl s_server did not start")), 20000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^ACCEPT 127\.0\.0\.1:(\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return { child, port, target: `127.0.0.1:${port}` };
}

/** Serves `dir` on 127.0.0.1 (application/wasm for .wasm, as instantiateStreaming wants). */
async function serve(dir) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };
  const srv = http.createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    const file = join(dir, path === "/" ? "index.html" : path.slice(1));
    if (!file.startsWith(dir) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  servers.push(srv);
  return `http://127.0.0.1:${srv.address().port}/`;
}

/** The files under `dir`, relative, recursively. */
function files(dir, prefix = "") {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "tlsferry-bundlers-"));
  // The package as npm ships it.
  const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: WASM_DIR, encoding: "utf8" }));
  const app = join(work, "app");
  mkdirSync(join(app, "node_modules", "tlsferry"), { recursive: true });
  execFileSync("tar", ["-xzf", join(work, packed[0].filename), "-C", join(app, "node_modules", "tlsferry"), "--strip-components=1"]);
  cpSync(join(WASM_DIR, "test", "app"), app, { recursive: true });
  server = await startRevServer();
  profile = mkdtempSync(join(tmpdir(), "tlsferry-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});

after(async () => {
  await context?.close();
  server?.child.kill("SIGKILL");
  for (const s of servers) s.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
  pki.remove();
});

/** Opens the built page and runs the connection in it through `bridgeUrl`. */
async function runPage(url, bridgeUrl, message, protocols, clientAuth = {}) {
  const page = await context.newPage();
  const problems = [];
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // The browser asks for /favicon.ico by itself; the 404 it gets is reported as a response.
    if (["error", "warning"].includes(m.type()) && !/status of 404/.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  try {
    await page.goto(url);
    await page.waitForFunction(() => typeof window.tlsferryTest === "function", null, { timeout: 20000 });
    const result = await page.evaluate((args) => window.tlsferryTest(args), { bridgeUrl, caPem: pki.caPem, message, protocols, ...clientAuth });
    // The Mozilla roots load from the bundle's copy of tlsferry_roots.wasm; they do not
    // know the test CA.
    result.mozillaRoots = await page.evaluate((pem) => window.tlsferryVerifyWithMozillaRoots(pem), pki.serverPem);
    return { result, problems, requests };
  } finally {
    await page.close();
  }
}

test("a page built with Vite connects through the bridge (wasm found via new URL(…, import.meta.url))", async (t) => {
  const root = join(work, "app");
  const outDir = join(work, "vite-dist");
  await viteBuild({ root, logLevel: "warn", build: { outDir, emptyOutDir: true }, configFile: false });
  const out = files(outDir);
  // The main module, the client-auth module and the Mozilla roots file (each of the last
  // two loaded only when a connection needs it); no replay kit.
  const wasm = out.filter((f) => f.endsWith(".wasm") && !/tlsferry_roots|tlsferry_client_auth/.test(f));
  assert.equal(wasm.length, 1, `one main wasm module in the build (no replay kit): ${out.join(", ")}`);
  assert.equal(statSync(join(outDir, wasm[0])).size, MAIN_WASM, "it is the main module");
  assert.ok(out.some((f) => /tlsferry_roots.*\.wasm$/.test(f)), `the roots file is copied too: ${out.join(", ")}`);
  assert.ok(out.some((f) => /tlsferry_client_auth.*\.wasm$/.test(f)), `the client-auth module too: ${out.join(", ")}`);
  const url = await serve(outDir);

  for (const [name, b] of [
    ["tlsferry.v1", await v1Bridge(t, [server.target])],
    ["binary", { ...(await websockify(t, server.target)), kind: "websockify" }],
  ]) {
    const { result, problems, requests } = await runPage(url, b.url, "Hello from Vite\nCLOSE\n", b.protocols);
    t.diagnostic(`${name} (${b.kind}): ${JSON.stringify({ ...result, reply: undefined })}`);
    assert.equal(result.protocol, name);
    assert.equal(result.error, undefined, JSON.stringify(result.error));
    assert.equal(result.reply, "etiV morf olleH\n");
    assert.equal(result.version, "TLSv1.3");
    assert.equal(result.webSocketStream, true, "Chromium has WebSocketStream: receive back-pressure without credit");
    assert.equal(result.mozillaRoots, "CERT_UNKNOWN_ISSUER", "verifyChain without caPem used the Mozilla roots");
    assert.deepEqual(problems, []);
    assert.ok(!requests.some((u) => /tlsferry_client_auth/.test(u)), `no client-auth module fetched: ${requests.join(", ")}`);
  }

  // A connection with a client certificate fetches the client-auth module from the build.
  const b = await v1Bridge(t, [server.target]);
  const clientAuth = { clientCertPem: pki.clientPem, clientKeyPem: pki.clientKey };
  const { result, problems, requests } = await runPage(url, b.url, "Hello with a client certificate\nCLOSE\n", b.protocols, clientAuth);
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  assert.equal(result.reply, "etacifitrec tneilc a htiw olleH\n");
  assert.ok(requests.some((u) => /tlsferry_client_auth.*\.wasm$/.test(u)), `the client-auth module fetched: ${requests.join(", ")}`);
  assert.deepEqual(problems, []);
});

test("a page built with esbuild connects through the bridge (wasm copied next to the bundle)", async (t) => {
  const root = join(work, "app");
  const outDir = join(work, "esbuild-dist");
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ["main.js"],
    bundle: true,
    format: "esm",
    platform: "browser",
    outdir: outDir,
    logLevel: "silent",
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((i) => i.endsWith("tlsferry/js/browser.js")), `the browser entry was chosen: ${inputs.join(", ")}`);
  assert.ok(!inputs.some((i) => /replay/.test(i)), "no replay kit in the bundle");
  const bundle = readFileSync(join(outDir, "main.js"), "utf8");
  assert.ok(!/["']node:/.test(bundle), "no node: import in the browser bundle");
  // esbuild leaves new URL("tlsferry_wasm_bg.wasm", import.meta.url) as it is: the module
  // goes next to the bundle (README.md, "Bundlers").
  for (const f of ["tlsferry_wasm_bg.wasm", "tlsferry_roots.wasm"]) {
    copyFileSync(join(root, "node_modules", "tlsferry", "pkg", f), join(outDir, f));
  }
  copyFileSync(join(root, "index.html"), join(outDir, "index.html"));
  const url = await serve(outDir);
  const b = await v1Bridge(t, [server.target]);
  const { result: r, problems } = await runPage(url, b.url, "Hello from esbuild\nCLOSE\n", b.protocols);
  t.diagnostic(`bridge: ${b.kind}`);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.reply, "dliubse morf olleH\n");
  assert.equal(r.protocol, "tlsferry.v1");
  assert.equal(r.mozillaRoots, "CERT_UNKNOWN_ISSUER", "verifyChain without caPem used the Mozilla roots");
  assert.deepEqual(problems, []);
});
