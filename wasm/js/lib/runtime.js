// What differs between runtimes, set by the entry point (js/browser.js, js/node.js, …)
// before any application code runs. Internal to js/.

export const runtime = {
  /** The name of the entry point, for messages. */
  name: "default",
  /**
   * The default source of the main wasm module for init(): undefined lets the wasm-bindgen
   * glue use its own `new URL("tlsferry_wasm_bg.wasm", import.meta.url)`, which bundlers
   * (Vite, webpack, Parcel, Rollup plugins) follow and copy.
   */
  mainWasm: async () => undefined,
  /**
   * The default source of the Mozilla roots file (pkg/tlsferry_roots.wasm) for
   * loadMozillaRoots(): undefined fetches it from its `new URL(…, import.meta.url)`.
   */
  rootsWasm: async () => undefined,
  /**
   * The default source of the client-auth module (pkg/tlsferry_client_auth_bg.wasm) for
   * loadClientAuth(): undefined lets its glue use its own `new URL(…, import.meta.url)`.
   */
  clientAuthWasm: async () => undefined,
  /** tcpTransport(host, port, options) for this runtime. */
  tcp: undefined,
};
