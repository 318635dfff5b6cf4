#!/usr/bin/env bash
# check_ab.sh KILN ROOT — bench/ab.sh end to end on the reduced model, 2 rounds of 1 iteration (a
# smoke test of its output, no timing asserted): the comparison table has the A and B rows with
# their kernel counts (as many as `kiln dump` counts) and a speed-up, and
# each entry has a per-kernel difference whose rows cover every kernel of both builds; a bad
# option is a usage error.
set -u
kiln=$1
root=$2
. "$root/tests/common/check_lib.sh"

# Kernel counts of the training step as kiln's own dump gives them, with no pass (only `inplace`,
# which changes no kernel) and at -O2.
kernels() { "$kiln" dump "$@" "$root/tests/profile/profile_net.yaml" | sed -n 's/.* in \([0-9]*\) kernels.*/\1/p'; }
none=$(kernels --after=autodiff --passes=inplace)
ktrain=$(kernels -O2 --after=autodiff)
"$root/bench/ab.sh" --kiln "$kiln" --a='-O2 --disable-pass=all' --b=-O2 --rounds 2 --iters 1 \
  "$root/tests/profile/profile_net.yaml" >"$tmp/out" 2>"$tmp/err"
check "ab.sh runs" $?
bt='`'
grep -qE "^\| profile_net \| ${bt}-O2 --disable-pass=constfold,[a-z_,]*inplace${bt} \| $none \| [0-9]+ \| [0-9.]+ \| 1.000x \|" "$tmp/out"
check "A row: no-pass build, $none kernels" $?
grep -qE "^\| profile_net \| ${bt}-O2${bt} \| $ktrain \| [0-9]+ \| [0-9.]+ \| [0-9.]+x \[[0-9.]+-[0-9.]+\] \|" "$tmp/out"
check "B row: -O2, $ktrain kernels, speed-up with range" $?
[[ $(grep -c '^| all [0-9]* kernels | all [0-9]* kernels |' "$tmp/out") -eq 2 ]]
check "a per-kernel difference per entry" $?
grep -q "^| all $none kernels | all $ktrain kernels |" "$tmp/out"
check "the training step's difference covers every kernel of both builds" $?
grep -qE '^\| kn_kern0_conv2d kn_kern1_relu kn_kern2_global_avgpool \| kn_kern0_conv2d \|' "$tmp/out"
check "the fused conv+relu+pool is matched with its three unfused kernels" $?
"$root/bench/ab.sh" --kiln "$kiln" --a=-O2 --bogus "$root/tests/profile/profile_net.yaml" >/dev/null 2>&1
[[ $? -eq 2 ]]
check "unknown option: usage error" $?
check_done
