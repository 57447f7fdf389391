#!/bin/sh
# A test of the layer check: it passes on the tree as it is, and fails on
# a copy of the tree with an upward #include, on one with an upward call
# between object files, and on a program outside lib/ that includes a
# header of lib/. Prints `N passed, N failed`.
# Usage: test/layers/test-check.sh   (from the top of the tree)
set -u
check=test/layers/check_layers.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
cc=${CC:-cc}

# expect WANT NAME COMMAND...: WANT is pass or fail.
expect() {
	want=$1
	name=$2
	shift 2
	if "$@" >"$tmp/out" 2>&1; then got=pass; else got=fail; fi
	if [ "$got" = "$want" ]; then
		passed=$((passed + 1))
		echo "ok: layers: $name"
	else
		failed=$((failed + 1))
		echo "FAIL: layers: $name (expected the check to $want)" >&2
		cat "$tmp/out" >&2
	fi
}

# A copy of the sources the check reads.
copy() {
	mkdir -p "$1"
	cp -r lib tools examples bench "$1"/
	mkdir -p "$1/test" && cp -r test/api "$1/test/"
}

expect pass "the tree as it is" python3 "$check"

copy "$tmp/inc"
sed -i '1i #include "lifecycle/lifecycle.h"' "$tmp/inc/lib/base/error.c"
expect fail "an upward include (base -> lifecycle)" python3 "$check" --root "$tmp/inc"
grep -q 'base/error.c:1: #include "lifecycle/lifecycle.h": base may not use lifecycle' \
	"$tmp/out" || { failed=$((failed + 1)); echo "FAIL: layers: no message for the include" >&2; }

copy "$tmp/sib"
sed -i '1i #include "sync/sync.h"' "$tmp/sib/lib/containers/list.c"
expect fail "a sideways include (containers -> sync)" python3 "$check" --root "$tmp/sib"

copy "$tmp/pub"
sed -i '1i #include "objects/obj.h"' "$tmp/pub/tools/shmc-stat.c"
expect fail "a public-only program including lib/" python3 "$check" --root "$tmp/pub"

# Calls: two folders, the lower calling the upper by name.
mk() {
	mkdir -p "$1/lib/low" "$1/lib/high"
	printf 'low\nhigh low\n' >"$1/lib/LAYERS"
	printf 'int low_fn(void);\nint low_fn(void) { return 1; }\n' >"$1/lib/low/a.c"
	printf 'int low_fn(void);\nint high_fn(void);\nint high_fn(void) { return low_fn(); }\n' \
		>"$1/lib/high/b.c"
}
mk "$tmp/call-ok"
mk "$tmp/call-up"
printf 'int high_fn(void);\nint low_fn(void);\nint low_fn(void) { return high_fn(); }\n' \
	>"$tmp/call-up/lib/low/a.c"
for t in call-ok call-up; do
	mkdir -p "$tmp/$t/obj/low" "$tmp/$t/obj/high"
	$cc -c -o "$tmp/$t/obj/low/a.o" "$tmp/$t/lib/low/a.c"
	$cc -c -o "$tmp/$t/obj/high/b.o" "$tmp/$t/lib/high/b.c"
done
expect pass "a downward call" python3 "$check" --root "$tmp/call-ok" --objects "$tmp/call-ok/obj"
expect fail "an upward call (low -> high)" python3 "$check" --root "$tmp/call-up" \
	--objects "$tmp/call-up/obj"
grep -q 'lib/low/a.c uses high_fn of lib/high/b.c: low may not use high' "$tmp/out" ||
	{ failed=$((failed + 1)); echo "FAIL: layers: no message for the call" >&2; }

echo "layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
