// The shortest tlsferry client in Deno: connect() without init(), so the package loads its
// own wasm (which then needs read access to tlsferry_wasm_bg.wasm; main.ts avoids that by
// importing the module with `import source`). The tests run it to check that loader.
//
//   deno run --allow-net=127.0.0.1:PORT --allow-read=wasm/pkg/tlsferry_wasm_bg.wasm,CA,CERT,KEY \
//     wasm/examples/deno/minimal.mjs PORT CA CERT KEY
//
// It connects to 127.0.0.1:PORT as "localhost", trusting CA and presenting CERT/KEY, sends
// "Hello, World!\nCLOSE\n" (openssl s_server -rev answers the line reversed, then closes)
// and prints { reply } as JSON.

import { connect } from "../../js/index.js";

const [port, ca, cert, key] = Deno.args;
const tcp = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
const tls = connect(tcp, {
  serverName: "localhost",
  caPem: await Deno.readTextFile(ca),
  clientCertPem: await Deno.readTextFile(cert),
  clientKeyPem: await Deno.readTextFile(key),
});
await tls.opened;
const writer = tls.writable.getWriter();
await writer.write(new TextEncoder().encode("Hello, World!\nCLOSE\n"));
writer.releaseLock();
let reply = "";
const decoder = new TextDecoder();
for await (const chunk of tls.readable) reply += decoder.decode(chunk, { stream: true });
await tls.close();
console.log(JSON.stringify({ reply }));
