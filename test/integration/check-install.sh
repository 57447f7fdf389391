#!/bin/sh
# `make install` into a scratch DESTDIR, then build and run an example with
# nothing but pkg-config's flags, linked both shared and static; then a
# CMake project that finds it with find_package(shmc); and the man pages.
# Usage: test/check-install.sh BUILD_DIR
set -eu
build=${1:?usage: check-install.sh BUILD_DIR}
# Makes of its own (make install, the CMake build): run by a test runner
# under `make -j`, they would find the parent's jobserver in MAKEFLAGS
# without its descriptors.
unset MAKEFLAGS MFLAGS MAKELEVEL
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
make --no-print-directory -s install BUILD="$build" PREFIX=/usr/local DESTDIR="$root" >/dev/null
export PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_PATH="$root/usr/local/lib/pkgconfig"
for f in include/shmc.h lib/libshmc.a lib/libshmc.so lib/pkgconfig/shmc.pc bin/shmc-check \
	bin/shmc-stat bin/shmc-dump bin/shmc-save bin/shmc-load lib/cmake/shmc/shmcConfig.cmake \
	lib/cmake/shmc/shmcConfigVersion.cmake share/man/man1/shmc-stat.1 \
	share/man/man1/shmc-dump.1 share/man/man1/shmc-check.1 share/man/man1/shmc-save.1 \
	share/man/man1/shmc-load.1 share/man/man7/shmc.7; do
	test -e "$root/usr/local/$f" || { echo "install: $f missing" >&2; exit 1; }
done
san="${SHMC_SANFLAGS:-}"
cc $san -o "$root/shared" examples/append_example.c $(pkg-config --cflags --libs shmc) \
	-Wl,-rpath,"$root/usr/local/lib"
cc $san -o "$root/static" examples/append_example.c \
	$(pkg-config --cflags shmc) "$root/usr/local/lib/libshmc.a" \
	$(pkg-config --static --libs-only-l shmc | sed 's/-lshmc//')
for bin in shared static; do
	out=$("$root/$bin")
	[ "$out" = "lost Namespace(x=[])
kept Namespace(x=[10])" ] || { echo "install: $bin build printed: $out" >&2; exit 1; }
done
echo "ok: make install + pkg-config (shared and static)"

# find_package(shmc) from a CMake project, against the same tree.
if command -v cmake >/dev/null 2>&1; then
	cmake -S test/integration/cmake-consumer -B "$root/cmake-build" \
		-DCMAKE_PREFIX_PATH="$root/usr/local" -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" \
		-DCMAKE_BUILD_RPATH="$root/usr/local/lib" >"$root/cmake.log" 2>&1 &&
		cmake --build "$root/cmake-build" >>"$root/cmake.log" 2>&1 ||
		{ cat "$root/cmake.log" >&2; echo "install: the CMake consumer did not build" >&2; exit 1; }
	for bin in consumer_shared consumer_static; do
		out=$("$root/cmake-build/$bin")
		[ "$out" = "Namespace(x=42)" ] ||
			{ echo "install: CMake $bin printed: $out" >&2; exit 1; }
	done
	echo "ok: make install + find_package(shmc) (shmc::shmc and shmc::shmc_static)"
else
	echo "skip: cmake is not installed: the CMake consumer was not built"
fi
