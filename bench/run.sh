#!/bin/sh
# Build the benchmarks, run each beside its baselines, and print one table.
#
#   bench/run.sh [--quick] [BUILD_DIR]        (default: build/release)
#
# Programs, in this order, each appending JSON records to raw.jsonl:
#   bench_shmc        shmc's containers (public API) and arena memory
#   bench_alloc       shmc's arena allocator (internal API)
#   bench_floor       atomic add, robust mutex, malloc, raw shm_open/mmap
#   bench_boost       the C++ peer: Boost.Interprocess
#   bench_manager.py  the Python peer: multiprocessing.Manager
#   bench_python.py   shmc from Python beside the Manager, plain Python
#                     objects and ShareableList (needs `make python`)
# then report.py writes table.txt, table.md, results.csv, results.json and
# plot.dat into bench/results/, and gnuplot draws bench.png from plot.dat.
# --quick: 3 short repetitions instead of 7 (5 for Python): a smoke test for
# CI, whose figures are indicative only.
set -eu
cd "$(dirname "$0")/.."
quick=""
build=build/release
for arg; do
	case $arg in
	--quick) quick=--quick ;;
	-h | --help)
		sed -n '2,16p' "$0"
		exit 0
		;;
	-*)
		echo "usage: bench/run.sh [--quick] [BUILD_DIR]" >&2
		exit 2
		;;
	*) build=${arg%/} ;;
	esac
done
python=${PYTHON:-python3}
results=bench/results
mkdir -p "$results"
raw=$results/raw.jsonl
: >"$raw"

make --no-print-directory VARIANT="$(basename "$build")" BUILD="$build" lib benches python

start=$(date +%s)
load=$(cut -d' ' -f1 /proc/loadavg)
echo "shmc bench: $(nproc) CPUs, load average $load${quick:+, quick mode}" >&2
failed=""
run() {
	name=$1
	shift
	echo "== $name" >&2
	if ! "$@" $quick >>"$raw"; then
		echo "bench: $name failed; its rows are missing from the table" >&2
		failed="$failed $name"
	fi
}
run shmc "$build/bench/bench_shmc"
run alloc "$build/bench/bench_alloc"
run floor "$build/bench/bench_floor"
run boost "$build/bench/bench_boost"
run python "$python" bench/bench_manager.py
run python-binding env PYTHONPATH="$build/python" "$python" bench/bench_python.py
seconds=$(($(date +%s) - start))

echo >&2
"$python" bench/report.py "$results" $quick --seconds "$seconds" --load-before "$load"
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot -e "datafile='$results/plot.dat'; outfile='$results/bench.png'" bench/plot.gp &&
		echo "plot: $results/bench.png"
else
	echo "bench: gnuplot not found (make deps-bench installs gnuplot-nox); no plot" >&2
fi
echo "files: $results/table.txt table.md results.csv results.json raw.jsonl"
[ -z "$failed" ] || { echo "bench: failed:$failed" >&2; exit 1; }
