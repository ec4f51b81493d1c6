/* @ts-self-types="./index.d.ts" */
// tlsferry: TLS in WebAssembly over any byte stream (the "default" export condition, also
// what `import "tlsferry/js/index.js"` gets). Bundlers and runtimes pick a more specific
// entry (browser.js, node.js, deno.js, workerd.js); this one works in all of them without
// importing any node: module: Node's file reading and TCP come from
// process.getBuiltinModule() (Node 20.16+), Deno's from Deno.connect.
//
//   const sock = connect(transport, { serverName, caPem, alpn, ... });
//   const info = await sock.opened;          // version, cipherSuite, alpn, peerCertificates
//   sock.writable / sock.readable            // plaintext, Web Streams of Uint8Array
//   await sock.closed;                       // rejects on truncation or any error
import { runtime } from "./lib/runtime.js";
import { denoTcpTransport, nodeTcpTransport } from "./lib/transports.js";

const deno = globalThis.Deno;
const node =
  deno === undefined && typeof globalThis.process?.getBuiltinModule === "function"
    ? (id) => globalThis.process.getBuiltinModule(id)
    : undefined;

if (typeof deno?.connect === "function") {
  runtime.name = "Deno";
  runtime.tcp = (host, port) => denoTcpTransport(deno, host, port);
} else if (node !== undefined) {
  runtime.name = "Node.js";
  const url = new URL("../pkg/tlsferry_wasm_bg.wasm", import.meta.url);
  if (url.protocol === "file:") {
    runtime.mainWasm = async () => node("node:fs").readFileSync(url);
    runtime.rootsWasm = async () => node("node:fs").readFileSync(new URL("../pkg/tlsferry_roots.wasm", import.meta.url));
    runtime.clientAuthWasm = async () =>
      node("node:fs").readFileSync(new URL("../pkg/tlsferry_client_auth_bg.wasm", import.meta.url));
  }
  runtime.tcp = (host, port, options) => nodeTcpTransport(node("node:net"), host, port, options);
}

export * from "./lib/api.js";
