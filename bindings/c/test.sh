#!/usr/bin/env bash
# Builds the C library and runs the C tests: under AddressSanitizer + UBSan, then under
# valgrind (zero leaks), the header as C99 and C++, the offline-till restart, and the till
# example linked through pkg-config and through CMake's find_package.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
out="$root/target/c-tests"
mkdir -p "$out"

# Tools the tests need; install them when missing (root on CI machines).
need=()
command -v valgrind >/dev/null || need+=(valgrind)
command -v cmake >/dev/null || need+=(cmake)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v g++ >/dev/null || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

prefix="$out/prefix"
"$here/install.sh" "$prefix" dev >/dev/null
lib="$prefix/lib/libpointbook.a"
inc="-I$prefix/include -I$here/tests"
warn="-Wall -Wextra -Werror -pedantic"
libs="-lpthread -ldl -lm"

echo "--- header compiles as C99 and C++"
echo '#include "pointbook.h"' | gcc -std=c99 $warn -I"$prefix/include" -x c -fsyntax-only -
g++ -std=c++11 $warn $inc "$here/tests/header_cpp.cpp" "$lib" $libs -o "$out/header_cpp"
"$out/header_cpp"

for t in test_api test_offline test_store; do
  gcc -std=c99 -g $warn $inc -fsanitize=address,undefined -fno-omit-frame-pointer \
    "$here/tests/$t.c" "$lib" $libs -o "$out/$t-asan"
  gcc -std=c99 -g $warn $inc "$here/tests/$t.c" "$lib" $libs -o "$out/$t"
done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
echo "--- sanitizers"
"$out/test_api-asan" "$root"
"$out/test_offline-asan" save "$out/offline.snapshot" "$root"
"$out/test_offline-asan" resume "$out/offline.snapshot" "$root"
mkdir -p "$out/store-asan" "$out/store-vg"
"$out/test_store-asan" "$root" "$out/store-asan"

echo "--- valgrind"
vg="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=1"
$vg "$out/test_api" "$root"
$vg "$out/test_offline" save "$out/offline.snapshot" "$root"
$vg "$out/test_offline" resume "$out/offline.snapshot" "$root"
$vg "$out/test_store" "$root" "$out/store-vg"

echo "--- till example, linked via pkg-config (shared library)"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
gcc -std=c99 $warn "$root/examples/c/till.c" $(pkg-config --cflags --libs pointbook) -o "$out/till"
rm -f "$out"/till.pointbook* "$out"/till2.pointbook*
LD_LIBRARY_PATH="$prefix/lib" "$out/till" "$root/examples/programs/bean-and-leaf.toml" "$out/till.pointbook" > "$out/till.out"
cat "$out/till.out"

echo "--- till example, linked via CMake find_package (static library)"
cmake -S "$here/tests/cmake" -B "$out/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DTILL_SOURCE="$root/examples/c/till.c" -DCMAKE_C_FLAGS="$warn" >/dev/null
cmake --build "$out/cmake" >/dev/null
"$out/cmake/till" "$root/examples/programs/bean-and-leaf.toml" "$out/till2.pointbook" > "$out/till2.out"
cmp "$out/till.out" "$out/till2.out"
# A restarted till sends its queue again: every event is answered as already recorded, and
# the balance is the same.
"$out/cmake/till" "$root/examples/programs/bean-and-leaf.toml" "$out/till2.pointbook" > "$out/till3.out"
test "$(grep -c 'already recorded' "$out/till3.out")" -eq 6
test "$(grep balance "$out/till.out")" = "$(grep balance "$out/till3.out")"
echo "c: 1 passed, 0 failed"
