#!/bin/sh
# Install the Debian packages shmc needs to build, test and benchmark, if any
# is missing. Touches the network only when something is missing.
# Usage: tools/install-deps.sh [build|test|check|bench|ci]
# check: sanitizers and fuzzing -- clang with its runtimes (ASan, UBSan,
# TSan, libFuzzer) and llvm-symbolizer for readable reports.
set -eu
need="gcc make pkg-config libjemalloc-dev libatomic-ops-dev libgmp-dev"
case "${1:-build}" in
	test) need="$need libcriterion-dev python3" ;;
	check) need="$need libcriterion-dev clang libclang-rt-14-dev llvm python3" ;;
	bench) need="$need g++ libboost-dev python3 gnuplot-nox" ;;
	# ci: what CI runs beyond check -- the ABI check, the aarch64 compile,
	# memcheck, and the CMake consumer of the installed tree.
	ci) need="$need libcriterion-dev python3 abigail-tools gcc-aarch64-linux-gnu
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
