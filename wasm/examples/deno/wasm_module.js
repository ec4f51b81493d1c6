// tlsferry's wasm as compiled WebAssembly.Modules, imported with source-phase imports
// (the same kind of value workerd gives for a .wasm import): the main module, and the
// client-auth one for connections that present a client certificate. They need no
// --allow-read.
// It sits in its own .js file because TypeScript cannot parse `import source` yet, so
// `deno check main.ts` would fail on it; Deno itself runs it.
import source wasmModule from "../../pkg/tlsferry_wasm_bg.wasm";
import source clientAuthModule from "../../pkg/tlsferry_client_auth_bg.wasm";

export default wasmModule;
export { clientAuthModule };
