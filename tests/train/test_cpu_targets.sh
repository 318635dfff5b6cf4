#!/usr/bin/env bash
# test_cpu_targets.sh — shipping to other CPUs: an executable compiled for a CPU feature this
# machine lacks (sapphirerapids: AMX, AVX512-FP16) exits 4 naming the missing features instead
# of dying of SIGILL; a multi-target executable (--cpu=A,B,C) picks the first target this CPU
# runs, each code path gives the same results, and a forced target (KILN_CPU_TARGET) is checked
# too. Machines with AMX skip the "lacks" parts (reported as skipped, not passed).
#
#   test_cpu_targets.sh KILN SRC_DIR WORK_DIR check|multi
#     check: the start-up check (one compile); multi: the three-target executable (three compiles)
set -u
kiln=$1 src=$2 work=$3 part=$4
. "$(dirname "$0")/check_lib.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
spec=$src/tests/models/sample_resnet_tiny.yaml
has_amx=0
grep -q '\bamx_tile\b' /proc/cpuinfo && has_amx=1

out=$("$kiln" compile "$spec" --cpu=portable --emit=obj -o x.o 2>&1); rc=$?
check "several targets with --emit=obj: usage error" bash -c "[ $rc -eq 2 ] && echo \"\$0\" | grep -q 'need --emit=exe or --emit=bundle'" "$out"
out=$("$kiln" compile "$spec" --cpu=, -o x 2>&1); rc=$?
check "--cpu with no name: usage error" test $rc -eq 2

if [ "$part" = check ]; then
if ! out=$("$kiln" compile "$spec" --batch 8 --entry=forward --cpu=sapphirerapids -o spr 2>&1); then bad "compile --cpu=sapphirerapids" "$out"; finish; fi
ok "compile --cpu=sapphirerapids"
out=$(./spr info); rc=$?
check "info runs anyway and lists the target's features" bash -c "[ $rc -eq 0 ] && echo \"\$0\" | grep -q '^features .*+amx-tile'" "$out"
if [ $has_amx -eq 0 ]; then
  out=$(./spr eval --limit 8 2>&1); rc=$?
  check "exe for a missing feature: exit 4, not a signal" test $rc -eq 4
  check "it names the missing features and the remedy" bash -c "echo \"\$0\" | grep -q \"^error: this CPU lacks .* features that model 'sample_resnet_tiny' was compiled for (--cpu=sapphirerapids): .*amx-tile\" && echo \"\$0\" | grep -q -- '--cpu=portable'" "$out"
  check "info says it does not run here" bash -c "./spr info | grep -q '^runs here   no: this CPU lacks .*amx-int8'"
else
  echo "skipped: this CPU has AMX, so it runs sapphirerapids code (the missing-feature exit needs a CPU without AMX)"
fi

finish
fi

if ! out=$("$kiln" compile "$spec" --batch 8 --cpu=sapphirerapids,x86-64-v3,x86-64 -o multi 2>&1); then bad "compile three targets" "$out"; finish; fi
ok "compile --cpu=sapphirerapids,x86-64-v3,x86-64"
# Each target's functions (suffixed __kn_t<i>) carry its own code: zmm for sapphirerapids, ymm
# for x86-64-v3, neither for x86-64 (the kernel wrappers' weak names must not merge across targets).
vec() { objdump -d multi --no-show-raw-insn | awk -v s="__kn_t$1>:" '/^[0-9a-f]+ <.*>:$/ { f = index($0, s) > 0 } f' | grep -cE "$2"; }
check "per-target code: zmm in sapphirerapids, ymm in x86-64-v3, none in x86-64" \
  bash -c "[ \$($(declare -f vec); vec 0 '%zmm') -gt 0 ] && [ \$($(declare -f vec); vec 1 '%ymm') -gt 0 ] && [ \$($(declare -f vec); vec 1 '%zmm') -eq 0 ] && [ \$($(declare -f vec); vec 2 '%[yz]mm') -eq 0 ]"
out=$(./multi info)
check "info lists the targets" bash -c "echo \"\$0\" | grep -q '^targets     sapphirerapids x86-64-v3 x86-64 '" "$out"
if [ $has_amx -eq 0 ]; then
  check "this CPU gets x86-64-v3" bash -c "echo \"\$0\" | grep -q '^cpu         x86-64-v3$'" "$out"
  out=$(KILN_CPU_TARGET=sapphirerapids ./multi eval --limit 8 2>&1); rc=$?
  check "a forced target this CPU lacks: exit 4" bash -c "[ $rc -eq 4 ] && echo \"\$0\" | grep -q 'amx-tile'" "$out"
fi
check "KILN_CPU_TARGET=x86-64 forces the baseline" bash -c "KILN_CPU_TARGET=x86-64 ./multi info | grep -q '^cpu         x86-64$'"
common="--epochs 1 --limit 64 --test-limit 32 --threads 1 --quiet"
a=$(./multi train $common --out a 2>&1 | grep -E '^(Train|Val) ')
b=$(KILN_CPU_TARGET=x86-64 ./multi train $common --out b 2>&1 | grep -E '^(Train|Val) ')
check "both code paths train alike ($(echo $a))" bash -c "[ -n \"\$0\" ] && [ \"\$0\" = \"\$1\" ]" "$a" "$b"
finish
