// Compile-only check of the published types (tsc --noEmit, run by tests/suites/40-wasm.sh):
// the README's usage must type-check against js/index.d.ts and the wasm-bindgen types.
import { connect, webSocketTransport, TlsClient, TlsError, init, type ConnectionInfo, type TlsEvent } from "../js/index.js";

export async function usage(caPem: string): Promise<string> {
  await init();
  const sock = connect(webSocketTransport("ws://127.0.0.1:8080/?target=localhost:4433"), {
    serverName: "localhost",
    caPem,
    alpn: ["http/1.1"],
    minVersion: "TLSv1.2",
    keyLog: (line: string) => console.log(line),
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

export function lowLevel(bytes: Uint8Array): void {
  const client = new TlsClient("example.com", { insecure: false });
  const hello: Uint8Array | undefined = client.takeCiphertext();
  const consumed: number = client.feed(bytes);
  const ev: TlsEvent | undefined = client.nextEvent();
  if (ev?.type === "data") console.log(ev.data.length, hello?.length, consumed);
  if (ev?.type === "connected") console.log(ev.info.alpn);
  const due: number | undefined = client.deadline;
  console.log(due, client.receiveCapacity, client.sendCapacity);
}

export function errors(e: unknown): string | undefined {
  if (e instanceof TlsError && e.code === "CERT_HOSTNAME_MISMATCH") return e.presentedNames?.join(", ");
  return undefined;
}
