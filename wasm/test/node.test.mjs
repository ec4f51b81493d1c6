// Node.js first-class: connect() over a net.Socket or any Duplex, tcpTransport(),
// Duplex.toWeb() output, and the `ws` package's WebSocket for webSocketTransport().

import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { Duplex } from "node:stream";
import WebSocket from "ws";

import { connect, tcpTransport, webSocketTransport } from "tlsferry";
import { makePki, sServer, v1Bridge, readBytes, pattern, rejectsWith } from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());

const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);
const opts = { serverName: "localhost", caPem: pki.caPem };

/** Sends `up`, the server answers `down`; both checked byte for byte. */
async function roundTrip(sock, server, up, down) {
  await sock.opened;
  const w = sock.writable.getWriter();
  await w.write(up);
  assert.ok((await server.waitReceived(up.length)).equals(up));
  server.send(down);
  assert.ok((await readBytes(sock.readable.getReader(), down.length)).equals(down));
  w.releaseLock();
  await sock.close();
}

test("connect() accepts a net.Socket", async (t) => {
  const server = await sServer(t, pki);
  const socket = net.connect(server.port, "127.0.0.1");
  t.after(() => socket.destroy());
  await roundTrip(connect(socket, opts), server, pattern(300_000, 1), pattern(700_000, 2));
  assert.ok(socket.destroyed || socket.writableEnded, "the socket was closed with the TLS socket");
});

test("connect() accepts any Node Duplex (here a pair of PassThrough-like Duplexes around a socket)", async (t) => {
  const server = await sServer(t, pki);
  const socket = net.connect(server.port, "127.0.0.1");
  t.after(() => socket.destroy());
  // A Duplex of our own that forwards to the socket, as a proxy or a test double would.
  const duplex = new Duplex({
    write(chunk, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end(cb);
    },
    read() {
      socket.resume();
    },
  });
  socket.on("data", (d) => {
    if (!duplex.push(d)) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  // A forwarding Duplex passes its socket's errors on (s_server may reset the TCP
  // connection as it closes; an unhandled socket error would crash the process).
  socket.on("error", (e) => duplex.destroy(e));
  await roundTrip(connect(duplex, opts), server, enc("through a Duplex"), enc("and back"));
});

test("tcpTransport(host, port): TLS over Node's TCP with back-pressure; a refused port is TRANSPORT", async (t) => {
  const server = await sServer(t, pki);
  const tcp = tcpTransport("127.0.0.1", server.port);
  await tcp.opened;
  await roundTrip(connect(tcp, opts), server, pattern(1 << 20, 3), pattern(1 << 20, 4));

  const refused = connect(tcpTransport("127.0.0.1", 1), opts);
  const err = await rejectsWith(refused.opened, "TRANSPORT");
  assert.match(err.message, /ECONNREFUSED/);
});

test("Duplex.toWeb(socket) is a transport", async (t) => {
  const server = await sServer(t, pki);
  const socket = net.connect(server.port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  t.after(() => socket.destroy());
  await roundTrip(connect(Duplex.toWeb(socket), opts), server, enc("toWeb"), enc("ok"));
});

test("webSocketTransport(url, { WebSocket }) with the ws package", async (t) => {
  const server = await sServer(t, pki);
  const b = await v1Bridge(t, [server.target]);
  const tr = webSocketTransport(b.url, { WebSocket, protocols: b.protocols });
  const sock = connect(tr, opts);
  await roundTrip(sock, server, pattern(200_000, 5), pattern(2_000_000, 6));
  assert.equal(tr.protocol, "tlsferry.v1");
  t.diagnostic(`bridge: ${b.kind}`);
});
