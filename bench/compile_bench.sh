#!/usr/bin/env bash
# compile_bench.sh — how long `kiln compile` takes (issue 16, docs/performance.md): for every
# model spec given (default: the seed specs in models/), a cold compile into an empty kernel cache,
# a warm compile of the same spec (every kernel from the cache), and warm compiles with one pass
# flag changed (each flag of FLAGS: a different graph, so only the changed kernels compile). Each
# row gives wall and CPU seconds (CPU time counts every thread; on a shared machine it is the
# steadier number) and the cache hits; `uptime` before and after. With --phases, the cold
# compile's --time-report of each spec follows the table.
#
# usage: bench/compile_bench.sh [--kiln PATH] [--batch N] [-j N] [--phases] [--flag FLAG]... [MODEL.yaml...]
# Defaults: build/kiln, --batch 16, one thread per CPU, flags --disable-pass=inplace and
# --disable-pass=epilogue_bwd. The cache is a temporary XDG_CACHE_HOME, never the user's.
set -euo pipefail

kiln=${KILN:-build/kiln}
batch=16
jobs=""
phases=0
flags=()
models=()
while [ $# -gt 0 ]; do
  case $1 in
    --kiln) kiln=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    -j) jobs="-j$2"; shift 2 ;;
    --phases) phases=1; shift ;;
    --flag) flags+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
[ ${#flags[@]} -gt 0 ] || flags=(--disable-pass=inplace --disable-pass=epilogue_bwd)
[ ${#models[@]} -gt 0 ] || models=(models/*.yaml)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache

# run NAME SPEC FLAGS...: one compile; prints "wall cpu compiled cached" from its --time-report.
run() {
  local log=$tmp/$1.log spec=$2
  shift 2
  "$kiln" compile "$spec" --batch "$batch" $jobs -o "$tmp/exe" --time-report "$@" 2> "$log" || { cat "$log" >&2; exit 1; }
  local wc cpu n
  wc=$(sed -n 's/.*whole command so far: \([0-9.]*\) s wall, \([0-9.]*\) s CPU.*/\1 \2/p' "$log")
  n=$(sed -n 's/.*kernels: \([0-9]*\) compiled, \([0-9]*\) from the cache.*/\1 \2/p' "$log")
  echo "$wc $n"
}

echo "kiln compile --batch $batch $jobs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
echo "load before: $(uptime | sed 's/.*load average: //')"
echo
echo "| spec | compile | wall s | CPU s | kernels compiled | from cache |"
echo "|---|---|---:|---:|---:|---:|"
for m in "${models[@]}"; do
  name=$(basename "$m" .yaml)
  rm -rf "$XDG_CACHE_HOME"
  read -r w c k h < <(run "$name.cold" "$m")
  cp "$tmp/$name.cold.log" "$tmp/$name.phases"
  echo "| $name | cold | $w | $c | $k | $h |"
  read -r w c k h < <(run "$name.warm" "$m")
  echo "| $name | warm, unchanged | $w | $c | $k | $h |"
  for f in "${flags[@]}"; do
    read -r w c k h < <(run "$name.flag" "$m" "$f")
    echo "| $name | warm, $f | $w | $c | $k | $h |"
  done
done
echo
echo "load after: $(uptime | sed 's/.*load average: //')"
if [ $phases = 1 ]; then
  for m in "${models[@]}"; do
    name=$(basename "$m" .yaml)
    echo
    echo "$name, cold:"
    echo '```'
    sed -n '/time report/,$p' "$tmp/$name.phases"
    echo '```'
  done
fi
