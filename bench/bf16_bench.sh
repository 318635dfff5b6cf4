#!/usr/bin/env bash
# bf16_bench.sh — `kiln compile --cpu-math=bf16` against kiln fp32, PyTorch 2.x fp32 and PyTorch
# autocast bf16 on this CPU, in one run (bench/bf16_bench.py): the seed models' training steps at
# 224x224 and batch-1 inference, wall and process CPU ms per iteration, the CPU model named.
# PyTorch 2.x comes from the venv KILN_TORCH_VENV points at, else bench/.venv (created here from
# PyPI; ignored by git). Markdown on stdout, every round on stderr.
#
# usage: bench/bf16_bench.sh [--cases sr_train224,r50_train224,ra_ft224,r50_infer1,sr_infer1]
#                            [--threads 2] [--rounds 2] [--iters N] [--kiln build/kiln]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,10p' "$0"; exit 0 ;; esac
if [ -n "${KILN_TORCH_VENV:-}" ]; then
  py=$KILN_TORCH_VENV/bin/python3
else
  py=bench/.venv/bin/python3
  if ! "$py" -c 'import torch' 2>/dev/null; then
    python3 -m venv bench/.venv >&2
    "$py" -m pip install --quiet torch >&2
  fi
fi
[ -x build/kiln ] || scripts/build.sh build >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" bench/bf16_bench.py --python "$py" --tmp "$tmp" "$@"
