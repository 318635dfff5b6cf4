# check_lib.sh — the pass/fail bookkeeping of the tests/train shell tests (sourced):
#   check NAME CMD...   runs CMD; "ok NAME" or "FAIL NAME"
#   bad NAME [OUTPUT]   a failure with the first lines of OUTPUT
#   finish              prints "N passed, M failed" and exits non-zero on any failure
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "$2" | head -20 | sed 's/^/     /'; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }
