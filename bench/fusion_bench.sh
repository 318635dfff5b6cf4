#!/usr/bin/env bash
# fusion_bench.sh — measures what the graph passes (and the CPU backend's fused kernel groups) are
# worth: compiles a model spec at -O0, with no graph pass at LLVM -O2 (the fair baseline: -O also
# sets LLVM's level), at -O2, and (with --per-pass) at -O2 with each pass disabled in turn
# (kiln compile --disable-pass=X); then times the training step and batch-1 inference with the
# executable's `bench` command. Runs alternate between configurations, ROUNDS times, and the
# table reports the median of the rounds, so that load from other users of a shared machine hits
# every configuration alike, and the speed-up over the no-pass build as the median of the
# per-round ratios; `uptime` is printed before and after. Prints a Markdown table
# (docs/fusion.md).
#
# usage: bench/fusion_bench.sh [--kiln PATH] [--iters N] [--rounds R] [--batch N] [--input HxW]
#                              [--per-pass] [--no-O0] [--cpu-time] [--config FLAGS]... MODEL.yaml...
# --config FLAGS: one more configuration (kiln compile flags, e.g. "-O2 --bn-stats=all").
# The speed-up columns give the median of the per-round ratios and, in brackets, their range.
# --cpu-time: report CPU time per iteration (perf stat task-clock of a 3-iteration run minus a
# 1-iteration run, halved) instead of wall time: far less sensitive to other users' load; use it
# with KILN_THREADS=1 (with more threads it also counts the pool's waiting).
set -euo pipefail

kiln=${KILN:-build/kiln}
iters=3
rounds=3
per_pass=0
with_o0=1
cpu_time=0
spec_opts=()
extra=()
models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --kiln) kiln=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --per-pass) per_pass=1; shift ;;
    --no-O0) with_o0=0; shift ;;
    --cpu-time) cpu_time=1; shift ;;
    --batch|--input) spec_opts+=("$1" "$2"); shift 2 ;;
    --config) extra+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
[ ${#models[@]} -gt 0 ] || { echo "usage: $0 [options] MODEL.yaml... (--help)" >&2; exit 2; }
[ -x "$kiln" ] || { echo "$0: no kiln at '$kiln' (build first, or --kiln PATH)" >&2; exit 1; }

passes=$("$kiln" compile --help | sed -n 's/^passes: //p')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ms per iteration of ENTRY for an executable ("... 0.823 ms/iter ...").
ms_wall() { "$1" bench "$2" --iters="$iters" 2>&1 | sed -n 's/.* \([0-9.]*\) ms\/iter.*/\1/p' | tail -1; }
task_ms() { perf stat -x, -e task-clock "$1" bench "$2" --iters="$3" 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}'; }
ms_cpu() { local a b; a=$(task_ms "$1" "$2" 1); b=$(task_ms "$1" "$2" 3); awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f\n", (b - a) / 2}'; }
ms() { if [ "$cpu_time" = 1 ]; then ms_cpu "$@"; else ms_wall "$@"; fi; }
# Per-round ratios no-pass time / configuration I's time, for KIND (train or infer) of model
# $name, and their range. (Times are kept per model: before 2026-11-28 they were appended to one
# file per configuration, so a second model's medians and ratios mixed in the first model's.)
. "$(dirname "$0")/bench_lib.sh"
ratios() { ratio_list "$tmp/$name.$1.$base" "$tmp/$name.$1.$2"; }
range() { ratio_range "$tmp/$name.$1.$base" "$tmp/$name.$1.$2"; }

echo "uptime before: $(uptime)" >&2
unit=$([ "$cpu_time" = 1 ] && echo "CPU ms" || echo "ms")
echo "| model | configuration | kernels (train) | calls (train) | train step $unit | speed-up | inference $unit (batch 1) | speed-up |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for model in "${models[@]}"; do
  name=$(basename "$model" .yaml)
  configs=()
  [ "$with_o0" = 1 ] && configs+=("-O0")
  configs+=("-O2 --disable-pass=${passes// /,}" "-O2")
  if [ "$per_pass" = 1 ]; then for p in $passes; do configs+=("-O2 --disable-pass=$p"); done; fi
  for c in "${extra[@]}"; do configs+=("$c"); done
  n=${#configs[@]}
  base=$([ "$with_o0" = 1 ] && echo 1 || echo 0) # the no-graph-pass configuration
  for i in $(seq 0 $((n - 1))); do
    # shellcheck disable=SC2086
    if ! "$kiln" compile ${configs[$i]} --stats "${spec_opts[@]}" --entry=train "$model" -o "$tmp/$name.$i.train" \
        2> "$tmp/log.$i" ||
       ! "$kiln" compile ${configs[$i]} "${spec_opts[@]}" --batch 1 --entry=forward "$model" -o "$tmp/$name.$i.infer" \
        2> "$tmp/log1.$i"; then
      echo "compile failed: ${configs[$i]}" >&2; cat "$tmp/log.$i" "$tmp/log1.$i" | sed 's/^/    /' >&2
      rm -f "$tmp/$name.$i.train"
    fi
  done
  for r in $(seq 1 "$rounds"); do
    for i in $(seq 0 $((n - 1))); do
      [ -x "$tmp/$name.$i.train" ] || continue
      ms "$tmp/$name.$i.train" train_step >> "$tmp/$name.train.$i"
      ms "$tmp/$name.$i.infer" forward >> "$tmp/$name.infer.$i"
    done
  done
  for i in $(seq 0 $((n - 1))); do
    [ -x "$tmp/$name.$i.train" ] || { echo "| $name | \`${configs[$i]}\` | compile failed | | | |"; continue; }
    kernels=$(awk '$1=="total" {print $7}' "$tmp/log.$i" | tail -1)
    calls=$(sed -n 's/.*entry train_step .* \([0-9]*\) calls.*/\1/p' "$tmp/log.$i")
    # speed-up: median over rounds of (no-pass time / this time) in the same round, robust to drift.
    st=$(ratios train "$i" | median)
    si=$(ratios infer "$i" | median)
    echo "| $name | \`${configs[$i]}\` | ${kernels:-?} | ${calls:-?} | $(median < "$tmp/$name.train.$i") | ${st}x $(range train "$i") | $(median < "$tmp/$name.infer.$i") | ${si}x $(range infer "$i") |"
  done
done
echo "uptime after: $(uptime)" >&2
