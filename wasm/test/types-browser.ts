// The published types in a browser-only project: no @types/node, lib es2022 + dom only
// (tsc --types with nothing, run by tests/suites/40-wasm.sh next to types-check.ts).
import { connect, webSocketTransport, verifyChain, type TlsErrorCode, TlsError } from "tlsferry";

export async function page(caPem: string): Promise<string> {
  const transport = webSocketTransport("ws://127.0.0.1:8080/?target=example.com:443", { highWaterMark: 1 << 20 });
  await using sock = connect(transport, { serverName: "example.com", caPem });
  const info = await sock.opened;
  const { protocol } = await transport.opened;
  const { chain } = await verifyChain(info.peerCertificates.map((c) => c.pem).join(""), "example.com", { caPem });
  return `${info.version} over ${protocol}, resumed ${info.resumed}, ${chain.length} certificates, ${sock.exportKeyingMaterial("x", 8).length}`;
}

export function code(e: unknown): TlsErrorCode | undefined {
  return e instanceof TlsError ? e.code : undefined;
}
