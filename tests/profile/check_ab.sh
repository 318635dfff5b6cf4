#!/usr/bin/env bash
# check_ab.sh KILN ROOT — bench/ab.sh end to end on the reduced model, 2 rounds of 1 iteration (a
# smoke test of its output, no timing asserted): the comparison table has the A and B rows with
# their kernel counts (17 unfused, 12 at -O2 for profile_net's training step) and a speed-up, and
# each entry has a per-kernel difference whose rows cover every kernel of both builds; a bad
# option is a usage error.
set -u
kiln=$1
root=$2
. "$root/tests/common/check_lib.sh"

"$root/bench/ab.sh" --kiln "$kiln" --a='-O2 --disable-pass=all' --b=-O2 --rounds 2 --iters 1 \
  "$root/tests/profile/profile_net.yaml" >"$tmp/out" 2>"$tmp/err"
check "ab.sh runs" $?
grep -qE '^\| profile_net \| `-O2 --disable-pass=constfold,[a-z_,]*inplace` \| 17 \| [0-9]+ \| [0-9.]+ \| 1.000x \|' "$tmp/out"
check "A row: no-pass build, 17 kernels" $?
grep -qE '^\| profile_net \| `-O2` \| 12 \| [0-9]+ \| [0-9.]+ \| [0-9.]+x \[[0-9.]+-[0-9.]+\] \|' "$tmp/out"
check "B row: -O2, 12 kernels, speed-up with range" $?
[[ $(grep -c '^| all [0-9]* kernels | all [0-9]* kernels |' "$tmp/out") -eq 2 ]]
check "a per-kernel difference per entry" $?
grep -q '^| all 17 kernels | all 12 kernels |' "$tmp/out" && grep -q '^| all 5 kernels | all 3 kernels |' "$tmp/out"
check "the differences cover every kernel of both builds" $?
grep -qE '^\| kn_kern0_conv2d kn_kern1_relu kn_kern2_global_avgpool \| kn_kern0_conv2d \|' "$tmp/out"
check "the fused conv+relu+pool is matched with its three unfused kernels" $?
"$root/bench/ab.sh" --kiln "$kiln" --a=-O2 --bogus "$root/tests/profile/profile_net.yaml" >/dev/null 2>&1
[[ $? -eq 2 ]]
check "unknown option: usage error" $?
check_done
