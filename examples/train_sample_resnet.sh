#!/usr/bin/env bash
# train_sample_resnet.sh — the README's main job: compiles the write-up's Sample ResNet
# (models/sample_resnet.yaml) into an executable and trains it briefly, printing the write-up's
# epoch lines. It uses CIFAR-10 when found ($KILN_DATA, else ../shared/cifar10 next to the
# repository; the first 5000 training and 1000 test images) and the built-in synthetic set
# otherwise. For a fast first run the network is compiled for 32x32 input (`--input 32x32`; the
# spec's augmentation sizes follow) instead of the spec's 224x224, with batch 32.
#
#   examples/train_sample_resnet.sh              # about a minute on 2 cores after the build
#   EPOCHS=5 KILN_DATA=~/cifar-10-batches-bin examples/train_sample_resnet.sh
#   LAUNCH="mpirun -np 2" examples/train_sample_resnet.sh   # 2 processes (docs/distributed.md)
#
# Environment: KILN (compiler; built with scripts/build.sh when missing), KILN_DATA, OUT (run
# directory, default out/quickstart), EPOCHS (default 3), LAUNCH (a launcher put in front of the
# train command, e.g. "mpirun -np 2": data-parallel on 2 ranks of batch 32 each).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kiln=${KILN:-$root/build/kiln}
data=${KILN_DATA:-$root/../shared/cifar10}
out=${OUT:-$root/out/quickstart}
epochs=${EPOCHS:-3}
if [ ! -x "$kiln" ]; then
  echo "== building kiln (scripts/build.sh)"
  "$root/scripts/build.sh"
fi
mkdir -p "$out"
echo "== kiln compile models/sample_resnet.yaml --input 32x32 --batch 32 -o $out/sample_resnet"
"$kiln" compile "$root/models/sample_resnet.yaml" --input 32x32 --batch 32 -o "$out/sample_resnet"
if [ -f "$data/data_batch_1.bin" ]; then
  echo "== training on CIFAR-10 from $data (5000 train / 1000 test images)"
  args=(--data "$data" --limit 5000 --test-limit 1000)
else
  echo "== CIFAR-10 not found (set KILN_DATA to a cifar-10-batches-bin directory): using the synthetic set"
  args=()
fi
# --force: a rerun of this script starts the run in $out over (train refuses to overwrite a run
# without it)
${LAUNCH:-} "$out/sample_resnet" train "${args[@]}" --epochs "$epochs" --lr 0.05 --schedule cosine --eval-every 1 --out "$out" --force
echo "== next: $out/sample_resnet predict IMAGE.png --weights $out/best.safetensors"
