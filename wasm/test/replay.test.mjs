// Deterministic handshakes in Node through the wasm build: the golden ClientHello is the
// one native Rust produces (tests/data/clienthello-golden.hex), and the transcripts
// recorded from openssl s_server (tests/data/transcripts/) replay offline, with every
// failure naming its cause. Run: node --test test/ (after wasm/build.sh).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

import { replay, deterministicClientHello, initReplay } from "tlsferry/replay";
import * as mainEntry from "tlsferry";
import * as mainModule from "../pkg/tlsferry_wasm.js";
import { rejectsWith } from "./helpers.mjs";

const DATA = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "tests", "data");
const read = (...p) => readFileSync(join(DATA, ...p), "utf8");
const hex = (bytes) => Buffer.from(bytes).toString("hex");
const REVERSED = "!dlroW ,olleH\n";
const SEED = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0")).join("");
const EXAMPLES = [
  ["openssl-tls13.transcript", "TLSv1.3"],
  ["openssl-tls12.transcript", "TLSv1.2"],
];

test("the replay kit is its own module and entry point: the main ones do not carry it", async () => {
  assert.equal(typeof mainModule.TlsClient, "function");
  assert.equal(mainModule.replayTranscript, undefined);
  assert.equal(mainModule.deterministicClientHello, undefined);
  assert.equal(mainEntry.replay, undefined, 'replay() comes from "tlsferry/replay" only');
  // initReplay() takes the module's bytes, as a runtime without file or fetch access would.
  const bytes = readFileSync(new URL("../pkg/tlsferry_replay_bg.wasm", import.meta.url));
  await initReplay(bytes);
  const r = await replay(read("transcripts", EXAMPLES[0][0]));
  assert.equal(new TextDecoder().decode(r.reply), REVERSED);
});

test("the golden ClientHello comes out of WebAssembly byte for byte", async () => {
  const golden = read("clienthello-golden.hex")
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("")
    .trim();
  const hello = await deterministicClientHello(SEED, "example.com", ["http/1.1"], 1767225600);
  assert.equal(hex(hello), golden);
  // And again: a fresh provider starts the seeded stream over.
  assert.equal(hex(await deterministicClientHello(SEED, "example.com", ["http/1.1"], 1767225600)), golden);
  const other = await deterministicClientHello("ee".repeat(32), "example.com", ["http/1.1"], 1767225600);
  assert.notEqual(hex(other), golden);
  await rejectsWith(deterministicClientHello("12", "example.com", [], 0), "LOCAL");
});

for (const [name, version] of EXAMPLES) {
  test(`${name} replays offline in Node`, async () => {
    const text = read("transcripts", name);
    const r = await replay(text);
    assert.equal(new TextDecoder().decode(r.reply), REVERSED);
    assert.equal(r.info.version, version);
    assert.equal(r.info.verified, true);
    assert.equal(r.info.serverName, "localhost");
    assert.ok(r.clientBytes > 200 && r.serverBytes > 500, JSON.stringify(r));

    // The clock moved past the leaf's notAfter: the certificate has expired.
    const notAfter = r.info.peerCertificates[0].notAfter.getTime() / 1000;
    const expired = await rejectsWith(replay(text, { time: notAfter + 1 }), "CERT_EXPIRED");
    assert.ok(expired.report.includes("chain as sent"), expired.report);

    // Another seed: the ClientHello random differs (client chunk 1, offset 11).
    const diverged = await rejectsWith(replay(text, { seed: "55".repeat(32) }), "DIVERGED");
    assert.equal(diverged.chunk, 1);
    assert.equal(diverged.offset, 11);
    assert.match(diverged.message, /client chunk 1 \(transcript line \d+\), offset 11/);

    // A flipped byte in client chunk 2, 5 bytes into its first data line.
    const lines = text.split("\n");
    const header = lines.findIndex((l) => l.includes("# client chunk 2:"));
    assert.ok(header > 0);
    const data = lines[header + 1];
    const at = 2 + 2 * 5; // two spaces of indent, then hex
    const flippedDigit = data[at] === "0" ? "1" : "0";
    lines[header + 1] = data.slice(0, at) + flippedDigit + data.slice(at + 1);
    const flipped = await rejectsWith(replay(lines.join("\n")), "DIVERGED");
    assert.equal(flipped.chunk, 2);
    assert.equal(flipped.offset, 5);
    assert.equal(flipped.line, header + 1);
    assert.equal(flipped.expected.slice(1, 2), flippedDigit);
  });
}

test("malformed transcripts are refused with their line", async () => {
  const err = await rejectsWith(replay("tlsferry-transcript 1\nseed zz\n"), "TRANSCRIPT");
  assert.equal(err.line, 2);
  assert.match(err.message, /line 2/);
  await rejectsWith(replay("not a transcript"), "TRANSCRIPT");
  const text = read("transcripts", EXAMPLES[0][0]);
  const truncated = await rejectsWith(replay(text.slice(0, text.length - 200)), "TRANSCRIPT");
  assert.ok(truncated.line > 10);
  const edited = text.replace("\nsni on\n", "\nsni off\n");
  await rejectsWith(replay(edited), "CONFIG_MISMATCH");
});
