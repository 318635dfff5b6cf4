#!/usr/bin/env bash
# check_profile.sh KILN ROOT — `kiln compile --profile` (docs/fusion.md, "Profiling a compiled step"):
#  1. without --profile the generated LLVM IR holds no timer (no kn_prof_* symbol at all);
#  2. with it, one kn_prof_now and one kn_prof_add call per kernel of each entry;
#  3. the executable's `bench ENTRY --profile=csv FILE` lists every kernel once, each called once per
#     iteration, and the kernels' FLOPs sum to the model's analytic count (derived below by hand);
#  4. a build without timers refuses --profile with a hint; a bad --profile form is a usage error.
set -u
kiln=$1
root=$2
model=$root/tests/profile/profile_net.yaml
. "$root/tests/common/check_lib.sh"


# Analytic FLOPs (2 per multiply-add for conv/linear and their gradients, 1 per element of the
# largest operand for every other op), N=2, Ci=3, Co=4, 8x8, 3x3 kernel, 10 classes:
conv=$((2 * 2 * 4 * 8 * 8 * 3 * 3 * 3)) # conv2d forward: N*Co*H*W multiply-adds of Ci*k*k each
fc=$((2 * 2 * 10 * 4))                  # linear forward: N*O*F multiply-adds
act=$((2 * 4 * 8 * 8))                  # one [2,4,8,8] tensor: relu, global_avgpool reads it
logits=$((2 * 10))
forward=$((conv + act + act + fc + logits)) # conv, relu, pool, linear, log_softmax
# training step: the forward ops, nll_loss, nll_loss_grad, log_softmax_grad, linear dx and dW,
# bias_grad, global_avgpool_grad, relu_grad, conv dW (no dx: the input needs no gradient),
# allreduce_mean of the three gradients (the data-parallel mean, one op per element of each: 108,
# 40, 10) and three sgd_update (conv.weight 108, fc.weight 40, fc.bias 10 elements)
train=$((forward + logits + logits + logits + fc + fc + logits + act + act + conv + 2 * (108 + 40 + 10)))

"$kiln" compile -O2 --emit=llvm "$model" -o "$tmp/plain.ll" 2>"$tmp/err"
check "compile --emit=llvm" $?
! grep -q kn_prof "$tmp/plain.ll"
check "no timer without --profile" $?
"$kiln" compile -O2 --profile --emit=llvm "$model" -o "$tmp/prof.ll" 2>"$tmp/err"
check "compile --profile --emit=llvm" $?
nnow=$(grep -c 'call i64 @kn_prof_now()' "$tmp/prof.ll")
nadd=$(grep -c 'call void @kn_prof_add(' "$tmp/prof.ll")
[[ $nnow -gt 0 && $nnow -eq $nadd ]]
check "one start and one stop per kernel call ($nnow, $nadd)" $?

"$kiln" compile -O2 --profile "$model" -o "$tmp/net" 2>"$tmp/err"
check "compile --profile" $?
kernels=0
for entry in forward train_step; do
  "$tmp/net" bench $entry --iters=3 --threads=2 --profile=csv "$tmp/$entry.csv" >"$tmp/$entry.out"
  check "bench $entry --profile=csv" $?
  want=$forward
  [[ $entry == train_step ]] && want=$train
  got=$(awk -F, 'NR > 1 && $2 !~ /^\(/ { s += $(NF - 4) } END { print s + 0 }' "$tmp/$entry.csv")
  [[ $got -eq $want ]]
  check "$entry: kernel FLOPs sum $got = analytic $want" $?
  bad=$(awk -F, 'NR > 1 && $2 !~ /^\(/ && $(NF - 7) != 3' "$tmp/$entry.csv" | wc -l)
  [[ $bad -eq 0 ]]
  check "$entry: every kernel called once per iteration" $?
  rows=$(awk -F, 'NR > 1 && $2 !~ /^\(/' "$tmp/$entry.csv" | wc -l)
  kernels=$((kernels + rows))
  grep -q '^kernel .*calls.*total ms.*share.*GFLOP/s.*GB/s.*%peak.*members' "$tmp/$entry.out"
  check "$entry: table header" $?
  grep -q "^$entry,(step)," "$tmp/$entry.csv" && grep -q "^$entry,(peak_fma_" "$tmp/$entry.csv"
  check "$entry: step and peak rows" $?
done
[[ $kernels -eq $nnow ]]
check "CSV rows ($kernels) = timed calls in the IR ($nnow)" $?

"$kiln" compile -O2 "$model" -o "$tmp/plain" 2>"$tmp/err"
"$tmp/plain" bench forward --iters=1 --profile >"$tmp/out" 2>"$tmp/err"
[[ $? -eq 1 ]] && grep -q 'hint: kiln compile --profile' "$tmp/err"
check "plain build refuses --profile with a hint" $?
"$tmp/net" bench forward --iters=1 --profile=json x >"$tmp/out" 2>"$tmp/err"
[[ $? -eq 2 ]]
check "bad --profile form is a usage error" $?
"$kiln" compile --profile --target=cuda "$model" -o "$tmp/gpu" >"$tmp/out" 2>"$tmp/err"
[[ $? -eq 2 ]] && grep -q 'CPU-only' "$tmp/err"
check "--profile --target=cuda says it is CPU-only" $?

check_done
