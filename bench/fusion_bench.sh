#!/usr/bin/env bash
# fusion_bench.sh — measures what each graph pass is worth: compiles a model spec with no graph
# pass, at -O2, and at -O2 with each pass disabled in turn (kiln compile --disable-pass=X), then times the
# training step and inference with the executable's `bench` command. Prints a Markdown table
# (docs/fusion.md). Each configuration is a separate compile, so this takes a while for big models:
# use --batch/--input to shrink them on a shared machine.
#
# usage: bench/fusion_bench.sh [--kiln PATH] [--iters N] [--batch N] [--input HxW] MODEL.yaml...
set -euo pipefail

kiln=${KILN:-build/kiln}
iters=10
spec_opts=()
models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --kiln) kiln=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --batch|--input) spec_opts+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
[ ${#models[@]} -gt 0 ] || { echo "usage: $0 [--kiln PATH] [--iters N] [--batch N] [--input HxW] MODEL.yaml..." >&2; exit 2; }
[ -x "$kiln" ] || { echo "$0: no kiln at '$kiln' (build first, or --kiln PATH)" >&2; exit 1; }

passes=$("$kiln" compile --help | sed -n 's/^passes: //p')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ms per iteration of ENTRY for an executable ("... 0.823 ms/iter ...").
ms() { "$1" bench "$2" --iters="$iters" 2>&1 | sed -n 's/.* \([0-9.]*\) ms\/iter.*/\1/p' | tail -1; }

echo "| model | configuration | kernels (train) | train step ms | inference ms |"
echo "|---|---|---:|---:|---:|"
for model in "${models[@]}"; do
  name=$(basename "$model" .yaml)
  # LLVM's level follows -O in kiln compile, so the no-pass baseline keeps -O2 and disables every
  # graph pass instead of using -O0.
  configs=("-O2 --disable-pass=${passes// /,}" "-O2")
  for p in $passes; do configs+=("-O2 --disable-pass=$p"); done
  for cfg in "${configs[@]}"; do
    exe="$tmp/$name"
    # shellcheck disable=SC2086
    if ! "$kiln" compile $cfg --stats "${spec_opts[@]}" "$model" -o "$exe" 2> "$tmp/log"; then
      echo "| $name | $cfg | compile failed | | |"; sed 's/^/    /' "$tmp/log" >&2; continue
    fi
    kernels=$(awk '/^pass statistics/ {n++} n==2 && $1=="total" {print $7}' "$tmp/log")
    echo "| $name | \`$cfg\` | ${kernels:-?} | $(ms "$exe" train_step) | $(ms "$exe" forward) |"
  done
done
