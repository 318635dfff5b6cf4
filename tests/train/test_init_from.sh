#!/usr/bin/env bash
# test_init_from.sh — fine-tuning from a foreign checkpoint (`train --init-from`, `--map`, the
# spec's `train.init_from`): a torchvision-layout 1000-class ResNet (tv_resnet_gen, the tiny
# width/depth of tests/models/resnet50_tiny.yaml) initialises resnet50_finetune_tiny with a fresh
# 10-class head; a few steps train; the frozen layers still equal the file.
#
#   test_init_from.sh KILN HELPER GEN SRC_DIR WORK_DIR
set -u
kiln=$1 helper=$2 gen=$3 src=$4 work=$5
. "$(dirname "$0")/check_lib.sh"

rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
"$gen" tv.st 4 1 1 1 1 1000 && "$gen" tv_module.st 4 1 1 1 1 1000 module. || { bad "generate torchvision-layout files"; finish; }
ok "generate torchvision-layout files"
# The spec's train.init_from, relative to the spec file.
cat > spec.yaml <<SPEC
name: ft_spec
base: $src/tests/models/resnet50_finetune_tiny.yaml
train:
  init_from: tv.st
SPEC
if ! out=$("$kiln" compile "$src/tests/models/resnet50_finetune_tiny.yaml" -o ft 2>&1); then bad "compile" "$out"; finish; fi
ok "compile resnet50_finetune_tiny"
common="--epochs 1 --limit 16 --test-limit 8 --threads 1"

out=$(./ft train --init-from tv.st $common --out r1 2>&1); rc=$?
echo "$out" | grep -v '^  loaded' | sed 's/^/     | /'
check "train --init-from: exit 0" test $rc -eq 0
check "table: conv1.weight loaded" bash -c "echo \"\$0\" | grep -Eq '^  loaded +conv1.weight +\[4, 3, 7, 7\]$'" "$out"
check "table: the 1000-class head skipped with both shapes" bash -c "echo \"\$0\" | grep -Eq '^  skipped +fc.weight +shape \[1000, 128\] in the file, \[10, 128\] in the model$'" "$out"
check "table: the head missing, keeps the spec's init" bash -c "echo \"\$0\" | grep -Eq '^  missing +fc.bias +keeps the spec'" "$out"
check "table: counters skipped" bash -c "echo \"\$0\" | grep -q '^  skipped  17 \*.num_batches_tracked'" "$out"
check "table: totals" bash -c "echo \"\$0\" | grep -q 'init from tv.st: 85 loaded, 19 skipped, 2 missing$'" "$out"
check "a few steps trained (epoch line)" bash -c "echo \"\$0\" | grep -q '^Train loss : '" "$out"
out=$("$helper" st-same tv.st r1/checkpoint.safetensors fc. 2>&1)
check "frozen layers equal the file after training ($out)" bash -c "echo \"\$0\" | grep -q '^51 equal, 0 different$'" "$out"
out=$(./ft train --init-from tv_module.st $common --out r2 2>&1); rc=$?
check "names that do not match: refused" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -q 'nothing in tv_module.st matches model' && echo \"\$0\" | grep -q -- '--map'" "$out"
out=$(./ft train --init-from tv_module.st --map '^module\.=' $common --out r2 2>&1); rc=$?
check "--map '^module\.=': exit 0, mapping shown" bash -c "[ $rc -eq 0 ] && echo \"\$0\" | grep -Eq '^  loaded +module.conv1.weight -> conv1.weight '" "$out"
check "--map: the same start as the unprefixed file" cmp -s r1/checkpoint.safetensors r2/checkpoint.safetensors
out=$(./ft train --init-from tv_module.st --map '^mod(ule)\.(layer[0-9])=\2.\1;^module\.=' $common --quiet --out r3 2>&1); rc=$?
check "--map with groups, rules in order: exit 0" test $rc -eq 0
out=$(./ft train --init-from tv_module.st --map 'a(b=c' $common --out r4 2>&1); rc=$?
check "bad regular expression: exit 1, named" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -q 'bad regular expression'" "$out"
out=$(./ft train --init-from tv.st --weights tv.st $common --out r4 2>&1); rc=$?
check "--init-from with --weights: usage error" test $rc -eq 2
out=$(./ft train --init-from missing.st $common --out r4 2>&1); rc=$?
check "missing file: exit 1" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -q 'missing.st'" "$out"

if ! out=$("$kiln" compile spec.yaml -o ft_spec 2>&1); then bad "compile spec with train.init_from" "$out"; finish; fi
out=$(./ft_spec train $common --out r5 2>&1); rc=$?
echo "$out" | grep -v '^  loaded' | sed 's/^/     | /' 
check "spec train.init_from: loaded" bash -c "[ $rc -eq 0 ] && echo \"\$0\" | grep -q '85 loaded, 19 skipped, 2 missing'" "$out"
check "spec train.init_from: the same start" bash -c "'$helper' st-same tv.st r5/checkpoint.safetensors fc. | grep -q '^51 equal'"
finish
