#!/usr/bin/env bash
# The main job: builds the release tree `build`, runs the examples showcase, then the quick
# benchmark suite (`thespian bench --quick`: table on stdout, bench-results.json and
# bench-results.svg in build/; under a minute on 2 cores).
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
build/examples/showcase "$@"

if [[ ! -x build/src/cli/thespian ]]; then
  echo "run.sh: build/src/cli/thespian does not exist (src/cli/meson.build declares it)" >&2
  exit 1
fi
echo
echo "run.sh: benchmark suite (thespian bench --quick), results in build/bench-results.{json,svg}"
build/src/cli/thespian bench --quick --out build
