#!/usr/bin/env bash
# Installs, on a fresh Debian machine, everything picklefs needs to build,
# run its examples and pass its tests. Idempotent: skips apt when every
# package is already present. Needs root (or sudo).
set -euo pipefail

PKGS=(
  build-essential pkg-config clang libclang-rt-14-dev llvm
  libfuse3-dev fuse3 zlib1g-dev libbz2-dev liblzma-dev libzstd-dev
  libpng-dev libcriterion-dev
  python3 python3-numpy python3-pandas python3-dill python3-sklearn
  libpython3.11-testsuite vim attr tree gzip bzip2 perl sed coreutils
  findutils grep time bc python3-hypothesis python3-joblib python3-pil
  xz-utils zstd python3-zstandard
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
