#!/bin/bash
# The public-API tests under valgrind memcheck, in a build without jemalloc
# (valgrind follows malloc, not jemalloc's own mappings). Every test
# program, the forked Criterion workers and the tests' own children are
# followed; any memcheck error (invalid read or write, use of uninitialised
# memory, a definite leak) fails the run. SHMC_TEST_JOBS programs at a time
# (default: the number of CPUs): memcheck runs each on one core.
# Usage: test/run-valgrind.sh BUILD_DIR      (make valgrind)
# VALGRIND_TESTS="test_a test_b" runs only those; by default, the programs
# of test/api/ (other programs a VARIANT=valgrind build may hold are not run).
set -u
build=${1:?usage: run-valgrind.sh BUILD_DIR}
if [ -z "${VALGRIND_TESTS:-}" ] && [ -d test/api ]; then
	VALGRIND_TESTS=$(for s in test/api/test_*.c; do basename "$s" .c; done)
fi
export SHMC_BUILD="$build"
. "$(dirname "$0")/jobs.sh"
memlog=$(mktemp -d)
trap 'rm -rf "$memlog" "$pool_dir"' EXIT

# judge NAME RC LOG SECONDS: memcheck's own logs (one per process) decide.
judge() {
	local errs
	errs=$(cat "$memlog/$1".[0-9]* 2>/dev/null | grep -c '^==[0-9]*== .' || true)
	if [ "$2" -ne 0 ] || [ "$errs" -ne 0 ]; then
		echo "FAIL: valgrind: $1 (exit $2, $errs memcheck lines)" >&2
		tail -20 "$3" >&2
		cat "$memlog/$1".[0-9]* 2>/dev/null | head -60 >&2
		return 1
	fi
	echo "ok: valgrind: $1 ($4 s)"
}
pool_init "${SHMC_TEST_JOBS:-$(nproc)}" judge
trap 'rm -rf "$memlog" "$pool_dir"' EXIT

t0=$(date +%s)
n=0
for t in "$build"/test/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	case " $(echo ${VALGRIND_TESTS:-}) " in
	*" $name "*) ;;
	*) [ -n "${VALGRIND_TESTS:-}" ] && continue ;;
	esac
	n=$((n + 1))
	# Follow our own programs; not the shell or Python that tests start.
	pool_run "$name" valgrind --tool=memcheck --quiet --trace-children=yes \
		--trace-children-skip='/usr/*,/bin/*,*python*,*/.pyenv/*' \
		--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite --log-file="$memlog/$name.%p" \
		"$t" --jobs=1 --short-filename
done
pool_wait
failed=$?
echo "valgrind: $((n - failed)) passed, $failed failed ($(($(date +%s) - t0)) s)"
if [ "$n" -eq 0 ]; then
	echo "FAIL: valgrind: no test program found in $build/test" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
