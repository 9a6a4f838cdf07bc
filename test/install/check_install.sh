#!/usr/bin/env bash
# Installs the built library into a scratch prefix, then compiles api_examples_test.cpp as a
# program outside the project would: with `pkg-config --cflags --libs thespian` and nothing
# else of ours. Runs it with the Boost.Test arguments this script was given.
# Usage: check_install.sh <build dir> <source file> [boost test args...]
set -euo pipefail
build_dir=$1 source=$2
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/thespian-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

meson install -C "$build_dir" --no-rebuild --destdir "$work/root" --quiet >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; exit 1; }
pc=$(find "$work/root" -name thespian.pc -print -quit)
[[ -n $pc ]] || { echo "check_install: thespian.pc was not installed" >&2; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$work/root"
flags=$(pkg-config --cflags --libs thespian)
libdir=$(pkg-config --variable=libdir thespian)  # already under the sysroot
"${CXX_FOR_CHECK:-g++}" -O1 "$source" -o "$work/api_examples" $flags \
  -lboost_unit_test_framework -DBOOST_TEST_DYN_LINK -Wl,-rpath,"$libdir"
exec "$work/api_examples" "$@"
