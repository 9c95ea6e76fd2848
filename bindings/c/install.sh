#!/usr/bin/env bash
# Builds the C library and installs it under PREFIX: lib/libpointbook.{so,a}, include/pointbook.h,
# lib/pkgconfig/pointbook.pc and lib/cmake/pointbook/ (for find_package(pointbook)).
# Usage: bindings/c/install.sh PREFIX [release|dev]
set -euo pipefail
prefix=${1:?usage: install.sh PREFIX [release|dev]}
profile=${2:-release}
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
cargo build --locked --profile "$profile" -p pointbook-ffi
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
version=$(sed -n 's/^#define PB_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' "$here/include/pointbook.h" | paste -sd.)
mkdir -p "$prefix/lib/pkgconfig" "$prefix/lib/cmake/pointbook" "$prefix/include"
prefix="$(cd "$prefix" && pwd)"
cp "target/$dir/libpointbook.so" "target/$dir/libpointbook.a" "$prefix/lib/"
cp "$here/include/pointbook.h" "$prefix/include/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" "$here/pointbook.pc.in" > "$prefix/lib/pkgconfig/pointbook.pc"
cp "$here/cmake/pointbookConfig.cmake" "$prefix/lib/cmake/pointbook/"
sed -e "s|@VERSION@|$version|" "$here/cmake/pointbookConfigVersion.cmake.in" > "$prefix/lib/cmake/pointbook/pointbookConfigVersion.cmake"
echo "installed pointbook $version into $prefix"
