#!/bin/sh
# filecheck.sh KILN FILECHECK SRCDIR — FileCheck tests of the CPU backend's output: per-shape
# specialisation of kernels (constant trip counts, no generic kernel left) and vector width
# (zmm with AVX-512, ymm only with AVX2). Exits 77 (skipped) when FileCheck is missing.
kiln=$1 fc=$2 src=$3
if [ -z "$fc" ] || [ ! -x "$fc" ]; then echo "FileCheck not found: skipped"; exit 77; fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
model=$src/tests/models/sample_resnet_tiny.yaml
checks=$src/tests/codegen/filecheck
pass=0 fail=0
run() { # name, command...
  name=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL $name"; fail=$((fail + 1)); fi
}
run "compile llvm" "$kiln" compile "$model" --emit=llvm --cpu=skylake-avx512 -o "$tmp/m.ll"
run "specialise" "$fc" --input-file="$tmp/m.ll" "$checks/specialise.check"
run "no generic kernel" "$fc" --check-prefix=NOKERNEL --input-file="$tmp/m.ll" "$checks/specialise.check"
run "compile avx512 asm" "$kiln" compile "$model" --emit=asm --cpu=skylake-avx512 -o "$tmp/a.s"
run "zmm with avx512" "$fc" --check-prefix=AVX512 --input-file="$tmp/a.s" "$checks/vector_width.check"
run "compile avx2 asm" "$kiln" compile "$model" --emit=asm --cpu=haswell -o "$tmp/h.s"
run "ymm only with avx2" "$fc" --check-prefix=AVX2 --input-file="$tmp/h.s" "$checks/vector_width.check"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
