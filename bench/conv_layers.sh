#!/usr/bin/env bash
# conv_layers.sh — per-layer convolution benchmark: every distinct conv shape of the seed models'
# training steps, forward / grad-input / grad-weight, kiln's kernel (kernels/conv.c specialised
# per shape) against PyTorch 2.x on the same shape, GFLOP/s and % of the FMA peak measured in the
# same run (see bench/conv_layers.py). Uses the venv of bench/torch_venv.sh. Markdown on stdout.
#
# usage: bench/conv_layers.sh [--threads 1,2] [--ops fwd,gi,gw] [--min-seconds 0.3] [--only 3,7]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,7p' "$0"; exit 0 ;; esac
py=$(bench/torch_venv.sh)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -march=native -ffp-contract=fast -pthread bench/fma_peak.c -o "$tmp/fma_peak"
"$py" bench/conv_layers.py --probe "$tmp/fma_peak" --tmp "$tmp" "$@"
