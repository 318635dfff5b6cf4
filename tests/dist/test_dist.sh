#!/usr/bin/env bash
# test_dist.sh — data-parallel training under Open MPI on localhost (docs/distributed.md):
#   - 2 ranks x batch 4 == 1 rank x batch 8 after 3 SGD steps (momentum), every checkpoint
#     tensor to fp32 round-off, for a network without BatchNorm (nobn.yaml);
#   - the same for the reduced Sample ResNet compiled with --sync-bn, and, as the control, that
#     its per-rank-BatchNorm build does differ from 1 rank x 8;
#   - the reduced Sample ResNet with per-rank BatchNorm trains and converges on 2 ranks;
#   - a checkpoint written by 2 ranks resumes in 1 rank;
#   - a rank killed mid-epoch ends the job within seconds with a message and a non-zero exit, the
#     last checkpoint intact; a hung rank is caught by the watchdog (KILN_DIST_TIMEOUT);
#   - ranks running different executables or batch sizes are refused at start;
#   - ldd of a single-process executable shows no MPI library.
# Exits 77 (ctest SKIPPED) when mpirun is not installed.
#
#   test_dist.sh KILN DIST_COMPARE SRC_DIR WORK_DIR
set -u
kiln=$1 compare=$2 src=$3 work=$4
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "$2" | tail -25 | sed 's/^/     /'; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

if ! command -v mpirun >/dev/null 2>&1; then
  echo "skipped: mpirun not found (install openmpi-bin: scripts/deps.sh)"
  exit 77
fi
# What Open MPI needs in a container, as root, with 2 ranks on 2 cores: no CMA single-copy
# (ptrace is usually forbidden), shared memory + self transports only, oversubscription allowed.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_btl=self,vader
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_plm_rsh_agent=false
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 # Open MPI's own allocations are not ours
mpi() { timeout 120 mpirun -x ASAN_OPTIONS -x KILN_FAULT_KILL -x KILN_DIST_TIMEOUT "$@"; }
export KILN_FAULT_KILL= KILN_DIST_TIMEOUT=

rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

# --- executables (two compiles at a time) ---
tiny_spec=$src/tests/models/sample_resnet_tiny.yaml
compile() { local o=$1; shift; "$kiln" compile "$@" -o "$work/$o" > "$work/$o.log" 2>&1 || echo "$o"; }
failed=$( (compile nobn4 "$src/tests/dist/nobn.yaml" --batch 4 & compile nobn8 "$src/tests/dist/nobn.yaml" --batch 8; wait) ;
          (compile tiny "$tiny_spec" --batch 4 & compile sync4 "$tiny_spec" --batch 4 --sync-bn; wait) ;
          compile sync8 "$tiny_spec" --batch 8 --sync-bn)
if [ -n "$failed" ]; then bad "compile $failed" "$(cat "$work"/*.log)"; finish; fi
ok "compile"

# --- ldd: no MPI library in a single-process executable ---
if ldd "$work/tiny" | grep -qi mpi; then bad "ldd shows no MPI library" "$(ldd "$work/tiny")"; else ok "ldd shows no MPI library"; fi

# --- 2 ranks x batch 4 == 1 rank x batch 8 (3 steps of SGD with momentum, no BatchNorm) ---
common="train --epochs 1 --limit 24 --test-limit 16 --seed 3 --threads 1 --quiet"
out1=$("$work/nobn8" $common --out "$work/one" 2>&1) || bad "1 rank x batch 8 trains" "$out1"
out2=$(mpi -np 2 "$work/nobn4" $common --out "$work/two" 2>&1) || bad "2 ranks x batch 4 train" "$out2"
if cmp=$("$compare" "$work/one/checkpoint.safetensors" "$work/two/checkpoint.safetensors" 1e-5 2>&1); then
  ok "2 ranks x 4 == 1 rank x 8 after 3 steps: $cmp"
else
  bad "2 ranks x 4 == 1 rank x 8 after 3 steps" "$cmp"
fi
steps=$(head -c 4000 "$work/two/checkpoint.safetensors" | grep -ao '"step":"[0-9]*"')
if [ "$steps" = '"step":"3"' ]; then ok "3 optimizer steps on each rank"; else bad "3 optimizer steps on each rank ($steps)"; fi
if [ -e "$work/two/metrics.csv" ] && echo "$out2" | grep -q '^ranks 2: '; then ok "rank 0 writes the files and the all-reduce report"; else bad "rank 0 writes the files" "$out2"; fi
if [ "$(echo "$out2" | grep -c '^epoch: 1')" = 1 ]; then ok "only rank 0 logs"; else bad "only rank 0 logs" "$out2"; fi

# --- --sync-bn: the reduced Sample ResNet, 2 ranks x 4 == 1 rank x 8 (BatchNorm statistics and
#     gradient sums averaged over the ranks); per-rank BatchNorm must differ (the control) ---
"$work/sync8" $common --out "$work/bn1" >/dev/null 2>&1 || bad "sync-bn: 1 rank x 8 trains"
out=$(mpi -np 2 "$work/sync4" $common --out "$work/bn2" 2>&1) || bad "sync-bn: 2 ranks x 4 train" "$out"
if cmp=$("$compare" "$work/bn1/checkpoint.safetensors" "$work/bn2/checkpoint.safetensors" 1e-5 2>&1); then
  ok "sync-bn: 2 ranks x 4 == 1 rank x 8 after 3 steps: $cmp"
else
  bad "sync-bn: 2 ranks x 4 == 1 rank x 8 after 3 steps" "$cmp"
fi
out=$(mpi -np 2 "$work/tiny" $common --out "$work/bn3" 2>&1) || bad "per-rank BN: 2 ranks x 4 train" "$out"
if cmp=$("$compare" "$work/bn1/checkpoint.safetensors" "$work/bn3/checkpoint.safetensors" 1e-5 2>&1); then
  bad "control: per-rank BN differs from 1 rank x 8" "$cmp"
else
  ok "control: per-rank BN differs from 1 rank x 8 (${cmp#*worst })"
fi

# --- per-rank BatchNorm: the reduced Sample ResNet trains and converges on 2 ranks ---
data="--limit 800 --test-limit 200"
out=$(mpi -np 2 "$work/tiny" train --epochs 3 $data --lr 0.05 --threads 1 --quiet --stop-after 1 --out "$work/bn" 2>&1)
rc=$?
acc=$(echo "$out" | sed -n 's/^Val loss : .*Val Acc : //p' | tail -1)
if [ $rc -eq 0 ] && awk -v a="${acc:-0}" 'BEGIN { exit !(a > 0.5) }'; then ok "per-rank BN: 2 ranks reach val accuracy $acc (> 0.5, chance 0.1) in 1 epoch"
else bad "per-rank BN: 2 ranks converge (val accuracy ${acc:-none})" "$out"; fi

# --- a checkpoint written by 2 ranks resumes in 1 rank ---
out=$("$work/tiny" train --resume "$work/bn/checkpoint.safetensors" $data --threads 2 --quiet --stop-after 1 --out "$work/bn" 2>&1)
if [ $? -eq 0 ] && echo "$out" | grep -qx 'epoch: 2' && [ "$(wc -l < "$work/bn/metrics.csv")" -eq 3 ]; then ok "2-rank checkpoint resumes in 1 rank (epoch 2, metrics continue)"
else bad "2-rank checkpoint resumes in 1 rank" "$out"; fi

# --- a killed rank: the job ends with a message and a non-zero exit; the checkpoint stays ---
# (steps so far: 100 on 2 ranks x 4 + 200 on 1 rank x 4; rank 1 dies before step 305, in epoch 3)
cp "$work/bn/checkpoint.safetensors" "$work/before.safetensors"
t0=$(date +%s)
out=$(KILN_FAULT_KILL=1:305 mpi -np 2 "$work/tiny" train $data --threads 1 --quiet \
      --resume "$work/bn/checkpoint.safetensors" --out "$work/bn" 2>&1)
rc=$? t1=$(date +%s)
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && echo "$out" | grep -Eq 'exited on signal 9|stopped by mpirun'; then
  ok "killed rank: job ends in $((t1 - t0)) s, exit $rc, with a message"
else
  bad "killed rank ends the job (exit $rc, $((t1 - t0)) s)" "$out"
fi
if cmp -s "$work/before.safetensors" "$work/bn/checkpoint.safetensors"; then ok "killed rank: last checkpoint intact"; else bad "killed rank: last checkpoint intact"; fi

# --- a hung rank: the watchdog aborts the job ---
t0=$(date +%s)
out=$(KILN_FAULT_KILL=1:3:stop KILN_DIST_TIMEOUT=3 mpi -np 2 "$work/tiny" train --epochs 1 --limit 400 --test-limit 16 --threads 1 --quiet --out "$work/hang" 2>&1)
rc=$? t1=$(date +%s)
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && echo "$out" | grep -q 'no answer from the other ranks for 3 s'; then ok "hung rank: watchdog ends the job in $((t1 - t0)) s"
else bad "hung rank: watchdog ends the job (exit $rc, $((t1 - t0)) s)" "$out"; fi

# --- mismatched ranks are refused at start ---
out=$(mpi -np 1 "$work/nobn4" $common --out "$work/mm" : -np 1 "$work/nobn8" $common --out "$work/mm" 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q "rank 1's executable (model descriptor hash) differs from rank 0's"; then ok "different executables refused"
else bad "different executables refused" "$out"; fi
out=$(mpi -np 1 "$work/nobn8" $common --out "$work/mm" : -np 1 "$work/nobn8" $common --batch 4 --out "$work/mm" 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q "rank 1's run options"; then ok "different batch sizes refused"
else bad "different batch sizes refused" "$out"; fi

finish
