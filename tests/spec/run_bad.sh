#!/usr/bin/env bash
# run_bad.sh KILN DIR — the malformed-spec corpus: every DIR/*.yaml starts with a line
# "# expect: <exact first line of stderr>"; `kiln check` must exit 1 (a user error) and print
# exactly that line first. Under ASan a leak or crash changes the exit status and fails the test.
set -u
kiln=$(realpath "$1")
dir=$2
cd "$dir" || exit 2
pass=0
fail=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for f in *.yaml; do
  expect=$(head -1 "$f")
  if [[ $expect != "# expect: "* ]]; then
    echo "FAIL $f: first line is not '# expect: ...'"
    fail=$((fail + 1))
    continue
  fi
  expect=${expect#"# expect: "}
  "$kiln" check "$f" >/dev/null 2>"$tmp"
  rc=$?
  got=$(head -1 "$tmp")
  if [[ $rc -ne 1 ]]; then
    echo "FAIL $f: exit status $rc, want 1"
    cat "$tmp"
    fail=$((fail + 1))
  elif [[ $got != "$expect" ]]; then
    echo "FAIL $f"
    echo "  want: $expect"
    echo "  got:  $got"
    fail=$((fail + 1))
  else
    pass=$((pass + 1))
  fi
done
if [[ $((pass + fail)) -lt 45 ]]; then
  echo "FAIL: the corpus has $((pass + fail)) specs, want at least 45"
  fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
