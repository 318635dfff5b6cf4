#!/usr/bin/env bash
# test_ship.sh — shipping a trained model safely, and the executable's smaller conveniences:
#   - `kiln compile --weights` checks names, shapes and dtypes first (exit 1, every difference
#     listed, no output written); a bundle or inference-only executable without weights warns;
#   - `run` and `bench` use the embedded weights unless --weights overrides them;
#   - `--emit=bundle -o NAME` writes NAME.o and NAME.h; `info` shows the input size;
#   - `--threads 1` (with a space) for run and bench; progress lines go to stderr;
#   - `train --stop-after` before any evaluation does not name a best.safetensors;
#   - image folders as --data (split fraction, train/ + val/, corrupt files skipped, class names
#     in the checkpoint and in predict); a spec with Resize(256) + CenterCrop(224).
#
#   test_ship.sh KILN HELPER SRC_DIR WORK_DIR
set -u
kiln=$1 helper=$2 src=$3 work=$4
. "$(dirname "$0")/check_lib.sh"

rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
spec=$src/tests/models/sample_resnet_tiny.yaml
if ! out=$("$kiln" compile "$spec" --batch 8 -o tiny 2>&1); then bad "compile tiny model" "$out"; finish; fi
ok "compile tiny model"

# --- torchvision's evaluation pipeline, Resize(256) + CenterCrop(224), written in a spec ---
cat > eval_pipeline.yaml <<SPEC
name: eval_pipeline
base: $src/tests/models/resnet50_tiny.yaml
train:
  input_size: 224
  test_augment:
    - resize: 256
    - center_crop: 224
    - to_tensor
    - normalize: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
SPEC
out=$("$kiln" check eval_pipeline.yaml 2>&1); rc=$?
check "spec with resize: 256 + center_crop: 224 accepted" test $rc -eq 0

# --- a run stopped before its first evaluation; progress on stderr ---
"$work/tiny" train --epochs 3 --eval-every 2 --stop-after 1 --limit 64 --test-limit 32 --out r0 >stdout.txt 2>stderr.txt
rc=$?
out=$(cat stdout.txt)
check "stop before any evaluation: exit 0" test $rc -eq 0
check "stop before any evaluation: no best.safetensors named" bash -c "! grep -q best.safetensors stdout.txt && grep -q 'no best weights' stdout.txt && [ ! -e r0/best.safetensors ]"
check "progress lines on stderr, not stdout" bash -c "grep -q '^train 64/64 (100%)' stderr.txt && ! grep -q '^train [0-9]' stdout.txt"
"$work/tiny" train --epochs 1 --limit 64 --test-limit 32 --out r1 --quiet >/dev/null 2>&1
w=$work/r1/best.safetensors
check "a run with an evaluation writes best.safetensors" test -s "$w"

# --- an image folder (ImageFolder layout) as --data ---
"$helper" folder pets
"$work/tiny" train --data pets --epochs 2 --lr 0.05 --out rf --quiet >stdout.txt 2>stderr.txt; rc=$?
check "image folder: train exits 0, split 0.2 per class" bash -c "[ $rc -eq 0 ] && grep -q '29 train / 7 test images (pets)' stdout.txt"
check "image folder: the corrupt file is skipped and counted" bash -c "grep -q 'skipping pets/disk/broken.jpg' stderr.txt && grep -q 'train split of pets: skipped 1 file' stderr.txt"
check "image folder: class names (sorted folder names) in the checkpoint" bash -c "head -c 4000 rf/best.safetensors | grep -a -q '\"classes\":\"disk,hstripes,vstripes'"
out=$("$work/tiny" predict pets/hstripes/img010.png --weights rf/best.safetensors 2>&1)
check "image folder: predict names the folder classes" bash -c "echo \"\$0\" | grep -Eq '^pets/hstripes/img010.png: (disk|hstripes|vstripes) \('" "$out"
out=$("$work/tiny" train --data pets --val-split 0.5 --epochs 1 --out rf2 --quiet 2>&1)
check "image folder: --val-split 0.5" bash -c "echo \"\$0\" | grep -q '17 train / 19 test images'" "$out"
mkdir -p split && cp -r pets split/train && cp -r pets split/val
out=$("$work/tiny" train --data split --epochs 1 --out rf3 --quiet 2>&1)
check "image folder: train/ and val/ subfolders" bash -c "echo \"\$0\" | grep -q '36 train / 36 test images (split)'" "$out"

# --- compile --weights is checked against the model ---
"$helper" st-edit "$w" drop.st drop fc.weight
"$helper" st-edit "$w" extra.st add layer9.conv.weight
"$helper" st-edit "$w" shape.st reshape conv1.weight
"$helper" st-edit "$w" int.st int fc.bias
out=$("$kiln" compile "$spec" --batch 8 --weights drop.st -o bad1 2>&1); rc=$?
check "missing tensor: exit 1, named, nothing written" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -Eq '^  missing +fc.weight$' && [ ! -e bad1 ]" "$out"
out=$("$kiln" compile "$spec" --batch 8 --weights extra.st -o bad2 2>&1); rc=$?
check "extra tensor: exit 1, named" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -Eq '^  extra +layer9.conv.weight$'" "$out"
out=$("$kiln" compile "$spec" --batch 8 --weights shape.st -o bad3 2>&1); rc=$?
check "wrong shape: exit 1, both shapes" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -Eq '^  wrong shape +conv1.weight: file \[1176\], model \[8, 3, 7, 7\]$'" "$out"
out=$("$kiln" compile "$spec" --batch 8 --weights int.st -o bad4 2>&1); rc=$?
check "wrong dtype: exit 1, named" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -Eq '^  wrong dtype +fc.bias: file I32'" "$out"
out=$("$kiln" compile "$src/tests/models/resnet50_tiny.yaml" --weights "$w" -o bad5 2>&1); rc=$?
check "another model's weights: exit 1, counted" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -q 'does not fit model .resnet50_tiny. ([0-9]* differences)' && echo \"\$0\" | grep -q '^  \.\.\. and [0-9]* more$'" "$out"

# --- classifiers without trained weights warn ---
out=$("$kiln" compile "$spec" --batch 8 --entry=forward --emit=bundle -o clf 2>&1); rc=$?
check "bundle without weights: warning, exit 0" bash -c "[ $rc -eq 0 ] && echo \"\$0\" | grep -q 'warning: the bundle has no trained weights'" "$out"
check "--emit=bundle -o clf writes clf.o and clf.h" test -s clf.o -a -s clf.h -a ! -e clf
out=$("$kiln" compile "$spec" --batch 8 --entry=forward -o fwd 2>&1)
check "inference-only executable without weights: warning" bash -c "echo \"\$0\" | grep -q 'warning: the inference-only executable has no trained weights'" "$out"
ck=$work/r1/checkpoint.safetensors
out=$("$kiln" compile "$spec" --batch 8 --weights "$ck" -o shipped 2>&1); rc=$?
check "compile --weights with a checkpoint (optimizer buffers ignored): no warning" bash -c "[ $rc -eq 0 ] && ! echo \"\$0\" | grep -q warning" "$out"

# --- run and bench use the embedded weights unless --weights overrides ---
printf 'KNTF\001\000\000\000\000\000\000\000' > empty.kt
./shipped run forward empty.kt emb.kt 2>/dev/null
./tiny run forward empty.kt given.kt --weights "$ck" 2>/dev/null
./tiny run forward empty.kt rand.kt 2>/dev/null
check "run: embedded weights equal --weights FILE" cmp -s emb.kt given.kt
check "run: without weights the result differs" bash -c "! cmp -s emb.kt rand.kt"
"$work/tiny" train --epochs 1 --seed 7 --limit 64 --test-limit 32 --out r2 --quiet >/dev/null 2>&1
./shipped run forward empty.kt over.kt --weights r2/best.safetensors 2>/dev/null
./tiny run forward empty.kt best.kt --weights r2/best.safetensors 2>/dev/null
check "run: --weights overrides the embedded weights" bash -c "cmp -s over.kt best.kt && ! cmp -s over.kt emb.kt"
out=$(./tiny run forward empty.kt x.kt --weights drop.st 2>&1); rc=$?
check "run: weights that do not fit are an error" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -q 'missing fc.weight'" "$out"
out=$(./shipped bench forward --iters 1 --threads 1 2>&1)
check "bench --threads 1 (space form) runs 1 thread" bash -c "echo \"\$0\" | grep -q ', 1 threads,'" "$out"
out=$(./shipped info)
check "info shows the input size and classes" bash -c "echo \"\$0\" | grep -Eq '^input +16x16, 3 channels$' && echo \"\$0\" | grep -Eq '^classes +10$'" "$out"
finish
