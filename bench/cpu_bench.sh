#!/usr/bin/env bash
# cpu_bench.sh — kiln's CPU backend against PyTorch on the same machine, in the same run: for
# Sample ResNet and ResNet50 at SIZE x SIZE, the training step at batch TRAIN_BATCH and inference at
# batch 1, both with THREADS threads; prints images/s, the ratio kiln / PyTorch, and kiln's
# compile time. Timings on a shared machine are noisy: run it twice.
#
# usage: bench/cpu_bench.sh [--kiln build/kiln] [--size 224] [--train-batch 8] [--threads N] [--iters 3]
set -euo pipefail
cd "$(dirname "$0")/.."
kiln=build/kiln size=224 tb=8 threads=$(nproc) iters=3
while [ $# -gt 0 ]; do
  case "$1" in
    --kiln) kiln=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --train-batch) tb=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$kiln" ] || scripts/build.sh >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rate() { sed -n 's/.*, \([0-9.]*\) images\/s.*/\1/p'; }
printf '| model | mode | batch | kiln img/s | PyTorch img/s | kiln / PyTorch | kiln compile s |\n|---|---|---|---|---|---|---|\n'
for m in sample_resnet:sample_resnet resnet50:resnet50_scratch; do
  tname=${m%%:*} spec=models/${m#*:}.yaml
  for mode in train_step forward; do
    b=$([ $mode = forward ] && echo 1 || echo "$tb")
    entry=$([ $mode = forward ] && echo forward || echo train)
    t0=$(date +%s.%N)
    "$kiln" compile "$spec" --batch "$b" --input "${size}x${size}" --entry=$entry -o "$tmp/m" >/dev/null
    ct=$(echo "$(date +%s.%N) - $t0" | bc)
    k=$("$tmp/m" bench $mode --iters="$iters" --threads="$threads" | rate)
    p=$(/usr/bin/python3 bench/torch_models.py "$tname" $mode "$b" "$size" "$threads" "$iters" | rate)
    printf '| %s | %s | %s | %.2f | %.2f | %.2f | %.1f |\n' "$tname" $mode "$b" "$k" "$p" "$(echo "$k / $p" | bc -l)" "$ct"
  done
done
