#!/usr/bin/env bash
# run_fuzz.sh HARNESS SEEDS WORK SECONDS [FILES_DIR] — one libFuzzer run: the seed corpus (read
# only) and a work corpus; 25 s per input at most (the sanitizers on a loaded machine make the
# worst valid inputs take seconds), 1 GB RSS, no leaks; crashes land in WORK/artifacts. FILES_DIR is
# copied into WORK, the harness's working directory (the spec harness gets models/, so
# `import: [blocks/resnet.yaml]` and `base:` resolve). Passes when libFuzzer ends without a
# finding. docs/fuzzing.md has the longer runs.
set -u
harness=$1 seeds=$2 work=$3 secs=$4 files=${5:-}
rm -rf "$work/artifacts"
mkdir -p "$work/corpus" "$work/artifacts"
[ -n "$files" ] && cp -r "$files"/. "$work"/
cd "$work" || exit 2
"$harness" -max_total_time="$secs" -timeout=25 -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" 2>&1 | tail -25
rc=${PIPESTATUS[0]}
# slow-unit-* files (an input over 10 s, e.g. on a loaded machine) are reported, not failed
ls "$work/artifacts" | grep '^slow-unit-' | sed 's/^/note: slow input kept: /'
if [ "$rc" -ne 0 ] || ls "$work/artifacts" | grep -v '^slow-unit-' | grep -q .; then
  echo "FAIL: $(basename "$harness") found a problem (exit $rc); the input is in $work/artifacts"
  exit 1
fi
echo "1 passed, 0 failed"
