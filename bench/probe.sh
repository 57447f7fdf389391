#!/bin/sh
# Which hooks of bench_shmc.c can be compiled: print -DBENCH_HAVE_SHMC_LOCK
# when LIB defines shmc_lock_acquire, -DBENCH_HAVE_SHMC_QUEUE when it defines
# shmc_queue_put. Usage: bench/probe.sh LIBSHMC_A
set -eu
lib=${1:?usage: probe.sh LIBSHMC_A}
syms=$(nm -g --defined-only "$lib" 2>/dev/null | awk '$2 == "T" { print $3 }')
flags=""
for pair in shmc_lock_acquire:BENCH_HAVE_SHMC_LOCK shmc_queue_put:BENCH_HAVE_SHMC_QUEUE; do
	sym=${pair%%:*}
	if printf '%s\n' "$syms" | grep -qx "$sym"; then
		flags="$flags -D${pair#*:}"
	fi
done
echo $flags
