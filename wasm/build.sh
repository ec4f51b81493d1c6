#!/usr/bin/env bash
# Builds the npm package in wasm/pkg/: the release wasm, wasm-bindgen's ESM glue at exactly
# the crate's wasm-bindgen version, then wasm-opt -Oz from the npm `binaryen` package
# (Debian's binaryen 108 emits modules that crash at load). Prints the sizes and writes
# them to pkg/SIZES.txt.
#
#   wasm/build.sh            build (installs wasm-bindgen-cli and npm deps if missing)
#   wasm/build.sh --no-opt   skip wasm-opt (faster, larger)
set -euo pipefail
cd "$(dirname "$0")"
WASM_DIR=$(pwd)
ROOT=$(cd .. && pwd)
OPT=1
[ "${1:-}" = "--no-opt" ] && OPT=0

# The wasm-bindgen version the crate is pinned to (workspace Cargo.toml: "=X.Y.Z").
WB_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml")
[ -n "$WB_VERSION" ] || { echo "build.sh: cannot read the wasm-bindgen pin from Cargo.toml" >&2; exit 1; }

if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | cut -d' ' -f2)" != "$WB_VERSION" ]; then
  echo "installing wasm-bindgen-cli $WB_VERSION (takes a few minutes, once)"
  # Without --locked: wasm-bindgen-cli's own lock file does not build with current Rust.
  cargo install -q wasm-bindgen-cli --version "$WB_VERSION"
fi
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error
fi

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
RAW="$TARGET_DIR/wasm32-unknown-unknown/wasm-release/tlsferry_wasm.wasm"
rm -rf pkg

# The replay kit (replay(), deterministicClientHello(): the `replay` cargo feature) is a
# second module in pkg/replay/, loaded by js/replay.js only when first used, so that the
# module every connection loads stays ~24 KB gzip smaller.
cargo build -q --locked --profile wasm-release --target wasm32-unknown-unknown -p tlsferry-wasm
wasm-bindgen --target web --out-dir pkg/replay --out-name tlsferry_wasm "$RAW"
if [ "$OPT" = 1 ]; then
  node_modules/.bin/wasm-opt -Oz pkg/replay/tlsferry_wasm_bg.wasm -o pkg/replay/opt.wasm
  mv pkg/replay/opt.wasm pkg/replay/tlsferry_wasm_bg.wasm
fi

# The main module: the size-first profile (opt-level z, fat LTO, one codegen unit;
# Cargo.toml), without the replay kit.
cargo build -q --locked --profile wasm-release --target wasm32-unknown-unknown -p tlsferry-wasm \
  --no-default-features
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
  replay=pkg/replay/tlsferry_wasm_bg.wasm
  echo "replay/ (loaded on first replay()): $(stat -c %s "$replay")  gzip -9: $(gzip -9 -c "$replay" | wc -c)"
} | tee pkg/SIZES.txt
