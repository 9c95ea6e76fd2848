#!/usr/bin/env bash
# Runs every test of the project, in every language, installing what the tests need.
# Usage: scripts/test.sh        (from anywhere; works on a fresh machine with cargo)
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step prints the minutes since the start, so a CI log shows where the time goes.
step() { printf '\n==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "rust tests (unit, integration, property, doc)"
cargo test --workspace --locked

step "C API (sanitizers, valgrind, C++, pkg-config, CMake)"
bindings/c/test.sh

step "Python package (wheel in .venv, stubtest, pytest)"
bindings/python/test.sh

step "READMEs as written (shell, Rust in a new crate, C with the README's link line)"
scripts/readme-test.sh

step "HTML report in headless Chromium"
scripts/report-test.sh

step "fuzz (every target for 20 s from its committed corpus; a replay of it without nightly)"
fuzz/run.sh 20

echo
echo "all test suites passed in $((SECONDS / 60))m$((SECONDS % 60))s"
