#!/bin/sh
# run.sh BUILD_DIR - run every test and end with "N passed, N failed".
#
# Each suite prints TAP-like "ok - name" / "not ok - name" lines; this
# script adds them up. A suite that dies without saying why counts as
# one failure, so a crash can never pass unnoticed.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM

export AUTHGUARD_BUILD="$(cd "$here/.." && pwd)/$build"
export AUTHGUARD_TOP="$(cd "$here/.." && pwd)"
extra_fail=0

run_suite() {
	name=$1; shift
	echo "== $name"
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	grep -E '^(not )?ok ' "$out" >>"$here/../$build/results.txt"
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$out"; then
		echo "not ok - $name exited with status $rc"
		extra_fail=$((extra_fail + 1))
	fi
}

rm -f "$build/results.txt"
: >"$build/results.txt"
run_suite unit "$build/unit-tests"
run_suite sim "$build/sim-tests" --fork
for r in "$build"/fuzz/replay_*; do
	[ -e "$r" ] || continue
	t=${r##*/replay_}
	run_suite "fuzz/$t" "$r" "$here/fuzz/corpus/$t"
done
run_suite diff/limits "$build/limits_diff"
run_suite layers python3 "$here/layers/layers.py" --tap "$build"
for t in "$here"/lab/test_*.py; do
	[ -e "$t" ] || continue
	run_suite "lab/$(basename "$t" .py)" python3 "$t"
done

passed=$(grep -c '^ok ' "$build/results.txt")
failed=$(grep -c '^not ok ' "$build/results.txt")
failed=$((failed + extra_fail))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
