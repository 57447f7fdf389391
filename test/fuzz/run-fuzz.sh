#!/bin/bash
# Fuzz every libFuzzer target of a fuzz build for SECONDS seconds each,
# SHMC_TEST_JOBS targets at a time (default: the number of CPUs).
# Usage: test/fuzz/run-fuzz.sh BUILD_DIR SECONDS
# Fails on the first crash, timeout, leak or out-of-memory input, which
# libFuzzer saves under BUILD_DIR/artifacts/: once fixed, keep it as a
# regression case in test/fuzz/regressions/ (make test replays it).
set -u
build=${1:?usage: run-fuzz.sh BUILD_DIR SECONDS}
secs=${2:?usage: run-fuzz.sh BUILD_DIR SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../jobs.sh"
sym=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
[ -n "$sym" ] && export ASAN_SYMBOLIZER_PATH="$sym"
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"

# judge NAME RC LOG SECONDS: libFuzzer's final statistics, or its report.
judge() {
	if [ "$2" -eq 0 ]; then
		grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$3"
		echo "ok: $1 (0 crashes, 0 timeouts)"
		cp "$3" "$build/$1.log"
		return 0
	fi
	tail -60 "$3" >&2
	cp "$3" "$build/$1.log"
	echo "FAIL: $1: see $build/$1.log and $build/artifacts/" >&2
	return 1
}
pool_init "${SHMC_TEST_JOBS:-$(nproc)}" judge

for t in "$build"/test/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	corpus="$build/corpus/$name"
	mkdir -p "$corpus" "$build/artifacts"
	echo "== $name: fuzzing for $secs s"
	# -timeout: one input running over 10 s is a hang. Inputs come from
	# the saved corpus, the seeds and the regressions; new ones go to
	# the build's corpus.
	dict="$here/${name#fuzz_}.dict" # magic numbers, if any
	seeds="$here/corpus_${name#fuzz_}" # a corpus of its own, if any
	[ -d "$seeds" ] || seeds="$here/corpus"
	[ -f "$dict" ] && dict="-dict=$dict" || dict=
	pool_run "$name" "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=4096 -print_final_stats=1 $dict \
		-artifact_prefix="$build/artifacts/" \
		"$corpus" "$seeds" "$here/regressions"
done
pool_wait
failed=$?
[ "$failed" -eq 0 ]
