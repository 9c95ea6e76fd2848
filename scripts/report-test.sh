#!/usr/bin/env bash
# The HTML report in a real browser: `pointbook report` with a what-if comparison, opened in
# headless Chromium (installed here if missing); scripts/check_report.py asserts every chart
# and series rendered, no console output, nothing fetched.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  echo "installing chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -c "import PIL" 2>/dev/null || .venv/bin/pip install -q "pillow>=10"

out=target/report-test
mkdir -p "$out"
# The CLI as the Rust tests built it: a build of this package alone would pick other features
# for the shared dependencies and compile them all again (about 2 minutes).
mkdir -p target
cargo test -q --workspace --locked --no-run > target/cli-build.log 2>&1 || { cat target/cli-build.log; exit 1; }
pb=target/debug/pointbook
$pb generate --members 300 --events 6000 --seed 3 --out "$out/history.jsonl"
$pb report --program examples/programs/bean-and-leaf.toml \
  --compare examples/programs/bean-and-leaf-gold-250.toml \
  --events "$out/history.jsonl" --out "$out/report.html"
.venv/bin/python scripts/check_report.py "$out/report.html" \
  liability:available,pending,held points:available,pending,held flows:issued,redeemed,expired \
  tiers:green,gold compare:difference
