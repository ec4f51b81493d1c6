// The JS-side bench server of tests/bench: Node's own `tls` (OpenSSL) on 127.0.0.1, in its
// own process so that the clients under test have the other core. One server talks to
// every JS client: TLS 1.3 for tlsferry-wasm, Node's tls and subtls, and TLS 1.1 with
// RSA key transport for node-forge (its newest; OpenSSL 3 needs @SECLEVEL=0 for that).
//
//   node node_server.mjs --cert leaf.pem --key leaf.key     prints "PORT <n>"
//
// A client sends one line with a byte count N and gets N bytes written in 64 KiB blocks
// (respecting back-pressure), then close_notify. A client that only handshakes and
// disconnects is fine.

import fs from "node:fs";
import tls from "node:tls";

const BLOCK = 64 * 1024;

function arg(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[i + 1];
}

const block = Buffer.alloc(BLOCK);
for (let i = 0; i < BLOCK; i++) block[i] = (i * 7 + 3) % 256;

const server = tls.createServer(
  {
    cert: fs.readFileSync(arg("--cert")),
    key: fs.readFileSync(arg("--key")),
    minVersion: "TLSv1.1",
    // The client's suite preference decides (OpenSSL's default; Node's servers default to their own).
    honorCipherOrder: false,
    // TLS 1.2 and older suites (1.3 suites are all on by default); AES128-SHA is forge's.
    ciphers: "ECDHE+AESGCM:ECDHE+CHACHA20:AES128-SHA:AES256-SHA:@SECLEVEL=0",
  },
  (socket) => {
    socket.on("error", () => {});
    let request = "";
    const onData = (d) => {
      request += d.toString("latin1");
      const nl = request.indexOf("\n");
      if (nl < 0) {
        if (request.length > 64) socket.destroy();
        return;
      }
      socket.off("data", onData);
      send(socket, Number.parseInt(request.slice(0, nl), 10));
    };
    socket.on("data", onData);
  },
);
server.on("tlsClientError", () => {});

function send(socket, total) {
  let left = Number.isFinite(total) && total > 0 ? total : 0;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, BLOCK);
      left -= n;
      if (!socket.write(n === BLOCK ? block : block.subarray(0, n))) {
        socket.once("drain", pump);
        return;
      }
    }
    socket.end(); // close_notify, then FIN
  };
  pump();
}

server.listen(0, "127.0.0.1", () => {
  console.log(`PORT ${server.address().port}`);
});
