// Types of "tlsferry/replay": offline replay of recorded sessions (testing only).

import type { ConnectionInfo } from "../pkg/tlsferry_wasm.js";
import type { WasmSource } from "./index.js";

export { TlsError } from "./index.js";

/** The result of `replay()`. */
export interface ReplayResult {
  reply: Uint8Array;
  info: ConnectionInfo | null;
  clientBytes: number;
  serverBytes: number;
  peerClosed: boolean;
  closed: boolean;
}

/** Replays a transcript recorded with `tlsferry connect --record` (no network). */
export function replay(transcript: string, options?: { time?: number; seed?: string }): Promise<ReplayResult>;

/** Loads the replay module (pkg/tlsferry_replay_bg.wasm); optional, replay() does it on first use. */
export function initReplay(source?: WasmSource): Promise<void>;

/** Synchronous init of the replay module from bytes or a compiled WebAssembly.Module. */
export function initReplaySync(source: BufferSource | WebAssembly.Module): void;

/** The ClientHello record of a deterministic client: same seed, name and ALPN, same bytes. */
export function deterministicClientHello(seedHex: string, serverName: string, alpn?: string[], time?: number): Promise<Uint8Array>;
