// Bundles worker.js the way wrangler does, with esbuild: the "workerd" export condition
// (so `import … from "tlsferry"` gets the package's workerd entry), cloudflare:* left to the
// runtime, and each imported .wasm file kept as a module of its own next to the bundle
// (workerd and Cloudflare give it to the Worker as a compiled WebAssembly.Module).
//
//   node worker/build.mjs [OUTDIR]      (default worker/dist; config.capnp serves that)

import { copyFileSync, mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const HERE = fileURLToPath(new URL(".", import.meta.url));

/** Builds dist/worker.js and dist/*.wasm; returns the names of the wasm modules. */
export async function buildWorker(outdir = join(HERE, "dist")) {
  mkdirSync(outdir, { recursive: true });
  const wasmModules = [];
  const wasmAsModule = {
    name: "wasm-as-module",
    setup(build) {
      build.onResolve({ filter: /\.wasm$/ }, (args) => {
        const file = join(args.resolveDir, args.path);
        const name = basename(file);
        if (!wasmModules.includes(name)) {
          copyFileSync(file, join(outdir, name));
          wasmModules.push(name);
        }
        return { path: `./${name}`, external: true };
      });
    },
  };
  await esbuild.build({
    entryPoints: [join(HERE, "worker.js")],
    outfile: join(outdir, "worker.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*"],
    plugins: [wasmAsModule],
    logLevel: "warning",
  });
  return wasmModules;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const modules = await buildWorker(process.argv[2]);
  console.log(`built worker.js and ${modules.join(", ")}`);
}
