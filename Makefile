# shmc -- one non-recursive Makefile.
#
#   make            build the libraries, tools and examples (build/release)
#   make demo       install what is missing, then replay the documented example
#   make test       install what is missing, then build and run the test suite
#   make test-only  build and run the test suite; never looks at packages
#   make check      the test suite under AddressSanitizer + UBSan, and stress
#                   programs under ThreadSanitizer (clang)
#   make valgrind   the public-API tests under valgrind memcheck, in a build
#                   without jemalloc (build/valgrind)
#   make layers     the layer check: lib/LAYERS against includes and calls
#   make abi-check  the shared library's ABI against lib/libshmc.abi
#                   (abidiff); make abi-baseline writes a new baseline
#   make cross      compile the library for aarch64 (compile only)
#   make fuzz       fuzz the arena readers with libFuzzer for FUZZ_TIME seconds
#                   (default 600); make fuzz-ci: 30 seconds a target
#   make stress     the long kill harness (KILLS=1000) and the sync stress
#   make test-busy  the multi-process tests beside 16 contending processes,
#                   N times in a row (N=1; test/stress/run-busy.sh)
#   make bench      benchmarks beside their peers (see bench/README.md);
#                   QUICK=1 for a short smoke run
#   make install    PREFIX=/usr/local DESTDIR= (also LIBDIR, INCDIR, BINDIR,
#                   MANDIR); make uninstall
#
# CFLAGS, CPPFLAGS and LDFLAGS are the user's: given on the command line or
# in the environment they are honoured and the project's own flags are kept
# apart (SHMC_*). WERROR=1 adds -Werror; `make test`, `make check` and CI
# set it, a plain `make` does not. JEMALLOC=0 builds the private heap on the
# C library's malloc (for valgrind).
#
# Variants build in their own folders: build/release, build/debug,
# build/asan, build/tsan, build/fuzz (clang, libFuzzer + ASan + UBSan),
# build/valgrind (JEMALLOC=0).

VERSION   := 0.1.0
SOVERSION := 0
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
VARIANT   ?= release

CC        ?= cc
CXX       ?= g++
CFLAGS    ?= -O2 -g
CPPFLAGS  ?=
LDFLAGS   ?=
# -Werror for development builds: make test and make check default to it.
WERROR_GIVEN := $(filter command line environment,$(origin WERROR))
WERROR    ?= 0
JEMALLOC  ?= 1

# The project's own flags: always there, whatever CFLAGS says.
SHMC_WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
             -Wmissing-prototypes -Wvla -Wformat=2
ifeq ($(WERROR),1)
  SHMC_WARN += -Werror
endif
SHMC_CPPFLAGS := -Iinclude -D_GNU_SOURCE
SHMC_CFLAGS   := -std=c11 -pthread $(SHMC_WARN)
# The 16-byte compare-and-swap needs cmpxchg16b on x86-64 only.
SHMC_ARCH := $(shell $(CC) -dumpmachine 2>/dev/null)
ifneq (,$(filter x86_64-%,$(SHMC_ARCH)))
  SHMC_CFLAGS += -mcx16
endif
SHMC_DEPFLAGS = -MMD -MP

# The targets that build through a second make (make test, demo, check...)
# build with one compiler per CPU unless -j was given to the first make.
NPROC   := $(shell nproc 2>/dev/null || echo 1)
SUBMAKE  = $(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(NPROC))

ifeq ($(VARIANT),debug)
  SHMC_CPPFLAGS += -DSHMC_DEBUG
  CFLAGS := -O0 -g
else ifeq ($(VARIANT),asan)
  SHMC_CPPFLAGS += -DSHMC_DEBUG
  SHMC_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
  CFLAGS := -O1 -g -fno-omit-frame-pointer
else ifeq ($(VARIANT),tsan)
  SHMC_CPPFLAGS += -DSHMC_DEBUG
  SHMC_SAN := -fsanitize=thread
  CFLAGS := -O1 -g -fno-omit-frame-pointer
else ifeq ($(VARIANT),fuzz)
  # SHMC_FUZZ_DURING: the checked accessor calls a hook that fuzz_live uses
  # to scribble on the arena in the middle of an operation.
  SHMC_CPPFLAGS += -DSHMC_DEBUG -DSHMC_FUZZ_DURING
  SHMC_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
  SHMC_CFLAGS += -fsanitize=fuzzer-no-link
  CFLAGS := -O1 -g -fno-omit-frame-pointer
else ifeq ($(VARIANT),valgrind)
  JEMALLOC := 0
  CFLAGS := -O1 -g
endif
SHMC_CFLAGS += $(SHMC_SAN)
SHMC_LDFLAGS := $(SHMC_SAN) -pthread

# Under a sanitizer (and with JEMALLOC=0) the private heap is the C
# library's malloc (lib/base/heap.c); jemalloc is not linked.
DEPLIBS := -lgmp -lpthread -lm
ifneq (,$(SHMC_SAN))
  JEMALLOC := 0
endif
ifeq ($(JEMALLOC),1)
  DEPLIBS := -ljemalloc $(DEPLIBS)
else
  SHMC_CPPFLAGS += -DSHMC_NO_JEMALLOC
endif

ALL_CFLAGS   = $(SHMC_CPPFLAGS) $(CPPFLAGS) $(SHMC_CFLAGS) $(CFLAGS)
ALL_LDFLAGS  = $(SHMC_LDFLAGS) $(LDFLAGS)

BUILD     ?= build/$(VARIANT)
B         := $(BUILD)
V         ?= 0
ifeq ($(V),0)
  Q := @
  say = @echo "  $(1)	$(2)";
else
  Q :=
  say :=
endif

# lib/ is split by layer, one folder each (lib/LAYERS says which may use
# which); internal headers are included as "folder/name.h" from lib/.
LIB_SRC   := $(wildcard lib/*/*.c)
LIB_OBJ   := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
LIB_A     := $(B)/libshmc.a
LIB_SO    := $(B)/libshmc.so.$(VERSION)
LIB_MAP   := lib/libshmc.map
LIB_ABI   := lib/libshmc.abi
TOOLS     := $(patsubst tools/%.c,$(B)/tools/%,$(wildcard tools/*.c))
EXAMPLES  := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
MANPAGES  := $(wildcard man/*.[1-8])

# Tests by kind (test/README.md): unit tests are white-box (-Ilib); the
# others use the public header only. Every program lands in $(B)/test/.
UNIT      := $(patsubst test/unit/%.c,$(B)/test/%,$(wildcard test/unit/test_*.c))
API       := $(patsubst test/api/%.c,$(B)/test/%,$(wildcard test/api/test_*.c))
INTEG     := $(patsubst test/integration/%.c,$(B)/test/%,$(wildcard test/integration/test_*.c))
TESTS     := $(UNIT) $(API) $(INTEG)
STRESS    := $(patsubst test/stress/%.c,$(B)/test/%,$(wildcard test/stress/stress_*.c))
HELPERS   := $(patsubst test/helpers/%.c,$(B)/test/%,$(wildcard test/helpers/helper_*.c))
BUSYLOAD  := $(B)/test/busy_load
TESTHDRS  := $(wildcard test/*.h)
BENCHES   := $(B)/bench/bench_shmc $(B)/bench/bench_alloc $(B)/bench/bench_floor \
             $(B)/bench/bench_boost
# The Boost peer is the only C++: Boost.Interprocess is header-only.
BENCH_CXXFLAGS := -std=c++17 -O2 -g -pthread -Wall -Wextra -Wshadow
# Each fuzz target test/fuzz/fuzz_T.c is also built, with any compiler, into
# a replayer of saved inputs ($(B)/test/replay_T) that `make test` runs.
FUZZ_SRC  := $(filter-out test/fuzz/fuzz_replay.c,$(wildcard test/fuzz/fuzz_*.c))
REPLAYS   := $(patsubst test/fuzz/fuzz_%.c,$(B)/test/replay_%,$(FUZZ_SRC))
FUZZ_TIME ?= 600

.PHONY: all lib demo test test-only check valgrind layers abi-check abi-baseline \
        cross bench install uninstall clean printable-table deps deps-test deps-check deps-bench \
        deps-ci tests stress test-busy benches fuzz fuzz-ci FORCE
.SUFFIXES:

all: lib $(TOOLS) $(EXAMPLES) $(B)/shmc.pc $(B)/shmcConfig.cmake \
     $(B)/shmcConfigVersion.cmake
lib: $(LIB_A) $(LIB_SO)

deps:
	@tools/install-deps.sh build
deps-test:
	@tools/install-deps.sh test
deps-check:
	@tools/install-deps.sh check
deps-bench:
	@tools/install-deps.sh bench
deps-ci:
	@tools/install-deps.sh ci

# Header dependencies come from -MMD: a changed header rebuilds its users.
$(B)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) $(SHMC_DEPFLAGS) -Ilib -fPIC \
	    -fvisibility=hidden -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

# Only the public names are exported, under one symbol version.
$(LIB_SO): $(LIB_OBJ) $(LIB_MAP)
	$(call say,LD,$@)$(CC) -shared -Wl,-soname,libshmc.so.$(SOVERSION) \
	    -Wl,--version-script=$(LIB_MAP) $(ALL_LDFLAGS) -o $@ $(LIB_OBJ) $(DEPLIBS)
	$(Q)ln -sf libshmc.so.$(VERSION) $(B)/libshmc.so.$(SOVERSION)
	$(Q)ln -sf libshmc.so.$(SOVERSION) $(B)/libshmc.so

# The installed paths, remembered so that a change of PREFIX or LIBDIR
# regenerates what names them.
$(B)/install-paths: FORCE
	@mkdir -p $(@D)
	@echo '$(PREFIX) $(LIBDIR) $(INCDIR) $(VERSION) $(JEMALLOC)' > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@

PC_PRIVATE := $(if $(filter 1,$(JEMALLOC)),-ljemalloc )-lgmp -lpthread -lm
SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCDIR@|$(INCDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@SOVERSION@|$(SOVERSION)|g' -e 's|@LIBS_PRIVATE@|$(PC_PRIVATE)|g' \
	    -e 's|@INCDIR_FROM_LIBDIR@|$(shell realpath -m --relative-to=$(LIBDIR) $(INCDIR))|g'

$(B)/shmc.pc: shmc.pc.in $(B)/install-paths
	$(call say,GEN,$@)$(SUBST) $< > $@
$(B)/shmcConfig.cmake: shmcConfig.cmake.in $(B)/install-paths
	$(call say,GEN,$@)$(SUBST) $< > $@
$(B)/shmcConfigVersion.cmake: shmcConfigVersion.cmake.in $(B)/install-paths
	$(call say,GEN,$@)$(SUBST) $< > $@

$(B)/tools/%: tools/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(ALL_CFLAGS) $(SHMC_DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

$(B)/examples/%: examples/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(ALL_CFLAGS) $(SHMC_DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

# Unit tests and the programs that drive internals see lib/; so do the
# integration tests, which corrupt arenas on purpose; api tests see only
# include/shmc.h (the layer check holds them to it).
TEST_CFLAGS = $(ALL_CFLAGS) $(SHMC_DEPFLAGS) -Itest
$(B)/test/%: test/unit/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(TEST_CFLAGS) -Ilib $(ALL_LDFLAGS) -o $@ $< $(LIB_A) -lcriterion $(DEPLIBS)

$(B)/test/%: test/api/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(TEST_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) -lcriterion $(DEPLIBS)

$(B)/test/%: test/integration/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(TEST_CFLAGS) -Ilib $(ALL_LDFLAGS) -o $@ $< $(LIB_A) -lcriterion $(DEPLIBS)

$(B)/test/helper_%: test/helpers/helper_%.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(TEST_CFLAGS) -Ilib $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

$(B)/test/stress_%: test/stress/stress_%.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(TEST_CFLAGS) -Ilib $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

$(BUSYLOAD): test/stress/busy_load.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(TEST_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

$(B)/test/replay_%: test/fuzz/fuzz_%.c test/fuzz/fuzz_replay.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(TEST_CFLAGS) -Ilib $(ALL_LDFLAGS) -o $@ $< \
	    test/fuzz/fuzz_replay.c $(LIB_A) $(DEPLIBS)

# The libFuzzer binaries (VARIANT=fuzz, CC=clang).
$(B)/test/fuzz_%: test/fuzz/fuzz_%.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(TEST_CFLAGS) -Ilib -fsanitize=fuzzer $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

tests: $(TESTS) $(STRESS) $(HELPERS) $(BUSYLOAD) $(EXAMPLES) $(TOOLS) $(REPLAYS)

demo: deps
	+@$(SUBMAKE) VARIANT=$(VARIANT) $(EXAMPLES)
	@echo "== manager_example (C replay of manager_example.py)"
	@$(B)/examples/manager_example
	@echo "== append_example (C replay of append_example.py)"
	@$(B)/examples/append_example
	@echo "== sync_example (C replay of sync_example.py: Lock, Queue, Value)"
	@$(B)/examples/sync_example
	+@$(SUBMAKE) VARIANT=$(VARIANT) python-demo

# make test: the packages, then test-only. test-only builds with -Werror
# (unless WERROR=0 is given), runs the layer check and every test program.
test: deps-test
	+@$(SUBMAKE) test-only

test-only:
	+@$(SUBMAKE) VARIANT=$(VARIANT) WERROR=$(if $(WERROR_GIVEN),$(WERROR),1) tests
	+@$(SUBMAKE) VARIANT=$(VARIANT) layers
	@SHMC_BUILD=$(B) SHMC_SANFLAGS="$(SHMC_SAN)" test/run-tests.sh $(B)
	+@$(SUBMAKE) VARIANT=$(VARIANT) WERROR=$(if $(WERROR_GIVEN),$(WERROR),1) python-test

# The layer check reads lib/LAYERS, the sources' includes and the objects'
# symbols; test/layers/test-check.sh proves it fails on a wrong include or call.
layers: $(LIB_OBJ)
	@python3 test/layers/check_layers.py --objects $(B)/lib
	@test/layers/test-check.sh

# The table of code points repr() prints as they are, from Python 3.11's
# Unicode database (test_unicode checks the committed one is up to date).
printable-table:
	python3 tools/gen-printable.py > lib/values/printable.h.new
	mv lib/values/printable.h.new lib/values/printable.h

check: deps-check
	+@$(SUBMAKE) VARIANT=asan WERROR=1 test-only
	+@$(SUBMAKE) VARIANT=tsan CC=clang WERROR=1 build/tsan/test/stress_threads \
	    build/tsan/test/stress_list build/tsan/test/stress_alloc build/tsan/test/stress_handles
	@test/stress/run-tsan.sh build/tsan

# The public-API tests under memcheck, in a build without jemalloc (only
# the programs VALGRIND_TESTS names, when it names some).
VALGRIND_PROGS = $(if $(strip $(VALGRIND_TESTS)),$(addprefix build/valgrind/test/,$(VALGRIND_TESTS)),\
                 $(patsubst $(B)/%,build/valgrind/%,$(API)))
valgrind: deps-ci
	+@$(SUBMAKE) VARIANT=valgrind WERROR=1 $(VALGRIND_PROGS)
	@test/run-valgrind.sh build/valgrind

# Both sides are written by abidw the same way: only the types defined in
# include/ are kept (a handle's struct, private to lib/, is declaration-only,
# so changing it is no ABI change), and no path or source location is
# recorded, so the baseline does not depend on the checkout's folder or on
# line numbers. abidiff then compares the two files (exit 0: compatible).
ABIDW = abidw --headers-dir include --drop-private-types --no-corpus-path \
        --no-comp-dir-path --no-show-locs
abi-check: deps-ci
	+@$(SUBMAKE) VARIANT=release lib
	$(ABIDW) --out-file build/release/libshmc.abi build/release/libshmc.so.$(VERSION)
	abidiff --no-added-syms $(LIB_ABI) build/release/libshmc.abi
	@echo "abi-check: build/release/libshmc.so.$(VERSION) matches $(LIB_ABI)"
abi-baseline: deps-ci
	+@$(SUBMAKE) VARIANT=release lib
	$(ABIDW) --out-file $(LIB_ABI) build/release/libshmc.so.$(VERSION)

# Portability: the library's sources compiled for aarch64 (no link). The
# cross compiler finds the arch-independent libatomic_ops and jemalloc
# headers after its own, and Debian's gmp.h in the host's multiarch folder
# (GMP's 64-bit limbs are the same on aarch64; nothing is linked).
CROSS_CC ?= aarch64-linux-gnu-gcc
HOST_MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
cross: deps-ci
	+@$(SUBMAKE) CC=$(CROSS_CC) WERROR=1 \
	    CPPFLAGS="-idirafter /usr/include -idirafter /usr/include/$(HOST_MULTIARCH)" \
	    BUILD=build/aarch64 $(LIB_OBJ:$(B)/%=build/aarch64/%)
	@echo "cross: $(words $(LIB_SRC)) sources compiled for $$($(CROSS_CC) -dumpmachine)"

fuzz: deps-check
	+@$(SUBMAKE) VARIANT=fuzz CC=clang \
	    $(patsubst test/fuzz/%.c,build/fuzz/test/%,$(FUZZ_SRC))
	@test/fuzz/run-fuzz.sh build/fuzz $(FUZZ_TIME)

fuzz-ci:
	+@$(SUBMAKE) fuzz FUZZ_TIME=30

# The long kill harness: KILLS SIGKILLs per container kind (the CI form in
# `make test` does 300), then the other stress programs.
KILLS ?= 1000
stress: deps-test
	+@$(SUBMAKE) VARIANT=$(VARIANT) $(STRESS)
	@$(B)/test/stress_kill --kills $(KILLS)
	@$(B)/test/stress_sync
	@$(B)/test/stress_alloc

# The multi-process tests beside 16 processes contending on an arena of
# their own, N times in a row; logs of failed runs in $(B)/busy/.
N ?= 1
test-busy:
	+@$(SUBMAKE) VARIANT=$(VARIANT) WERROR=$(if $(WERROR_GIVEN),$(WERROR),1) tests
	@test/stress/run-busy.sh $(B) $(N)

# Benchmarks: shmc's programs use the public header only, except the
# allocator's, which reaches lib/memory/alloc.h.
$(B)/bench/bench_shmc: bench/bench_shmc.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(ALL_CFLAGS) $(SHMC_DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

$(B)/bench/bench_alloc: bench/bench_alloc.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(ALL_CFLAGS) $(SHMC_DEPFLAGS) -Ilib $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

$(B)/bench/bench_floor: bench/bench_floor.c
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(ALL_CFLAGS) $(SHMC_DEPFLAGS) $(ALL_LDFLAGS) -o $@ $<

$(B)/bench/bench_boost: bench/bench_boost.cpp
	@mkdir -p $(@D)
	$(call say,CXXLD,$@)$(CXX) $(BENCH_CXXFLAGS) $(SHMC_DEPFLAGS) $(LDFLAGS) -o $@ $<

benches: $(BENCHES)

# make bench [QUICK=1]: install what is missing, build, run, print the table.
bench: deps-bench
	+@$(SUBMAKE) VARIANT=$(VARIANT) all benches
	@bench/run.sh $(if $(QUICK),--quick) $(B)

CMAKEDIR = $(LIBDIR)/cmake/shmc
install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 644 include/shmc.h $(DESTDIR)$(INCDIR)/shmc.h
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libshmc.a
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libshmc.so.$(VERSION)
	ln -sf libshmc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libshmc.so.$(SOVERSION)
	ln -sf libshmc.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libshmc.so
	install -m 644 $(B)/shmc.pc $(DESTDIR)$(LIBDIR)/pkgconfig/shmc.pc
	install -m 644 $(B)/shmcConfig.cmake $(B)/shmcConfigVersion.cmake $(DESTDIR)$(CMAKEDIR)/
	for t in $(TOOLS); do install -m 755 $$t $(DESTDIR)$(BINDIR)/; done
	for m in $(MANPAGES); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
	    install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	+@$(SUBMAKE) python-install

uninstall:
	rm -f $(DESTDIR)$(INCDIR)/shmc.h $(DESTDIR)$(LIBDIR)/libshmc.a \
	      $(DESTDIR)$(LIBDIR)/libshmc.so* $(DESTDIR)$(LIBDIR)/pkgconfig/shmc.pc
	rm -rf $(DESTDIR)$(CMAKEDIR)
	for t in $(notdir $(TOOLS)); do rm -f $(DESTDIR)$(BINDIR)/$$t; done
	for m in $(notdir $(MANPAGES)); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m; done
	$(if $(PYTHON_SITEDIR),rm -rf $(DESTDIR)$(PYTHON_SITEDIR)/shmc)

# The Python binding (python/, test/python/, bench/bench_python.py) -------
# A CPython extension, shmc._shmc, over the library linked statically and
# built without jemalloc (so that the Python process keeps one malloc),
# under the thin pure-Python package python/shmc/. Built for the python3
# on PATH (PYTHON=...) into $(B)/python: PYTHONPATH=$(B)/python python3.
#   make python            the package
#   make python-test       its tests, then CPython's manager tests (make test
#                          runs it after the C suite); PY_START=all also
#                          runs CPython's under spawn and forkserver
#   make python-demo       the documented examples through shmc, compared
#                          with multiprocessing.Manager's output (make demo)
#   make python-install    into PYTHON_SITEDIR (make install)
PYTHON    ?= python3
PY_CFG    := $(shell $(PYTHON) -c 'import sysconfig as s; print(s.get_paths()["include"], s.get_config_var("EXT_SUFFIX"), s.get_path("platlib"))' 2>/dev/null)
PY_INC    := $(word 1,$(PY_CFG))
PY_EXT    := $(word 2,$(PY_CFG))
PYTHON_SITEDIR ?= $(word 3,$(PY_CFG))
PYB       := $(B)/python
PY_SO     := $(PYB)/shmc/_shmc$(PY_EXT)
PY_CSRC   := $(wildcard python/_shmc/*.c)
PY_COBJ   := $(PY_CSRC:python/_shmc/%.c=$(B)/pyobj/%.o)
PY_PKG    := $(patsubst python/shmc/%,$(PYB)/shmc/%,$(wildcard python/shmc/*.py))
PY_LIB_A  := $(B)/pylib/libshmc.a
PY_START  ?= fork
# Under a sanitizer, python3 (not built with it) loads its runtime first.
PY_ENV    := PYTHONPATH=$(CURDIR)/$(PYB) SHMC_BUILD=$(B) \
             $(if $(SHMC_SAN),LD_PRELOAD=$$($(CC) -print-file-name=libasan.so) \
               ASAN_OPTIONS=detect_leaks=0:$${ASAN_OPTIONS:-})

.PHONY: python python-test python-demo python-install
python: $(PY_SO) $(PY_PKG)

# The sub-make leaves the archive alone when it is up to date.
$(PY_LIB_A): FORCE
	+@$(SUBMAKE) BUILD=$(B)/pylib JEMALLOC=0 VARIANT=$(VARIANT) lib

$(B)/pyobj/%.o: python/_shmc/%.c
	@test -n "$(PY_INC)" || { echo "make python: no $(PYTHON) with its headers" \
	    "(on Debian: apt-get install python3-dev)" >&2; exit 1; }
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) $(SHMC_DEPFLAGS) -fPIC -fvisibility=hidden \
	    -isystem $(PY_INC) -c $< -o $@

$(PY_SO): $(PY_COBJ) $(PY_LIB_A)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) -shared $(ALL_LDFLAGS) -o $@ $(PY_COBJ) $(PY_LIB_A) -lgmp -lpthread -lm

$(PYB)/shmc/%.py: python/shmc/%.py
	@mkdir -p $(@D)
	$(Q)cp $< $@

python-test: python
	@$(PY_ENV) $(PYTHON) test/python/run.py --start-method $(PY_START)

python-demo: python
	@$(PY_ENV) $(PYTHON) test/python/demo.py

# make install leaves the package out, saying so, when python3 or its
# headers are missing.
ifneq (,$(wildcard $(PY_INC)/Python.h))
python-install: python
	install -d $(DESTDIR)$(PYTHON_SITEDIR)/shmc
	install -m 644 $(PY_PKG) $(DESTDIR)$(PYTHON_SITEDIR)/shmc/
	install -m 755 $(PY_SO) $(DESTDIR)$(PYTHON_SITEDIR)/shmc/
else
python-install:
	@echo "install: no $(PYTHON) with its headers: the Python package is not installed" >&2
endif

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
