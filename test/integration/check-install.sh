#!/bin/sh
# `make install` into a scratch DESTDIR, then build and run an example with
# nothing but pkg-config's flags, linked both shared and static.
# Usage: test/check-install.sh BUILD_DIR
set -eu
build=${1:?usage: check-install.sh BUILD_DIR}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
make --no-print-directory -s install BUILD="$build" PREFIX=/usr/local DESTDIR="$root" >/dev/null
export PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_PATH="$root/usr/local/lib/pkgconfig"
for f in include/shmc.h lib/libshmc.a lib/libshmc.so lib/pkgconfig/shmc.pc bin/shmc-check \
	bin/shmc-stat bin/shmc-dump; do
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
