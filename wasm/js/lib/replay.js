// The replay kit (internal to js/; public through the "tlsferry/replay" entry points):
// offline replay of sessions recorded with `tlsferry connect --record FILE`, and the
// deterministic ClientHello. Its own wasm module (pkg/tlsferry_replay_bg.wasm, the
// `replay` cargo feature), loaded on first use, so that applications that never replay
// never load or bundle it.

import initReplayWasm, * as glue from "../../pkg/tlsferry_replay.js";
import { TlsError, asTlsError } from "./errors.js";

/** Where the replay module comes from by default; set by the entry point. */
export const replayRuntime = {
  /** undefined: the glue's own `new URL("tlsferry_replay_bg.wasm", import.meta.url)`. */
  wasm: async () => undefined,
};

let loaded;

/** Loads the replay module; optional, replay() and deterministicClientHello() call it. */
export function initReplay(source) {
  if (loaded === undefined || source !== undefined) {
    loaded = (async () => {
      const where = source ?? (await replayRuntime.wasm());
      try {
        await initReplayWasm({ module_or_path: where });
      } catch (e) {
        throw new TlsError(
          "LOCAL",
          `cannot load the replay module (${where ?? "tlsferry_replay_bg.wasm next to the package's JavaScript"}): ${e?.message ?? e}`,
          { cause: e },
        );
      }
    })();
    loaded.catch(() => {
      loaded = undefined;
    });
  }
  return loaded;
}

/** Synchronous init of the replay module from bytes or a compiled WebAssembly.Module. */
export function initReplaySync(source) {
  glue.initSync({ module: source });
  loaded = Promise.resolve();
}

/**
 * Replays transcript text offline: a fresh deterministic client is fed the recorded
 * server bytes, its own bytes must match the recording, and the reply is decrypted.
 * options: { time: Unix seconds instead of the recorded clock, seed: 64 hex digits }.
 * Resolves to { reply: Uint8Array, info, clientBytes, serverBytes, peerClosed, closed };
 * rejects with a TlsError: DIVERGED (chunk, offset, line, expected, actual), TRANSCRIPT
 * (line, column), CONFIG_MISMATCH, or the client's own code (CERT_EXPIRED, PROTOCOL, …).
 */
export async function replay(transcript, options = {}) {
  await initReplay();
  try {
    return glue.replayTranscript(String(transcript), options.time, options.seed);
  } catch (e) {
    throw asTlsError(e);
  }
}

/**
 * The ClientHello record (Uint8Array) of a deterministic client: same seed, name, ALPN
 * and build → the same bytes, on native and in WebAssembly alike.
 */
export async function deterministicClientHello(seedHex, serverName, alpn = [], time = 0) {
  await initReplay();
  try {
    return glue.deterministicClientHello(seedHex, serverName, alpn, time);
  } catch (e) {
    throw asTlsError(e);
  }
}

export { TlsError };
