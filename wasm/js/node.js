/* @ts-self-types="./index.d.ts" */
// tlsferry for Node.js (the "node" export condition): the wasm module is read from the
// package with node:fs (Node's fetch() cannot read file: URLs), and tcpTransport() is a
// net.Socket with back-pressure.
import { readFile } from "node:fs/promises";
import net from "node:net";

import { runtime } from "./lib/runtime.js";
import { nodeTcpTransport } from "./lib/transports.js";

runtime.name = "Node.js";
runtime.mainWasm = () => readFile(new URL("../pkg/tlsferry_wasm_bg.wasm", import.meta.url));
runtime.rootsWasm = () => readFile(new URL("../pkg/tlsferry_roots.wasm", import.meta.url));
runtime.clientAuthWasm = () => readFile(new URL("../pkg/tlsferry_client_auth_bg.wasm", import.meta.url));
runtime.tcp = (host, port, options) => nodeTcpTransport(net, host, port, options);

export * from "./lib/api.js";
