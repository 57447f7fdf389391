# shmc -- one non-recursive Makefile.
#
#   make            build the libraries, tools and examples (build/release)
#   make demo       install what is missing, then replay the documented example
#   make test       install what is missing, then build and run the test suite
#   make check      the test suite under AddressSanitizer + UBSan, and stress
#                   programs under ThreadSanitizer (clang)
#   make fuzz       fuzz the arena readers with libFuzzer for FUZZ_TIME seconds
#                   (default 600); make fuzz-ci: 60 seconds
#   make bench      benchmarks beside their peers (see bench/README.md);
#                   QUICK=1 for a short smoke run
#   make install    PREFIX=/usr/local DESTDIR=
#
# Variants build in their own folders: build/release, build/debug,
# build/asan, build/tsan, build/fuzz (clang, libFuzzer + ASan + UBSan).

VERSION   := 0.1.0
SOVERSION := 0
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
BINDIR    ?= $(PREFIX)/bin
VARIANT   ?= release

CC        ?= cc
WARN      := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
             -Wmissing-prototypes -Wvla -Wformat=2
BASEFLAGS := -std=c11 -D_GNU_SOURCE -pthread -mcx16 -g $(WARN) -Iinclude
DEPLIBS   := -ljemalloc -lpthread -lm

ifeq ($(VARIANT),release)
  OPT := -O2
else ifeq ($(VARIANT),debug)
  OPT := -O0 -DSHMC_DEBUG
else ifeq ($(VARIANT),asan)
  OPT := -O1 -DSHMC_DEBUG -fsanitize=address,undefined -fno-sanitize-recover=all \
         -fno-omit-frame-pointer
else ifeq ($(VARIANT),tsan)
  OPT := -O1 -DSHMC_DEBUG -fsanitize=thread -fno-omit-frame-pointer
else ifeq ($(VARIANT),fuzz)
  OPT := -O1 -DSHMC_DEBUG -fsanitize=fuzzer-no-link,address,undefined \
         -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
# Under a sanitizer the private heap is the C library's malloc (lib/heap.c),
# which the sanitizer intercepts; jemalloc is not linked.
ifneq (,$(filter asan tsan fuzz,$(VARIANT)))
  DEPLIBS := -lpthread -lm
endif
CFLAGS    ?=
CFLAGS    += $(BASEFLAGS) $(OPT)
LDFLAGS   ?=
ifneq (,$(filter asan tsan fuzz,$(VARIANT)))
  LDFLAGS += $(filter -fsanitize=%,$(OPT))
endif

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
LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
LIB_A     := $(B)/libshmc.a
LIB_SO    := $(B)/libshmc.so.$(VERSION)
TOOLS     := $(patsubst tools/%.c,$(B)/tools/%,$(wildcard tools/*.c))
EXAMPLES  := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
TESTS     := $(patsubst test/%.c,$(B)/test/%,$(wildcard test/test_*.c))
STRESS    := $(patsubst test/%.c,$(B)/test/%,$(wildcard test/stress_*.c))
HELPERS   := $(patsubst test/%.c,$(B)/test/%,$(wildcard test/helper_*.c))
BENCHES   := $(B)/bench/bench_shmc $(B)/bench/bench_alloc $(B)/bench/bench_floor \
             $(B)/bench/bench_boost
CXX       ?= g++
# The Boost peer is the only C++: Boost.Interprocess is header-only.
BENCH_CXXFLAGS := -std=c++17 -O2 -g -pthread -Wall -Wextra -Werror -Wshadow
# Each fuzz target test/fuzz_T.c is also built, with any compiler, into a
# replayer of saved inputs ($(B)/test/replay_T) that `make test` runs.
FUZZ_SRC  := $(filter-out test/fuzz_replay.c,$(wildcard test/fuzz_*.c))
REPLAYS   := $(patsubst test/fuzz_%.c,$(B)/test/replay_%,$(FUZZ_SRC))
FUZZ_TIME ?= 600

.PHONY: all lib demo test check bench install uninstall clean deps deps-test \
        deps-check deps-bench tests stress benches fuzz fuzz-ci
.SUFFIXES:

all: lib $(TOOLS) $(EXAMPLES) $(B)/shmc.pc
lib: $(LIB_A) $(LIB_SO)

deps:
	@tools/install-deps.sh build
deps-test:
	@tools/install-deps.sh test
deps-check:
	@tools/install-deps.sh check
deps-bench:
	@tools/install-deps.sh bench

$(B)/lib/%.o: lib/%.c $(wildcard lib/*.h) include/shmc.h
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(LIB_SO): $(LIB_OBJ)
	$(call say,LD,$@)$(CC) -shared -Wl,-soname,libshmc.so.$(SOVERSION) $(LDFLAGS) -o $@ $^ $(DEPLIBS)
	$(Q)ln -sf libshmc.so.$(VERSION) $(B)/libshmc.so.$(SOVERSION)
	$(Q)ln -sf libshmc.so.$(SOVERSION) $(B)/libshmc.so

$(B)/shmc.pc: shmc.pc.in Makefile
	@mkdir -p $(@D)
	$(call say,GEN,$@)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

$(B)/tools/%: tools/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

$(B)/examples/%: examples/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

# Tests link the static library (they may reach internal hooks in lib/).
$(B)/test/test_%: test/test_%.c test/testutil.h $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ $< $(LIB_A) -lcriterion $(DEPLIBS)

$(B)/test/helper_%: test/helper_%.c test/testutil.h $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

$(B)/test/stress_%: test/stress_%.c test/testutil.h $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

$(B)/test/replay_%: test/fuzz_%.c test/fuzz_replay.c test/testutil.h $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ $< test/fuzz_replay.c $(LIB_A) $(DEPLIBS)

# The libFuzzer binaries (VARIANT=fuzz, CC=clang).
$(B)/test/fuzz_%: test/fuzz_%.c test/testutil.h $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(CFLAGS) -Ilib -fsanitize=fuzzer,address,undefined -o $@ $< $(LIB_A) $(DEPLIBS)

tests: $(TESTS) $(STRESS) $(HELPERS) $(EXAMPLES) $(TOOLS) $(REPLAYS)

demo: deps
	@$(MAKE) --no-print-directory VARIANT=$(VARIANT) $(EXAMPLES)
	@echo "== manager_example (C replay of manager_example.py)"
	@$(B)/examples/manager_example
	@echo "== append_example (C replay of append_example.py)"
	@$(B)/examples/append_example
	@echo "== sync_example (C replay of sync_example.py: Lock, Queue, Value)"
	@$(B)/examples/sync_example

test: deps-test
	@$(MAKE) --no-print-directory VARIANT=$(VARIANT) tests
	@SHMC_BUILD=$(B) SHMC_SANFLAGS="$(filter -fsanitize=%,$(OPT))" test/run-tests.sh $(B)

check: deps-check
	@$(MAKE) --no-print-directory VARIANT=asan test
	@$(MAKE) --no-print-directory VARIANT=tsan CC=clang build/tsan/test/stress_threads
	@test/run-tsan.sh build/tsan

fuzz: deps-check
	@$(MAKE) --no-print-directory VARIANT=fuzz CC=clang \
	    $(patsubst test/%.c,build/fuzz/test/%,$(FUZZ_SRC))
	@test/run-fuzz.sh build/fuzz $(FUZZ_TIME)

fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=60

# The long kill harness: KILLS SIGKILLs per container kind (the CI form in
# `make test` does 300), then the other stress programs.
KILLS ?= 1000
stress: deps-test
	@$(MAKE) --no-print-directory VARIANT=$(VARIANT) $(STRESS)
	@$(B)/test/stress_kill --kills $(KILLS)
	@$(B)/test/stress_sync

# Benchmarks: shmc's programs use the public header only, except the
# allocator's, which reaches lib/alloc.h.
$(B)/bench/bench_shmc: bench/bench_shmc.c bench/bench.h $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

$(B)/bench/bench_alloc: bench/bench_alloc.c bench/bench.h $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ $< $(LIB_A) $(DEPLIBS)

$(B)/bench/bench_floor: bench/bench_floor.c bench/bench.h
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(B)/bench/bench_boost: bench/bench_boost.cpp bench/bench.h
	@mkdir -p $(@D)
	$(call say,CXXLD,$@)$(CXX) $(BENCH_CXXFLAGS) $(LDFLAGS) -o $@ $<

benches: $(BENCHES)

# make bench [QUICK=1]: install what is missing, build, run, print the table.
bench: deps-bench
	@$(MAKE) --no-print-directory VARIANT=$(VARIANT) all benches
	@bench/run.sh $(if $(QUICK),--quick) $(B)

install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR) $(DESTDIR)$(BINDIR)
	install -m 644 include/shmc.h $(DESTDIR)$(INCDIR)/shmc.h
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libshmc.a
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libshmc.so.$(VERSION)
	ln -sf libshmc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libshmc.so.$(SOVERSION)
	ln -sf libshmc.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libshmc.so
	install -m 644 $(B)/shmc.pc $(DESTDIR)$(LIBDIR)/pkgconfig/shmc.pc
	for t in $(TOOLS); do install -m 755 $$t $(DESTDIR)$(BINDIR)/; done

uninstall:
	rm -f $(DESTDIR)$(INCDIR)/shmc.h $(DESTDIR)$(LIBDIR)/libshmc.a \
	      $(DESTDIR)$(LIBDIR)/libshmc.so* $(DESTDIR)$(LIBDIR)/pkgconfig/shmc.pc
	for t in $(notdir $(TOOLS)); do rm -f $(DESTDIR)$(BINDIR)/$$t; done

clean:
	rm -rf build
