/* @ts-self-types="./index.d.ts" */
// tlsferry for Deno (the "deno" export condition): Deno's fetch() reads the package's wasm
// from its file: URL (read permission for that file), or pass init() a module imported
// with `import source`; tcpTransport() is Deno.connect().
import { runtime } from "./lib/runtime.js";
import { denoTcpTransport } from "./lib/transports.js";

runtime.name = "Deno";
runtime.tcp = (host, port) => denoTcpTransport(Deno, host, port);

export * from "./lib/api.js";
