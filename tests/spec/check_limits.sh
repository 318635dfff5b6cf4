#!/usr/bin/env bash
# check_limits.sh KILN [asan] — the spec limits against the worst constructions found so far,
# each generated under 1 MB: `kiln check` must answer within a generous wall bound (20 s; the
# acceptance bound is 2 s, measured times are printed) and, outside ASan, under `ulimit -v 1 GB`,
# with the expected exit status (1: a located error naming the limit, 0: the spec is fine).
# This is a bound check against hangs and blow-ups, not a benchmark.
set -u
kiln=$(realpath "$1")
asan=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
pass=0
fail=0
tail='  - global_avgpool\n  - linear: {out_features: 10}\n  - log_softmax\n'
rep() { # rep TEXT COUNT: TEXT repeated COUNT times
  local s=$1 n=$2 out=""
  while ((n > 0)); do
    if ((n & 1)); then out+=$s; fi
    s+=$s
    n=$((n >> 1))
  done
  printf '%s' "$out"
}
# case NAME WANT_STATUS PATTERN: checks NAME.yaml
case_() {
  local name=$1 want=$2 pat=$3 size rc t0 t1 ms out
  size=$(stat -c %s "$name.yaml")
  if ((size >= 1000000)); then
    echo "FAIL $name: generated $size bytes, want < 1 MB"
    fail=$((fail + 1))
    return
  fi
  t0=$(date +%s%N)
  if [[ $asan == asan ]]; then
    out=$(timeout 60 "$kiln" check "$name.yaml" 2>&1 >/dev/null)
  else
    out=$( (ulimit -v 1048576 && timeout 20 "$kiln" check "$name.yaml") 2>&1 >/dev/null)
  fi
  rc=$?
  t1=$(date +%s%N)
  ms=$(((t1 - t0) / 1000000))
  if [[ $rc -eq $want ]] && grep -qE -- "$pat" <<<"$out"; then
    echo "ok   $name: $size bytes, exit $rc in $ms ms"
    pass=$((pass + 1))
  else
    echo "FAIL $name: $size bytes, exit $rc (want $want) in $ms ms, pattern '$pat', output:"
    head -3 <<<"$out"
    fail=$((fail + 1))
  fi
}
# 1. alias bomb: 30 levels of nested sequential lists reusing anchors (2^31 layers)
{
  echo "layers:"
  echo "  - sequential: &a0 [relu, relu]"
  for i in $(seq 1 30); do echo "  - sequential: &a$i [{sequential: *a$((i - 1))}, {sequential: *a$((i - 1))}]"; done
} >alias_bomb.yaml
case_ alias_bomb 1 "YAML nodes with aliases expanded \(the node limit\)"
# 2. 20,000 nested parentheses in an expression
{
  printf 'blocks:\n  b:\n    params: {c: 8}\n    layers:\n      - conv2d:\n          out_channels: ${'
  rep '(' 20000
  printf c
  rep ')' 20000
  printf '}\nlayers:\n  - b\n'
  printf "$tail"
} >deep_parens.yaml
case_ deep_parens 1 "the expression-depth limit"
# 3. unnamed layers: default names must not be quadratic (4,000 and 9,900 ReLUs are valid specs)
for n in 4000 9900; do
  { printf 'layers:\n'; rep '  - relu\n' $n | sed 's/\\n/\n/g'; printf "$tail"; } >relus_$n.yaml
  case_ relus_$n 0 "^$"
done
# 4. more layers than the layer-count limit, unnamed and named
{ printf 'layers:\n'; rep '  - relu\n' 60000 | sed 's/\\n/\n/g'; printf "$tail"; } >relus_60000.yaml
case_ relus_60000 1 "the layer-count limit"
{ printf 'layers:\n'; for i in $(seq 1 20000); do printf '  - relu: ~\n    name: r%d\n' $i; done; printf "$tail"; } >named_20000.yaml
case_ named_20000 1 "the layer-count limit"
# 5. repeat x blocks multiply: 32 blocks, each repeating the next 1024 times
{
  printf 'blocks:\n'
  for i in $(seq 0 30); do printf '  b%d:\n    layers:\n      - b%d:\n        repeat: 1024\n' $i $((i + 1)); done
  printf '  b31:\n    layers: [relu]\nlayers:\n  - b0\n'
  printf "$tail"
} >repeat_blocks.yaml
case_ repeat_blocks 1 "the layer-count limit"
# 6. flow lists nested 100,000 deep (quadratic inside libyaml)
{ printf 'layers: '; rep '[' 100000; rep ']' 100000; echo; } >flow_nesting.yaml
case_ flow_nesting 1 "the nesting limit"
# 7. a flat list of 400,000 scalars, and one layer mapping with 70,000 keys (duplicate check)
{ printf 'layers: ['; rep 'relu,' 99999; printf 'relu]\n'; } >flat_list.yaml
case_ flat_list 1 "the layer-count limit"
{ printf 'layers:\n  - relu: ~\n'; for i in $(seq 1 70000); do printf '    k%d: 1\n' $i; done; printf '    k7: 1\n'; } >wide_map.yaml
case_ wide_map 1 "duplicate key 'k7'"
# 8. a dense web of forward references (the cycle search must stay bounded)
{
  printf 'layers:\n  - relu:\n    name: l0\n    inputs: ['
  for j in $(seq 1 63); do printf 'l%d%s' $j "$([[ $j -lt 63 ]] && echo ,)"; done
  printf ']\n'
  for i in $(seq 1 63); do
    printf '  - add:\n    name: l%d\n    inputs: [' $i
    for j in $(seq $((i + 1)) 64); do printf 'l%d,' $j; done
    printf 'l0]\n'
  done
  printf "$tail"
} >ref_web.yaml
case_ ref_web 1 "is used before it is defined|cycle|takes"
# 9. a file over the size limit, and a FIFO
head -c 1100000 /dev/zero | tr '\0' '#' >big.yaml 2>/dev/null
size=$(stat -c %s big.yaml)
if out=$("$kiln" check big.yaml 2>&1); [[ $? -eq 1 ]] && grep -q "file-size limit" <<<"$out"; then
  echo "ok   big: $size bytes refused"
  pass=$((pass + 1))
else
  echo "FAIL big: $out"
  fail=$((fail + 1))
fi
mkfifo fifo.yaml
if out=$(timeout 10 "$kiln" check fifo.yaml 2>&1); [[ $? -eq 1 ]] && grep -q "not a regular file" <<<"$out"; then
  echo "ok   fifo: refused"
  pass=$((pass + 1))
else
  echo "FAIL fifo: $out"
  fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
