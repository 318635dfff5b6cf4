#!/usr/bin/env bash
# check.sh — the GPU check of kiln's CUDA backend, in two parts (see docs/gpu.md):
#
#   tests/gpu/check.sh prepare   on a build machine (LLVM 14, libyaml, CMake): builds kn_gpu_gen and
#                                writes test bundles to tests/gpu/out/ (PTX + inputs + expected
#                                values from the reference interpreter)
#   tests/gpu/check.sh run       on a machine with an NVIDIA GPU (driver, a C compiler, python3 with
#                                PyTorch; no LLVM, no libyaml), over the same tree including
#                                tests/gpu/out/: builds kn_gpu_check with cc, runs every op forward
#                                and backward, trains a tiny seed model 3 steps against the
#                                interpreter (sample_resnet_tiny), runs the `kiln compile
#                                --target=cuda` executable's own `train` (synthetic set, 2 short
#                                epochs) and compares its losses with the CPU build's (run here by
#                                prepare), and times the ResNet50 training step at 224x224
#                                against PyTorch. Writes tests/gpu/out/results.txt. Under 5 minutes.
#   tests/gpu/check.sh all       both, on one machine that has everything.
# Exit status: 0 all passed, 1 a failure, 77 no CUDA device (run: nothing was checked).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/gpu/out
time_steps=${KN_GPU_TIME_STEPS:-5}
# The same run of both builds' `train` (seeded: same initial weights, data and order).
exe_train="--epochs 2 --limit 64 --test-limit 32 --seed 7 --threads 1 --quiet"

prepare() {
  local build=${KN_GPU_BUILD_DIR:-build-gpu-prep}
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"$(nproc)" --target kn_gpu_gen
  rm -rf "$out" && mkdir -p "$out"
  "$build/tests/gpu/kn_gpu_gen" "$out" \
    --train tests/models/sample_resnet_tiny.yaml \
    --time models/resnet50_scratch.yaml
  # The executables: the CPU build trains here; the GPU build must match it there.
  cmake --build "$build" -j"$(nproc)" --target kiln kiln_exe kilnrt_cuda
  local spec=tests/models/sample_resnet_tiny.yaml
  "$build/kiln" compile "$spec" -o "$out/model_cpu"
  "$build/kiln" compile --target=cuda "$spec" -o "$out/model_cuda"
  "$out/model_cpu" train $exe_train --force --out "$out/train_cpu" > "$out/train_cpu.log"
  echo "bundles in $out; now run 'tests/gpu/check.sh run' on the GPU machine"
}

run() {
  [ -d "$out" ] || { echo "no $out: run 'tests/gpu/check.sh prepare' on the build machine first"; exit 1; }
  ${CC:-cc} -O2 -std=c11 -D_DEFAULT_SOURCE -Iruntime/cuda runtime/cuda/kn_cuda.c runtime/cuda/kn_gpu_exec.c \
    runtime/cuda/kn_gpu_bundle.c tests/gpu/gpu_check.c -ldl -lm -o "$out/kn_gpu_check"
  set +e
  checks > >(tee "$out/results.txt") 2>&1
  local rc=$?
  set -e
  sleep 1 # let tee finish
  if [ "$rc" = 0 ] && grep -q "^FAIL" "$out/results.txt"; then rc=1; fi
  echo "results in $out/results.txt"
  return "$rc"
}

# The checks of `run`; returns 77 when there is no GPU, 1 on any failure.
checks() {
  echo "== kiln GPU check, $(date -u +%Y-%m-%dT%H:%MZ)"
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || true
  echo "== ops (forward, backward, updates) and a tiny model (3 training steps) vs the interpreter"
  local rc=0
  "$out/kn_gpu_check" "$out"/op_*.kgb "$out"/train_*.kgb || rc=$?
  [ "$rc" = 77 ] && return 77
  echo "== the --target=cuda executable's train vs the CPU build's (sample_resnet_tiny, synthetic set)"
  if "$out/model_cuda" info; then
    "$out/model_cuda" train $exe_train --force --out "$out/train_cuda" > "$out/train_cuda.log" 2>&1 || echo "FAIL: model_cuda train exited $?"
    compare_losses "$out/train_cpu/metrics.csv" "$out/train_cuda/metrics.csv" || rc=1
  else
    echo "FAIL: model_cuda info exited with an error (see above)"
    rc=1
  fi
  echo "== ResNet50 training step, batch 32, 224x224"
  "$out/kn_gpu_check" --time "$time_steps" "$out"/time_resnet50_scratch.kgb || rc=1
  python3 tests/gpu/torch_resnet50.py --steps "$time_steps" || echo "(PyTorch timing failed)"
  python3 tests/gpu/torch_resnet50.py --steps "$time_steps" --tf32 || true
  return "$rc"
}

# Epoch by epoch, train and validation loss of the two builds within 2% (float32 sums in another
# order, BatchNorm over batches of 2); prints both and FAIL lines.
compare_losses() {
  [ -f "$1" ] && [ -f "$2" ] || { echo "FAIL: missing $1 or $2"; return 1; }
  paste -d, "$1" "$2" | awk -F, -v n="$(head -1 "$1" | awk -F, '{print NF}')" '
    NR == 1 { next }
    { for (k = 2; k <= 4; k += 2) {
        c = $k; g = $(k + n); d = c - g; if (d < 0) d = -d; a = c < 0 ? -c : c
        ok = d <= 0.02 * (1 + a)
        printf "%s epoch %s %s: cpu %.6f cuda %.6f\n", ok ? "ok  " : "FAIL", $1, k == 2 ? "train_loss" : "val_loss", c, g
        if (!ok) bad = 1 } }
    END { exit bad }'
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  all) prepare && run ;;
  *) sed -n '2,17p' "$0"; exit 2 ;;
esac
