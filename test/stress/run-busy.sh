#!/bin/sh
# The multi-process tests on a busy machine: busy_load's 16 processes
# contend on an arena of their own while each test program that forks or
# starts processes runs N times in a row beside them (make test-busy
# [N=20]). The load is stopped at the end whatever happens; the log of
# every failed run is kept in BUILD_DIR/busy/.
# Usage: test/stress/run-busy.sh BUILD_DIR [N]
# BUSY_TESTS="test_queue test_pool ..." chooses the programs, BUSY_PROCS
# the size of the load (16).
set -u
build=${1:?usage: run-busy.sh BUILD_DIR [N]}
n=${2:-1}
procs=${BUSY_PROCS:-16}
tests=${BUSY_TESTS:-"test_sync_lock test_sync_sem test_sync_cond test_sync_event
    test_sync_barrier test_queue test_pool test_lifetime test_pidreuse test_roots
    test_sharing test_namespace test_dict_merge test_list_atomic test_tool_live
    test_walkthrough"}
export SHMC_BUILD="$build"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1 halt_on_error=1}"
logs="$build/busy"
mkdir -p "$logs"
rm -f "$logs"/*.log

"$build/test/busy_load" --procs "$procs" 2>"$logs/busy_load.out" &
load=$!
stop_load() {
	kill -TERM "$load" 2>/dev/null
	wait "$load"
	load_rc=$?
}
trap 'stop_load; exit 130' INT TERM
t0=$(date +%s)
failed=0 runs=0
i=1
while [ "$i" -le "$n" ]; do
	ti=$(date +%s)
	for t in $tests; do
		if [ ! -x "$build/test/$t" ]; then
			echo "FAIL: $t: no $build/test/$t" >&2
			failed=$((failed + 1))
			continue
		fi
		log="$logs/$t.$i.log"
		s=$(date +%s)
		"$build/test/$t" --jobs=2 --short-filename >"$log" 2>&1
		rc=$?
		runs=$((runs + 1))
		if [ "$rc" -ne 0 ] || grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$log"; then
			echo "FAIL: $t (run $i of $n, $(($(date +%s) - s)) s): $log" >&2
			failed=$((failed + 1))
		else
			echo "ok: $t (run $i of $n, $(($(date +%s) - s)) s)"
			rm -f "$log"
		fi
	done
	echo "run-busy: run $i of $n took $(($(date +%s) - ti)) s"
	i=$((i + 1))
done
stop_load
trap - INT TERM
cat "$logs/busy_load.out"
if [ "$load_rc" -ne 0 ]; then
	echo "FAIL: busy_load (exit $load_rc): the load itself failed" >&2
	failed=$((failed + 1))
fi
echo "run-busy: $runs runs beside $procs contending processes in $(($(date +%s) - t0)) s," \
     "$failed failed"
[ "$failed" -eq 0 ]
