#!/bin/sh
# Build the benchmarks, run each beside its baselines, and print one table.
#
#   bench/run.sh [--quick] [--lines] [BUILD_DIR]   (default: build/release)
#
# Programs, in this order, each appending JSON records to raw.jsonl:
#   bench_shmc        shmc's containers (public API) and arena memory
#   bench_alloc       shmc's arena allocator (internal API)
#   bench_floor       atomic add, robust mutex, malloc, raw shm_open/mmap
#   bench_boost       the C++ peer: Boost.Interprocess
#   bench_manager.py  the Python peer: multiprocessing.Manager
#   bench_python.py   shmc from Python beside the Manager, plain Python
#                     objects and ShareableList (needs `make python`)
#   lines.py          with --lines (or BENCH_LINES=1): shared cache lines per
#                     operation, under valgrind's lackey (minutes: not run
#                     by default; an earlier lines.json is kept and reported
#                     with the commit it counted)
# then report.py writes table.txt, table.md, results.csv, results.json,
# plot.dat and scaling.dat into bench/results/, and gnuplot draws bench.png
# (ns/op at P=1 and 2) and bench_scaling.png (ops/s against P).
# --quick: 3 short repetitions at every P (instead of 7 at P=1 and 2, 5 at
# P=4 and 8, and 5 for Python), and the 1M rows at P=1 and 2 only: a smoke
# test for CI, whose figures are indicative only.
set -eu
cd "$(dirname "$0")/.."
quick=""
case ${BENCH_LINES:-0} in 0) lines=no ;; *) lines=yes ;; esac
build=build/release
for arg; do
	case $arg in
	--quick) quick=--quick ;;
	--lines) lines=yes ;;
	-h | --help)
		sed -n '2,21p' "$0"
		exit 0
		;;
	-*)
		echo "usage: bench/run.sh [--quick] [--lines] [BUILD_DIR]" >&2
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
	t0=$(date +%s)
	if ! "$@" $quick >>"$raw"; then
		echo "bench: $name failed; its rows are missing from the table" >&2
		failed="$failed $name"
	fi
	echo "== $name: $(($(date +%s) - t0)) s" >&2
}
run shmc "$build/bench/bench_shmc"
run alloc "$build/bench/bench_alloc"
run floor "$build/bench/bench_floor"
run boost "$build/bench/bench_boost"
run python "$python" bench/bench_manager.py
run python-binding env PYTHONPATH="$build/python" "$python" bench/bench_python.py
# Cache lines per operation: a trace of every access, so minutes of CPU.
if [ "$lines" = yes ]; then
	if command -v valgrind >/dev/null 2>&1; then
		echo "== lines (valgrind lackey)" >&2
		"$python" bench/lines.py "$build" --out "$results/lines.json" >/dev/null ||
			failed="$failed lines"
	else
		echo "bench: valgrind not found; no cache-line counts" >&2
	fi
fi
seconds=$(($(date +%s) - start))

echo >&2
"$python" bench/report.py "$results" $quick --seconds "$seconds" --load-before "$load"
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot -e "datafile='$results/plot.dat'; outfile='$results/bench.png'" bench/plot.gp &&
		echo "plot: $results/bench.png"
	# A system absent from a panel (Python beyond P=2) is no error.
	gnuplot -e "datafile='$results/scaling.dat'; outfile='$results/bench_scaling.png'" \
		bench/scaling.gp 2>&1 | grep -v 'no valid points' >&2 || true
	[ -s "$results/bench_scaling.png" ] && echo "plot: $results/bench_scaling.png"
else
	echo "bench: gnuplot not found (make deps-bench installs gnuplot-nox); no plot" >&2
fi
[ -s "$results/lines.json" ] && have_lines=" lines.json" || have_lines=""
echo "files: $results/table.txt table.md results.csv results.json raw.jsonl$have_lines"
[ -z "$failed" ] || { echo "bench: failed:$failed" >&2; exit 1; }
