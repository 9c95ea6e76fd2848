#!/usr/bin/env bash
# Runs every fuzz target from its committed corpus, failing on any finding.
# Usage: fuzz/run.sh [SECONDS per target, default 20]
# With the nightly toolchain: coverage-guided runs of SECONDS each under AddressSanitizer
# (cargo-fuzz installed when missing). Without it (a machine with one toolchain): every
# committed input is replayed through a stable build of the targets, no new inputs tried.
# The committed corpus is read, not changed: new inputs go to a temporary directory (to grow
# the corpus, run `cargo fuzz run` by hand, then `cargo fuzz cmin`). One input running past
# 30 s is a finding (a hang), not a stall of the test command.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-20}"
targets="event_json program_text snapshot_restore event_stream c_abi snapshot_values"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: no nightly toolchain here: replaying the committed corpus of every target"
  cargo build --release --locked --quiet
  for target in $targets; do
    out="$(mktemp)"
    if ! "target/release/$target" -runs=0 "corpus/$target" >"$out" 2>&1; then
      tail -40 "$out"
      echo "fuzz: $target fails on a committed input"
      exit 1
    fi
    echo "fuzz: $target, $(ls "corpus/$target" | wc -l) committed inputs replayed, no finding"
    rm -f "$out"
  done
  exit 0
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
cargo +nightly fuzz build -O
for target in $targets; do
  out="$(mktemp)"
  grown="$(mktemp -d)"
  if ! cargo +nightly fuzz run -O "$target" "$grown" "corpus/$target" -- \
      -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -max_len=200000 >"$out" 2>&1; then
    tail -40 "$out"
    echo "fuzz: $target found a failure (input in fuzz/artifacts/$target/)"
    exit 1
  fi
  echo "fuzz: $target, $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$out" | tail -1), no finding"
  rm -rf "$out" "$grown"
done
