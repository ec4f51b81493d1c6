/* @ts-self-types="./replay.d.ts" */
// tlsferry/replay (browsers, Deno, and the default): offline replay of recorded sessions
// and the deterministic ClientHello, for tests (see README.md, "Deterministic sessions").
//
//   import { replay } from "tlsferry/replay";
//   const { reply, info } = await replay(transcriptText);
//
// Its wasm module is found by the glue's `new URL("tlsferry_replay_bg.wasm",
// import.meta.url)`, in Node through process.getBuiltinModule("node:fs").
import { replayRuntime } from "./lib/replay.js";

const node =
  globalThis.Deno === undefined && typeof globalThis.process?.getBuiltinModule === "function"
    ? (id) => globalThis.process.getBuiltinModule(id)
    : undefined;
if (node !== undefined) {
  const url = new URL("../pkg/tlsferry_replay_bg.wasm", import.meta.url);
  if (url.protocol === "file:") replayRuntime.wasm = async () => node("node:fs").readFileSync(url);
}

export { replay, deterministicClientHello, initReplay, initReplaySync, TlsError } from "./lib/replay.js";
