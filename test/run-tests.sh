#!/bin/sh
# Run every test program of a build: the Criterion suites, the CI-sized
# stress programs, then the replay of saved fuzz inputs.
# Usage: test/run-tests.sh BUILD_DIR
set -u
build=${1:?usage: run-tests.sh BUILD_DIR}
export SHMC_BUILD="$build"
failed=0
for t in "$build"/test/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if "$t" --jobs=2 --short-filename; then
		:
	else
		echo "FAIL: $name" >&2
		failed=$((failed + 1))
	fi
done
for t in "$build"/test/stress_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if "$t" --ci; then
		echo "ok: $name"
	else
		echo "FAIL: $name" >&2
		failed=$((failed + 1))
	fi
done
# Saved fuzz inputs (seeds and fixed crashes), replayed without libFuzzer.
for t in "$build"/test/replay_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if "$t" "test/fuzz/corpus" "test/fuzz/regressions"; then
		echo "ok: $name"
	else
		echo "FAIL: $name" >&2
		failed=$((failed + 1))
	fi
done
if [ "$failed" -ne 0 ]; then
	echo "$failed test program(s) failed" >&2
	exit 1
fi
echo "all test programs passed"
