// Bounded memory whatever the peer does: a server sends 200 MB to an application that
// reads one chunk a second. The application runs in its own process (test/slow-reader.mjs)
// and measures its memory; it must stay within a few MiB of the receive window, over the
// bridge (tlsferry.v1 credit) and over a direct TCP transport (the socket is paused, TCP
// flow control reaches the server).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

import { makePki, python, v1Bridge } from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());

const TOTAL = 200 * 1000 * 1000;
const SECONDS = 8;
const WINDOW = 1024 * 1024;
const MiB = 1024 * 1024;
const READER = fileURLToPath(new URL("./slow-reader.mjs", import.meta.url));

function slowReader(args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--experimental-websocket", READER, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`slow-reader failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split("\n").pop()));
    });
  });
}

const mib = (n) => `${(n / MiB).toFixed(1)} MiB`;

for (const kind of ["bridge", "tcp"]) {
  test(`slow reader over ${kind === "bridge" ? "the bridge (tlsferry.v1)" : "a direct TCP transport"}: memory stays within a few MiB of the window`, async (t) => {
    const server = await python(t, "sender", [pki.path("server.pem"), pki.path("server.key"), String(TOTAL)]);
    let where = String(server.port);
    let protocols = "";
    if (kind === "bridge") {
      const b = await v1Bridge(t, [server.target]);
      t.diagnostic(`bridge: ${b.kind}`);
      where = b.url;
      protocols = b.protocols?.join(",") ?? "";
    }
    const r = await slowReader([kind, where, pki.path("ca.pem"), String(SECONDS), String(WINDOW), protocols]);
    const growth = {
      arrayBuffers: r.peak.arrayBuffers - r.baseline.arrayBuffers,
      rss: r.peak.rss - r.baseline.rss,
      wasm: r.peak.wasm - r.baseline.wasm,
    };
    const sent = Math.max(0, ...[...server.output().matchAll(/^SENT (\d+)/gm)].map((m) => Number(m[1])));
    t.diagnostic(
      `window ${mib(WINDOW)}; read ${r.chunks} chunks (${r.bytesRead} bytes) in ${SECONDS} s; the server got ${mib(sent)} of ${mib(TOTAL)} out; ` +
        `growth over the baseline: array buffers ${mib(growth.arrayBuffers)} (peak ${mib(r.peak.arrayBuffers)}), ` +
        `RSS ${mib(growth.rss)} (peak ${mib(r.peak.rss)}), wasm memory ${mib(growth.wasm)}`,
    );
    assert.ok(r.dataOk, "the bytes read are the server's, in order");
    assert.ok(r.chunks >= SECONDS, `read ${r.chunks} chunks`);
    if (kind === "bridge") assert.equal(r.protocol, "tlsferry.v1");
    assert.ok(growth.arrayBuffers <= WINDOW + 6 * MiB, `array buffers grew by ${mib(growth.arrayBuffers)}`);
    // What grows with the peer's data is in array buffers, bounded tightly above. RSS also
    // counts V8's young generation and the allocator's arenas, which grow with any traffic
    // (measured 7-37 MiB here, varying with GC timing): its bound only has to catch
    // buffering of what the server sends (before back-pressure: 204 MB array buffers,
    // 314 MB RSS).
    assert.ok(growth.rss <= WINDOW + 64 * MiB, `RSS grew by ${mib(growth.rss)}`);
    assert.ok(sent < TOTAL / 4, `back-pressure reached the server: it sent ${mib(sent)}`);
  });
}
