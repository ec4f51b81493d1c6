// Compile-only check of the published types (tsc --noEmit, run by tests/suites/40-wasm.sh):
// the README's usage must type-check against js/index.d.ts, js/replay.d.ts and the
// wasm-bindgen types, with Node's own stream types and the ws package's WebSocket.
import net from "node:net";
import { Duplex } from "node:stream";
import WebSocket from "ws";
import {
  connect,
  plaintext,
  startTls,
  tcpTransport,
  webSocketTransport,
  TlsClient,
  TlsError,
  init,
  loadClientAuth,
  verifyChain,
  type ConnectionInfo,
  type PeerCertificate,
  type TlsErrorCode,
  type TlsEvent,
  type TlsSocket,
  type VerifyChainResult,
} from "tlsferry";
import { replay, type ReplayResult } from "tlsferry/replay";

export async function usage(caPem: string): Promise<string> {
  await init();
  const sock = connect(webSocketTransport("ws://127.0.0.1:8080/?target=localhost:4433"), {
    serverName: "localhost",
    caPem,
    alpn: ["http/1.1"],
    keyExchangeGroups: ["X25519MLKEM768", "X25519"],
    minVersion: "TLSv1.2",
    keyLog: (line: string) => console.log(line),
    allowHalfOpen: false,
    signal: AbortSignal.timeout(10_000),
    highWaterMark: 64 * 1024,
  });
  const info: ConnectionInfo = await sock.opened;
  const names: string[] = info.peerCertificates[0].names;
  const notAfter: Date | null = info.peerCertificates[0].notAfter;
  const writer = sock.writable.getWriter();
  await writer.write(new TextEncoder().encode("Hello, World!"));
  let reply = "";
  for await (const chunk of sock.readable as unknown as AsyncIterable<Uint8Array>) reply += new TextDecoder().decode(chunk);
  await sock.close();
  return `${info.version} ${info.cipherSuite} ${names.join()} ${notAfter?.toISOString()} ${reply}`;
}

export async function sessions(caPem: string): Promise<[boolean, Uint8Array, Uint8Array]> {
  const sock = connect(tcpTransport("127.0.0.1", 4433), { serverName: "localhost", caPem, resumption: true });
  const info = await sock.opened;
  const resumed: boolean = info.resumed;
  const binding: Uint8Array = sock.exportKeyingMaterial("EXPORTER-Channel-Binding", 32);
  const withContext = sock.exportKeyingMaterial(new TextEncoder().encode("label"), 16, new Uint8Array([1, 2]));
  connect(tcpTransport("127.0.0.1", 4433), { serverName: "localhost", resumption: false });
  return [resumed, binding, withContext];
}

export async function clientAuth(caPem: string, certPem: string, keyPem: string): Promise<Uint8Array> {
  const AuthClient: typeof TlsClient = await loadClientAuth();
  const client = new AuthClient("localhost", { caPem, clientCertPem: certPem, clientKeyPem: keyPem });
  const hello: Uint8Array = client.takeCiphertext() ?? new Uint8Array();
  client.free();
  return hello;
}

export async function offline(chainPem: string, caPem: string): Promise<PeerCertificate[]> {
  const r: VerifyChainResult = await verifyChain(chainPem, "localhost", { caPem, time: new Date() });
  const ok: true = r.ok;
  void ok;
  await verifyChain(chainPem, "localhost", { extraCaPem: caPem, time: 1767225600 });
  await verifyChain(chainPem, "localhost");
  // @ts-expect-error insecure is not an option of verifyChain
  await verifyChain(chainPem, "localhost", { insecure: true });
  return r.chain;
}

export async function disposable(caPem: string): Promise<void> {
  await using sock = connect(tcpTransport("127.0.0.1", 4433), { serverName: "localhost", caPem });
  await sock.opened;
}

export function node(socket: net.Socket, caPem: string): TlsSocket[] {
  return [
    connect(socket, { serverName: "localhost", caPem }), // a net.Socket (any Duplex)
    connect(Duplex.toWeb(socket), { serverName: "localhost", caPem }), // Web streams from Node
    connect(tcpTransport("localhost", 4433), { serverName: "localhost", caPem }),
    connect(webSocketTransport("ws://127.0.0.1:8080/", { WebSocket, highWaterMark: 256 * 1024 }), { serverName: "localhost" }),
  ];
}

export async function smtp(caPem: string): Promise<TlsSocket> {
  const plain = plaintext(tcpTransport("mail.example.com", 587));
  const greeting: string | null = await plain.readLine();
  await plain.write(`EHLO me.example\r\n${greeting}`);
  const sslResponse: Uint8Array = await plain.readBytes(1);
  void sslResponse;
  const tls = plain.startTls({ serverName: "mail.example.com", caPem });
  const again = startTls(tcpTransport("db", 5432), { serverName: "db", readAhead: new Uint8Array(0) });
  void again;
  return tls;
}

export function lowLevel(bytes: Uint8Array): void {
  const client = new TlsClient("example.com", { insecure: false });
  const hello: Uint8Array | undefined = client.takeCiphertext();
  const consumed: number = client.feed(bytes);
  const ev: TlsEvent | undefined = client.nextEvent();
  if (ev?.type === "data") console.log(ev.data.length, hello?.length, consumed);
  if (ev?.type === "connected") console.log(ev.info.alpn);
  const due: number | undefined = client.dueInMs;
  if (!client.isHandshaking) console.log(client.exportKeyingMaterial("EXPORTER-Channel-Binding", 32).length);
  console.log(due, client.deadline, client.receiveCapacity, client.sendCapacity);
  client.free();
}

export function errors(e: unknown): string | undefined {
  if (e instanceof TlsError && e.code === "CERT_HOSTNAME_MISMATCH") return e.presentedNames?.join(", ");
  if (e instanceof TlsError) {
    const code: TlsErrorCode = e.code;
    switch (code) {
      case "RECEIVE_BUFFER_FULL":
      case "ABORTED":
      case "TRANSPORT":
      case "HANDSHAKE_EOF":
      case "HANDSHAKE_SIGNATURE":
      case "UNKNOWN":
        return code;
      default:
        return undefined;
    }
  }
  return undefined;
}

export async function replayed(text: string): Promise<number> {
  const r: ReplayResult = await replay(text, { time: 1767225600 });
  return r.reply.length;
}

// @ts-expect-error a code that does not exist
export const wrong: TlsErrorCode = "CERT_EXPIRD";

export function expiredAt(e: TlsError): Date | null | undefined {
  return e.notAfter;
}
