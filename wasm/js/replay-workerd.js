/* @ts-self-types="./replay.d.ts" */
// tlsferry/replay for Cloudflare Workers and workerd: the replay module is imported as a
// compiled WebAssembly.Module and instantiated when this module loads.
import replayModule from "../pkg/tlsferry_replay_bg.wasm";

import { initReplaySync } from "./lib/replay.js";

initReplaySync(replayModule);

export { replay, deterministicClientHello, initReplay, initReplaySync, TlsError } from "./lib/replay.js";
