# A pool of at most N programs running at once, for the test runners
# (run-tests.sh, run-valgrind.sh, run-fuzz.sh): on two cores, two programs
# side by side halve the wall time of a suite whose programs mostly wait on
# one another's processes. Each program's output goes to a file of its own;
# when the program ends, the runner's judge reads it and prints the report,
# under a lock, so two reports never interleave. Source it from bash.
#
#   pool_init N JUDGE   JUDGE NAME RC LOG SECONDS prints the report and
#                       returns non-zero for a failure
#   pool_run NAME CMD...  start CMD (waits first while N are running)
#   pool_wait           wait for all; returns the number of failures

pool_init() {
	pool_max=$1
	pool_judge=$2
	pool_running=0
	pool_dir=$(mktemp -d)
	: >"$pool_dir/failed"
	trap 'rm -rf "$pool_dir"' EXIT
}

pool_run() {
	local name=$1
	shift
	while [ "$pool_running" -ge "$pool_max" ]; do
		wait -n
		pool_running=$((pool_running - 1))
	done
	(
		t0=$(date +%s)
		"$@" >"$pool_dir/$name.log" 2>&1
		rc=$?
		secs=$(($(date +%s) - t0))
		exec 9>"$pool_dir/lock"
		flock 9
		"$pool_judge" "$name" "$rc" "$pool_dir/$name.log" "$secs" ||
			echo "$name" >>"$pool_dir/failed"
	) &
	pool_running=$((pool_running + 1))
}

pool_wait() {
	wait
	pool_running=0
	local n
	n=$(wc -l <"$pool_dir/failed")
	return "$n"
}
