#!/bin/bash
# Run every test program of a build: the Criterion suites, the CI-sized
# stress programs, then the replay of saved fuzz inputs; SHMC_TEST_JOBS
# programs at a time (default: the number of CPUs; 1 runs them in turn),
# the longest started first.
# Usage: test/run-tests.sh BUILD_DIR
#
# A sanitizer report anywhere in a program's output fails it, even when the
# program itself passed: Criterion's workers and forked children report
# leaks and errors as they exit, after their results are in.
set -u
build=${1:?usage: run-tests.sh BUILD_DIR}
export SHMC_BUILD="$build"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1 halt_on_error=1}"
. "$(dirname "$0")/jobs.sh"

# judge NAME RC LOG SECONDS: show the output, then the verdict.
judge() {
	cat "$3"
	if grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$3"; then
		echo "FAIL: $1: sanitizer report ($4 s)" >&2
		return 1
	elif [ "$2" -ne 0 ]; then
		echo "FAIL: $1 (exit $2, $4 s)" >&2
		return 1
	fi
	echo "ok: $1 ($4 s)"
}
pool_init "${SHMC_TEST_JOBS:-$(nproc)}" judge

# The programs that take longest, started first so that the pool ends
# together (measured: each 25-90 s in a release build, more under ASan).
first="stress_kill test_tool_corrupt test_limits test_alloc test_contracts test_pool"
for name in $first; do
	t="$build/test/$name"
	[ -x "$t" ] || continue
	case $name in
	stress_*) pool_run "$name" "$t" --ci ;;
	*) pool_run "$name" "$t" --jobs=2 --short-filename ;;
	esac
done
for t in "$build"/test/test_*; do
	[ -x "$t" ] || continue
	case " $first " in *" $(basename "$t") "*) continue ;; esac
	pool_run "$(basename "$t")" "$t" --jobs=2 --short-filename
done
for t in "$build"/test/stress_*; do
	[ -x "$t" ] || continue
	case " $first " in *" $(basename "$t") "*) continue ;; esac
	pool_run "$(basename "$t")" "$t" --ci
done
# Saved fuzz inputs (seeds and fixed crashes), replayed without libFuzzer.
# A target with a corpus of its own (test/fuzz/corpus_T) replays that one.
for t in "$build"/test/replay_*; do
	[ -x "$t" ] || continue
	corpus=test/fuzz/corpus_$(basename "$t" | sed 's/^replay_//')
	[ -d "$corpus" ] || corpus=test/fuzz/corpus
	pool_run "$(basename "$t")" "$t" "$corpus" test/fuzz/regressions
done
pool_run check-install test/integration/check-install.sh "$build"
pool_wait
failed=$?
if [ "$failed" -ne 0 ]; then
	echo "$failed test program(s) failed" >&2
	exit 1
fi
echo "all test programs passed"
