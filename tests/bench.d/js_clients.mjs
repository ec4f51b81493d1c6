// JS TLS clients side by side, driven by tests/bench: the tlsferry wasm package (connect()
// over a Node net socket turned into Web Streams, and over `tlsferry bridge` with
// webSocketTransport()), Node's own `tls` (OpenSSL), subtls (TLS 1.3 over SubtleCrypto)
// and node-forge (TLS 1.1, pure JS), all against the same node_server.mjs in another
// process. Clients are interleaved within each round; one JSON line per measurement.
//
//   node --experimental-websocket js_clients.mjs --pkg DIR/js/index.js --port P --ca ca.pem
//        [--ec-port P --ec-ca ca.pem] [--bridge ws://…] [--rounds 3] [--hs 50]
//        [--bytes 67108864] [--slow-bytes 8388608]
//        [--clients wasm,wasm-aes128,wasm-aes256,wasm-ec,node,subtls,forge,wasm-bridge,subtls-bridge]
//
// wasm-ec handshakes with a second server whose leaf and root are ECDSA P-256 (--ec-port);
// its bulk transfer is the default-suite one of `wasm`, from that server.
//
// Each line: {"client", "kind": "hs"|"bulk", "round", "n"|"bytes", "wall", "cpu",
// "version", "suite"}; wall and cpu in seconds (cpu: this process, all threads).

import fs from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { once } from "node:events";
import { pathToFileURL } from "node:url";
import forge from "node-forge";
import { startTls, SocketReadQueue, WebSocketReadQueue, TrustedCert } from "subtls";

function opt(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) {
    if (fallback === undefined) throw new Error(`missing ${name}`);
    return fallback;
  }
  return process.argv[i + 1];
}

const PORT = Number(opt("--port"));
const CA = fs.readFileSync(opt("--ca"), "utf8");
const EC_PORT = Number(opt("--ec-port", "0"));
const EC_CA = EC_PORT ? fs.readFileSync(opt("--ec-ca"), "utf8") : "";
const BRIDGE = opt("--bridge", "");
const ROUNDS = Number(opt("--rounds", "3"));
const HS = Number(opt("--hs", "50"));
const BYTES = Number(opt("--bytes", String(64 << 20)));
const SLOW_BYTES = Number(opt("--slow-bytes", String(8 << 20)));
const CLIENTS = opt("--clients", "wasm,wasm-aes128,wasm-aes256,wasm-ec,node,subtls,forge,wasm-bridge,subtls-bridge").split(",");
const ferry = await import(pathToFileURL(opt("--pkg")).href);
await ferry.init();

const enc = (s) => new TextEncoder().encode(s);
const request = (n) => enc(`${n}\n`);

async function tcp(port = PORT) {
  const s = net.connect(port, "127.0.0.1");
  s.setNoDelay(true);
  await once(s, "connect");
  return s;
}

// ----- tlsferry wasm -----

// Full handshakes, as every other client here makes them: no session resumption (which
// tlsferry does by default between connections with the same options).
function ferryOptions(extra) {
  return { serverName: "localhost", caPem: CA, resumption: false, ...extra };
}

async function ferryOpen(bridge, extra, ec = false) {
  let raw;
  let transport;
  if (bridge) {
    transport = ferry.webSocketTransport(BRIDGE);
  } else {
    raw = await tcp(ec ? EC_PORT : PORT);
    // The socket as the package's README gives one (tcpTransport() uses the same adapter).
    transport = ferry.fromNodeStream(raw);
  }
  const sock = ferry.connect(transport, ferryOptions(ec ? { caPem: EC_CA, ...extra } : extra));
  const info = await sock.opened;
  return {
    sock,
    info: { version: info.version, suite: info.cipherSuite },
    drop() {
      sock.closed.catch(() => {});
      if (raw) raw.destroy();
      else sock.close().catch(() => {});
    },
  };
}

async function ferryBulk(bridge, extra, bytes, ec = false) {
  const c = await ferryOpen(bridge, extra, ec);
  const w = c.sock.writable.getWriter();
  await w.write(request(bytes));
  w.releaseLock();
  const r = c.sock.readable.getReader();
  let got = 0;
  for (;;) {
    const { value, done } = await r.read();
    if (done) break;
    got += value.byteLength;
  }
  c.drop();
  return { got, info: c.info };
}

// ----- Node's tls (OpenSSL) -----

async function nodeOpen() {
  const s = tls.connect({ host: "127.0.0.1", port: PORT, servername: "localhost", ca: CA });
  s.setNoDelay(true);
  await once(s, "secureConnect");
  return { s, info: { version: s.getProtocol(), suite: s.getCipher().standardName } };
}

async function nodeBulk(bytes) {
  const { s, info } = await nodeOpen();
  let got = 0;
  s.on("data", (d) => (got += d.length));
  const ended = once(s, "end");
  s.write(request(bytes));
  await ended;
  s.destroy();
  return { got, info };
}

// ----- subtls -----

const subtlsRoots = await TrustedCert.databaseFromPEM(CA);

async function subtlsOpen(bridge) {
  let read;
  let write;
  let drop;
  if (bridge) {
    const ws = new WebSocket(BRIDGE, ["binary"]);
    ws.binaryType = "arraybuffer";
    await once(ws, "open");
    const q = new WebSocketReadQueue(ws);
    read = q.read.bind(q);
    write = (d) => ws.send(d);
    drop = () => ws.close();
  } else {
    const s = await tcp();
    const q = new SocketReadQueue(s);
    read = q.read.bind(q);
    write = (d) => s.write(d);
    drop = () => s.destroy();
  }
  const conn = await startTls("localhost", subtlsRoots, read, write);
  return { conn, drop, info: { version: "TLSv1.3", suite: "TLS_AES_128_GCM_SHA256" } };
}

async function subtlsBulk(bridge, bytes) {
  const c = await subtlsOpen(bridge);
  await c.conn.write(request(bytes));
  let got = 0;
  for (;;) {
    const d = await c.conn.read();
    if (d === undefined) break;
    got += d.length;
  }
  c.drop();
  return { got, info: c.info };
}

// ----- node-forge -----

const forgeCa = forge.pki.createCaStore([CA]);

function forgeOpen(onData, onClosed) {
  return new Promise((resolve, reject) => {
    const s = net.connect(PORT, "127.0.0.1");
    s.setNoDelay(true);
    const c = forge.tls.createConnection({
      server: false,
      caStore: forgeCa,
      virtualHost: "localhost",
      cipherSuites: [forge.tls.CipherSuites.TLS_RSA_WITH_AES_128_CBC_SHA],
      // forge checks the chain against caStore; the host name is ours to check.
      verify: (conn, verified, depth, certs) => {
        if (verified !== true || depth !== 0) return verified;
        const san = certs[0].getExtension("subjectAltName");
        return san?.altNames?.some((n) => n.value === "localhost") === true;
      },
      connected: (conn) =>
        resolve({ c: conn, s, info: { version: "TLSv1.1", suite: "TLS_RSA_WITH_AES_128_CBC_SHA" } }),
      tlsDataReady: (conn) => s.write(Buffer.from(conn.tlsData.getBytes(), "binary")),
      dataReady: (conn) => onData(conn.data.getBytes()),
      closed: () => onClosed(),
      error: (conn, e) => reject(new Error(`forge: ${e.message}`)),
    });
    s.on("connect", () => c.handshake());
    s.on("data", (d) => c.process(d.toString("binary")));
    s.on("end", () => c.close());
    s.on("error", reject);
  });
}

async function forgeBulk(bytes) {
  let got = 0;
  let closed;
  const done = new Promise((r) => (closed = r));
  const { c, s, info } = await forgeOpen((d) => (got += d.length), () => closed());
  c.prepare(new TextDecoder().decode(request(bytes)));
  await done;
  s.destroy();
  return { got, info };
}

// ----- the clients -----

const clients = {
  wasm: {
    open: () => ferryOpen(false, {}),
    bulk: (n) => ferryBulk(false, {}, n),
  },
  "wasm-aes128": {
    open: () => ferryOpen(false, { cipherSuites: ["TLS13_AES_128_GCM_SHA256"] }),
    bulk: (n) => ferryBulk(false, { cipherSuites: ["TLS13_AES_128_GCM_SHA256"] }, n),
  },
  "wasm-aes256": {
    open: () => ferryOpen(false, { cipherSuites: ["TLS13_AES_256_GCM_SHA384"] }),
    bulk: (n) => ferryBulk(false, { cipherSuites: ["TLS13_AES_256_GCM_SHA384"] }, n),
  },
  "wasm-ec": {
    open: () => ferryOpen(false, {}, true),
    bulk: (n) => ferryBulk(false, {}, n, true),
    ec: true,
  },
  "wasm-bridge": {
    open: () => ferryOpen(true, {}),
    bulk: (n) => ferryBulk(true, {}, n),
    bridge: true,
  },
  node: {
    open: async () => {
      const { s, info } = await nodeOpen();
      return { info, drop: () => s.destroy() };
    },
    bulk: nodeBulk,
  },
  subtls: {
    open: () => subtlsOpen(false),
    bulk: (n) => subtlsBulk(false, n),
  },
  "subtls-bridge": {
    open: () => subtlsOpen(true),
    bulk: (n) => subtlsBulk(true, n),
    bridge: true,
  },
  forge: {
    open: async () => {
      const { s, info } = await forgeOpen(() => {}, () => {});
      return { info, drop: () => s.destroy() };
    },
    bulk: forgeBulk,
    slow: true,
  },
};

function emit(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function measure() {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  return () => {
    const u = process.cpuUsage(c);
    return { wall: Number(process.hrtime.bigint() - t) / 1e9, cpu: (u.user + u.system) / 1e6 };
  };
}

const selected = CLIENTS.filter((name) => {
  if (!clients[name]) throw new Error(`unknown client ${name}`);
  return (!clients[name].bridge || BRIDGE !== "") && (!clients[name].ec || EC_PORT !== 0);
});

// Warm-up, not recorded: V8 compiles wasm lazily and tiers hot code up (the first
// tlsferry handshake in a process takes ~300 ms), and JS code gets hot too.
for (const name of selected) {
  try {
    const client = clients[name];
    (await client.open()).drop();
    await client.bulk(client.slow ? Math.max(1, SLOW_BYTES >> 3) : Math.max(1, BYTES >> 3));
  } catch (e) {
    emit({ client: name, kind: "error", round: -1, error: `warm-up: ${String(e?.stack ?? e)}` });
  }
}

for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order so that no client always runs first after a pause.
  const order = selected.map((_, i) => selected[(i + round) % selected.length]);
  for (const name of order) {
    const client = clients[name];
    try {
      const hs = client.slow ? Math.max(5, Math.floor(HS / 5)) : HS;
      let info;
      const stop = measure();
      for (let i = 0; i < hs; i++) {
        const c = await client.open();
        info = c.info;
        c.drop();
      }
      emit({ client: name, kind: "hs", round, n: hs, ...stop(), ...info });

      const bytes = client.slow ? SLOW_BYTES : BYTES;
      const stopBulk = measure();
      const r = await client.bulk(bytes);
      const m = stopBulk();
      if (r.got !== bytes) throw new Error(`received ${r.got} bytes, expected ${bytes}`);
      emit({ client: name, kind: "bulk", round, bytes, ...m, ...r.info });
    } catch (e) {
      emit({ client: name, kind: "error", round, error: String(e?.stack ?? e) });
    }
  }
}
// Sockets of dropped connections may keep the loop alive.
process.exit(0);
