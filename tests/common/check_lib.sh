# check_lib.sh — the shell side of tests/common (source it): a scratch directory removed at exit,
# check NAME STATUS counting passes and failures, and check_done printing "N passed, M failed"
# and returning non-zero on any failure (the line every kiln test prints).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {
  if [[ $2 -eq 0 ]]; then pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi
}
check_done() {
  echo "$pass passed, $fail failed"
  [[ $fail -eq 0 ]]
}
