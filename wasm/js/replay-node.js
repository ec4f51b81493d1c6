/* @ts-self-types="./replay.d.ts" */
// tlsferry/replay for Node.js: the replay module is read from the package with node:fs.
import { readFile } from "node:fs/promises";

import { replayRuntime } from "./lib/replay.js";

replayRuntime.wasm = () => readFile(new URL("../pkg/tlsferry_replay_bg.wasm", import.meta.url));

export { replay, deterministicClientHello, initReplay, initReplaySync, TlsError } from "./lib/replay.js";
