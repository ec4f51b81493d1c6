#!/usr/bin/env bash
# The WebAssembly package, its JS API, the bridge path and the demo page:
#   1. builds the npm package (wasm/build.sh: release wasm, wasm-bindgen, wasm-opt -Oz)
#   2. wasm-bindgen-test unit tests of the bindings in Node, then in Chromium (chromedriver)
#   3. Node tests (node:test): connect() through `tlsferry bridge` and websockify to
#      openssl s_server and other loopback peers
#   4. the TypeScript types: tsc --strict --noEmit on a usage file
#   5. headless Chromium (playwright-core) on `tlsferry demo --web`
# Installs what it needs, idempotently: Debian chromium, chromium-driver, websockify,
# openssl; wasm-bindgen-cli at the crate's exact version; npm deps of wasm/ (npm ci).
# The bridge's own Rust tests (native/tests/bridge.rs) run in `cargo test --workspace`.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
# shellcheck source=tests/lib/install.sh
source tests/lib/install.sh

passed=0
failed=0
failures=()
part() {
  local name=$1
  shift
  local start=$SECONDS
  echo "--- 40-wasm: $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "--- 40-wasm: $name: ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "--- 40-wasm: $name: FAILED ($((SECONDS - start)) s)"
  fi
}

install() {
  apt_install openssl chromium chromium-driver websockify || return 1
  rustup_targets wasm32-unknown-unknown || return 1
  command -v node >/dev/null || apt_install nodejs npm || return 1
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || { echo "Node.js >= 20 needed, found $(node --version)"; return 1; }
  local wb
  wb=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
  if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | cut -d' ' -f2)" != "$wb" ]; then
    echo "installing wasm-bindgen-cli $wb (a few minutes, once)"
    # No --locked: the CLI's own lock file does not build with current Rust.
    cargo install -q wasm-bindgen-cli --version "$wb" || return 1
  fi
  if [ ! -d wasm/node_modules/playwright-core ] || [ ! -x wasm/node_modules/.bin/wasm-opt ] ||
    [ ! -x wasm/node_modules/.bin/tsc ] ||
    [ wasm/package-lock.json -nt wasm/node_modules/.package-lock.json ]; then
    (cd wasm && npm ci --no-audit --no-fund --loglevel=error) || return 1
  fi
}

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
export TLSFERRY_BIN="$TARGET_DIR/debug/tlsferry"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner

build() {
  cargo build -q --locked -p tlsferry --bin tlsferry || return 1
  wasm/build.sh
}

bindings_node() {
  cargo test --locked -p tlsferry-wasm --target wasm32-unknown-unknown --test bindings 2>&1 |
    grep -E "^test |test result|panicked|Error" | grep -v "^test .* ok$"
  return "${PIPESTATUS[0]}"
}

bindings_chromium() {
  WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver \
    cargo test --locked -p tlsferry-wasm --target wasm32-unknown-unknown --test bindings 2>&1 |
    grep -E "Running headless|test result|panicked|Error"
  return "${PIPESTATUS[0]}"
}

node_tests() {
  (cd wasm && node --experimental-websocket --test --test-reporter=spec test/*.test.mjs)
}

typecheck() {
  (cd wasm && npm run -s typecheck)
}

browser_tests() {
  (cd wasm && node --test --test-reporter=spec test/*.browser.mjs)
}

part "install" install || true
if [ "$failed" -gt 0 ]; then
  echo "40-wasm: cannot install prerequisites"
  exit 1
fi
part "build package and tlsferry" build
if [ "$failed" -eq 0 ]; then
  part "wasm-bindgen-test in Node" bindings_node
  part "wasm-bindgen-test in Chromium" bindings_chromium
  part "TypeScript types (tsc --noEmit on test/types-check.ts)" typecheck
  part "Node tests (bridge, websockify, openssl s_server)" node_tests
  part "Chromium: demo page" browser_tests
fi

[ "$failed" -gt 0 ] && printf '40-wasm failed part: %s\n' "${failures[@]}"
echo "40-wasm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
