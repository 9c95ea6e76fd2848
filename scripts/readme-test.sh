#!/usr/bin/env bash
# Runs the READMEs as written: every shell block of README.md and bindings/c/README.md from a
# directory laid out like the root of a clone, the README's program file through
# `pointbook check`, its event lines through a replay (each one a well-formed event), each Rust
# block as the src/main.rs of a new crate, and the C README's example built with the C README's
# own link line. (The Python README runs in bindings/python/tests/test_readme.py.) A block
# marked `<!-- not run: why -->` in its README is skipped, with the reason printed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="$root/target/readme-test"
rm -rf "$work"
mkdir -p "$work/clone"
blocks() { python3 scripts/readme_blocks.py "$1" "$2" "$work/blocks/$3" >/dev/null; }

# The CLI as the Rust tests built it: a build of this package alone would pick other features
# for the shared dependencies and compile them all again (about 2 minutes).
mkdir -p target
cargo test -q --workspace --locked --no-run > target/cli-build.log 2>&1 || { cat target/cli-build.log; exit 1; }
export PATH="$root/target/debug:$PATH"
# The blocks run from the root of a clone: its folders, linked, and nothing else.
for d in bindings crates examples docs; do ln -s "$root/$d" "$work/clone/$d"; done

echo "--- README.md: shell"
blocks README.md sh readme
for f in "$work"/blocks/readme/*.sh; do
  # The bundled history has a rejected line on purpose: its report on stderr is kept, not shown.
  (cd "$work/clone" && bash -euo pipefail "$f" > "$f.out" 2> "$f.err") || { cat "$f.err"; exit 1; }
done
test -s "$work/clone/report.html"

echo "--- README.md: the program file and the event lines"
blocks README.md toml readme
pointbook check --program "$work/blocks/readme/01.toml" > /dev/null
blocks README.md json readme
pointbook replay --program examples/programs/bean-and-leaf.toml --events "$work/blocks/readme/01.json" \
  > /dev/null 2> "$work/events.err"
if grep -q invalid_event "$work/events.err"; then cat "$work/events.err"; exit 1; fi

echo "--- Rust: README.md and crates/pointbook/README.md, each the main.rs of a new crate"
crate="$work/crate"
mkdir -p "$crate/src/bin"
cat > "$crate/Cargo.toml" <<TOML
[package]
name = "readme"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
pointbook = { path = "$root/crates/pointbook" }

[workspace]
TOML
# The workspace's lock file: the same dependency versions, nothing fetched that is not there.
cp Cargo.lock "$crate/"
blocks README.md rust readme
blocks crates/pointbook/README.md rust core
cp "$work/blocks/readme/01.rust" "$crate/src/bin/readme.rs"
cp "$work/blocks/core/01.rust" "$crate/src/bin/core.rs"
export CARGO_TARGET_DIR="$root/target/readme-crate"
for bin in readme core; do
  (cd "$crate" && cargo run -q --bin "$bin")
done
unset CARGO_TARGET_DIR

echo "--- bindings/c/README.md: install, link line, run; the complete example with that line"
blocks bindings/c/README.md sh c
blocks bindings/c/README.md c c
export POINTBOOK_PROFILE=dev   # install.sh: the test command's debug build, not a release one
(cd "$work/clone" && bash -euo pipefail "$work/blocks/c/01.sh" > "$work/c.out" 2> "$work/c.err") ||
  { cat "$work/c.err"; exit 1; }
grep -q "balance" "$work/c.out"
# The complete example, built with the README's own link line (its source and output names
# swapped for the example's).
link=$(sed -n '/^cc /,/-o till$/p' "$work/blocks/c/01.sh" | tr -d '\\\n')
link=${link/examples\/c\/till.c/$work/blocks/c/01.c}
link=${link/-o till/-o $work/example}
(cd "$work/clone" && eval "$link")
"$work/example" | grep -q '"points":0'
echo "readmes: every block run or skipped with its reason"
