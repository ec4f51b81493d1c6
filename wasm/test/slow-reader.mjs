// The application of the slow-reader test (test/memory.test.mjs), in a process of its own
// so that its memory is only its own: it connects, reads one chunk a second for SECONDS,
// samples its memory every 100 ms, and prints one JSON line with what it measured.
//
//   node slow-reader.mjs (bridge WS_URL | tcp PORT) CA_FILE SECONDS WINDOW [PROTOCOLS]

import { readFileSync } from "node:fs";
import { connect, tcpTransport, webSocketTransport } from "tlsferry";
import initGlue from "../pkg/tlsferry_wasm.js";

const [kind, where, caFile, seconds, window, protocols] = process.argv.slice(2);
const transport =
  kind === "bridge"
    ? webSocketTransport(where, { highWaterMark: Number(window), protocols: protocols ? protocols.split(",") : undefined })
    : tcpTransport("127.0.0.1", Number(where), { highWaterMark: Number(window) });
const sock = connect(transport, {
  serverName: "localhost",
  caPem: readFileSync(caFile, "utf8"),
  highWaterMark: 64 * 1024,
});
await sock.opened;
const wasm = await initGlue();
const reader = sock.readable.getReader();

let offset = 0;
let dataOk = true;
const readOne = async () => {
  const { value } = await reader.read();
  for (let i = 0; i < value.length; i++) if (value[i] !== ((offset + i) & 0xff)) dataOk = false;
  offset += value.length;
};

await readOne();
const sample = () => {
  const m = process.memoryUsage();
  return { rss: m.rss, arrayBuffers: m.arrayBuffers, external: m.external, heapUsed: m.heapUsed, wasm: wasm.memory.buffer.byteLength };
};
const baseline = sample();
const peak = { ...baseline };
const sampler = setInterval(() => {
  const s = sample();
  for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], s[k]);
}, 100);
let chunks = 1;
const end = performance.now() + Number(seconds) * 1000;
while (performance.now() < end) {
  await new Promise((r) => setTimeout(r, 1000));
  await readOne();
  chunks++;
}
clearInterval(sampler);
const last = sample();
for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], last[k]);
process.stdout.write(`${JSON.stringify({ baseline, peak, chunks, bytesRead: offset, dataOk, protocol: transport.protocol ?? null })}\n`);
await sock.close().catch(() => {});
process.exit(0);
