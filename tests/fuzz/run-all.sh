#!/bin/sh
# Usage: tests/fuzz/run-all.sh [SECONDS [HARNESS...]]
#
# Build every libFuzzer harness in build-fuzz/ (a copy of the work tree
# configured with CC=clang --enable-fuzzing, so the source tree may stay
# configured in place) and run each for SECONDS (default 60) on its seed
# corpus in tests/fuzz/corpus/NAME.  New inputs go to build-fuzz/corpus/NAME,
# crashes to build-fuzz/artifacts/.  A harness passes when it ran its time
# without a crash, leak, timeout or broken invariant.  Prints runs and
# exec/s per harness and ends with "N passed, N failed".
#
# FUZZ_BUILD_DIR overrides build-fuzz/; FUZZ_ARGS adds libFuzzer options.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
bdir=${FUZZ_BUILD_DIR:-$top/build-fuzz}
tree=$bdir/tree
names=${*:-netstring key txt policy reply dns http ctl}
# Longest a single input may take, seconds: a hang is a failure.
FUZZ_INPUT_TIMEOUT=10

pass=0
fail=0

build() {
	"$top/tests/mirror-tree.sh" "$tree" || return 1
	cd "$tree" || return 1
	if [ ! -x configure ]; then
		autoreconf -fi >"$bdir/build.log" 2>&1 || return 1
	fi
	if [ ! -f Makefile ]; then
		CC=clang ./configure --enable-fuzzing >>"$bdir/build.log" 2>&1 ||
		    return 1
	fi
	make -j2 $(for n in $names; do printf 'tests/fuzz/fuzz_%s ' "$n"; done) \
	    >>"$bdir/build.log" 2>&1
}

mkdir -p "$bdir/artifacts"
if ! (build); then
	tail -n 40 "$bdir/build.log"
	echo "fuzz: build failed (log: $bdir/build.log)"
	echo "0 passed, 1 failed"
	exit 1
fi

for n in $names; do
	bin=$tree/tests/fuzz/fuzz_$n
	seeds=$top/tests/fuzz/corpus/$n
	work=$bdir/corpus/$n
	log=$bdir/fuzz_$n.log
	mkdir -p "$work" "$seeds"
	dict=
	[ -f "$top/tests/fuzz/$n.dict" ] && dict=-dict=$top/tests/fuzz/$n.dict
	# The first directory gets new inputs; the seeds stay as they are.
	"$bin" -max_total_time="$secs" -timeout="$FUZZ_INPUT_TIMEOUT" \
	    -print_final_stats=1 -artifact_prefix="$bdir/artifacts/$n-" \
	    $dict ${FUZZ_ARGS:-} "$work" "$seeds" >"$log" 2>&1
	status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	if [ "$status" -eq 0 ] && [ -n "$runs" ]; then
		pass=$((pass + 1))
		echo "ok fuzz_$n runs=$runs exec/s=$eps cov=${cov:-?} secs=$secs"
	else
		fail=$((fail + 1))
		echo "not ok fuzz_$n status=$status runs=${runs:-?} (log: $log)"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' \
		    "$log" | head -n 8
	fi
done
echo "${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
