#!/usr/bin/env bash
# test_validate.sh — a generated executable against bad input, as a careless or hostile user
# gives it: option values out of range (exit 2 with the allowed range), a bad data set, class
# names, output directory or checkpoint metadata (refused before the first step), an existing
# run directory without --resume/--force, and the divergence guard (non-finite weights, a loss
# that explodes at a huge lr) keeping the last good checkpoint.
#
#   test_validate.sh KILN HELPER SRC_DIR WORK_DIR
set -u
kiln=$1 helper=$2 src=$3 work=$4
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "$2" | head -8 | sed 's/^/     /'; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }
# expect NAME STATUS PATTERN COMMAND...: exit status and a line of stdout+stderr matching PATTERN;
# a refused run must not have started an epoch.
expect() {
  local name=$1 want=$2 pat=$3 out rc
  shift 3
  out=$("$@" 2>&1)
  rc=$?
  if [ $rc -eq "$want" ] && grep -qE -- "$pat" <<<"$out" && { [ "$want" -eq 0 ] || ! grep -q '^epoch: ' <<<"$out"; }; then
    ok "$name"
  else
    bad "$name: exit $rc (want $want), pattern '$pat'" "$out"
  fi
}

rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
exe=$work/tiny
if ! out=$("$kiln" compile "$src/tests/models/sample_resnet_tiny.yaml" --batch 32 -o "$exe" 2>&1); then
  bad "compile tiny model" "$out"
  finish
fi
q="--quiet --limit 64 --test-limit 64"

# --- the command line: every value range-checked (exit 2) ---
expect "no command" 2 "^usage: " "$exe"
expect "unknown command" 2 "unknown command 'trian'" "$exe" trian
expect "--help" 0 "^usage: " "$exe" --help
expect "--epochs -3" 2 "--epochs -3 is out of range \(allowed range is 1 to 1000000\)" "$exe" train --epochs -3 $q --out r
expect "--epochs 2^40" 2 "--epochs wants an integer" "$exe" train --epochs 1099511627776 $q --out r
expect "--batch 0" 2 "--batch 0 is out of range" "$exe" train --batch 0 $q --out r
expect "--lr nan" 2 "--lr wants a finite number, not 'nan'" "$exe" train --lr nan $q --out r
expect "--lr -1" 2 "--lr -1 is out of range \(allowed range is above 0 up to 1000\)" "$exe" train --lr -1 $q --out r
expect "--warmup -2" 2 "--warmup -2 is out of range" "$exe" train --warmup -2 $q --out r
expect "--warmup above --epochs" 2 "--warmup 5 is longer than --epochs 3" "$exe" train --warmup 5 --epochs 3 $q --out r
expect "--eval-every 0" 2 "--eval-every 0 is out of range" "$exe" train --eval-every 0 $q --out r
expect "--limit 0" 2 "--limit 0 is out of range" "$exe" train --limit 0 --out r
expect "--threads 0" 2 "--threads 0 is out of range \(allowed range is 1 to 1024\)" "$exe" train --threads 0 $q --out r
expect "--stop-after 0" 2 "--stop-after 0 is out of range" "$exe" train --stop-after 0 $q --out r
expect "--diverge-factor 1" 2 "--diverge-factor 1 is out of range" "$exe" train --diverge-factor 1 $q --out r
expect "eval --limit 0" 2 "--limit 0 is out of range" "$exe" eval --limit 0
expect "predict --top 0" 2 "--top 0 is out of range" "$exe" predict --top 0 x.png
[ ! -e r ] && ok "no refused run created its --out" || bad "a refused run created its --out"

# --- the output directory ---
: >afile
expect "--out naming a regular file" 2 "--out 'afile' exists and is not a directory" "$exe" train --epochs 1 $q --out afile
expect "--out below a regular file" 1 "cannot create directory 'afile/sub'" "$exe" train --epochs 1 $q --out afile/sub
# a directory that cannot be written (root ignores permission bits; /proc refuses new files)
expect "--out not writable" 1 "cannot write to output directory '/proc'" "$exe" train --epochs 1 $q --out /proc
expect "a first run" 0 "^best accuracy is" "$exe" train --epochs 1 $q --out run
cp run/checkpoint.safetensors good.ckpt
expect "an existing run is refused" 2 "'run' holds a run already \(checkpoint.safetensors\); continue it with --resume" \
  "$exe" train --epochs 1 $q --out run
cmp -s run/checkpoint.safetensors good.ckpt && ok "the refused run left the checkpoint alone" || bad "checkpoint changed"
expect "--force overwrites it" 0 "^best accuracy is" "$exe" train --epochs 1 $q --out run --force
expect "--resume continues it" 0 "^checkpoint " "$exe" train --epochs 2 $q --resume run/checkpoint.safetensors --out run

# --- the data set and class names, checked before the first step ---
mk_cifar() { # DIR: 5 train batches and a test batch of 2 records each, labels 0..9
  mkdir -p "$1"
  for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
    head -c 6146 /dev/zero >"$1/$f.bin"
  done
  printf 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n' >"$1/batches.meta.txt"
}
mk_cifar c1 && rm c1/test_batch.bin
expect "missing test_batch.bin" 1 "test_batch.bin" "$exe" train --epochs 1 --data c1 --quiet --out d1
mk_cifar c2 && head -c 5000 /dev/zero >c2/test_batch.bin
expect "truncated test_batch.bin" 1 "test_batch.bin' has 5000 bytes" "$exe" train --epochs 1 --data c2 --quiet --out d2
mk_cifar c3 && rm c3/test_batch.bin && mkfifo c3/test_batch.bin
expect "test_batch.bin a FIFO" 1 "test_batch.bin' is not a regular file" timeout 20 "$exe" train --epochs 1 --data c3 --quiet --out d3
mk_cifar c4 && printf 'a\nb\nc\n' >c4/batches.meta.txt
expect "short batches.meta.txt" 1 "names 3 classes, expected 10" "$exe" train --epochs 1 --data c4 --quiet --out d4
mk_cifar c5 && head -c 300 /dev/urandom | tr -d '\n' | head -c 200 >c5/batches.meta.txt && printf '\n' >>c5/batches.meta.txt
expect "random bytes as class names" 1 "batches.meta.txt' line 1 is not a class name" "$exe" train --epochs 1 --data c5 --quiet --out d5
expect "--weights naming a directory" 1 "is not a regular file" "$exe" train --weights c1 --epochs 1 $q --out d6
expect "predict --weights naming a directory" 1 "is not a regular file" "$exe" predict --weights c1 x.png
[ ! -e d1 ] && [ ! -e d5 ] && ok "no refused run created its --out" || bad "a refused run created its --out"

# --- checkpoint metadata, checked on --resume ---
for kv in "epoch=-1:'epoch' = -1 is out of range" "epoch=1e20:'epoch' = 1e20 is out of range" \
          "lr=nan:'lr' = nan is out of range" "batch=0:'batch' = 0 is out of range" \
          "step=2.5:'step' = 2.5 is out of range" "seed=-7:'seed' = -7" "epochs=0:'epochs' = 0 is out of range"; do
  "$helper" st-edit good.ckpt meta.ckpt meta "${kv%%:*}" || bad "st-edit meta ${kv%%:*}"
  expect "checkpoint metadata ${kv%%:*}" 1 "${kv#*:}" "$exe" train $q --resume meta.ckpt --out m
done

# --- divergence guard ---
"$helper" st-edit good.ckpt nan.ckpt nan conv1.weight
expect "a checkpoint with NaN weights is refused" 1 "tensor 'conv1.weight' has [0-9]+ non-finite values" \
  "$exe" train --epochs 3 $q --resume nan.ckpt --out run
"$helper" st-edit run/best.safetensors nan.st nan conv1.weight
expect "NaN starting weights are refused" 1 "starting weights are not usable: tensor 'conv1.weight'" \
  "$exe" train --epochs 1 $q --weights nan.st --out d7
cp run/checkpoint.safetensors before.ckpt
expect "lr 1000 on resume: stopped by the guard" 1 "training diverged|non-finite values after epoch" \
  "$exe" train --epochs 4 --quiet --limit 640 --test-limit 64 --lr 1000 --resume run/checkpoint.safetensors --out run
cmp -s run/checkpoint.safetensors before.ckpt && ok "the last good checkpoint stays" || bad "the checkpoint was rewritten"
expect "a finite loss far above its average for 3 batches" 1 "the loss stayed above 10 x its running average" \
  "$exe" train --epochs 4 --quiet --limit 640 --test-limit 64 --lr 1000 --diverge-steps 3 --resume before.ckpt --out run
cmp -s run/checkpoint.safetensors before.ckpt && ok "the last good checkpoint stays" || bad "the checkpoint was rewritten"
finish
