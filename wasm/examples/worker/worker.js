// A Cloudflare Worker (module syntax) that speaks TLS with tlsferry over a plain TCP socket
// from `cloudflare:sockets`. Unlike the runtime's built-in TLS (`secureTransport: "on"`),
// it can trust a private CA given as PEM, present a client certificate, and report the
// negotiated version, ALPN protocol and the server's certificate chain.
//
// Configuration comes from the Worker's environment (workerd: `fromEnvironment` bindings in
// config.capnp; wrangler: [vars] and secrets):
//   TARGET_HOST, TARGET_PORT   the TLS server (the target is never taken from the request)
//   SERVER_NAME                the name to verify (default: TARGET_HOST)
//   CA_PEM                     trusted root(s) as PEM (default: the Mozilla roots)
//   CLIENT_CERT_PEM, CLIENT_KEY_PEM   optional client certificate chain and its key
//   ALPN                       optional comma-separated protocols, e.g. "http/1.1"
//
// A request sends its body (POST) or `?message=` (default "Hello, World!\n") to the server
// and answers with JSON: { reply, replyComplete, handshake }, where `reply` is what the
// server sent until it closed the connection (at most 64 KiB, at most 10 s), and
// `handshake` is tlsferry's ConnectionInfo. A TLS failure answers 502 with
// { error: { code, message, side, report } }, e.g. code "CERT_UNKNOWN_ISSUER".

import { connect as connectTcp } from "cloudflare:sockets";
// The package by its name, as in your own project: wrangler (or worker/build.mjs, which
// bundles the same way) picks its "workerd" entry, which imports the wasm as a compiled
// WebAssembly.Module (Workers may not compile wasm from bytes) and initialises it.
import { connect } from "tlsferry";

const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_REPLY_BYTES = 64 * 1024;
const REPLY_TIMEOUT_MS = 10_000;

export default {
  async fetch(request, env) {
    let target;
    try {
      target = targetFromEnv(env);
    } catch (e) {
      return errorResponse(500, e);
    }
    let message;
    try {
      message = await requestMessage(request);
    } catch (e) {
      return errorResponse(400, e);
    }

    const tcp = connectTcp({ hostname: target.host, port: target.port });
    const tls = connect(tcp, target.tls);
    try {
      const handshake = await tls.opened;
      const writer = tls.writable.getWriter();
      await writer.write(message);
      writer.releaseLock();
      const { reply, complete } = await readReply(tls.readable);
      await tls.close();
      return Response.json({ reply, replyComplete: complete, handshake });
    } catch (e) {
      tls.close().catch(() => {});
      return errorResponse(502, e);
    }
  },
};

/** Reads the target and the TLS options from the environment; throws a CONFIG error. */
function targetFromEnv(env) {
  const host = env.TARGET_HOST;
  const port = Number(env.TARGET_PORT);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw configError("set TARGET_HOST and TARGET_PORT (1-65535) in the Worker's environment");
  }
  if (Boolean(env.CLIENT_CERT_PEM) !== Boolean(env.CLIENT_KEY_PEM)) {
    throw configError("set both CLIENT_CERT_PEM and CLIENT_KEY_PEM, or neither");
  }
  const tls = { serverName: env.SERVER_NAME || host };
  if (env.CA_PEM) tls.caPem = env.CA_PEM;
  if (env.CLIENT_CERT_PEM) {
    tls.clientCertPem = env.CLIENT_CERT_PEM;
    tls.clientKeyPem = env.CLIENT_KEY_PEM;
  }
  if (env.ALPN) {
    tls.alpn = env.ALPN.split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "");
  }
  return { host, port, tls };
}

function configError(message) {
  return Object.assign(new Error(message), { code: "CONFIG" });
}

/** The bytes to send: the POST body, else `?message=`, else "Hello, World!\n". */
async function requestMessage(request) {
  if (request.method === "POST") {
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > MAX_REQUEST_BYTES) {
      throw Object.assign(new Error(`the request body is over ${MAX_REQUEST_BYTES} bytes`), {
        code: "REQUEST",
      });
    }
    return body;
  }
  const text = new URL(request.url).searchParams.get("message") ?? "Hello, World!\n";
  return new TextEncoder().encode(text);
}

/**
 * Reads plaintext until the server closes the connection, MAX_REPLY_BYTES arrive or
 * REPLY_TIMEOUT_MS pass. `complete` is true only after the server's clean close; a
 * truncated or failed connection throws (e.g. code TRUNCATED).
 */
async function readReply(readable) {
  const reader = readable.getReader();
  const decoder = new TextDecoder();
  let reply = "";
  let received = 0;
  let complete = false;
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), REPLY_TIMEOUT_MS);
  });
  try {
    while (received < MAX_REPLY_BYTES) {
      const result = await Promise.race([reader.read(), timeout]);
      if (result.timedOut) break;
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

function errorResponse(status, e) {
  const error = {
    code: typeof e?.code === "string" ? e.code : "INTERNAL",
    message: String(e?.message ?? e),
  };
  if (e?.side) error.side = e.side;
  if (e?.report) error.report = e.report;
  return Response.json({ error }, { status });
}
