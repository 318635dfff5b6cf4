#!/usr/bin/env bash
# peer_bench.sh — kiln against PyTorch 2.x from PyPI on the CPU, one command from a clean checkout:
# builds kiln (build/, if missing), creates bench/.venv with PyTorch 2.x from PyPI (ignored by git;
# or uses the venv KILN_TORCH_VENV points at), builds the FMA peak probe, and runs
# bench/peer_bench.py: the seed models' training steps and batch-1 inference, kiln vs PyTorch
# eager NCHW, channels_last and torch.compile, at 1 and 2 threads, alternated in one run, with
# wall and process CPU time per iteration and % of the measured fp32 peak. Markdown on stdout,
# every round on stderr.
#
# usage: bench/peer_bench.sh [--cases sr_train224,r50_train224,ra_ft224,sr_train32,r50_infer1,sr_infer1]
#                            [--threads 1,2] [--variants eager,channels_last,compile] [--rounds 2]
#                            [--iters N (0: per-case default)] [--kiln build/kiln]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,12p' "$0"; exit 0 ;; esac
py=$(bench/torch_venv.sh)
[ -x build/kiln ] || scripts/build.sh build >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -march=native -ffp-contract=fast -pthread bench/fma_peak.c -o "$tmp/fma_peak"
"$py" bench/peer_bench.py --python "$py" --probe "$tmp/fma_peak" --tmp "$tmp" "$@"
