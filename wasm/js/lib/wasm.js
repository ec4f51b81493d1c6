// Loading the main wasm module (internal to js/; init and initSync are public).

import initWasm, { initSync as initWasmSync, TlsClient, verifyChain as verifyChainNow } from "../../pkg/tlsferry_wasm.js";
import { runtime } from "./runtime.js";
import { tlsError } from "./errors.js";

export { TlsClient, verifyChainNow };

let ready;

/**
 * Loads the WebAssembly module. Optional: connect() calls it with the default location of
 * the entry point in use. `source` may be a URL, a Response, bytes, or a compiled
 * WebAssembly.Module.
 */
export function init(source) {
  if (ready === undefined || source !== undefined) {
    ready = (async () => {
      const where = source ?? (await runtime.mainWasm());
      try {
        await initWasm({ module_or_path: where });
      } catch (e) {
        const from = where === undefined ? "tlsferry_wasm_bg.wasm next to the package's JavaScript" : String(where);
        throw tlsError(
          "LOCAL",
          `cannot load the WebAssembly module (${from}): ${e?.message ?? e}. ` +
            "If a bundler moved the JavaScript, copy pkg/tlsferry_wasm_bg.wasm next to the bundle " +
            "or call init(url | bytes | WebAssembly.Module) first.",
          e,
        );
      }
    })();
    ready.catch(() => {
      ready = undefined;
    });
  }
  return ready;
}

/** Synchronous init from bytes or a compiled WebAssembly.Module. */
export function initSync(source) {
  initWasmSync({ module: source });
  ready = Promise.resolve();
}
