// tlsferry's wasm as a compiled WebAssembly.Module, imported with a source-phase import
// (the same kind of value workerd gives for a .wasm import). It needs no --allow-read.
// It sits in its own .js file because TypeScript cannot parse `import source` yet, so
// `deno check main.ts` would fail on it; Deno itself runs it.
import source wasmModule from "../../pkg/tlsferry_wasm_bg.wasm";

export default wasmModule;
