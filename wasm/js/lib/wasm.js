// Loading the main wasm module and, when a connection needs them, the Mozilla roots and
// the client-auth module (internal to js/; init, initSync, loadMozillaRoots and
// loadClientAuth are public).

import * as mainGlue from "../../pkg/tlsferry_wasm.js";
import { mozillaRootsUrl } from "../../pkg/tlsferry_roots.js";
import { runtime } from "./runtime.js";
import { tlsError, asTlsError } from "./errors.js";

const { default: initWasm, initSync: initWasmSync, TlsClient } = mainGlue;

export { TlsClient };

let ready;

/**
 * Loads the WebAssembly module. Optional: connect() calls it with the default location of
 * the entry point in use. `source` may be a URL, a Response, bytes, or a compiled
 * WebAssembly.Module.
 */
export function init(source) {
  if (ready === undefined || source !== undefined) {
    ready = (async () => {
      const where = source ?? (await runtime.mainWasm());
      try {
        await initWasm({ module_or_path: where });
      } catch (e) {
        const from = where === undefined ? "tlsferry_wasm_bg.wasm next to the package's JavaScript" : String(where);
        if (!hasSimd()) {
          throw tlsError(
            "LOCAL",
            `cannot load the WebAssembly module (${from}): this JavaScript runtime lacks WebAssembly SIMD, ` +
              "which tlsferry needs (Chrome and Edge 91+, Firefox 89+, Safari 16.4+, Node.js 16.4+, Deno, " +
              "Cloudflare Workers have it).",
            e,
          );
        }
        throw tlsError(
          "LOCAL",
          `cannot load the WebAssembly module (${from}): ${e?.message ?? e}. ` +
            "If a bundler moved the JavaScript, copy pkg/tlsferry_wasm_bg.wasm next to the bundle " +
            "or call init(url | bytes | WebAssembly.Module) first.",
          e,
        );
      }
    })();
    ready.catch(() => {
      ready = undefined;
    });
  }
  return ready;
}

/** Whether WebAssembly SIMD (simd128) validates: a function that returns i8x16.splat(0). */
function hasSimd() {
  const probe = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11];
  try {
    return WebAssembly.validate(new Uint8Array(probe));
  } catch {
    return false;
  }
}

/** Synchronous init from bytes or a compiled WebAssembly.Module. */
export function initSync(source) {
  initWasmSync({ module: source });
  ready = Promise.resolve();
}

/** The roots file's `tlsferry_roots` section, fetched once for every module. */
let rootsData;
/** Per module (the glue's namespace): the promise of its setMozillaRoots(). */
const rootsSet = new Map();

/** The roots section from `source` (default: the file next to the package's JavaScript). */
function fetchRoots(source) {
  if (rootsData === undefined || source !== undefined) {
    rootsData = (async () => {
      let where = source ?? (await runtime.rootsWasm());
      // Found as the glue finds the main module (pkg/tlsferry_roots.js), so that bundlers
      // copy it, or leave it to go next to the bundle, alike.
      where ??= mozillaRootsUrl();
      try {
        return await rootsSection(where);
      } catch (e) {
        throw tlsError(
          "LOCAL",
          `cannot load the Mozilla roots (${describe(where)}): ` +
            `${e?.message ?? e}. If a bundler moved the JavaScript, copy pkg/tlsferry_roots.wasm next to the ` +
            "bundle or call loadMozillaRoots(url | bytes | WebAssembly.Module) first; or pass caPem.",
          e,
        );
      }
    })();
    rootsData.catch(() => {
      rootsData = undefined;
    });
  }
  return rootsData;
}

/** Gives the roots to one module (`glue`: its namespace), once; resolves to their count. */
function rootsInto(glue, source) {
  let set = rootsSet.get(glue);
  if (set === undefined || source !== undefined) {
    set = (async () => {
      const data = await fetchRoots(source);
      try {
        return glue.setMozillaRoots(data);
      } catch (e) {
        throw asTlsError(e);
      }
    })();
    rootsSet.set(glue, set);
    set.catch(() => {
      if (rootsSet.get(glue) === set) rootsSet.delete(glue);
    });
  }
  return set;
}

/**
 * Loads the Mozilla roots into the module (pkg/tlsferry_roots.wasm, ~44 KB gzip: a wasm
 * file with no code whose custom section `tlsferry_roots` holds them) and resolves to
 * how many there are. connect() and verifyChain() call it when their options have no
 * caPem; call it yourself before `new TlsClient()` without caPem. `source` may be a URL,
 * a Response, the file's bytes, or the file compiled as a WebAssembly.Module (default:
 * the file next to the package's JavaScript). They go to the client-auth module too,
 * when it is loaded (from the same bytes).
 */
export async function loadMozillaRoots(source) {
  await init();
  const count = await rootsInto(mainGlue, source);
  // A client-auth module that failed to load is not this call's failure.
  const authGlue = await clientAuth?.catch(() => undefined);
  if (authGlue !== undefined) await rootsInto(authGlue);
  return count;
}

let clientAuth;

/**
 * Loads the client-auth module (pkg/tlsferry_client_auth_bg.wasm: the main module plus
 * client certificates, ~47 KB gzip more) and resolves to its TlsClient class, the one
 * that accepts clientCertPem and clientKeyPem. connect() and startTls() call it when
 * their options have a client certificate; the main module's TlsClient refuses one with
 * CONFIG. `source` is as for init() (default: the file next to the package's JavaScript).
 */
export async function loadClientAuth(source) {
  return (await clientAuthGlue(source)).TlsClient;
}

/** The client-auth module's glue (its namespace), the module loaded. */
function clientAuthGlue(source) {
  if (clientAuth === undefined || source !== undefined) {
    clientAuth = (async () => {
      const glue = await import("../../pkg/tlsferry_client_auth.js");
      const where = source ?? (await runtime.clientAuthWasm());
      try {
        await glue.default({ module_or_path: where });
      } catch (e) {
        const from = where === undefined ? "tlsferry_client_auth_bg.wasm next to the package's JavaScript" : describe(where);
        throw tlsError(
          "LOCAL",
          `cannot load the client-auth WebAssembly module (${from}): ${e?.message ?? e}. ` +
            "If a bundler moved the JavaScript, copy pkg/tlsferry_client_auth_bg.wasm next to the bundle " +
            "or call loadClientAuth(url | bytes | WebAssembly.Module) first.",
          e,
        );
      }
      // Roots already loaded for the main module go to this one too (from the same bytes).
      if (rootsSet.has(mainGlue)) await rootsInto(glue);
      return glue;
    })();
    clientAuth.catch(() => {
      clientAuth = undefined;
    });
  }
  return clientAuth;
}

/** Where the roots came from, for messages. */
function describe(source) {
  if (source instanceof URL || typeof source === "string") return String(source);
  if (typeof Response !== "undefined" && source instanceof Response) return source.url || "a Response";
  if (source instanceof WebAssembly.Module) return "a WebAssembly.Module";
  return `${source?.byteLength ?? "?"} bytes`;
}

/** The `tlsferry_roots` custom section of the roots file, from wherever it comes. */
async function rootsSection(source) {
  if (source instanceof WebAssembly.Module) {
    const [section] = WebAssembly.Module.customSections(source, "tlsferry_roots");
    if (section === undefined) throw new Error("no tlsferry_roots section");
    return new Uint8Array(section);
  }
  if (source instanceof URL || typeof source === "string") source = await fetch(source);
  if (typeof Response !== "undefined" && source instanceof Response) {
    if (!source.ok) throw new Error(`HTTP ${source.status}`);
    source = await source.arrayBuffer();
  }
  const bytes = ArrayBuffer.isView(source)
    ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
    : new Uint8Array(source);
  // "\0asm", version 1, then sections: id, size, and for a custom one (id 0) its name.
  const leb = (at) => {
    let n = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = bytes[at.i++];
      if (b === undefined) throw new Error("not a wasm file");
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
    }
    throw new Error("not a wasm file");
  };
  const magic = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  if (!magic.every((b, i) => bytes[i] === b)) throw new Error("not a wasm file");
  const at = { i: 8 };
  while (at.i < bytes.length) {
    const id = bytes[at.i++];
    const size = leb(at);
    const end = at.i + size;
    if (id === 0) {
      const len = leb(at);
      const name = new TextDecoder().decode(bytes.subarray(at.i, at.i + len));
      if (name === "tlsferry_roots") return bytes.slice(at.i + len, end);
    }
    at.i = end;
  }
  throw new Error("no tlsferry_roots section");
}

/** Whether `options` (of connect() or verifyChain()) trust the Mozilla roots. */
function trustsBuiltin(options) {
  return (
    options === undefined ||
    options === null ||
    (typeof options === "object" && (options.caPem === undefined || options.caPem === null) && options.insecure !== true)
  );
}

/**
 * The loaded module (its glue) for `options` (of connect() or verifyChain()), with the
 * Mozilla roots when they trust them (no caPem and not insecure; options that are not an
 * object are left to the module to refuse): the client-auth module when they name a
 * client certificate or key, and also when it is the only one loaded or loading (it does
 * all the main module does, so an app that began with client certificates downloads one
 * module); the main module otherwise.
 */
async function glueFor(options) {
  const auth =
    options !== null &&
    typeof options === "object" &&
    ((options.clientCertPem !== undefined && options.clientCertPem !== null) ||
      (options.clientKeyPem !== undefined && options.clientKeyPem !== null));
  let glue;
  if (auth || (ready === undefined && clientAuth !== undefined)) {
    glue = await (auth ? clientAuthGlue() : clientAuth.catch(() => undefined));
  }
  if (glue === undefined) {
    await init();
    glue = mainGlue;
  }
  if (trustsBuiltin(options)) await rootsInto(glue);
  return glue;
}

/** verifyChain() for `options`, in the module glueFor() picks. */
export async function verifyChainIn(chainPem, serverName, options) {
  const glue = await glueFor(options);
  return glue.verifyChain(chainPem, serverName, options);
}

/** The TlsClient class for connect()'s TLS `options`, in the module glueFor() picks. */
export async function clientFor(options) {
  return (await glueFor(options)).TlsClient;
}
