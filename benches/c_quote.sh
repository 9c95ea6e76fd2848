#!/usr/bin/env bash
# Quote latency through the C ABI (benches/c/quote_latency.c against the release library).
# Sizes: PB_BENCH_MEMBERS (default 100000), PB_BENCH_EVENTS (default 1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
members=${PB_BENCH_MEMBERS:-100000}
events=${PB_BENCH_EVENTS:-1000000}
out=target/bench-c
mkdir -p "$out"
cargo build -q --release --locked -p pointbook-ffi -p pointbook-cli
target/release/pointbook generate --members "$members" --events "$events" --seed 7 --out "$out/history.jsonl"
at=$(tail -n 1 "$out/history.jsonl" | sed -E 's/.*"at":"([^"]+)".*/\1/')
cc -O2 -std=c99 -Wall -Werror -Ibindings/c/include benches/c/quote_latency.c \
  -Ltarget/release -lpointbook -Wl,-rpath,"$PWD/target/release" -o "$out/quote_latency"
"$out/quote_latency" examples/programs/bean-and-leaf.toml "$out/history.jsonl" "$at" "$members"
