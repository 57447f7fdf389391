#!/bin/sh
# The public-API tests under valgrind memcheck, in a build without jemalloc
# (valgrind follows malloc, not jemalloc's own mappings). Every test
# program, the forked Criterion workers and the tests' own children are
# followed; any memcheck error (invalid read or write, use of uninitialised
# memory, a definite leak) fails the run.
# Usage: test/run-valgrind.sh BUILD_DIR      (make valgrind)
# VALGRIND_TESTS="test_a test_b" runs only those; by default, the programs
# of test/api/ (other programs a VARIANT=valgrind build may hold are not run).
set -u
build=${1:?usage: run-valgrind.sh BUILD_DIR}
if [ -z "${VALGRIND_TESTS:-}" ] && [ -d test/api ]; then
	VALGRIND_TESTS=$(for s in test/api/test_*.c; do basename "$s" .c; done)
fi
export SHMC_BUILD="$build"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
failed=0
passed=0
t0=$(date +%s)
for t in "$build"/test/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	case " $(echo ${VALGRIND_TESTS:-}) " in
	*" $name "*) ;;
	*) [ -n "${VALGRIND_TESTS:-}" ] && continue ;;
	esac
	t1=$(date +%s)
	# Follow our own programs; not the shell or Python that tests start.
	valgrind --tool=memcheck --quiet --trace-children=yes \
		--trace-children-skip='/usr/*,/bin/*,*python*,*/.pyenv/*' \
		--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite --log-file="$log/$name.%p" \
		"$t" --jobs=1 --short-filename >"$log/$name.out" 2>&1
	rc=$?
	errs=$(cat "$log/$name".[0-9]* 2>/dev/null | grep -c '^==[0-9]*== .' || true)
	if [ "$rc" -ne 0 ] || [ "$errs" -ne 0 ]; then
		failed=$((failed + 1))
		echo "FAIL: valgrind: $name (exit $rc, $errs memcheck lines)" >&2
		tail -20 "$log/$name.out" >&2
		cat "$log/$name".[0-9]* 2>/dev/null | head -60 >&2
	else
		passed=$((passed + 1))
		echo "ok: valgrind: $name ($(($(date +%s) - t1)) s)"
	fi
done
echo "valgrind: $passed passed, $failed failed ($(($(date +%s) - t0)) s)"
if [ $((passed + failed)) -eq 0 ]; then
	echo "FAIL: valgrind: no test program found in $build/test" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
