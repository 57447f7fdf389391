#!/bin/sh
# Run the thread stress programs of a ThreadSanitizer build (CI-sized).
# Usage: test/stress/run-tsan.sh BUILD_DIR
# Any report fails the run: TSan stops at the first one (halt_on_error) and
# exits 66. test/stress/tsan.supp lists what is suppressed, and why (nothing, as
# long as it only holds comments).
set -u
build=${1:?usage: run-tsan.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
sym=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 \
suppressions=$here/tsan.supp${sym:+ external_symbolizer_path=$sym}"
export TSAN_OPTIONS
failed=0
for t in "$build"/test/stress_threads "$build"/test/stress_list "$build"/test/stress_alloc "$build"/test/stress_handles; do
	name=$(basename "$t")
	# A hang fails too: every run is bounded.
	if timeout 600 "$t" --ci; then
		echo "ok: $name (tsan)"
	else
		echo "FAIL: $name (tsan)" >&2
		failed=$((failed + 1))
	fi
done
if [ "$failed" -ne 0 ]; then
	echo "$failed ThreadSanitizer run(s) failed" >&2
	exit 1
fi
echo "ThreadSanitizer: no report"
