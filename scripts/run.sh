#!/usr/bin/env bash
# The main job: builds the release tree `build` and runs the examples showcase.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

if [[ -z "${CXX:-}" ]] && command -v ccache >/dev/null 2>&1; then
  export CXX="ccache g++"
fi

if [[ -f build/meson-private/coredata.dat && -f build/build.ninja ]]; then
  :
elif [[ -f build/meson-private/coredata.dat ]]; then
  meson setup --wipe build --buildtype=release
else
  meson setup build --buildtype=release
fi
meson compile -C build -j "${THESPIAN_TEST_JOBS:-2}"

if [[ ! -x build/examples/showcase ]]; then
  echo "run.sh: build/examples/showcase does not exist (is -Dexamples=true and is it declared in examples/meson.build?)" >&2
  exit 1
fi
exec build/examples/showcase "$@"
