// The demo page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// `tlsferry demo --web` serves the page, a bridge and a TLS server with a fresh CA; the page
// connects through the bridge, shows the handshake and the chain, and prints the reply.
//
// Run: node --test test/*.browser.mjs   (needs wasm/build.sh and the tlsferry binary)
// SCREENSHOT=path saves the success screenshot there (the README's is www/screenshot.png).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { TLSFERRY_BIN } from "./helpers.mjs";

const WASM_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

let demo;
let demoLog = "";
let url;
let context;
let profile;

before(async () => {
  demo = spawn(TLSFERRY_BIN, ["demo", "--web", "--port", "0", "--dir", WASM_DIR], { stdio: ["ignore", "pipe", "pipe"] });
  demo.stderr.on("data", (d) => (demoLog += d));
  url = await new Promise((resolve, reject) => {
    let out = "";
    demo.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/serving (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    demo.once("exit", (code) => reject(new Error(`tlsferry demo --web exited (${code}): ${demoLog}`)));
  });
  profile = mkdtempSync(join(tmpdir(), "tlsferry-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    viewport: { width: 1100, height: 1000 },
  });
});

after(async () => {
  await context?.close();
  demo?.kill("SIGKILL");
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function openPage() {
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && problems.push(`console error: ${m.text()}`));
  await page.goto(url);
  // demo-config.json filled the fields: the bridge URL and the generated CA.
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Ready: the demo server"));
  assert.match(await page.inputValue("#bridge"), /^ws:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(await page.inputValue("#ca"), /BEGIN CERTIFICATE/);
  return { page, problems };
}

test("the demo page connects through the bridge and shows summary, chain and reply", async () => {
  const { page, problems } = await openPage();
  await page.fill("#message", "Hello from Chromium!");
  await page.click("#connect");
  await page.waitForSelector("#status.ok", { timeout: 30000 });

  const reply = await page.textContent("#reply");
  assert.match(reply, /Hello from the tlsferry demo server/);
  assert.match(reply, /Hello from Chromium!/, "the server quotes what the page sent");
  const summary = await page.textContent("#summary");
  assert.match(summary, /TLSv1\.3/);
  assert.match(summary, /TLS_CHACHA20_POLY1305_SHA256/);
  assert.match(summary, /localhost \(verified\)/);
  assert.match(summary, /Sessionnew \(full handshake\)/);
  const chain = await page.$$eval("#chain li .subject", (els) => els.map((e) => e.textContent));
  assert.ok(chain.length >= 2, `leaf and intermediate shown: ${chain}`);
  assert.match(await page.textContent("#chain"), /names localhost, 127\.0\.0\.1/);
  assert.equal(await page.isHidden("#error"), true);
  assert.deepEqual(problems, []);

  mkdirSync(join(WASM_DIR, "test-results"), { recursive: true });
  const shot = join(WASM_DIR, "test-results", "demo-page.png");
  await page.screenshot({ path: shot, fullPage: true });
  if (process.env.SCREENSHOT) copyFileSync(shot, process.env.SCREENSHOT);

  // Again from the same page: the same options, so the session of the first connection
  // resumes, and the chain verified then is still shown.
  await page.click("#connect");
  await page.waitForSelector("#status.ok", { timeout: 30000 });
  assert.match(await page.textContent("#summary"), /Sessionresumed/);
  assert.match(await page.textContent("#reply"), /Hello from Chromium!/);
  assert.deepEqual(await page.$$eval("#chain li .subject", (els) => els.map((e) => e.textContent)), chain);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a wrong server name shows CERT_HOSTNAME_MISMATCH with the names the certificate covers", async () => {
  const { page } = await openPage();
  await page.fill("#server-name", "wrong.example");
  await page.click("#connect");
  await page.waitForSelector("#error:not([hidden])", { timeout: 30000 });
  assert.equal(await page.textContent("#error .code"), "CERT_HOSTNAME_MISMATCH");
  assert.match(await page.textContent("#error .message"), /certificate is for localhost, 127\.0\.0\.1(, \S+)*, not wrong\.example/);
  assert.match(await page.textContent("#error pre"), /chain as sent/);
  assert.equal(await page.isHidden("#result"), true);
  await page.screenshot({ path: join(WASM_DIR, "test-results", "demo-page-error.png"), fullPage: true });
  await page.close();
});
