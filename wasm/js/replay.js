// Offline replay of sessions recorded with `tlsferry connect --record FILE`, and the
// deterministic ClientHello: TLS handshakes as unit tests, no socket (testing only: the
// recorded client's keys derive from a seed stored in the transcript).
//
//   const { reply, info } = await replay(await readFile("session.transcript", "utf8"));
//
// The kit is its own wasm module (pkg/replay/, the `replay` cargo feature), loaded on the
// first call, so connections never download it. Pass initReplay() a URL, bytes or a
// compiled WebAssembly.Module where the default location does not work (workerd: import
// "tlsferry/replay/tlsferry_wasm_bg.wasm").

import { TlsError } from "./index.js";
import { packageWasm } from "./wasm_source.js";

let loaded;

/** Loads the replay module; optional, replay() and deterministicClientHello() call it. */
export async function initReplay(source) {
  await loadReplay(source);
}

function loadReplay(source) {
  if (loaded === undefined || source !== undefined) {
    loaded = (async () => {
      const glue = await import("../pkg/replay/tlsferry_wasm.js");
      await glue.default({ module_or_path: source ?? (await packageWasm("../pkg/replay/tlsferry_wasm_bg.wasm")) });
      return glue;
    })();
    loaded.catch(() => {
      loaded = undefined;
    });
  }
  return loaded;
}


function fromWasm(e) {
  if (e instanceof TlsError) return e;
  if (e instanceof Error && e.name === "TlsError" && typeof e.code === "string") {
    const t = new TlsError(e.code, e.message);
    for (const key of Object.keys(e)) if (key !== "message") t[key] = e[key];
    return t;
  }
  return new TlsError("LOCAL", `unexpected failure: ${e?.message ?? e}`, { cause: e });
}

async function exported(name) {
  let glue;
  try {
    glue = await loadReplay();
  } catch (e) {
    throw new TlsError("LOCAL", `cannot load the replay module (pkg/replay/): ${e?.message ?? e}`, {
      cause: e,
    });
  }
  const f = glue[name];
  if (typeof f !== "function") {
    throw new TlsError("LOCAL", `this build of tlsferry has no ${name} (cargo feature "replay" is off)`);
  }
  return f;
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
  const replayTranscript = await exported("replayTranscript");
  try {
    return replayTranscript(String(transcript), options.time, options.seed);
  } catch (e) {
    throw fromWasm(e);
  }
}

/**
 * The ClientHello record (Uint8Array) of a deterministic client: same seed, name, ALPN
 * and build → the same bytes, on native and in WebAssembly alike.
 */
export async function deterministicClientHello(seedHex, serverName, alpn = [], time = 0) {
  const hello = await exported("deterministicClientHello");
  try {
    return hello(seedHex, serverName, alpn, time);
  } catch (e) {
    throw fromWasm(e);
  }
}
