#!/usr/bin/env bash
# train_cifar10_sample_resnet.sh — the accuracy run: compiles the write-up's Sample ResNet
# (models/sample_resnet.yaml) for 32x32 CIFAR-10 input, trains it on CIFAR-10 and reports the test
# accuracy of the best epoch (docs/results.md records a run).
#
#   examples/train_cifar10_sample_resnet.sh              # 10 epochs, about 35-50 min on 2 cores
#   EPOCHS=20 OUT=/tmp/run examples/train_cifar10_sample_resnet.sh
#
# Environment: KILN (the compiler, default build/kiln), KILN_DATA (cifar-10-batches-bin, default
# ../shared/cifar10 next to the repository), OUT (run directory), EPOCHS, LR, BATCH, THREADS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kiln=${KILN:-$root/build/kiln}
data=${KILN_DATA:-$root/../shared/cifar10}
out=${OUT:-$root/out/sample_resnet_cifar10}
epochs=${EPOCHS:-10}
lr=${LR:-0.05}
batch=${BATCH:-64}
threads=${THREADS:-0}
if [ ! -f "$data/data_batch_1.bin" ]; then
  echo "CIFAR-10 binary files not found in $data (set KILN_DATA; get cifar-10-binary.tar.gz from" >&2
  echo "https://www.cs.toronto.edu/~kriz/cifar.html)" >&2
  exit 1
fi
mkdir -p "$out"
echo "== compiling models/sample_resnet.yaml for 32x32 input, batch $batch"
"$kiln" compile "$root/models/sample_resnet.yaml" --input 32x32 --batch "$batch" -o "$out/sample_resnet"
"$out/sample_resnet" info | head -4
start=$(date +%s)
echo "== training $epochs epochs: SGD momentum 0.9, lr $lr, cosine schedule, spec augmentation (flip, random resized crop)"
"$out/sample_resnet" train --data "$data" --epochs "$epochs" --lr "$lr" --schedule cosine --eval-every 2 \
  --threads "$threads" --out "$out" --force # a rerun starts over
end=$(date +%s)
echo "== test accuracy of the best weights"
"$out/sample_resnet" eval --data "$data" --weights "$out/best.safetensors" --threads "$threads" --quiet
echo "wall time of training (with evaluations): $((end - start)) s, $(nproc) CPUs"
