#!/usr/bin/env bash
# test_two_bundles.sh KILN SRC WORK [SANFLAGS] — two bundles of different models
# (tests/models/sample_resnet_tiny.yaml, activations_tiny.yaml; --emit=bundle) link into one C
# program (two_bundles.c), which classifies one image with both; each bundle linked alone through
# the unprefixed kn_bundle_* names (one_bundle.c) prints the same classes and probabilities; the
# objects export nothing but their prefixed API. Prints "P passed, F failed".
set -u
kiln=$1 src=$2 work=$3 san=${4:-}
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
pass=0 fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; echo "$2" | tail -5; fail=$((fail + 1)); }
for m in sample_resnet_tiny activations_tiny; do
  if out=$("$kiln" compile "$src/tests/models/$m.yaml" --emit=bundle -o "$m.o" 2>&1); then ok "bundle $m.o"; else bad "bundle $m.o" "$out"; fi
  syms=$(nm -g --defined-only "$m.o" 2>&1 | awk '{print $3}' | sort | tr '\n' ' ')
  want="${m}_class_name ${m}_classify ${m}_free ${m}_init "
  if [ "$syms" = "$want" ]; then ok "$m.o exports only ${m}_*"; else bad "$m.o exports only ${m}_*" "got: $syms"; fi
done
if out=$(cc $san -I. "$src/tests/train/two_bundles.c" sample_resnet_tiny.o activations_tiny.o -lm -lpthread -o two 2>&1) &&
   both=$(./two 2>&1); then
  ok "one program links both bundles and classifies with each"
else
  bad "one program links both bundles and classifies with each" "$out ${both:-}"
fi
for m in sample_resnet_tiny activations_tiny; do
  cp "$m.h" bundle.h
  if out=$(cc $san -I. "$src/tests/train/one_bundle.c" "$m.o" -lm -lpthread -o "one_$m" 2>&1) && alone=$("./one_$m" "$m" 2>&1) &&
     [ "$alone" = "$(echo "${both:-}" | grep "^$m ")" ]; then
    ok "$m alone (kn_bundle_* names) gives the same class and probabilities as in the two-bundle program"
  else
    bad "$m alone equals the two-bundle program" "$out | alone: ${alone:-} | both: ${both:-}"
  fi
done
if [ "$(grep -c '^sample_resnet_tiny\|^activations_tiny' <<< "${both:-}")" = 2 ] &&
   [ "$(echo "${both:-}" | sed -n 1p | cut -d' ' -f3-)" != "$(echo "${both:-}" | sed -n 2p | cut -d' ' -f3-)" ]; then
  ok "the two models give different probabilities (no shared state)"
else
  bad "the two models give different probabilities" "${both:-}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
