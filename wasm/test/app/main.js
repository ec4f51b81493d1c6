// A page as an application would write it: the package imported by its bare name, then
// bundled by Vite or esbuild (test/bundlers.browser.mjs). The test calls window.tlsferryTest.
import { connect, webSocketTransport, verifyChain } from "tlsferry";

// With clientCertPem the package loads its client-auth module (a wasm file of its own).
window.tlsferryTest = async ({ bridgeUrl, caPem, message, protocols, clientCertPem, clientKeyPem }) => {
  const transport = webSocketTransport(bridgeUrl, { protocols });
  const auth = clientCertPem === undefined ? {} : { clientCertPem, clientKeyPem };
  const sock = connect(transport, { serverName: "localhost", caPem, ...auth });
  try {
    const info = await sock.opened;
    const writer = sock.writable.getWriter();
    await writer.write(new TextEncoder().encode(message));
    writer.releaseLock();
    let reply = "";
    const decoder = new TextDecoder();
    for await (const chunk of sock.readable) reply += decoder.decode(chunk, { stream: true });
    await sock.closed;
    return {
      reply,
      version: info.version,
      cipherSuite: info.cipherSuite,
      protocol: transport.protocol,
      webSocketStream: typeof globalThis.WebSocketStream === "function",
    };
  } catch (e) {
    return { error: { code: e.code, message: e.message } };
  }
};
// Without caPem the package loads the Mozilla roots (tlsferry_roots.wasm, a file of its
// own that the bundle must carry too): the test's private CA is not among them.
window.tlsferryVerifyWithMozillaRoots = async (chainPem) => {
  try {
    await verifyChain(chainPem, "localhost");
    return "trusted";
  } catch (e) {
    return e.code;
  }
};
document.getElementById("status").textContent = "ready";
