#!/usr/bin/env bash
# Builds the C library (or reuses an up-to-date build) and installs it under PREFIX:
#   lib/libpointbook.so.X.Y.Z  with lib/libpointbook.so.SONAME and lib/libpointbook.so links,
#   lib/libpointbook.a, include/pointbook.h, lib/pkgconfig/pointbook.pc and
#   lib/cmake/pointbook/ (for find_package(pointbook)).
# Usage: bindings/c/install.sh PREFIX [release|dev]
# The profile defaults to release (stripped libraries), or to $POINTBOOK_PROFILE when set (the
# test command installs its dev build this way when it runs the README's lines as written).
set -euo pipefail
prefix=${1:?usage: install.sh PREFIX [release|dev]}
profile=${2:-${POINTBOOK_PROFILE:-release}}
here="$(cd "$(dirname "$0")" && pwd -P)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
cargo build --locked --profile "$profile" -p pointbook-ffi
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
version=$(sed -n 's/^#define PB_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' "$here/include/pointbook.h" | paste -sd.)
# The SONAME build.rs gave the library: 0.MINOR while the version is 0.x, else MAJOR.
soname=libpointbook.so.$(echo "$version" | awk -F. '{ print ($1 == 0) ? "0." $2 : $1 }')
mkdir -p "$prefix/lib/pkgconfig" "$prefix/lib/cmake/pointbook" "$prefix/include"
prefix="$(cd "$prefix" && pwd)"
rm -f "$prefix/lib/libpointbook.so" "$prefix/lib/$soname" "$prefix/lib/libpointbook.so.$version"
cp "target/$dir/libpointbook.so" "$prefix/lib/libpointbook.so.$version"
ln -s "libpointbook.so.$version" "$prefix/lib/$soname"
ln -s "$soname" "$prefix/lib/libpointbook.so"
cp "target/$dir/libpointbook.a" "$prefix/lib/"
if [ "$profile" != dev ] && command -v strip >/dev/null; then
  # rustc strips the shared library (profile.release); the archive keeps the debug info of
  # the standard library's objects unless stripped here.
  strip --strip-debug "$prefix/lib/libpointbook.a"
fi
cp "$here/include/pointbook.h" "$prefix/include/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" "$here/pointbook.pc.in" > "$prefix/lib/pkgconfig/pointbook.pc"
cp "$here/cmake/pointbookConfig.cmake" "$prefix/lib/cmake/pointbook/"
sed -e "s|@VERSION@|$version|" "$here/cmake/pointbookConfigVersion.cmake.in" > "$prefix/lib/cmake/pointbook/pointbookConfigVersion.cmake"
echo "installed pointbook $version into $prefix"
