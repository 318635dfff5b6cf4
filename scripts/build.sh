#!/usr/bin/env bash
# build.sh — configures and builds kiln into build/ (or $1), Release with -Werror.
# Extra arguments go to cmake, e.g. scripts/build.sh build-asan -DKN_SANITIZE=ON
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
