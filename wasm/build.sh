#!/usr/bin/env bash
# Builds the npm package's wasm in wasm/pkg/: the release wasm, wasm-bindgen's ESM glue at
# exactly the crate's wasm-bindgen version, then wasm-opt -Oz from the npm `binaryen` package
# (Debian's binaryen 108 emits modules that crash at load). Prints the sizes and writes
# them to pkg/SIZES.txt.
#
#   wasm/build.sh            build, unless pkg/ was built from the same sources already
#   wasm/build.sh --force    build even so
#   wasm/build.sh --no-opt   skip wasm-opt (faster, larger)
#   wasm/build.sh --no-simd  a module without WebAssembly SIMD (.cargo/config.toml turns it
#                            on for wasm32), for runtimes older than Safari 16.4 / Chrome 91;
#                            AES-GCM then runs on aes-gcm's software AES (2.4x slower)
#
# Also pkg/tlsferry_roots.wasm: the Mozilla roots as data (written by wasm/build.rs), which
# the package loads only for connections that trust them (no caPem).
#
# Installs wasm-bindgen-cli and the npm packages of wasm/ when they are missing. The
# sources (core/, wasm/src, the Cargo files, this script) are hashed into pkg/.stamp, so
# that tests/run builds the package once and every suite reuses it.
set -euo pipefail
cd "$(dirname "$0")"
WASM_DIR=$(pwd)
ROOT=$(cd .. && pwd)
OPT=1
FORCE=0
SIMD=1
for arg in "$@"; do
  case $arg in
  --no-opt) OPT=0 ;;
  --force) FORCE=1 ;;
  --no-simd) SIMD=0 ;;
  *) echo "usage: wasm/build.sh [--force] [--no-opt] [--no-simd]" >&2 && exit 2 ;;
  esac
done
if [ "$SIMD" = 0 ]; then
  # RUSTFLAGS replaces the target's rustflags of .cargo/config.toml.
  export RUSTFLAGS="-C target-feature=-simd128"
fi

# The wasm-bindgen version the crate is pinned to (workspace Cargo.toml: "=X.Y.Z").
WB_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml")
[ -n "$WB_VERSION" ] || { echo "build.sh: cannot read the wasm-bindgen pin from Cargo.toml" >&2; exit 1; }

if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | cut -d' ' -f2)" != "$WB_VERSION" ]; then
  echo "installing wasm-bindgen-cli $WB_VERSION (takes a few minutes, once)"
  # Without --locked: wasm-bindgen-cli's own lock file does not build with current Rust.
  cargo install -q wasm-bindgen-cli --version "$WB_VERSION"
fi
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# Everything the wasm is built from; pkg/ is reused while this hash stays the same.
stamp=$(
  cd "$ROOT" &&
    { find core wasm/src -type f \( -name '*.rs' -o -name '*.js' -o -name 'Cargo.toml' \) -not -path '*/fuzz/*' -not -path '*/target/*' | sort &&
      echo Cargo.toml Cargo.lock .cargo/config.toml wasm/Cargo.toml wasm/build.rs wasm/build.sh; } |
    xargs sha256sum | sha256sum | cut -d' ' -f1
)-opt$OPT-simd$SIMD
if [ "$FORCE" = 0 ] && [ "$(cat pkg/.stamp 2>/dev/null)" = "$stamp" ] && [ -f pkg/tlsferry_wasm_bg.wasm ] &&
  [ -f pkg/tlsferry_replay_bg.wasm ] && [ -f pkg/tlsferry_client_auth_bg.wasm ] && [ -f pkg/tlsferry_roots.wasm ] &&
  [ -f pkg/tlsferry_roots.js ]; then
  echo "wasm/pkg is up to date (pkg/.stamp); wasm/build.sh --force rebuilds it"
  exit 0
fi

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
RAW="$TARGET_DIR/wasm32-unknown-unknown/wasm-release/tlsferry_wasm.wasm"
rm -rf pkg

# The replay kit (replay(), deterministicClientHello(): the `replay` cargo feature) is a
# second module, pkg/tlsferry_replay*, behind its own entry point (tlsferry/replay), so
# that the module every connection loads stays ~24 KB gzip smaller and applications that
# never replay never bundle it.
cargo build -q --locked --profile wasm-release --target wasm32-unknown-unknown -p tlsferry-wasm
wasm-bindgen --target web --out-dir pkg --out-name tlsferry_replay "$RAW"
if [ "$OPT" = 1 ]; then
  node_modules/.bin/wasm-opt -Oz pkg/tlsferry_replay_bg.wasm -o pkg/replay.opt.wasm
  mv pkg/replay.opt.wasm pkg/tlsferry_replay_bg.wasm
fi

# Client certificates (clientCertPem: loading private keys and signing with them) are a
# module of their own too, pkg/tlsferry_client_auth*: the main module without them is
# ~47 KB gzip smaller (BENCHMARKS.md table 5), and js/lib/wasm.js loads this one only for connections that
# present a certificate (and for loadClientAuth()).
cargo build -q --locked --profile wasm-release --target wasm32-unknown-unknown -p tlsferry-wasm \
  --no-default-features --features client-auth
wasm-bindgen --target web --out-dir pkg --out-name tlsferry_client_auth "$RAW"
if [ "$OPT" = 1 ]; then
  node_modules/.bin/wasm-opt -Oz pkg/tlsferry_client_auth_bg.wasm -o pkg/client_auth.opt.wasm
  mv pkg/client_auth.opt.wasm pkg/tlsferry_client_auth_bg.wasm
fi

# The main module: the size-first profile (opt-level z, fat LTO, one codegen unit;
# Cargo.toml), without the replay kit, client certificates and the Mozilla roots, which wasm/build.rs
# writes to its OUT_DIR as tlsferry_roots.wasm (found in cargo's JSON messages).
roots_dir=$(cargo build -q --locked --profile wasm-release --target wasm32-unknown-unknown -p tlsferry-wasm \
  --no-default-features --message-format=json-render-diagnostics |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    for (const line of s.split("\n")) {
      const m = line.startsWith("{") ? JSON.parse(line) : {};
      if (m.reason === "build-script-executed" && /[/#]tlsferry-wasm[@#]/.test(m.package_id)) console.log(m.out_dir);
    }
  });')
[ -f "$roots_dir/tlsferry_roots.wasm" ] || { echo "build.sh: wasm/build.rs wrote no tlsferry_roots.wasm" >&2; exit 1; }
cp "$roots_dir/tlsferry_roots.wasm" src/tlsferry_roots.js pkg/
# --target web: ES module with an init() that takes a URL, bytes or a compiled
# WebAssembly.Module, so js/index.js can load it in browsers, Node, Deno and workerd alike.
wasm-bindgen --target web --out-dir pkg --out-name tlsferry_wasm "$RAW"
BG=pkg/tlsferry_wasm_bg.wasm
raw_size=$(stat -c %s "$BG")
raw_gz=$(gzip -9 -c "$BG" | wc -c)
if [ "$OPT" = 1 ]; then
  node_modules/.bin/wasm-opt -Oz "$BG" -o "$BG.opt"
  mv "$BG.opt" "$BG"
fi
opt_size=$(stat -c %s "$BG")
opt_gz=$(gzip -9 -c "$BG" | wc -c)
{
  echo "tlsferry_wasm_bg.wasm sizes (bytes)"
  echo "raw (cargo wasm-release + wasm-bindgen): $raw_size  gzip -9: $raw_gz"
  [ "$OPT" = 1 ] && echo "wasm-opt -Oz:                       $opt_size  gzip -9: $opt_gz"
  replay=pkg/tlsferry_replay_bg.wasm
  echo "tlsferry_replay_bg.wasm (tlsferry/replay): $(stat -c %s "$replay")  gzip -9: $(gzip -9 -c "$replay" | wc -c)"
  auth=pkg/tlsferry_client_auth_bg.wasm
  echo "tlsferry_client_auth_bg.wasm (client certificates, on demand): $(stat -c %s "$auth")  gzip -9: $(gzip -9 -c "$auth" | wc -c)"
  roots=pkg/tlsferry_roots.wasm
  echo "tlsferry_roots.wasm (Mozilla roots, on demand): $(stat -c %s "$roots")  gzip -9: $(gzip -9 -c "$roots" | wc -c)"
  [ "$SIMD" = 1 ] || echo "(built with --no-simd)"
} | tee pkg/SIZES.txt
echo "$stamp" >pkg/.stamp
