#!/usr/bin/env bash
# check_dot.sh KILN ROOT DOT — `kiln dump --format=dot` renders with Graphviz for every seed and
# tiny model, and so does each tiny model's -O2 training graph (kernel groups drawn as clusters). Exits 77 (skipped) when Graphviz's dot was not found at configure time.
set -u
kiln=$1
root=$2
dot=${3:-}
if [[ -z $dot || ! -x $dot ]]; then
  echo "dot (Graphviz) not found: skipped"
  exit 77
fi
pass=0
fail=0
runs=()
for m in "$root"/models/*.yaml "$root"/tests/models/*.yaml; do runs+=("$m|"); done
for m in "$root"/tests/models/*.yaml; do runs+=("$m|-O2 --after=autodiff"); done
for r in "${runs[@]}"; do
  m=${r%%|*}
  svg=$("$kiln" dump --format=dot "$m" ${r#*|} | "$dot" -Tsvg 2>&1)
  if [[ ${PIPESTATUS[0]} -eq 0 && $svg == *"<svg"* && $svg == *"</svg>"* ]]; then
    pass=$((pass + 1))
  else
    echo "FAIL $m ${r#*|}"
    head -3 <<<"$svg"
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
