#!/usr/bin/env bash
# Builds the wheel into a project-local virtual environment (.venv, git-ignored), installs it,
# checks the stubs against the module, and runs the pytest suite with warnings as errors.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv"
cd "$root"

# Java for the Spark recipe test (pyspark runs a local JVM).
if ! command -v java >/dev/null; then
  echo "installing Java (headless) for the Spark tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -r "$here/requirements-test.txt"

rm -rf target/wheels
(cd "$here" && "$venv/bin/maturin" build --profile dev --locked -o "$root/target/wheels" -q)
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps target/wheels/pointbook-*.whl

# The CLI as the Rust tests built it: a build of this package alone would pick other features
# for the shared dependencies and compile them all again (about 2 minutes).
mkdir -p target
cargo test -q --workspace --locked --no-run > target/cli-build.log 2>&1 || { cat target/cli-build.log; exit 1; }
export POINTBOOK_CLI="$root/target/debug/pointbook"

echo "--- mypy stubtest and strict type check"
(cd /tmp && "$venv/bin/python" -m mypy.stubtest pointbook --mypy-config-file "$here/mypy.ini" --allowlist "$here/stubtest-allowlist.txt")
"$venv/bin/python" -m mypy --strict --config-file "$here/mypy.ini" "$here/python/pointbook"

echo "--- pytest"
(cd "$here" && "$venv/bin/python" -m pytest -q -W error --doctest-modules \
  "$venv/lib/python3"*/site-packages/pointbook/__init__.py tests)

echo "--- examples/python"
plots="$root/target/python-example"
rm -rf "$plots"
"$venv/bin/python" "$root/examples/python/liability_and_tiers.py" "$plots"
"$venv/bin/python" "$root/examples/python/what_if.py" "$plots"
"$venv/bin/python" "$root/examples/python/nightly_ingest.py" "$plots/nightly.pointbook"
for f in liability.png tier_mix.png what_if.png; do
  [ -s "$plots/$f" ] || { echo "examples/python did not write $f"; exit 1; }
done
echo "python examples: 3 passed, 0 failed"
