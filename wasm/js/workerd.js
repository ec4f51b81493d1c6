/* @ts-self-types="./index.d.ts" */
// tlsferry for Cloudflare Workers and workerd (the "workerd" export condition). Workers
// may not compile wasm from bytes at run time: the module is imported as a compiled
// WebAssembly.Module (wrangler's default rule for .wasm; in workerd's config a `wasm`
// module) and instantiated here. tcpTransport() is connect() from cloudflare:sockets.
import { connect as connectTcp } from "cloudflare:sockets";
import wasmModule from "../pkg/tlsferry_wasm_bg.wasm";

import { runtime } from "./lib/runtime.js";
import { initSync } from "./lib/wasm.js";

runtime.name = "workerd";
runtime.tcp = (host, port) => connectTcp({ hostname: host, port }, { allowHalfOpen: true });
// The Mozilla roots: a module of their own, imported (and so bundled) only when a
// connection without caPem needs them.
runtime.rootsWasm = async () => (await import("../pkg/tlsferry_roots.wasm")).default;
// The client-auth module likewise, for connections that present a client certificate.
runtime.clientAuthWasm = async () => (await import("../pkg/tlsferry_client_auth_bg.wasm")).default;
initSync(wasmModule);

export * from "./lib/api.js";
