#!/usr/bin/env bash
# Runs every fuzz target for a short while from its committed corpus, failing on any finding.
# Usage: fuzz/run.sh [SECONDS per target, default 20]
# Installs cargo-fuzz if missing; needs the nightly toolchain (`rustup toolchain install
# nightly`). The committed corpus is read, not changed: new inputs go to a temporary
# directory (to grow the corpus, run `cargo fuzz run` by hand, then `cargo fuzz cmin`).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-20}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
cargo +nightly fuzz build -O
for target in event_json program_text snapshot_restore event_stream; do
  out="$(mktemp)"
  grown="$(mktemp -d)"
  if ! cargo +nightly fuzz run -O "$target" "$grown" "corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=200000 >"$out" 2>&1; then
    tail -40 "$out"
    echo "fuzz: $target found a failure (input in fuzz/artifacts/$target/)"
    exit 1
  fi
  echo "fuzz: $target, $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$out" | tail -1), no finding"
  rm -rf "$out" "$grown"
done
