// The npm package itself: what `npm pack` ships (only what is needed, with a README and
// the licence), which entry point each runtime's export condition picks, and that the
// browser entries reach no node: module (esbuild --platform=browser refuses those).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const WASM_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");

test("npm pack ships the entry points, the wasm modules, the types, a README and the licence, and nothing else", () => {
  const dir = mkdtempSync(join(tmpdir(), "tlsferry-pack-"));
  try {
    const [packed] = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: WASM_DIR, encoding: "utf8" }));
    const tarball = join(dir, packed.filename);
    const listed = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((f) => f.replace(/^package\//, ""))
      .sort();
    const expected = [
      "LICENSE-APACHE",
      "LICENSE-MIT",
      "README.md",
      "js/browser.js",
      "js/deno.js",
      "js/index.d.ts",
      "js/index.js",
      "js/lib/api.js",
      "js/lib/errors.js",
      "js/lib/plaintext.js",
      "js/lib/replay.js",
      "js/lib/runtime.js",
      "js/lib/socket.js",
      "js/lib/transports.js",
      "js/lib/wasm.js",
      "js/node.js",
      "js/replay-node.js",
      "js/replay-workerd.js",
      "js/replay.d.ts",
      "js/replay.js",
      "js/workerd.js",
      "package.json",
      "pkg/tlsferry_client_auth.js",
      "pkg/tlsferry_client_auth_bg.wasm",
      "pkg/tlsferry_replay.d.ts",
      "pkg/tlsferry_replay.js",
      "pkg/tlsferry_replay_bg.wasm",
      "pkg/tlsferry_roots.js",
      "pkg/tlsferry_roots.wasm",
      "pkg/tlsferry_wasm.d.ts",
      "pkg/tlsferry_wasm.js",
      "pkg/tlsferry_wasm_bg.wasm",
    ];
    assert.deepEqual(listed, expected);

    const file = (f) => execFileSync("tar", ["-xzOf", tarball, `package/${f}`], { encoding: "utf8" });
    const readme = file("README.md");
    for (const needle of [/^# tlsferry$/m, /tcpTransport\(/, /plaintext\(/, /startTls\(/, /Vite/, /esbuild/, /allowHalfOpen/, /tlsferry\/replay/, /tlsferry\.v1/, /resumed/, /exportKeyingMaterial\(/, /verifyChain\(/]) {
      assert.match(readme, needle);
    }
    assert.doesNotMatch(readme, /^!\[/m, "no images that do not travel with the package");
    assert.match(file("LICENSE-MIT"), /Permission is hereby granted, free of charge/);
    assert.match(file("LICENSE-APACHE"), /Apache License\s+Version 2\.0/);
    const pkg = JSON.parse(file("package.json"));
    assert.equal(pkg.license, "MIT OR Apache-2.0");
    assert.equal(pkg.devDependencies.vite !== undefined, true, "dev dependencies stay in package.json (npm ignores them on install)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** What `specifier` resolves to in Node with the extra `conditions`, relative to wasm/. */
function resolveWith(conditions, specifier) {
  const args = [...conditions.flatMap((c) => ["-C", c]), "--input-type=module", "-e", `console.log(import.meta.resolve(${JSON.stringify(specifier)}))`];
  const url = execFileSync(process.execPath, args, { cwd: WASM_DIR, encoding: "utf8" }).trim();
  return fileURLToPath(url).slice(WASM_DIR.length + 1);
}

test("each runtime's export condition picks its entry point", () => {
  assert.equal(resolveWith([], "tlsferry"), "js/node.js");
  assert.equal(resolveWith(["browser"], "tlsferry"), "js/browser.js");
  assert.equal(resolveWith(["deno"], "tlsferry"), "js/deno.js");
  assert.equal(resolveWith(["workerd"], "tlsferry"), "js/workerd.js");
  assert.equal(resolveWith([], "tlsferry/replay"), "js/replay-node.js");
  assert.equal(resolveWith(["workerd"], "tlsferry/replay"), "js/replay-workerd.js");
  assert.equal(resolveWith(["browser"], "tlsferry/replay"), "js/replay.js");
});

test("every entry point exports the same API (connect, verifyChain, …)", async () => {
  const exportsOf = async (entry) => {
    const result = await esbuild.build({
      entryPoints: [join(WASM_DIR, "js", entry)],
      bundle: true,
      write: false,
      outdir: join(WASM_DIR, "esbuild-out"),
      format: "esm",
      platform: "neutral",
      external: ["node:*", "cloudflare:sockets", "*.wasm"],
      metafile: true,
      logLevel: "silent",
    });
    return Object.values(result.metafile.outputs)[0].exports.sort();
  };
  const node = await exportsOf("node.js");
  for (const name of ["connect", "startTls", "verifyChain", "tcpTransport", "webSocketTransport", "TlsClient", "TlsError", "TlsSocket"]) {
    assert.ok(node.includes(name), `js/node.js exports ${name}`);
  }
  for (const entry of ["index.js", "browser.js", "deno.js", "workerd.js"]) {
    assert.deepEqual(await exportsOf(entry), node, `js/${entry} exports what js/node.js does`);
  }
});

test("the browser and default entries import no node: module (esbuild --platform=browser bundles them)", async () => {
  for (const [entry, conditions] of [
    ['export * from "tlsferry";', []],
    ['export * from "tlsferry/replay";', []],
    ['export * from "./js/index.js";', ["default-only"]],
  ]) {
    const result = await esbuild.build({
      stdin: { contents: entry, resolveDir: WASM_DIR, loader: "js" },
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      conditions,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(!inputs.some((i) => i.startsWith("node:")), inputs.join(", "));
    assert.ok(!inputs.some((i) => /(^|\/)js\/(node|deno|workerd)\.js$/.test(i)), inputs.join(", "));
  }
});

test("README.md's JavaScript section (the package's README) names every public export", async () => {
  const api = await import("tlsferry");
  const readme = readFileSync(join(WASM_DIR, "..", "README.md"), "utf8");
  const js = readme.slice(readme.indexOf("## JavaScript / WebAssembly"), readme.indexOf("## Deterministic sessions"));
  for (const name of Object.keys(api)) assert.ok(js.includes(name), `README.md does not mention ${name}`);
});
