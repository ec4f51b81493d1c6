/* @ts-self-types="./index.d.ts" */
// tlsferry for browsers (the "browser" export condition): the wasm module is found by the
// wasm-bindgen glue's own `new URL("tlsferry_wasm_bg.wasm", import.meta.url)`, which Vite,
// webpack, Parcel and Rollup follow and copy. No node: imports, no TCP (use a bridge).
import { runtime } from "./lib/runtime.js";

runtime.name = "browser";

export * from "./lib/api.js";
