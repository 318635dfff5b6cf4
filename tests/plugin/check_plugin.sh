#!/usr/bin/env bash
# check_plugin.sh KILN BUILD_DIR ROOT TEST_FUSED|- CC — pass plugins (include/kiln/pass_plugin.h);
# with TEST_FUSED only 1 and 4 (plugin.head_fuse_interp), with - all but 4 (plugin.head_fuse):
#  1. `cmake --install` puts the header set under a prefix, and examples/pass_plugin/head_fuse.c
#     builds against it alone (-Werror, C11) into a shared object;
#  2. `kiln compile --load-pass=... -O2 --stats` runs its pass `head` after eltwise and it removes
#     one kernel in each graph of a model with a pool -> linear head; `kiln dump` shows the linear
#     in the pool's group; --passes=head runs only it; without the plugin, `head` is unknown;
#  3. `bench --profile` of a plugin build has a kernel holding global_avgpool and linear;
#  4. the tiny Sample ResNet compiled with the plugin equals the interpreter (test_codegen_fused,
#     the codegen harness: inference, and 3 training steps with every gradient);
#  5. clear errors, exit 2: a wrong ABI number (naming both), a library without the init symbol,
#     a missing file.
set -u
kiln=$1
build=$2
root=$3
fused=$4
cc=${5:-cc}
. "$root/tests/common/check_lib.sh"

model=$root/tests/profile/profile_net.yaml

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/log" 2>&1 && [[ -f $tmp/prefix/include/kiln/pass_plugin.h ]]
check "header set installed" $?
"$cc" -std=c11 -Wall -Wextra -Werror -shared -fPIC -I "$tmp/prefix/include" "$root/examples/pass_plugin/head_fuse.c" \
  -o "$tmp/libhead.so" 2>"$tmp/log"
check "example plugin builds against the installed headers" $?
so=$tmp/libhead.so

if [[ $fused != - ]]; then
  "$fused" --load-pass="$so" "$root/tests/models" sample_resnet_tiny.yaml >"$tmp/fused" 2>&1
  check "sample_resnet_tiny with the plugin equals the interpreter ($(tail -1 "$tmp/fused"))" $?
  echo "harness only (plugin.head_fuse_interp)"
  check_done
  exit
fi

"$kiln" compile --load-pass="$so" -O2 --stats "$model" -o "$tmp/net" 2>"$tmp/stats"
check "compile with the plugin" $?
# each head row: kernels K -> K-1, K being what eltwise left
rows=$(awk '$1 == "eltwise" {k = $8} $1 == "head" && $6 == k && $8 == k - 1 {n++} END {print n + 0}' "$tmp/stats")
[[ $rows -eq 2 ]]
check "--stats: head ran after eltwise and removed one kernel per graph" $?
[[ $(grep -A1 '^eltwise' "$tmp/stats" | grep -c '^head') -eq 2 ]]
check "--stats: head sits right after eltwise" $?
"$kiln" dump --load-pass="$so" -O2 "$model" | grep -q '^kernel [0-9]* (.*global_avgpool+linear)'
check "dump: linear in the pool's kernel" $?
"$kiln" dump --load-pass="$so" --passes=head "$model" | grep -q '^kernel [0-9]* (global_avgpool+linear)'
check "--passes=head alone" $?
"$kiln" dump --passes=head "$model" >"$tmp/out" 2>"$tmp/err"
[[ $? -eq 2 ]] && grep -q "unknown pass 'head'" "$tmp/err" && grep -q -- '--load-pass' "$tmp/err"
check "without the plugin 'head' is unknown, with a hint" $?
"$kiln" compile --load-pass="$so" -O2 --profile "$model" -o "$tmp/pnet" 2>"$tmp/err" &&
  "$tmp/pnet" bench forward --iters=2 --profile >"$tmp/prof"
check "profiled plugin build" $?
grep -qE 'kn_kern[0-9]+_conv2d .*global_avgpool:pool linear:fc' "$tmp/prof"
check "profile: one kernel holds conv, pool and linear" $?


"$cc" -std=c11 -shared -fPIC -DHEAD_FUSE_ABI=999 -I "$tmp/prefix/include" "$root/examples/pass_plugin/head_fuse.c" \
  -o "$tmp/libold.so"
"$kiln" compile --load-pass="$tmp/libold.so" "$model" -o "$tmp/x" >"$tmp/out" 2>"$tmp/err"
[[ $? -eq 2 ]] && grep -q 'built for pass-plugin ABI 999, this kiln has ABI 1' "$tmp/err" && [[ ! -e $tmp/x ]]
check "wrong ABI refused, both numbers named" $?
echo 'int not_a_plugin(void) { return 0; }' >"$tmp/np.c"
"$cc" -shared -fPIC "$tmp/np.c" -o "$tmp/libnp.so"
"$kiln" compile --load-pass="$tmp/libnp.so" "$model" -o "$tmp/x" >"$tmp/out" 2>"$tmp/err"
[[ $? -eq 2 ]] && grep -q 'is not a kiln pass plugin' "$tmp/err"
check "library without kiln_pass_plugin_init refused" $?
"$kiln" compile --load-pass="$tmp/missing.so" "$model" -o "$tmp/x" >"$tmp/out" 2>"$tmp/err"
[[ $? -eq 2 ]] && grep -q 'cannot load' "$tmp/err"
check "missing file refused" $?

check_done
