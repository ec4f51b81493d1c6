// Copied into pkg/ by wasm/build.sh (and tests/bench), next to tlsferry_roots.wasm: the
// URL of the Mozilla roots file, written as a literal `new URL("…", import.meta.url)` in a
// module that sits beside it, exactly as wasm-bindgen's glue finds tlsferry_wasm_bg.wasm.
// So bundlers treat both files alike: Vite copies the file into the build, and with
// esbuild, which leaves the URL as it is, the file goes next to the bundle.

/** Where the Mozilla roots file is, unless the application says otherwise. */
export function mozillaRootsUrl() {
  return new URL("tlsferry_roots.wasm", import.meta.url);
}
