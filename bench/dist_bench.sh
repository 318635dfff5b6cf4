#!/usr/bin/env bash
# dist_bench.sh — data-parallel training on this machine (docs/distributed.md): the Sample ResNet
# (README's main job, 32x32) trained for one epoch of LIMIT synthetic images as
#   A  1 rank  x 2 threads, batch GB          (the single-process baseline)
#   B  2 ranks x 1 thread,  batch GB/2 each   (same global batch, mpirun on localhost)
#   C  1 rank  x 1 thread,  batch GB/2        (the compute of one rank of B, alone)
# with wall time, images/s and process CPU time (user + sys of the whole job) for each, the
# gradient all-reduce's time in flight and the updates' waits in B (the overlap with the backward
# pass), the all-reduce alone (bench/dist_allreduce.c, same gradient size and buckets), and a
# projected scaling table for N machines: step(N) = C's step + (1 - overlap) x allreduce(N), with
# a ring all-reduce over a LINK_GBIT network, 2 (N - 1) / N x bytes / bandwidth + 2 (N - 1) x 50 us.
# Prints the load average before and after: on a shared machine the numbers move with it.
#
# usage: bench/dist_bench.sh [--kiln build/kiln] [--batch 32] [--limit 2048] [--bucket-kb 256]
#                            [--link-gbit 10] [--out build/dist-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
kiln=build/kiln gb=32 limit=2048 bucket_kb=256 link=10 out=build/dist-bench
while [ $# -gt 0 ]; do
  case "$1" in
    --kiln) kiln=$2; shift 2 ;;
    --batch) gb=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --bucket-kb) bucket_kb=$2; shift 2 ;;
    --link-gbit) link=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v mpirun >/dev/null || { echo "dist_bench: mpirun not found (scripts/deps.sh installs Open MPI)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$out"
hb=$((gb / 2))
cc -O2 -std=c11 -Iruntime -Iruntime/exe bench/dist_allreduce.c runtime/exe/kn_dist.c runtime/exe/kn_mpi.c runtime/kn_error.c \
  -ldl -o "$out/dist_allreduce"
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
"$kiln" compile models/sample_resnet.yaml --input 32x32 --batch "$gb" --bucket-kb="$bucket_kb" -o "$out/m$gb" >/dev/null
"$kiln" compile models/sample_resnet.yaml --input 32x32 --batch "$hb" --bucket-kb="$bucket_kb" -o "$out/m$hb" >/dev/null
params=$("$kiln" check models/sample_resnet.yaml | sed -n 's/^Trainable params *//p' | tr -d ,)
args="train --epochs 1 --limit $limit --test-limit $gb --quiet --seed 1"

# run NAME CMD...: the job's wall, user and sys seconds, and its epoch's training seconds
run() {
  local name=$1; shift
  rm -rf "$out/$name"
  /usr/bin/time -f "%e %U %S" -o "$out/$name.time" "$@" --out "$out/$name" > "$out/$name.log" 2>&1
  local t; t=$(cat "$out/$name.time")
  local epoch; epoch=$(tail -1 "$out/$name/metrics.csv" | awk -F, '{print $NF}')
  echo "$name $t $epoch"
}
A=$(run A "$out/m$gb" $args --threads 2)
B=$(run B mpirun -np 2 "$out/m$hb" $args --threads 1)
C=$(run C "$out/m$hb" $args --threads 1)
steps_a=$(( (limit + gb - 1) / gb ))
ar=$(mpirun -np 2 "$out/dist_allreduce" "$params" "$(awk -v k="$bucket_kb" 'BEGIN { print k / 1024 }')" 30 2>/dev/null || true)
overlap=$(sed -n 's/.*(\([0-9]*\) % overlapped.*/\1/p' "$out/B.log")
flight=$(sed -n 's/.*in flight \([0-9.]*\) s, of which the update waited \([0-9.]*\) s.*/\1 \2/p' "$out/B.log")
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Sample ResNet 32x32, $limit synthetic images, global batch $gb, $steps_a steps; gradient $params floats ($(awk -v p="$params" 'BEGIN { printf "%.2f", p * 4 / 1e6 }') MB) in buckets of $bucket_kb KB"
echo
echo "| configuration | epoch (training) s | images/s | job wall s | job CPU s (user+sys) |"
echo "|---|---|---|---|---|"
for r in "$A" "$B" "$C"; do
  set -- $r
  case $1 in A) what="1 rank x 2 threads, batch $gb" ;; B) what="2 ranks x 1 thread, batch $hb each (mpirun)" ;; C) what="1 rank x 1 thread, batch $hb (one rank of B alone)" ;; esac
  awk -v w="$what" -v e="$5" -v n="$limit" -v wall="$2" -v u="$3" -v s="$4" \
    'BEGIN { printf "| %s | %.2f | %.0f | %.1f | %.1f |\n", w, e, n / e, wall, u + s }'
done
echo
set -- $flight
echo "2 ranks: all-reduce in flight ${1:-?} s per epoch, updates waited ${2:-?} s: ${overlap:-?} % overlapped with the backward pass"
echo "all-reduce alone: ${ar:-not measured}"
set -- $C
tc=$(awk -v e="$5" -v s="$(( (limit + hb - 1) / hb ))" 'BEGIN { print e / s }')
echo
echo "Projection for N machines, one rank of batch $hb each (global $hb N), a ${link} Gbit/s ring, C's measured step $(awk -v t="$tc" 'BEGIN { printf "%.1f", t * 1e3 }') ms, ${overlap:-0} % of the all-reduce hidden:"
echo
echo "| N | all-reduce ms | step ms | images/s | speed-up over 1 |"
echo "|---|---|---|---|---|"
for n in 1 2 4 8 16 32 64; do
  awk -v n="$n" -v p="$params" -v gbit="$link" -v tc="$tc" -v ov="${overlap:-0}" -v b="$hb" 'BEGIN {
    ar = n > 1 ? 2 * (n - 1) / n * p * 4 / (gbit * 1e9 / 8) + 2 * (n - 1) * 50e-6 : 0
    step = tc + (1 - ov / 100) * ar
    printf "| %d | %.2f | %.1f | %.0f | %.2f |\n", n, ar * 1e3, step * 1e3, n * b / step, n * tc / step }'
done
