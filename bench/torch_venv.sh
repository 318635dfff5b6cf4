#!/usr/bin/env bash
# torch_venv.sh — prints the python of a venv with PyTorch 2.x for the bench scripts: the one
# KILN_TORCH_VENV points at, else bench/.venv (ignored by git), created with PyTorch from PyPI
# on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${KILN_TORCH_VENV:-bench/.venv}
if ! "$venv/bin/python3" -c 'import torch, sys; sys.exit(int(torch.__version__.split(".")[0]) < 2)' 2>/dev/null; then
  if [ -n "${KILN_TORCH_VENV:-}" ]; then
    echo "KILN_TORCH_VENV=$venv has no PyTorch 2.x" >&2
    exit 1
  fi
  echo "creating $venv with PyTorch 2.x from PyPI (once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  "$venv/bin/pip" install --quiet 'torch>=2' numpy >&2
fi
echo "$(cd "$venv" && pwd)/bin/python3"
