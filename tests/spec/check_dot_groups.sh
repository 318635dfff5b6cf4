#!/usr/bin/env bash
# check_dot_groups.sh KILN ROOT — `kiln dump -O2 --format=dot` draws every kernel group as one
# cluster labelled with its kernel function (kn_kern<i>_<op>, the name the CPU backend and
# `bench --profile` use): for each tiny model, inference and training graph, the clusters are as
# many as the text dump's "fused groups", their kernel indices distinct and below the kernel count,
# and every cluster holds the nodes of its group (at least two). At -O0 there is no cluster.
set -u
kiln=$1
root=$2
pass=0
fail=0
for m in "$root"/tests/models/*.yaml; do
  for after in "" "--after=autodiff"; do
    txt=$("$kiln" dump -O2 $after "$m" | tail -1)
    dot=$("$kiln" dump -O2 $after --format=dot "$m")
    kernels=$(sed -E 's/.* in ([0-9]+) kernels \(([0-9]+) fused groups\).*/\1/' <<<"$txt")
    groups=$(sed -E 's/.* in ([0-9]+) kernels \(([0-9]+) fused groups\).*/\2/' <<<"$txt")
    res=$(awk -v K="$kernels" -v G="$groups" '
      /^  subgraph cluster_k[0-9]+ \{$/ { if (open) bad = "nested"; open = 1; n++; members = 0; next }
      open && /label="kn_kern[0-9]+_[a-z0-9_]+ \(/ { match($0, /kn_kern[0-9]+/); i = substr($0, RSTART + 7, RLENGTH - 7) + 0
                 if (seen[i]++ || i >= K) bad = "index " i; next }
      open && /^  n[0-9]+ \[/ { members++ }
      /^  \}$/ { if (!open || members < 2) bad = "cluster of " members; open = 0 }
      END { if (open) bad = "unclosed"; if (n != G) bad = bad " clusters " n " != groups " G; print bad == "" ? "ok" : bad }' <<<"$dot")
    if [[ $res == ok && $groups -gt 0 ]]; then pass=$((pass + 1)); else echo "FAIL $m $after: $res"; fail=$((fail + 1)); fi
  done
  if "$kiln" dump --format=dot "$m" | grep -q 'subgraph cluster'; then echo "FAIL $m: cluster at -O0"; fail=$((fail + 1)); else pass=$((pass + 1)); fi
done
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
