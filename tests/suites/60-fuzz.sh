#!/usr/bin/env bash
# Fuzz smoke run of the core: builds the cargo-fuzz targets in core/fuzz (their own
# workspace, nightly toolchain), seeds the corpora from real handshakes (generated PKI,
# nothing committed), runs each target for FUZZ_SECONDS (default 30) and fails on any
# crash, hang (-timeout) or memory blow-up (-rss_limit_mb). Leak detection is off: the
# deterministic provider of tlsferry_core::testing leaks a few hundred bytes per client
# by design (rustls wants 'static randomness); RSS stays bounded by -rss_limit_mb.
#
#   bash tests/suites/60-fuzz.sh                       # the CI smoke run
#   FUZZ_SECONDS=1800 bash tests/suites/60-fuzz.sh     # a long run
#   FUZZ_TARGETS="server_bytes" bash tests/suites/60-fuzz.sh
#
# Installs: the nightly toolchain (minimal) and cargo-fuzz, when missing.
# Crash inputs land in core/fuzz/artifacts/<target>/; replay one with
#   cd core && cargo +nightly fuzz run -O <target> fuzz/artifacts/<target>/<file>
# and turn it into a regression test in tests/tests/hostile.rs.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${QUICK:-0}" = 1 ]; then
  echo "fuzz smoke skipped (QUICK=1)"
  exit 0
fi
seconds=${FUZZ_SECONDS:-30}

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

targets=${FUZZ_TARGETS:-$(cd core && cargo +nightly fuzz list)}

echo "seeding corpora from real handshakes (the core's in-memory Pair) and the recorded transcripts"
# Built in the main workspace's dev profile, which cargo test has compiled already.
cargo run -q --locked -p tlsferry-tests --example fuzz_seeds -- core/fuzz/corpus

status=0
total=0
# The fuzz workspace keeps its own target dir (sanitizer flags must not leak elsewhere).
unset CARGO_TARGET_DIR
for t in $targets; do
  mkdir -p "core/fuzz/corpus/$t"
  log=$(mktemp "${TMPDIR:-/tmp}/fuzz-$t.XXXXXX")
  echo "fuzzing $t for $seconds s"
  if (cd core && ASAN_OPTIONS=detect_leaks=0 cargo +nightly fuzz run -O "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -max_len=131072 -timeout=20 -rss_limit_mb=2048 \
    -detect_leaks=0 -print_final_stats=1) >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "$t: ${runs:-?} executions, no crash"
    total=$((total + ${runs:-0}))
  else
    status=1
    echo "$t: FAILED (crash, hang or build error); last lines:"
    grep -v '^"' "$log" | tail -40
    ls "core/fuzz/artifacts/$t" 2>/dev/null | sed 's/^/  artifact: /'
  fi
  rm -f "$log"
done
echo "fuzz: $total executions in total"
exit $status
