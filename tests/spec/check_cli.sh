#!/usr/bin/env bash
# check_cli.sh KILN ROOT — help, version, usage errors and exit codes of `kiln check` / `kiln dump`.
set -u
kiln=$1
root=$2
pass=0
fail=0
expect() { # description, wanted exit status, pattern expected in stdout+stderr, command...
  local what=$1 want=$2 pat=$3
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc -eq $want ]] && grep -qE -- "$pat" <<<"$out"; then
    pass=$((pass + 1))
  else
    echo "FAIL $what: exit $rc (want $want), output:"
    head -5 <<<"$out"
    fail=$((fail + 1))
  fi
}
m=$root/tests/models/sample_resnet_tiny.yaml
expect "kiln --help" 0 "check +check a model spec" "$kiln" --help
expect "kiln --version" 0 "^kiln [0-9]+\.[0-9]+\.[0-9]+" "$kiln" --version
expect "check --help" 0 "usage: kiln check" "$kiln" check --help
expect "dump --help" 0 "usage: kiln dump" "$kiln" dump --help
expect "check without FILE" 2 "usage: kiln check" "$kiln" check
expect "check bad option" 2 "unknown or incomplete option '--bogus'" "$kiln" check --bogus "$m"
expect "check bad --batch" 2 "--batch wants a number" "$kiln" check --batch 0 "$m"
expect "check bad --input" 2 "--input wants HxW" "$kiln" check --input 32y32 "$m"
expect "check two files" 2 "more than one FILE" "$kiln" check "$m" "$m"
expect "check missing file" 1 "error: cannot read '.*no_such.yaml'" "$kiln" check "$root/no_such.yaml"
expect "check ok" 0 "^Total params +6,582$" "$kiln" check "$m"
expect "check --depth 0" 0 "^layer1 \(res_attention\)" "$kiln" check --depth 0 "$m"
expect "check --input" 0 "^Input shape +\[3, 3, 20, 24\]$" "$kiln" check --batch 3 --input 20x24 "$m"
expect "dump text" 0 "param layer1.cbam.mlp.0.weight \[2, 8, 1, 1\]" "$kiln" dump "$m"
expect "dump dot" 0 "^digraph" "$kiln" dump --format=dot "$m"
expect "dump bad format" 2 "unknown format 'svg'" "$kiln" dump --format=svg "$m"
expect "dump error" 1 "error: unknown attribute 'strid'" "$kiln" dump "$root/tests/spec/bad/unknown_attr.yaml"
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
