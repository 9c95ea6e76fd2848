#!/usr/bin/env bash
# Python benchmark (benches/python_replay.py) against a release build of the wheel, installed
# into the project's .venv (scripts/test.sh puts the dev build back when it next runs).
# Usage: benches/python_replay.sh [EVENTS] [MEMBERS]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/maturin ]; then
  echo "run scripts/test.sh (or bindings/python/test.sh) first: it makes .venv" >&2
  exit 2
fi
rm -rf target/wheels-release
(cd bindings/python && ../../.venv/bin/maturin build --release --locked -o ../../target/wheels-release -q)
.venv/bin/python -m pip install -q --force-reinstall --no-deps target/wheels-release/pointbook-*.whl
.venv/bin/python benches/python_replay.py "$@"
