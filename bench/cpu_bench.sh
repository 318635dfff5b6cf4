#!/usr/bin/env bash
# cpu_bench.sh — kiln's CPU backend against PyTorch on the same machine, in the same run: for
# Sample ResNet and ResNet50 at SIZE x SIZE, the training step at batch TRAIN_BATCH and inference at
# batch 1, both with THREADS threads. Each model/mode is compiled once, then kiln and PyTorch are
# timed alternately for ROUNDS rounds (kiln, PyTorch, kiln, PyTorch, ...); the table gives the
# best round of each (the least disturbed by other work on a shared machine), the ratio
# kiln / PyTorch of those, and the 1-minute load average before and after the row. Every round's
# numbers go to stderr.
#
# usage: bench/cpu_bench.sh [--kiln build/kiln] [--size 224] [--train-batch 32] [--threads N]
#                           [--iters 3] [--rounds 2] [--models sample_resnet,resnet50]
#                           [--modes train_step,forward]
set -euo pipefail
cd "$(dirname "$0")/.."
kiln=build/kiln size=224 tb=32 threads=$(nproc) iters=3 rounds=2
models=sample_resnet,resnet50 modes=train_step,forward
while [ $# -gt 0 ]; do
  case "$1" in
    --kiln) kiln=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --train-batch) tb=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$kiln" ] || scripts/build.sh >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rate() { sed -n 's/.*, \([0-9.]*\) images\/s.*/\1/p'; }
load() { cut -d' ' -f1 /proc/loadavg; }
best() { printf '%s\n' "$@" | sort -g | tail -1; }
spec_of() { case "$1" in resnet50) echo models/resnet50_scratch.yaml ;; *) echo "models/$1.yaml" ;; esac; }
echo "$(nproc) CPUs, $threads threads, input ${size}x${size}, $iters iterations per timing, $rounds rounds; $(date -u '+%F %H:%M UTC')"
printf '| model | mode | batch | kiln img/s | PyTorch img/s | kiln / PyTorch | load before/after | kiln compile s |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for tname in ${models//,/ }; do
  spec=$(spec_of "$tname")
  for mode in ${modes//,/ }; do
    b=$([ "$mode" = forward ] && echo 1 || echo "$tb")
    entry=$([ "$mode" = forward ] && echo forward || echo train)
    t0=$(date +%s.%N)
    "$kiln" compile "$spec" --batch "$b" --input "${size}x${size}" --entry=$entry -o "$tmp/m" >/dev/null
    ct=$(echo "$(date +%s.%N) - $t0" | bc)
    l0=$(load) ks=() ps=()
    for ((r = 1; r <= rounds; r++)); do
      k=$("$tmp/m" bench "$mode" --iters="$iters" --threads="$threads" | rate)
      p=$(/usr/bin/python3 bench/torch_models.py "$tname" "$mode" "$b" "$size" "$threads" "$iters" | rate)
      echo "round $r: $tname $mode batch $b: kiln $k, PyTorch $p images/s (load $(load))" >&2
      ks+=("$k") ps+=("$p")
    done
    k=$(best "${ks[@]}") p=$(best "${ps[@]}")
    printf '| %s | %s | %s | %.2f | %.2f | %.2f | %s/%s | %.1f |\n' "$tname" "$mode" "$b" "$k" "$p" \
      "$(echo "$k / $p" | bc -l)" "$l0" "$(load)" "$ct"
  done
done
