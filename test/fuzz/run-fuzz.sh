#!/bin/sh
# Fuzz every libFuzzer target of a fuzz build for SECONDS seconds each.
# Usage: test/fuzz/run-fuzz.sh BUILD_DIR SECONDS
# Fails on the first crash, timeout, leak or out-of-memory input, which
# libFuzzer saves under BUILD_DIR/artifacts/: once fixed, keep it as a
# regression case in test/fuzz/regressions/ (make test replays it).
set -u
build=${1:?usage: run-fuzz.sh BUILD_DIR SECONDS}
secs=${2:?usage: run-fuzz.sh BUILD_DIR SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
sym=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
[ -n "$sym" ] && export ASAN_SYMBOLIZER_PATH="$sym"
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"
failed=0
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
	if "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=4096 -print_final_stats=1 $dict \
		-artifact_prefix="$build/artifacts/" \
		"$corpus" "$seeds" "$here/regressions" \
		>"$build/$name.log" 2>&1; then
		grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
			"$build/$name.log"
		echo "ok: $name (0 crashes, 0 timeouts)"
	else
		tail -60 "$build/$name.log" >&2
		echo "FAIL: $name: see $build/$name.log and $build/artifacts/" >&2
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ]
