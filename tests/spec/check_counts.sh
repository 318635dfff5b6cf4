#!/usr/bin/env bash
# check_counts.sh KILN ROOT — `kiln check` prints exactly the pinned parameter counts
# (total / trainable, /work/shared/models.md) for the five seed models, and the tiny test models load.
set -u
kiln=$1
root=$2
pass=0
fail=0
check() { # file total trainable
  local out
  out=$("$kiln" check "$root/$1" 2>&1)
  local rc=$?
  if [[ $rc -eq 0 ]] && grep -qx "Total params          $2" <<<"$out" && grep -qx "Trainable params      $3" <<<"$out"; then
    pass=$((pass + 1))
  else
    echo "FAIL $1 (exit $rc): want $2 / $3"
    grep -E "^(Total|Trainable)|error" <<<"$out"
    fail=$((fail + 1))
  fi
}
check models/sample_resnet.yaml 233,968 233,968
check models/resnet50_finetune.yaml 23,528,522 20,490
check models/resnet50_scratch.yaml 23,528,522 23,528,522
check models/resnet_attention_finetune.yaml 28,706,476 5,198,444
check models/resnet_attention_scratch.yaml 28,706,476 28,706,476
check tests/models/sample_resnet_tiny.yaml 6,582 6,582
check tests/models/resnet50_tiny.yaml 34,286 34,286
check tests/models/resnet50_finetune_tiny.yaml 34,286 1,290
check tests/models/resnet_attention_tiny.yaml 53,584 53,584
check tests/models/resnet_attention_finetune_tiny.yaml 53,584 20,588
# 32x32 input (CIFAR-10 without resizing) must work for every seed model too.
for m in sample_resnet resnet50_scratch resnet_attention_scratch; do
  if "$kiln" check --input 32x32 --batch 8 "$root/models/$m.yaml" | grep -qx "Input shape           \[8, 3, 32, 32\]"; then
    pass=$((pass + 1))
  else
    echo "FAIL $m at 32x32"
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
