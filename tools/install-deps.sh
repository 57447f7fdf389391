#!/bin/sh
# Install the Debian packages shmc needs to build, test and benchmark, if any
# is missing. Touches the network only when something is missing.
# Usage: tools/install-deps.sh [build|test|check|bench|ci]
# check: sanitizers and fuzzing -- clang with its runtimes (ASan, UBSan,
# TSan, libFuzzer) and llvm-symbolizer for readable reports.
set -eu
need="gcc make pkg-config libjemalloc-dev libatomic-ops-dev libgmp-dev"
# The Python binding: headers to build it (make demo runs it); for its
# tests, CPython's test package, which Debian ships apart for its python3.
py="python3 python3-dev"
v=3.11 # Debian 12's, until its python3 is there to ask
if [ -x /usr/bin/python3 ]; then
	v=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo $v)
fi
pytest="$py libpython$v-testsuite"
case "${1:-build}" in
	build) need="$need $py" ;;
	test) need="$need libcriterion-dev $pytest" ;;
	check) need="$need libcriterion-dev clang libclang-rt-14-dev llvm $pytest" ;;
	bench) need="$need g++ libboost-dev $py gnuplot-nox" ;;
	# ci: what CI runs beyond check -- the ABI check, the aarch64 compile,
	# memcheck, and the CMake consumer of the installed tree.
	ci) need="$need libcriterion-dev $pytest abigail-tools gcc-aarch64-linux-gnu
		libc6-dev-arm64-cross valgrind cmake" ;;
esac
missing=""
for p in $need; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
		*" installed") ;;
		*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "shmc: missing Debian packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "shmc: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends $missing >&2
