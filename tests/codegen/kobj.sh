#!/bin/sh
# kobj.sh KILN SRCDIR identical|corrupt [MODEL.yaml...] — the parallel kernel code generation and
# the kernel object cache of `kiln compile` (compiler/codegen/cpu/cpu_kobj.c, support/objcache.c).
#   identical: each model's object is the same bit for bit with 1 and 2 codegen threads, without
#              the cache, filling it, and taken from it (every kernel from the cache).
#   corrupt:   a cache entry with a flipped byte, one truncated and one with a bad header are
#              reported, never used (the object equals the uncached one) and rewritten; two
#              compiles filling an empty cache at once agree; `kiln cache stats/clean` work; a
#              size bound (KILN_CACHE_MAX_MB) is kept; progress lines only with --verbose here.
# The cache lives in a temporary XDG_CACHE_HOME (HOME too), never in the user's.
kiln=$1 src=$2 mode=$3
shift 3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/xdg" HOME="$tmp/home"
cache="$XDG_CACHE_HOME/kiln"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
check() { # name, command...
  name=$1; shift
  if "$@"; then ok; else bad "$name"; fi
}
compile() { # model, out, extra options...
  m=$1 o=$2; shift 2
  "$kiln" compile "$m" --emit=obj -o "$o" --time-report "$@" 2> "$o.err" || { cat "$o.err"; return 1; }
}

if [ "$mode" = identical ]; then
  for m in "$@"; do
    b=$tmp/$(basename "$m" .yaml)
    rm -rf "$cache"
    check "$m: compile -j1 --no-cache" compile "$m" "$b.j1.o" -j1 --no-cache
    check "$m: compile -j2 --no-cache" compile "$m" "$b.j2.o" -j2 --no-cache
    check "$m: compile -j2, filling the cache" compile "$m" "$b.cold.o" -j2
    check "$m: compile -j1 from the cache" compile "$m" "$b.warm.o" -j1
    check "$m: every kernel from the cache" grep -q " 0 compiled," "$b.warm.o.err"
    check "$m: -j1 = -j2" cmp "$b.j1.o" "$b.j2.o"
    check "$m: no cache = cache filled" cmp "$b.j1.o" "$b.cold.o"
    check "$m: no cache = from the cache" cmp "$b.j1.o" "$b.warm.o"
  done
elif [ "$mode" = corrupt ]; then
  m=$src/tests/codegen/kobj/small.yaml
  check "reference (no cache)" compile "$m" "$tmp/ref.o" --no-cache
  [ ! -d "$cache" ] || bad "--no-cache created the cache directory"
  check "no progress lines when stderr is not a terminal" sh -c "! grep -q 'compiling kernels' '$tmp/ref.o.err'"
  check "progress lines with --verbose" sh -c "'$kiln' compile '$m' --emit=obj -o '$tmp/v.o' --no-cache -v 2>&1 | grep -q 'compiling kernels [0-9]*/[0-9]*'"
  check "fill the cache" compile "$m" "$tmp/cold.o"
  set -- "$cache"/*.kobj
  [ $# -ge 3 ] || bad "fewer than 3 cache entries ($#)"
  size=$(wc -c < "$1")
  printf '\377\000\377\000' | dd of="$1" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
  size=$(wc -c < "$2")
  truncate -s $((size - 7)) "$2"
  printf 'X' | dd of="$3" bs=1 seek=0 conv=notrunc 2>/dev/null
  check "compile over damaged entries" compile "$m" "$tmp/again.o"
  check "flipped byte reported" grep -q "is corrupt (checksum mismatch)" "$tmp/again.o.err"
  check "truncation reported" grep -q "is truncated" "$tmp/again.o.err"
  check "bad header reported" grep -q "is not a kiln cache entry" "$tmp/again.o.err"
  check "3 kernels compiled again" grep -q " 3 compiled," "$tmp/again.o.err"
  check "object unchanged by damaged entries" cmp "$tmp/ref.o" "$tmp/again.o"
  check "compile from the repaired cache" compile "$m" "$tmp/third.o"
  check "no warning once repaired" sh -c "! grep -q warning '$tmp/third.o.err'"
  check "every kernel from the repaired cache" grep -q " 0 compiled," "$tmp/third.o.err"
  check "object from the repaired cache" cmp "$tmp/ref.o" "$tmp/third.o"
  n=$(ls "$cache" | wc -l)
  check "kiln cache stats" sh -c "'$kiln' cache stats | grep -q 'entries *$n\$'"
  check "kiln cache clean" sh -c "'$kiln' cache clean > /dev/null && [ -z \"\$(ls '$cache')\" ]"
  rm -rf "$cache"
  check "compile with a 20 KB bound" env KILN_CACHE_MAX_MB=0.02 "$kiln" compile "$m" --emit=obj -o "$tmp/b.o"
  bytes=$(cat "$cache"/*.kobj 2>/dev/null | wc -c)
  check "cache trimmed under 90% of its bound ($bytes bytes)" [ "$bytes" -le 18874 ]
  check "object unchanged by the bound" cmp "$tmp/ref.o" "$tmp/b.o"
  rm -rf "$cache"
  compile "$m" "$tmp/p1.o" & p1=$!
  compile "$m" "$tmp/p2.o" & p2=$!
  check "concurrent compile 1" wait $p1
  check "concurrent compile 2" wait $p2
  check "concurrent compiles agree" cmp "$tmp/p1.o" "$tmp/p2.o"
  check "concurrent compile = reference" cmp "$tmp/ref.o" "$tmp/p1.o"
  check "no temporary files left" sh -c "[ -z \"\$(ls -A '$cache' | grep -v '\\.kobj\$')\" ]"
else
  echo "usage: kobj.sh KILN SRCDIR identical|corrupt [MODEL.yaml...]"; exit 2
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
