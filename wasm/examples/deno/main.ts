// tlsferry in Deno: TLS over a plain `Deno.connect` socket, with a private CA and an
// optional client certificate (Deno.connectTls cannot present one from PEM), printing the
// server's reply and the handshake summary (version, ALPN, the server's chain) as JSON.
//
//   deno run --allow-net=127.0.0.1:4433 --allow-read=ca.pem,client.pem,client.key \
//     wasm/examples/deno/main.ts --host 127.0.0.1 --port 4433 --server-name localhost \
//     --ca ca.pem --cert client.pem --key client.key --alpn http/1.1 \
//     --message 'Hello, World!'
//
// Permissions: network access to exactly the target, read access to exactly the PEM files.
// The wasm needs no --allow-read: wasm_module.js imports the main module and the
// client-auth one (client certificates) as compiled WebAssembly.Modules (`import source`),
// the same kind of value workerd hands the Worker.
//
// It sends --message (a newline is appended; default "Hello, World!"), then prints what the
// server sends until it closes the connection (at most 64 KiB, at most --timeout-ms).
// Output on stdout, one JSON object: { reply, replyComplete, handshake } and exit 0, or
// { error: { code, message, side?, report? } } and exit 1 (the message also goes to stderr).

// Inside the repository the package is imported by path; in your own project import the
// same two things from wherever the package is installed (e.g. "npm:tlsferry").
import wasmModule, { clientAuthModule } from "./wasm_module.js";
import { connect, type ConnectOptions, initSync, loadClientAuth } from "../../js/deno.js";

initSync(wasmModule);

const MAX_REPLY_BYTES = 64 * 1024;

const USAGE = `usage: main.ts --host HOST --port PORT [--server-name NAME] [--ca CA.pem]
               [--cert CERT.pem --key KEY.pem] [--alpn PROTO[,PROTO]]
               [--message TEXT] [--timeout-ms MS]`;

type Options = {
  host: string;
  port: number;
  serverName: string;
  ca?: string;
  cert?: string;
  key?: string;
  alpn: string[];
  message: string;
  timeoutMs: number;
};

class UsageError extends Error {
  code = "USAGE";
}

function parseArgs(args: string[]): Options {
  const flags = new Map<string, string>();
  const known = [
    "host",
    "port",
    "server-name",
    "ca",
    "cert",
    "key",
    "alpn",
    "message",
    "timeout-ms",
  ];
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i].replace(/^--/, "");
    if (!args[i].startsWith("--") || !known.includes(name) || i + 1 >= args.length) {
      throw new UsageError(`unexpected argument ${args[i]}\n${USAGE}`);
    }
    flags.set(name, args[i + 1]);
  }
  const host = flags.get("host");
  const port = Number(flags.get("port"));
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--host and --port (1-65535) are required\n${USAGE}`);
  }
  if (flags.has("cert") !== flags.has("key")) {
    throw new UsageError("give both --cert and --key, or neither");
  }
  const timeoutMs = Number(flags.get("timeout-ms") ?? "10000");
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError("--timeout-ms must be a positive number");
  }
  return {
    host,
    port,
    serverName: flags.get("server-name") ?? host,
    ca: flags.get("ca"),
    cert: flags.get("cert"),
    key: flags.get("key"),
    alpn: (flags.get("alpn") ?? "").split(",").map((p) => p.trim()).filter((p) => p !== ""),
    message: flags.get("message") ?? "Hello, World!",
    timeoutMs,
  };
}

/** Reads plaintext until the server closes, MAX_REPLY_BYTES arrive, or the timeout. */
async function readReply(readable: ReadableStream<Uint8Array>, timeoutMs: number) {
  const reader = readable.getReader();
  const decoder = new TextDecoder();
  let reply = "";
  let received = 0;
  let complete = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<{ timedOut: true }>((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
  });
  try {
    while (received < MAX_REPLY_BYTES) {
      const result = await Promise.race([reader.read(), timeout]);
      if ("timedOut" in result) break;
      if (result.done) {
        complete = true;
        break;
      }
      received += result.value.byteLength;
      reply += decoder.decode(result.value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
    if (!complete) reader.cancel().catch(() => {});
  }
  return { reply: reply + decoder.decode(), complete };
}

async function main(): Promise<number> {
  const opts = parseArgs(Deno.args);
  const tlsOptions: ConnectOptions = { serverName: opts.serverName };
  if (opts.ca) tlsOptions.caPem = await Deno.readTextFile(opts.ca);
  if (opts.cert && opts.key) {
    tlsOptions.clientCertPem = await Deno.readTextFile(opts.cert);
    tlsOptions.clientKeyPem = await Deno.readTextFile(opts.key);
    // Client certificates are in a module of their own, which connect() would otherwise
    // read from the package (needing --allow-read for it).
    await loadClientAuth(clientAuthModule);
  }
  if (opts.alpn.length > 0) tlsOptions.alpn = opts.alpn;

  // A Deno.Conn is a { readable, writable } pair of byte streams: tlsferry's transport.
  const tcp = await Deno.connect({ hostname: opts.host, port: opts.port });
  const tls = connect(tcp, tlsOptions);
  try {
    const handshake = await tls.opened;
    const writer = tls.writable.getWriter();
    await writer.write(new TextEncoder().encode(opts.message + "\n"));
    writer.releaseLock();
    const { reply, complete } = await readReply(tls.readable, opts.timeoutMs);
    await tls.close();
    console.log(JSON.stringify({ reply, replyComplete: complete, handshake }));
    return 0;
  } catch (e) {
    tls.close().catch(() => {});
    throw e;
  }
}

try {
  Deno.exitCode = await main();
} catch (e) {
  // deno-lint-ignore no-explicit-any
  const err = e as any;
  const error: Record<string, unknown> = {
    code: typeof err?.code === "string" ? err.code : "ERROR",
    message: String(err?.message ?? err),
  };
  if (err?.side) error.side = err.side;
  if (err?.report) error.report = err.report;
  console.error(`error [${error.code}]: ${error.message}`);
  console.log(JSON.stringify({ error }));
  Deno.exitCode = 1;
}
