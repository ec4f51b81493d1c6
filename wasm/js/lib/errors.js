// TlsError and the helpers that make one (internal to js/).

/** The error type of this package: `code` is stable (CERT_EXPIRED, TRUNCATED, TRANSPORT, …). */
export class TlsError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = "TlsError";
    this.code = code;
  }
}

export function tlsError(code, message, cause) {
  return new TlsError(code, message, cause === undefined ? undefined : { cause });
}

/** Errors thrown by the wasm side are plain Errors named TlsError; make them TlsError instances. */
export function asTlsError(e) {
  if (e instanceof TlsError) return e;
  if (e instanceof Error && e.name === "TlsError" && typeof e.code === "string") {
    const t = new TlsError(e.code, e.message);
    for (const key of Object.keys(e)) if (key !== "message") t[key] = e[key];
    return t;
  }
  return tlsError("LOCAL", `unexpected failure: ${e?.message ?? e}`, e);
}

/** A TRANSPORT error for a failure of the transport itself. */
export function transportError(what, e) {
  if (e instanceof TlsError) return e;
  return tlsError("TRANSPORT", `${what}: ${e?.message ?? e}`, e);
}

/** Refuses option keys that `known` does not list, naming the key (CONFIG). */
export function checkOptionKeys(where, options, known) {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const squash = (k) => k.replace(/[-_]/g, "").toLowerCase();
    const like = known.find((k) => squash(k) === squash(key));
    const hint = like === undefined ? "" : ` (did you mean "${like}"?)`;
    throw tlsError("CONFIG", `${where}: unknown option "${key}"${hint}; the options are ${known.join(", ")}`);
  }
}

export const noop = () => {};

/** A chunk as a Uint8Array (no copy for views). */
export function bytes(chunk) {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === "string") return new TextEncoder().encode(chunk);
  throw new TypeError("expected a Uint8Array, ArrayBuffer, typed array or string");
}
