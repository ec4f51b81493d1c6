// The public API, shared by every entry point (js/index.js, browser.js, node.js, deno.js,
// workerd.js); each entry only sets where the wasm comes from and what tcpTransport() is.

import { runtime } from "./runtime.js";
import { tlsError, asTlsError } from "./errors.js";
import { verifyChainIn } from "./wasm.js";

export { TlsError } from "./errors.js";
export { TlsClient, init, initSync, loadMozillaRoots, loadClientAuth } from "./wasm.js";
export { connect, startTls, TlsSocket } from "./socket.js";
export { plaintext, PlaintextSocket } from "./plaintext.js";
export { webSocketTransport, nodeDuplexTransport as fromNodeStream } from "./transports.js";

/**
 * A plain TCP connection as a transport (Node.js, Deno, Cloudflare Workers); browsers have
 * none: use webSocketTransport() through a bridge. Returns at once; `opened` resolves
 * once connected, and a failure to connect ends the TLS socket with TRANSPORT.
 */
export function tcpTransport(host, port, options = {}) {
  if (typeof host !== "string" || host === "") throw tlsError("CONFIG", "tcpTransport(): host must be a non-empty string");
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw tlsError("CONFIG", "tcpTransport(): port must be an integer from 1 to 65535");
  if (options === null || typeof options !== "object") throw tlsError("CONFIG", "tcpTransport(): options must be an object");
  for (const key of Object.keys(options)) {
    if (key !== "highWaterMark") throw tlsError("CONFIG", `tcpTransport(): unknown option "${key}"; the options are highWaterMark`);
  }
  if (runtime.tcp === undefined) {
    throw tlsError(
      "CONFIG",
      `tcpTransport(): this runtime (${runtime.name}) has no TCP sockets: use webSocketTransport(url) through a bridge`,
    );
  }
  return runtime.tcp(host, port, options);
}

/**
 * Verifies a PEM chain (leaf first, as a server sends it) for `serverName` offline,
 * exactly as a handshake with the same trust options would: resolves to
 * { ok: true, chain }, or rejects with the TlsError the handshake would give
 * (CERT_EXPIRED, CERT_HOSTNAME_MISMATCH, … with report, presentedNames, notAfter), or
 * CONFIG. options: caPem, extraCaPem, time (a Date or Unix seconds).
 */
export async function verifyChain(chainPem, serverName, options) {
  if (typeof chainPem !== "string") throw tlsError("CONFIG", "verifyChain(): chainPem must be a string (PEM)");
  if (typeof serverName !== "string") throw tlsError("CONFIG", "verifyChain(): serverName must be a string");
  try {
    return await verifyChainIn(chainPem, serverName, options);
  } catch (e) {
    throw asTlsError(e);
  }
}
