#!/usr/bin/env bash
# test_train.sh — end-to-end tests of a generated executable: training on the synthetic set,
# the write-up log lines, metrics, checkpoints and exact resume, weights import errors, eval,
# predict on PNG and JPEG, embedded weights (one self-contained file, ldd), and the C bundle
# example (examples/bundle/classify.c).
#
#   test_train.sh KILN HELPER SRC_DIR WORK_DIR SANITIZE_FLAGS
set -u
kiln=$1 helper=$2 src=$3 work=$4 sanflags=${5:-}
. "$(dirname "$0")/check_lib.sh"

rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
spec=$src/tests/models/sample_resnet_tiny.yaml
exe=$work/tiny

# --- compile (batch 32, 16x16, the spec's augmentation) ---
if ! out=$("$kiln" compile "$spec" --batch 32 -o "$exe" 2>&1); then bad "compile tiny model" "$out"; finish; fi
ok "compile tiny model"

# --- help and usage errors ---
check "train --help" bash -c "'$exe' train --help | grep -q -- '--resume CKPT'"
check "eval --help" bash -c "'$exe' eval --help | grep -q -- '--data DIR'"
check "predict --help" bash -c "'$exe' predict --help | grep -q -- '--top K'"
"$exe" train --bogus >/dev/null 2>&1; check "unknown option exits 2" test $? -eq 2
out=$("$exe" train --batch 64 --quiet --out "$work/x" 2>&1); rc=$?
check "--batch above the compiled batch is an error" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -q 'larger than the compiled batch 32'" "$out"

# --- training on the synthetic set ---
t0=$(date +%s)
out=$("$exe" train --epochs 2 --limit 3000 --test-limit 500 --lr 0.05 --out "$work/run" --quiet 2>&1); rc=$?
t1=$(date +%s)
echo "$out" | sed 's/^/     | /'
check "train exits 0" test $rc -eq 0
check "epoch lines" bash -c "echo \"\$0\" | grep -qx 'epoch: 2'" "$out"
check "train line format" bash -c "echo \"\$0\" | grep -Eq '^Train loss : [0-9]+\.[0-9]{4}    Train Acc : [0-9]\.[0-9]{4}$'" "$out"
check "val line format" bash -c "echo \"\$0\" | grep -Eq '^Val loss : [0-9]+\.[0-9]{4}    Val Acc : [0-9]\.[0-9]{4}$'" "$out"
best=$(echo "$out" | sed -n 's/^best accuracy is //p')
check "synthetic set: best accuracy $best far above chance (> 0.6)" awk -v a="${best:-0}" 'BEGIN { exit !(a > 0.6) }'
check "training took $((t1 - t0)) s (< 60)" test $((t1 - t0)) -lt 60
check "metrics.csv has a header and 2 rows" bash -c "[ \$(wc -l < '$work/run/metrics.csv') -eq 3 ] && head -1 '$work/run/metrics.csv' | grep -q '^epoch,train_loss'"
check "metrics.svg written" grep -q "<polyline" "$work/run/metrics.svg"
check "checkpoint and best weights written" test -s "$work/run/checkpoint.safetensors" -a -s "$work/run/best.safetensors"
check "checkpoint metadata" bash -c "head -c 4000 '$work/run/checkpoint.safetensors' | grep -a -q '\"format\":\"kiln-checkpoint\"' && head -c 4000 '$work/run/checkpoint.safetensors' | grep -a -q 'momentum_buffer'"

# --- exact resume: 2 epochs == 1 epoch + resume + 1 epoch (1 thread, fixed seed) ---
common="--limit 640 --test-limit 128 --seed 7 --threads 1 --quiet"
"$exe" train --epochs 2 $common --out "$work/a" >/dev/null 2>&1
"$exe" train --epochs 1 $common --out "$work/b" >/dev/null 2>&1
"$exe" train --epochs 2 $common --resume "$work/b/checkpoint.safetensors" --out "$work/b" >/dev/null 2>&1
check "resume (constant lr): checkpoints identical" cmp -s "$work/a/checkpoint.safetensors" "$work/b/checkpoint.safetensors"
check "resume: metrics continue (2 rows)" test "$(wc -l < "$work/b/metrics.csv")" -eq 3
"$exe" train --epochs 3 --schedule cosine $common --out "$work/c" >/dev/null 2>&1
"$exe" train --epochs 3 --schedule cosine --stop-after 1 $common --out "$work/d" >/dev/null 2>&1
"$exe" train --stop-after 1 $common --resume "$work/d/checkpoint.safetensors" --out "$work/d" >/dev/null 2>&1
"$exe" train $common --resume "$work/d/checkpoint.safetensors" --out "$work/d" >/dev/null 2>&1
check "resume (cosine, stopped twice): checkpoints identical" cmp -s "$work/c/checkpoint.safetensors" "$work/d/checkpoint.safetensors"
check "resume: best weights identical" cmp -s "$work/c/best.safetensors" "$work/d/best.safetensors"
"$exe" train --epochs 2 --limit 640 --test-limit 128 --seed 8 --threads 1 --quiet --out "$work/e" >/dev/null 2>&1
check "another seed gives other weights" bash -c "! cmp -s '$work/a/checkpoint.safetensors' '$work/e/checkpoint.safetensors'"

# --- initial weights: round trip and clear errors ---
w=$work/run/best.safetensors
out=$("$exe" eval --weights "$w" --quiet 2>&1); rc=$?
check "eval with best weights" bash -c "[ $rc -eq 0 ] && echo \"\$0\" | grep -q '^accuracy ' && echo \"\$0\" | grep -q 'per-class accuracy' && echo \"\$0\" | grep -q 'confusion matrix' && echo \"\$0\" | grep -q '^disk '" "$out"
last_val=$(grep -v '^$' "$work/run/metrics.csv" | tail -1 | cut -d, -f5)
got_val=$("$exe" eval --weights "$work/run/checkpoint.safetensors" --limit 500 --quiet | sed -n 's/^accuracy \([0-9.]*\).*/\1/p')
check "eval of the last checkpoint repeats the last Val Acc ($got_val vs $last_val)" awk -v a="$got_val" -v b="$last_val" 'BEGIN { exit !(a != "" && a - b < 1e-4 && b - a < 1e-4) }'
"$helper" st-edit "$w" "$work/missing.st" drop fc.weight
"$helper" st-edit "$w" "$work/extra.st" add layer9.conv.weight
"$helper" st-edit "$w" "$work/shape.st" reshape conv1.weight
out=$("$exe" train --weights "$work/missing.st" --epochs 1 --out "$work/w" --quiet 2>&1); rc=$?
check "missing tensor named" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -q 'missing fc.weight'" "$out"
out=$("$exe" train --weights "$work/extra.st" --epochs 1 --out "$work/w" --quiet 2>&1); rc=$?
check "extra tensor named" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -q 'extra (not in the model) layer9.conv.weight'" "$out"
out=$("$exe" predict --weights "$work/shape.st" x.png 2>&1); rc=$?
check "mis-shaped tensor named with both shapes" bash -c "[ $rc -eq 1 ] && echo \"\$0\" | grep -q 'conv1.weight (file \[1176\], model \[8, 3, 7, 7\])'" "$out"
out=$("$exe" train --resume "$w" --out "$work/w" --quiet 2>&1)
check "--resume of a weights file is refused" bash -c "echo \"\$0\" | grep -q 'not a kiln checkpoint'" "$out"
"$exe" train --weights "$w" --epochs 1 --limit 64 --test-limit 64 --out "$work/w" --quiet >/dev/null 2>&1
check "training from imported weights" test $? -eq 0

# --- predict on PNG and JPEG (class 4 = disk, 48x48, resized by the test pipeline) ---
"$helper" images "$work" 4 48 || bad "write test images"
out=$("$exe" predict --weights "$w" "$work/img.png" "$work/img.jpg" 2>&1); rc=$?
echo "$out" | sed 's/^/     | /'
check "predict exits 0" test $rc -eq 0
check "predict PNG: disk" bash -c "echo \"\$0\" | grep -q '^$work/img.png: disk ('" "$out"
check "predict JPEG: disk" bash -c "echo \"\$0\" | grep -q '^$work/img.jpg: disk ('" "$out"
check "predict lists the top 5" test "$(echo "$out" | grep -c '^  ')" -eq 10
out=$("$exe" predict --weights "$w" "$work/img.ppm" 2>&1)
check "predict on a non-image names the file" bash -c "echo \"\$0\" | grep -q 'img.ppm'" "$out"

# --- shipping: embedded weights, one file ---
ship=$work/ship && mkdir -p "$ship"
if out=$("$kiln" compile "$spec" --batch 32 --weights "$w" -o "$ship/tiny_trained" 2>&1); then ok "compile --weights"; else bad "compile --weights" "$out"; fi
cp "$work/img.png" "$ship/"
want=$("$exe" predict --weights "$w" "$work/img.png" | sed 1d)
got=$(cd "$ship" && ./tiny_trained predict img.png | sed 1d)
check "embedded weights classify like --weights" test "$want" = "$got"
if [ -z "$sanflags" ]; then
  libs=$(ldd "$ship/tiny_trained" | awk '{print $1}' | grep -v -E '^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|/lib64/ld-linux-x86-64\.so\.2)$')
  check "ldd shows only the C library" test -z "$libs"
fi
out=$("$kiln" compile "$spec" --batch 32 --weights "$work/nonexistent.safetensors" -o "$ship/x" 2>&1); rc=$?
check "compile --weights with a missing file fails" bash -c "[ $rc -ne 0 ] && echo \"\$0\" | grep -q 'cannot read weights file'" "$out"

# --- the C bundle example ---
if out=$("$kiln" compile "$spec" --batch 32 --emit=bundle --weights "$w" -o "$ship/classifier.o" 2>&1) &&
   out=$(cc $sanflags -I"$ship" "$src/examples/bundle/classify.c" "$ship/classifier.o" -lm -lpthread -o "$ship/classify" 2>&1); then
  ok "bundle built and linked with examples/bundle/classify.c"
  out=$("$ship/classify" "$work/img.ppm" 2>&1); rc=$?
  echo "$out" | sed 's/^/     | /'
  check "bundle classifies the PPM as disk" bash -c "[ $rc -eq 0 ] && echo \"\$0\" | grep -q 'img.ppm: disk ('" "$out"
  pp=$(echo "$want" | head -1 | awk '{print $2}')
  check "bundle probability equals predict's ($pp)" bash -c "echo \"\$0\" | grep -q '^  disk  *$pp\$'" "$out"
else
  bad "bundle built and linked" "$out"
fi
finish
