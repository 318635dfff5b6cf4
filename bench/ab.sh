#!/usr/bin/env bash
# ab.sh — A/B comparison of two kiln compile configurations on the same model(s) (docs/fusion.md,
# "A/B runs"): compiles each configuration with --profile (training step at the spec's or
# --batch's batch, inference at batch 1), then alternates A and B for R rounds (A B, then B A, ...)
# so that drift and other users' load hit both alike. Prints, per model, a Markdown table in the
# format of bench/fusion_bench.sh: kernels and calls of the training step, the median ms per step,
# the speed-up A/B as the median of the per-round ratios with their range, the median process CPU
# ms per step; then, per entry, the per-kernel difference from the profiles (bench/ab_diff.py:
# kernels matched through their member nodes). `uptime` goes to stderr before and after.
#
# usage: bench/ab.sh --a='FLAGS' --b='FLAGS' [--rounds R] [--iters N] [--batch N] [--input HxW]
#                    [--entry both|train|forward] [--top K] [--kiln PATH] [--keep DIR] MODEL.yaml...
# FLAGS are kiln compile flags; `--disable-pass=all` stands for every pass of this kiln (the
# no-graph-pass build). Defaults: 5 rounds, 3 iterations, both entries, the 12 largest differences.
# The timers of --profile cost two clock reads per kernel call (~0.05 % of a ResNet50 step).
set -euo pipefail
here=$(dirname "$0")
. "$here/bench_lib.sh"

kiln=${KILN:-build/kiln}
iters=3
rounds=5
entry=both
top=12
keep=
cfg_a=
cfg_b=
spec_opts=()
models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --a=*) cfg_a=${1#--a=}; shift ;;
    --b=*) cfg_b=${1#--b=}; shift ;;
    --a|--b) [ "$1" = --a ] && cfg_a=$2 || cfg_b=$2; shift 2 ;;
    --kiln) kiln=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --entry) entry=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --batch|--input) spec_opts+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "$0: unknown option '$1' (--help)" >&2; exit 2 ;;
    *) models+=("$1"); shift ;;
  esac
done
[ ${#models[@]} -gt 0 ] && [ -n "$cfg_a" ] && [ -n "$cfg_b" ] ||
  { echo "usage: $0 --a='FLAGS' --b='FLAGS' [options] MODEL.yaml... (--help)" >&2; exit 2; }
case $entry in both|train|forward) ;; *) echo "$0: --entry both, train or forward" >&2; exit 2 ;; esac
[ -x "$kiln" ] || { echo "$0: no kiln at '$kiln' (build first, or --kiln PATH)" >&2; exit 1; }
passes=$("$kiln" compile --help | sed -n 's/^passes: //p')
all=${passes// /,}
cfg_a=${cfg_a//--disable-pass=all/--disable-pass=$all}
cfg_b=${cfg_b//--disable-pass=all/--disable-pass=$all}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=${keep:-$tmp}
mkdir -p "$out"
kinds=()
[ "$entry" != forward ] && kinds+=(train)
[ "$entry" != train ] && kinds+=(infer)

# run EXE ENTRY CSV: one bench run; appends wall and CPU ms per step to CSV.wall / CSV.cpu.
run() {
  "$1" bench "$2" --iters="$iters" --profile=csv "$3" >/dev/null
  awk -F, '$2 == "(step)" {printf "%.3f\n", $5 / 1e6 / $4}' "$3" >>"${3%.*}.wall"
  awk -F, '$2 == "(step_cpu)" {printf "%.3f\n", $5 / 1e6 / $4}' "$3" >>"${3%.*}.cpu"
}

echo "uptime before: $(uptime)" >&2
for model in "${models[@]}"; do
  name=$(basename "$model" .yaml)
  for s in a b; do
    flags=$([ $s = a ] && echo "$cfg_a" || echo "$cfg_b")
    for k in "${kinds[@]}"; do
      if [ "$k" = train ]; then extra=(--entry=train); ent=train_step; else extra=(--batch 1 --entry=forward); ent=forward; fi
      # shellcheck disable=SC2086
      if ! "$kiln" compile $flags --profile --stats "${spec_opts[@]}" "${extra[@]}" "$model" -o "$tmp/$name.$s.$k" \
          2>"$out/$name.$s.$k.stats"; then
        echo "$0: compile failed: $flags ($k)" >&2
        sed 's/^/    /' "$out/$name.$s.$k.stats" >&2
        exit 1
      fi
    done
  done
  for r in $(seq 1 "$rounds"); do
    order=$([ $((r % 2)) = 1 ] && echo "a b" || echo "b a")
    for s in $order; do
      for k in "${kinds[@]}"; do
        ent=$([ "$k" = train ] && echo train_step || echo forward)
        run "$tmp/$name.$s.$k" "$ent" "$out/$name.$s.$k.r$r.csv"
      done
    done
  done
  echo
  echo "$name: A = \`$cfg_a\`, B = \`$cfg_b\`, $rounds alternated rounds of $iters iterations, wall time (CPU: process CPU time, all threads)"
  echo
  echo "| model | configuration | kernels (train) | calls (train) | train step ms | speed-up [range] | train CPU ms | inference ms (batch 1) | speed-up [range] | inference CPU ms |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for s in a b; do
    flags=$([ $s = a ] && echo "$cfg_a" || echo "$cfg_b")
    st=$out/$name.$s.train.stats
    line="| $name | \`$flags\` |"
    if [ -f "$st" ]; then
      line+=" $(awk '$1 == "total" {print $7}' "$st" | tail -1) | $(sed -n 's/.*entry train_step .* \([0-9]*\) calls.*/\1/p' "$st") |"
    else line+=" - | - |"; fi
    for k in train infer; do
      if [[ " ${kinds[*]} " != *" $k "* ]]; then line+=" - | - | - |"; continue; fi
      cat "$out/$name.$s.$k".r*.wall >"$tmp/$s.$k.wall"
      cat "$out/$name.$s.$k".r*.cpu >"$tmp/$s.$k.cpu"
      if [ $s = a ]; then sp="1.000x"; else sp="$(ratio_list "$tmp/a.$k.wall" "$tmp/b.$k.wall" | median | xargs printf %.3f)x $(ratio_range "$tmp/a.$k.wall" "$tmp/b.$k.wall")"; fi
      line+=" $(median <"$tmp/$s.$k.wall") | $sp | $(median <"$tmp/$s.$k.cpu") |"
    done
    echo "$line"
  done
  for k in "${kinds[@]}"; do
    echo
    echo "$name $([ "$k" = train ] && echo train_step || echo forward): per-kernel difference (median ms per step over rounds)"
    echo
    python3 "$here/ab_diff.py" --top "$top" "$out/$name.a.$k".r*.csv -- "$out/$name.b.$k".r*.csv
  done
done
echo "uptime after: $(uptime)" >&2
