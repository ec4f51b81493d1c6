// A WebSocket↔TCP bridge in Node (the `ws` package) that follows README.md, "The bridge
// protocol": subprotocols tlsferry.v1 (receive credit, half-close) and binary (websockify's).
// The tests use it where `tlsferry bridge` does not speak tlsferry.v1 yet, and to play a
// misbehaving bridge. Loopback only; targets must be allowed.
//
//   node test/mock-bridge.mjs --allow 127.0.0.1:4433 [--allow …] [--protocols tlsferry.v1,binary]
//                             [--ignore-credit]
// prints "listening on ws://127.0.0.1:PORT/" on stdout; one line per tunnel on stderr.

import http from "node:http";
import net from "node:net";
import { WebSocketServer } from "ws";

const MAX_OUTSTANDING = 64 * 1024 * 1024;

export function startMockBridge({ allow, protocols = ["tlsferry.v1", "binary"], ignoreCredit = false, log = () => {} }) {
  const server = http.createServer((req, res) => {
    res.writeHead(426, { "content-type": "text/plain" });
    res.end("WebSocket only\n");
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 1024 * 1024,
    // tlsferry.v1 whenever it is offered (the server's preference, not the offer's order).
    handleProtocols: (offered) => {
      for (const p of protocols) if (offered.has(p)) return p;
      return false;
    },
  });
  server.on("upgrade", (req, socket, head) => {
    const target = new URL(req.url, "http://x").searchParams.get("target") ?? (allow.length === 1 ? allow[0] : null);
    if (target === null || !allow.includes(target)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => tunnel(ws, target, ignoreCredit, log));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({
        url: `ws://127.0.0.1:${port}/`,
        close: () =>
          new Promise((r) => {
            for (const c of wss.clients) c.terminate();
            server.close(r);
          }),
      });
    });
  });
}

function tunnel(ws, target, ignoreCredit, log) {
  const v1 = ws.protocol === "tlsferry.v1";
  const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
  const tcp = net.connect({ host, port, allowHalfOpen: true });
  let credit = 0;
  let pending = null; // target bytes read beyond the credit (at most one read)
  let readEnded = false; // target FIN seen and "eof" sent
  let targetEof = false;
  let writeEnded = false; // client "eof" seen
  let sent = 0;
  let closed = false;
  log(`tunnel to ${target} (${ws.protocol || "no subprotocol"})`);

  const close = (code, why) => {
    if (closed) return;
    closed = true;
    log(`tunnel to ${target} closed ${code} ${why} (sent ${sent} bytes)`);
    if (ws.readyState === ws.OPEN) ws.close(code, why);
    tcp.destroy();
  };
  const maybeDone = () => {
    if (readEnded && writeEnded) close(1000, "");
  };
  const pump = () => {
    if (closed) return;
    while (pending !== null && (credit > 0 || !v1 || ignoreCredit)) {
      const n = v1 && !ignoreCredit ? Math.min(credit, pending.length) : pending.length;
      ws.send(pending.subarray(0, n), { binary: true });
      sent += n;
      credit -= n;
      pending = n === pending.length ? null : pending.subarray(n);
    }
    if (pending === null && targetEof && !readEnded) {
      readEnded = true;
      if (v1) {
        ws.send("eof");
        maybeDone();
      } else {
        close(1000, "");
      }
      return;
    }
    if (pending === null && !targetEof && (credit > 0 || !v1 || ignoreCredit)) tcp.resume();
    else tcp.pause();
  };

  tcp.pause();
  tcp.on("connect", () => pump());
  tcp.on("data", (chunk) => {
    pending = pending === null ? chunk : Buffer.concat([pending, chunk]);
    tcp.pause();
    pump();
  });
  tcp.on("end", () => {
    targetEof = true;
    pump();
  });
  tcp.on("error", (e) => close(1011, `target: ${e.code ?? e.message}`));
  tcp.on("close", () => {
    if (!targetEof) close(1011, "target closed");
  });

  ws.on("message", (data, isBinary) => {
    if (closed) return;
    if (isBinary) {
      if (writeEnded) return close(1002, "data after eof");
      tcp.write(data);
      return;
    }
    const text = data.toString();
    if (!v1) return close(1003, "binary frames only");
    const m = /^credit ([1-9][0-9]{0,9})$/.exec(text);
    if (m && Number(m[1]) <= 2 ** 31) {
      credit += Number(m[1]);
      if (credit > MAX_OUTSTANDING) return close(1002, "outstanding credit over 64 MiB");
      pump();
    } else if (text === "eof") {
      if (writeEnded) return close(1002, "eof twice");
      writeEnded = true;
      tcp.end();
      maybeDone();
    } else {
      close(1002, "unknown control message");
    }
  });
  ws.on("close", () => close(1000, "client closed"));
  ws.on("error", () => close(1011, "websocket error"));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const allow = [];
  let protocols;
  let ignoreCredit = false;
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--allow") allow.push(args[++i]);
    else if (args[i] === "--protocols") protocols = args[++i].split(",");
    else if (args[i] === "--ignore-credit") ignoreCredit = true;
    else throw new Error(`unknown argument ${args[i]}`);
  }
  const bridge = await startMockBridge({ allow, protocols, ignoreCredit, log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`listening on ${bridge.url}\n`);
}
