#!/bin/sh
# cpu_math_cli.sh — `kiln compile --cpu-math` from the command line: a target without AVX512-BF16
# and AMX (x86-64-v3, skylake-avx512) fails at compile time naming the missing feature (exit 1, no
# output file); an unknown mode is a usage error (exit 2). Where this CPU has AVX512-BF16: a bf16
# executable says so in `info`, trains a short run on the synthetic set, its checkpoint carries
# cpu_math in its metadata, and an fp32 executable of the same model resumes from it (checkpoints
# are fp32 and interchangeable between modes). Elsewhere those checks print "skipped".
# usage: cpu_math_cli.sh KILN MODEL.yaml
k=$1 m=$2 p=0 f=0
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
check() { # what, then a command that must succeed
  what=$1; shift
  if "$@"; then p=$((p + 1)); else f=$((f + 1)); echo "FAIL: $what"; fi
}
for cpu in x86-64-v3 skylake-avx512; do
  "$k" compile "$m" --cpu=$cpu --cpu-math=bf16 -o "$w/no_$cpu" 2>"$w/err_$cpu"; rc=$?
  check "$cpu: exit 1 (got $rc)" test $rc -eq 1
  check "$cpu: message names avx512bf16" grep -q "lacks AVX512-BF16 (feature avx512bf16)" "$w/err_$cpu"
  check "$cpu: no output written" test ! -e "$w/no_$cpu"
done
"$k" compile "$m" --cpu-math=fp16 -o "$w/bad" 2>/dev/null; rc=$?
check "unknown --cpu-math: exit 2 (got $rc)" test $rc -eq 2
if grep -q avx512_bf16 /proc/cpuinfo; then
  common="--limit 256 --test-limit 64 --seed 3 --threads 1 --quiet"
  check "bf16 compile" "$k" compile "$m" --cpu-math=bf16 -o "$w/m_bf16"
  check "fp32 compile" "$k" compile "$m" -o "$w/m_fp32"
  check "info: cpu-math bf16" sh -c "'$w/m_bf16' info | grep -q '^cpu-math    bf16 (AVX512-BF16'"
  check "info: cpu-math fp32" sh -c "'$w/m_fp32' info | grep -q '^cpu-math    fp32'"
  check "bf16 trains" "$w/m_bf16" train --epochs 1 $common --out "$w/r" >/dev/null 2>&1
  check "checkpoint metadata cpu_math" grep -aq '"cpu_math":"bf16' "$w/r/checkpoint.safetensors"
  check "fp32 resumes from the bf16 checkpoint" "$w/m_fp32" train --epochs 2 $common \
    --resume "$w/r/checkpoint.safetensors" --out "$w/r" >/dev/null 2>&1
  check "fp32 checkpoint says fp32" grep -aq '"cpu_math":"fp32"' "$w/r/checkpoint.safetensors"
else
  echo "skipped: this CPU has no AVX512-BF16, so the bf16 executable checks cannot run here"
fi
echo "$p passed, $f failed"
[ $f -eq 0 ]
