#!/usr/bin/env bash
# The WebAssembly package, its JS API, the bridge path, bundlers and the demo page:
#   1. builds the npm package once (wasm/build.sh: release wasm, wasm-bindgen, wasm-opt -Oz;
#      skipped while wasm/pkg/.stamp matches the sources, so 50-edge reuses it) and the CLI
#   2. wasm-bindgen-test unit tests of the bindings in Node (with the Pair's golden wire
#      digest), then in Chromium (chromedriver)
#   3. the TypeScript types: tsc --strict --noEmit on usage files (Node, and browser-only)
#   4. Node tests (node:test, wasm/test/*.test.mjs): connect() through `tlsferry bridge`,
#      websockify and a tlsferry.v1 bridge (the mock in wasm/test/mock-bridge.mjs until
#      `tlsferry bridge` answers tlsferry.v1) to openssl s_server and Python servers; the
#      lifecycle rules, STARTTLS, Node transports, the slow-reader memory bound, the timer
#      clock, session resumption and keying-material exporters against openssl s_server,
#      verifyChain() on openssl-made chains, npm pack's contents and the export conditions
#   5. headless Chromium (playwright-core): `tlsferry demo --web`, and pages built with Vite
#      and esbuild from the packed package (wasm/test/*.browser.mjs)
# Installs what it needs, idempotently: Debian chromium, chromium-driver, websockify,
# openssl, python3; wasm-bindgen-cli at the crate's exact version; npm deps of wasm/ (npm ci
# when wasm/package-lock.json changed). QUICK=1 (tests/run --quick) skips the Chromium parts.
# The bridge's own Rust tests run in `cargo test --workspace`.
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
  apt_install openssl python3 chromium chromium-driver websockify || return 1
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
  # npm ci only when the lock file changed since the last install.
  local stamp=wasm/node_modules/.tlsferry-lock.sha256 want
  want=$(sha256sum wasm/package-lock.json | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x wasm/node_modules/.bin/tsc ]; then
    (cd wasm && npm ci --no-audit --no-fund --loglevel=error) || return 1
    echo "$want" >"$stamp"
  fi
}

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
export TLSFERRY_BIN="$TARGET_DIR/debug/tlsferry"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner

build() {
  cargo build -q --locked -p tlsferry-cli --bin tlsferry || return 1
  wasm/build.sh
}

bindings_node() {
  # bindings: the JS bindings; pair_golden: the in-memory Pair's wire digest in wasm
  # equals the native golden (tests/data/pair-golden.txt).
  cargo test --locked -p tlsferry-wasm --target wasm32-unknown-unknown --test bindings --test pair_golden 2>&1 |
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
  (cd wasm && node --experimental-websocket --test --test-timeout=300000 --test-reporter=spec test/*.test.mjs)
}

typecheck() {
  (cd wasm && npm run -s typecheck)
}

browser_tests() {
  (cd wasm && node --test --test-timeout=300000 --test-reporter=spec test/*.browser.mjs)
}

part "install" install || true
if [ "$failed" -gt 0 ]; then
  echo "40-wasm: cannot install prerequisites"
  exit 1
fi
part "build package and tlsferry" build
if [ "$failed" -eq 0 ]; then
  part "wasm-bindgen-test in Node (bindings, pair_golden)" bindings_node
  [ "${QUICK:-0}" = 1 ] || part "wasm-bindgen-test in Chromium" bindings_chromium
  part "TypeScript types (tsc --noEmit on test/types-check.ts, test/types-browser.ts)" typecheck
  part "Node tests (bridges, lifecycle, STARTTLS, memory, resumption, exporters, verifyChain, package)" node_tests
  [ "${QUICK:-0}" = 1 ] || part "Chromium: demo page, Vite and esbuild pages" browser_tests
fi

[ "$failed" -gt 0 ] && printf '40-wasm failed part: %s\n' "${failures[@]}"
echo "40-wasm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
