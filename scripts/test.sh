#!/usr/bin/env bash
# test.sh — the test command: builds kiln twice (Release, and ASan+UBSan) and runs the whole
# ctest suite in each. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build
scripts/build.sh build-asan -DKN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
jobs=$(nproc)
echo "== tests (Release)"
ctest --test-dir build --output-on-failure -j"$jobs"
echo "== tests (ASan+UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE slow
