// The Mozilla roots live in pkg/tlsferry_roots.wasm, out of the main module: options with
// caPem never load them; the first connection or verifyChain() without caPem does; a
// TlsClient made by hand without caPem says how to load them; loadMozillaRoots() takes
// the file as bytes, a Response or a compiled module, and refuses anything else.
// (One process: the steps depend on the module's state, so they run in order.)

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { TlsClient, verifyChain, loadMozillaRoots, init } from "tlsferry";
import { makePki, rejectsWith } from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());
const ROOTS = fileURLToPath(new URL("../pkg/tlsferry_roots.wasm", import.meta.url));

test("roots are loaded only for options without caPem, and then once", async () => {
  await init();
  // caPem: verified without the roots, which stay unloaded.
  assert.equal((await verifyChain(pki.serverPem, "localhost", { caPem: pki.caPem })).ok, true);
  assert.throws(
    () => new TlsClient("example.com", {}),
    (e) => e.code === "CONFIG" && /Mozilla roots are not loaded.*loadMozillaRoots/.test(e.message),
  );
  // insecure needs no roots either.
  new TlsClient("example.com", { insecure: true }).free();
  // No caPem: verifyChain() loads them (and our CA is not among them).
  await rejectsWith(verifyChain(pki.serverPem, "localhost"), "CERT_UNKNOWN_ISSUER");
  new TlsClient("example.com", {}).free();
  // extraCaPem: the Mozilla roots and ours.
  assert.equal((await verifyChain(pki.serverPem, "localhost", { extraCaPem: pki.caPem })).ok, true);
});

test("loadMozillaRoots() takes the file as bytes, a Response or a WebAssembly.Module", async () => {
  const bytes = readFileSync(ROOTS);
  const fromDefault = await loadMozillaRoots();
  assert.ok(fromDefault > 100, `${fromDefault} roots`);
  assert.equal(await loadMozillaRoots(bytes), fromDefault);
  assert.equal(await loadMozillaRoots(new Response(bytes)), fromDefault);
  assert.equal(await loadMozillaRoots(new WebAssembly.Module(bytes)), fromDefault);
  assert.equal(await loadMozillaRoots(), fromDefault);
});

test("a file that is not the roots is refused with a TlsError that says what to do", async () => {
  for (const bad of [new Uint8Array([1, 2, 3]), readFileSync(fileURLToPath(new URL("../pkg/tlsferry_wasm_bg.wasm", import.meta.url)))]) {
    const err = await rejectsWith(loadMozillaRoots(bad), "LOCAL");
    assert.match(err.message, /cannot load the Mozilla roots.*pass caPem/);
  }
  // A failed load is forgotten: the next call loads the file again.
  assert.ok((await loadMozillaRoots()) > 100);
});
