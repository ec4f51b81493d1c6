// Offline replay of sessions recorded with `tlsferry connect --record FILE`, and the
// deterministic ClientHello: TLS handshakes as unit tests, no socket (testing only: the
// recorded client's keys derive from a seed stored in the transcript).
//
//   const { reply, info } = await replay(await readFile("session.transcript", "utf8"));
//
// Needs the wasm built with the `replay` cargo feature (the default).

import * as wasm from "../pkg/tlsferry_wasm.js";
import { init, TlsError } from "./index.js";

function fromWasm(e) {
  if (e instanceof TlsError) return e;
  if (e instanceof Error && e.name === "TlsError" && typeof e.code === "string") {
    const t = new TlsError(e.code, e.message);
    for (const key of Object.keys(e)) if (key !== "message") t[key] = e[key];
    return t;
  }
  return new TlsError("LOCAL", `unexpected failure: ${e?.message ?? e}`, { cause: e });
}

function exported(name) {
  const f = wasm[name];
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
  await init();
  try {
    return exported("replayTranscript")(String(transcript), options.time, options.seed);
  } catch (e) {
    throw fromWasm(e);
  }
}

/**
 * The ClientHello record (Uint8Array) of a deterministic client: same seed, name, ALPN
 * and build → the same bytes, on native and in WebAssembly alike.
 */
export async function deterministicClientHello(seedHex, serverName, alpn = [], time = 0) {
  await init();
  try {
    return exported("deterministicClientHello")(seedHex, serverName, alpn, time);
  } catch (e) {
    throw fromWasm(e);
  }
}
