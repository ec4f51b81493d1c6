// `npm pack` / `npm publish` run this first (package.json "prepack"): the package's
// README.md is the JavaScript part of the repository's README.md (its sections
// "JavaScript / WebAssembly", with "The bridge protocol", and "Edge runtimes"), and the
// licence files are the repository's. Both are generated, not kept in wasm/ (.gitignore).

import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const wasm = fileURLToPath(new URL("..", import.meta.url));
const root = fileURLToPath(new URL("../..", import.meta.url));

for (const f of ["LICENSE-MIT", "LICENSE-APACHE"]) {
  if (!existsSync(root + f)) throw new Error(`prepack: ${root}${f} is missing`);
  copyFileSync(root + f, wasm + f);
}

const readme = readFileSync(root + "README.md", "utf8");
/** The H2 section `title` of the README, up to the next H2. */
function section(title) {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`prepack: README.md has no "## ${title}" section`);
  const next = readme.indexOf("\n## ", start + 1);
  return readme
    .slice(start + 1, next < 0 ? undefined : next)
    .split("\n")
    .filter((line) => !line.startsWith("![")) // images do not travel with the package
    .join("\n")
    .trim();
}
const text = `# tlsferry

TLS in WebAssembly over any byte stream: a WebSocket bridge from a browser, a TCP socket in
Node.js, Deno or Cloudflare Workers, or your own transport. The TLS client is rustls (pure
Rust, the RustCrypto provider) with certificate errors that explain themselves. This is
the JavaScript part of the repository's README, which also covers the CLI, the Rust
crates, and running the bridge for others.

${section("JavaScript / WebAssembly")}

${section("Edge runtimes")}

## Licence

MIT OR Apache-2.0 (LICENSE-MIT, LICENSE-APACHE).
`;
writeFileSync(wasm + "README.md", text);
