// The shortest tlsferry client in Deno: the package imported by its name (Deno resolves it
// in node_modules and picks its "deno" entry), tcpTransport() for Deno.connect, and no
// init(), so the package loads its own wasm (which then needs read access to it: with a
// client certificate that is tlsferry_client_auth_bg.wasm, the main module plus client
// certificates; main.ts avoids that by importing the modules with `import source`).
// The tests run it to check that entry and its loader.
//
//   deno run --allow-net=127.0.0.1:PORT --allow-read=wasm/pkg/tlsferry_client_auth_bg.wasm,CA,CERT,KEY \
//     wasm/examples/deno/minimal.mjs PORT CA CERT KEY
//
// CA "-" trusts the Mozilla roots instead: the package then also reads its
// tlsferry_roots.wasm, which needs read access to that file too.
//
// It connects to 127.0.0.1:PORT as "localhost", trusting CA and presenting CERT/KEY, sends
// "Hello, World!\nCLOSE\n" (openssl s_server -rev answers the line reversed, then closes)
// and prints { reply } as JSON.

import { connect, tcpTransport } from "tlsferry";

const [port, ca, cert, key] = Deno.args;
const tls = connect(tcpTransport("127.0.0.1", Number(port)), {
  serverName: "localhost",
  caPem: ca === "-" ? undefined : await Deno.readTextFile(ca),
  clientCertPem: await Deno.readTextFile(cert),
  clientKeyPem: await Deno.readTextFile(key),
});
try {
  await tls.opened;
} catch (e) {
  console.log(JSON.stringify({ error: { code: e.code, message: e.message } }));
  Deno.exit(1);
}
const writer = tls.writable.getWriter();
await writer.write(new TextEncoder().encode("Hello, World!\nCLOSE\n"));
writer.releaseLock();
let reply = "";
const decoder = new TextDecoder();
for await (const chunk of tls.readable) reply += decoder.decode(chunk, { stream: true });
await tls.close();
console.log(JSON.stringify({ reply }));
