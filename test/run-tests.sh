#!/bin/sh
# Run every test program of a build: the Criterion suites, the CI-sized
# stress programs, then the replay of saved fuzz inputs.
# Usage: test/run-tests.sh BUILD_DIR
#
# A sanitizer report anywhere in a program's output fails it, even when the
# program itself passed: Criterion's workers and forked children report
# leaks and errors as they exit, after their results are in.
set -u
build=${1:?usage: run-tests.sh BUILD_DIR}
export SHMC_BUILD="$build"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1 halt_on_error=1}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0

# run NAME COMMAND...: run it, show its output, judge it.
run() {
	name=$1
	shift
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	if grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$log"; then
		echo "FAIL: $name: sanitizer report" >&2
		failed=$((failed + 1))
	elif [ "$rc" -ne 0 ]; then
		echo "FAIL: $name" >&2
		failed=$((failed + 1))
	else
		echo "ok: $name"
	fi
}

for t in "$build"/test/test_*; do
	[ -x "$t" ] || continue
	run "$(basename "$t")" "$t" --jobs=2 --short-filename
done
for t in "$build"/test/stress_*; do
	[ -x "$t" ] || continue
	run "$(basename "$t")" "$t" --ci
done
# Saved fuzz inputs (seeds and fixed crashes), replayed without libFuzzer.
# A target with a corpus of its own (test/fuzz/corpus_T) replays that one.
for t in "$build"/test/replay_*; do
	[ -x "$t" ] || continue
	corpus=test/fuzz/corpus_$(basename "$t" | sed 's/^replay_//')
	[ -d "$corpus" ] || corpus=test/fuzz/corpus
	run "$(basename "$t")" "$t" "$corpus" test/fuzz/regressions
done
if ! test/integration/check-install.sh "$build"; then
	echo "FAIL: check-install" >&2
	failed=$((failed + 1))
fi
if [ "$failed" -ne 0 ]; then
	echo "$failed test program(s) failed" >&2
	exit 1
fi
echo "all test programs passed"
