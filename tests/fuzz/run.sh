#!/bin/sh
# NAME
#	run.sh - run the libFuzzer targets, as many at once as there are cores
# SUMMARY
#	sh tests/fuzz/run.sh BUILD_DIR SECONDS SIM_SECONDS JOBS TARGET...
# DESCRIPTION
#	Runs BUILD_DIR/fuzz_TARGET for SECONDS each (the simulation "sim",
#	SIM_SECONDS, with shorter inputs: a schedule is at most 256 steps of
#	3 bytes), at most JOBS at a time. Each target is single-threaded, so
#	JOBS up to the number of cores gives every target the same time a
#	run one after another would, in less wall-clock time.
#
#	Each target's corpus grows in BUILD_DIR/corpus-TARGET, seeded from
#	tests/fuzz/corpus/TARGET; its log is BUILD_DIR/fuzz_TARGET.log and a
#	crash leaves BUILD_DIR/crash-TARGET-*. The summary prints, per target,
#	the inputs run and their rate, in the order given. The exit status is
#	1 when any target found a crash or a broken invariant: its log's last
#	lines are printed.
set -u
build=${1:?usage: run.sh BUILD_DIR SECONDS SIM_SECONDS JOBS TARGET...}
secs=$2
sim_secs=$3
jobs=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)

# one TARGET - run one target; its exit status in BUILD_DIR/fuzz_TARGET.rc
one() {
	t=$1
	s=$secs
	len=20000
	if [ "$t" = sim ]; then
		s=$sim_secs
		len=768
	fi
	mkdir -p "$build/corpus-$t"
	"$build/fuzz_$t" -max_total_time="$s" -max_len=$len \
	    -artifact_prefix="$build/crash-$t-" -print_final_stats=1 \
	    "$build/corpus-$t" "$here/corpus/$t" 2>"$build/fuzz_$t.log"
	echo $? >"$build/fuzz_$t.rc"
}

if [ "${1:-}" = --one ]; then	# a job of the xargs below
	one "$2"
	exit 0
fi

for t in "$@"; do
	rm -f "$build/fuzz_$t.rc"
done
printf '%s\n' "$@" |
    xargs -P "$jobs" -I T sh "$0" "$build" "$secs" "$sim_secs" "$jobs" --one T

failed=0
for t in "$@"; do
	s=$secs
	[ "$t" = sim ] && s=$sim_secs
	echo "fuzz_$t: ${s}s"
	rc=$(cat "$build/fuzz_$t.rc" 2>/dev/null || echo missing)
	if [ "$rc" != 0 ]; then
		tail -40 "$build/fuzz_$t.log"
		echo "fuzz_$t: failed (exit status $rc)"
		failed=1
		continue
	fi
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' \
	    "$build/fuzz_$t.log"
done
exit $failed
