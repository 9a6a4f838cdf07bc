#!/usr/bin/env bash
# Idempotent installer of the build/test toolchain for a fresh Debian 12 machine.
# Installs only the packages that are missing; a fast no-op when all are present.
set -euo pipefail

PACKAGES=(g++ meson ninja-build pkg-config libasio-dev libcereal-dev libabsl-dev
          libboost-test-dev ccache libcaf-dev python3 redis-tools redis-server clang libclang-rt-14-dev)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "setup.sh: installing missing packages: ${missing[*]}"
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "setup.sh: not root and sudo is unavailable; install as root: ${missing[*]}" >&2
    exit 1
  fi
fi

"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  -o DPkg::Lock::Timeout=300 "${missing[@]}"
