# workerd configuration that runs worker.js locally, like `wrangler dev` would.
#
#   cd wasm/examples && npm ci            # installs workerd, deno, esbuild, and tlsferry from ..
#   node worker/build.mjs                 # bundles worker.js into worker/dist/, as wrangler does
#   TARGET_HOST=127.0.0.1 TARGET_PORT=4433 SERVER_NAME=localhost ALPN=http/1.1 \
#   CA_PEM="$(cat ca.pem)" CLIENT_CERT_PEM="$(cat client.pem)" CLIENT_KEY_PEM="$(cat client.key)" \
#     npx workerd serve worker/config.capnp
#   curl http://127.0.0.1:8787/
#
# `--socket-addr http=127.0.0.1:0 --control-fd 3` picks a free port and reports it on fd 3
# (the tests do that). The wasm package must be built first (wasm/build.sh → wasm/pkg/).

using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .tlsferryWorker),

    # The Worker's outbound network, used by fetch() and by connect() from
    # cloudflare:sockets. workerd's default allows only public addresses; a TLS server
    # behind a private CA usually lives on a private network, and the local run talks to
    # 127.0.0.1, so allow those too. ("private" already includes "local"; narrow this to
    # CIDRs, e.g. allow = ["10.1.2.0/24"], for a real deployment of workerd.)
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],

  sockets = [
    (name = "http", address = "127.0.0.1:8787", http = (), service = "main"),
  ],
);

const tlsferryWorker :Workerd.Worker = (
  # The bundle of worker.js (worker/build.mjs, like wrangler) and the wasm modules it
  # imports, which workerd hands to the Worker as compiled WebAssembly.Modules: the main
  # one, the client-auth one (imported only when a connection presents a client
  # certificate) and the Mozilla roots (imported only when a connection has no CA_PEM).
  # The first module is the entry point.
  modules = [
    (name = "worker.js", esModule = embed "dist/worker.js"),
    (name = "tlsferry_wasm_bg.wasm", wasm = embed "dist/tlsferry_wasm_bg.wasm"),
    (name = "tlsferry_client_auth_bg.wasm", wasm = embed "dist/tlsferry_client_auth_bg.wasm"),
    (name = "tlsferry_roots.wasm", wasm = embed "dist/tlsferry_roots.wasm"),
  ],

  compatibilityDate = "2025-09-01",
  globalOutbound = "internet",

  # Read from workerd's own environment at start-up; unset ones are null in `env`.
  # On Cloudflare these are [vars] and secrets instead (see wrangler.toml).
  bindings = [
    (name = "TARGET_HOST", fromEnvironment = "TARGET_HOST"),
    (name = "TARGET_PORT", fromEnvironment = "TARGET_PORT"),
    (name = "SERVER_NAME", fromEnvironment = "SERVER_NAME"),
    (name = "ALPN", fromEnvironment = "ALPN"),
    (name = "CA_PEM", fromEnvironment = "CA_PEM"),
    (name = "CLIENT_CERT_PEM", fromEnvironment = "CLIENT_CERT_PEM"),
    (name = "CLIENT_KEY_PEM", fromEnvironment = "CLIENT_KEY_PEM"),
  ],
);
