#!/usr/bin/env bash
# test_netns.sh — the multi-machine path of data-parallel training on one machine: two network
# namespaces joined by a veth pair stand for two hosts; mpirun runs in the first, starts the
# second rank in the other through an rsh agent (`ip netns exec`), and the ranks talk TCP over
# the veth (btl tcp, no shared memory). 2 ranks x batch 4 must equal 1 rank x batch 8 after 3
# steps, as on localhost (test_dist.sh). Exits 77 (SKIPPED) without mpirun, without root or
# where network namespaces cannot be made (a container without CAP_NET_ADMIN).
#
#   test_netns.sh KILN DIST_COMPARE SRC_DIR WORK_DIR
set -u
kiln=$1 compare=$2 src=$3 work=$4
command -v mpirun >/dev/null 2>&1 || { echo "skipped: mpirun not found"; exit 77; }
command -v ip >/dev/null 2>&1 || { echo "skipped: no ip (iproute2)"; exit 77; }
a=kn$$a b=kn$$b
cleanup() { ip netns del "$a" 2>/dev/null; ip netns del "$b" 2>/dev/null; }
trap cleanup EXIT
if ! ip netns add "$a" 2>/dev/null || ! ip netns add "$b" 2>/dev/null; then
  echo "skipped: cannot create network namespaces here (needs root and CAP_NET_ADMIN)"
  exit 77
fi
ip link add "v$$a" type veth peer name "v$$b" &&
  ip link set "v$$a" netns "$a" && ip link set "v$$b" netns "$b" &&
  ip -n "$a" addr add 10.213.0.1/24 dev "v$$a" && ip -n "$b" addr add 10.213.0.2/24 dev "v$$b" &&
  ip -n "$a" link set "v$$a" up && ip -n "$b" link set "v$$b" up &&
  ip -n "$a" link set lo up && ip -n "$b" link set lo up || { echo "FAIL veth pair"; echo "0 passed, 1 failed"; exit 1; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
cat > nsrsh <<EOS
#!/bin/sh
# rsh agent: "nsrsh HOST CMD..." runs CMD in HOST's namespace
host=\$1; shift
case \$host in 10.213.0.1) ns=$a ;; 10.213.0.2) ns=$b ;; *) echo "nsrsh: unknown host \$host" >&2; exit 1 ;; esac
exec ip netns exec "\$ns" sh -c "\$*"
EOS
chmod +x nsrsh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
pass=0 fail=0
for bt in 4 8; do
  "$kiln" compile "$src/tests/dist/nobn.yaml" --batch $bt -o "$work/nobn$bt" > "$work/c$bt.log" 2>&1 || { echo "FAIL compile"; cat "$work/c$bt.log"; exit 1; }
done
common="train --epochs 1 --limit 24 --test-limit 16 --seed 3 --threads 1 --quiet"
"$work/nobn8" $common --out "$work/one" >/dev/null 2>&1
out=$(timeout 120 ip netns exec "$a" mpirun -x ASAN_OPTIONS --mca plm_rsh_agent "$work/nsrsh" --mca btl self,tcp \
        --mca btl_tcp_if_include 10.213.0.0/24 --mca oob_tcp_if_include 10.213.0.0/24 \
        -H 10.213.0.1:1,10.213.0.2:1 -np 2 "$work/nobn4" $common --out "$work/two" 2>&1)
rc=$?
if [ $rc -eq 0 ] && cmp=$("$compare" "$work/one/checkpoint.safetensors" "$work/two/checkpoint.safetensors" 1e-5 2>&1); then
  echo "ok   two hosts (network namespaces, TCP): 2 ranks x 4 == 1 rank x 8 after 3 steps: $cmp"; pass=1
else
  echo "FAIL two hosts (network namespaces, TCP), exit $rc"; echo "$out" | tail -20 | sed 's/^/     /'; echo "${cmp:-}"; fail=1
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
