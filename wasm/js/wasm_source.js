// Where a wasm module of this package is loaded from by default (internal to js/).

/**
 * The default source of the package file `relative` (a path from js/): its URL, or its
 * bytes in Node, whose fetch() cannot read file: URLs. Browsers and Deno fetch the URL.
 */
export async function packageWasm(relative) {
  const url = new URL(relative, import.meta.url);
  if (url.protocol === "file:" && typeof process === "object" && process?.versions?.node) {
    const { readFile } = await import("node:fs/promises");
    return readFile(url);
  }
  return url;
}
