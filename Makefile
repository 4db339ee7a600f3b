# parpi - build, test, benchmark, install.
#
#   make                 library and programs, all under build/ (build/bin/parpi-*)
#   make native          the same with -O3 -march=native (this CPU only)
#   make check           every test; ends with "N passed, N failed[, N skipped]"
#   make check-asan      unit and CLI tests under AddressSanitizer + UBSan (in build/asan/)
#   make check-long      the learning tests with their long variants (12 kills a run)
#                        and the replay file over 1 GiB
#   make bench           benchmarks (figures, not tests), built with the fast flags
#   make fuzz            libFuzzer run of the frame reader (clang), FUZZ_SECONDS=60
#   make graph           the import graph of lib/ and cmd/ by folder (dev/import-graph)
#   make install / uninstall   honour PREFIX and DESTDIR
#   WERROR=0             build without -Werror (CI and developers keep it on)
#   DNNL=0 / DNNL=1      without / with oneDNN's fp32 matmul as a second sgemm
#                        backend (default: with, where pkg-config or the header
#                        finds it); the backend is chosen at run time
#                        (PARPI_GEMM, pp_gemm_set_backend), OpenBLAS by default
#   HDF5=0 / HDF5=1      without / with HDF5 (libhdf5-dev): parpi-dataset's import
#                        and export of D4RL files (default auto: with, where
#                        pkg-config finds hdf5); without it they say it was not built
#
# OUT is where a build goes: build for the normal build, build/asan for the
# sanitizer build (objects in OUT/obj, library in OUT/lib, programs in OUT/bin).
# Nothing is written outside OUT.

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LIBDIR   ?= $(PREFIX)/lib
INCDIR   ?= $(PREFIX)/include/parpi
MANDIR   ?= $(PREFIX)/share/man
SHAREDIR ?= $(PREFIX)/share/parpi
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions

VERSION  := 0.1.0
OUT      ?= build
CC       ?= cc
# Portable by default (no -march): the same tree builds on x86-64 and aarch64.
OPT      ?= -O2 -g
FAST_OPT := -O3 -march=native -g
SAN      ?=
CFLAGS   ?= $(OPT)
WERROR   ?= 1
WARN     := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
PKG_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
# oneDNN (libdnnl-dev), optional: lib/nn/gemm_dnnl.c is empty without it.
DNNL     ?= $(shell pkg-config --exists dnnl 2>/dev/null && echo 1 || \
              (echo '\#include <dnnl.h>' | $(CC) -E -x c - >/dev/null 2>&1 && echo 1 || echo 0))
ifeq ($(DNNL),1)
PKG_CFLAGS += $(shell pkg-config --cflags dnnl 2>/dev/null) -DPARPI_DNNL
PKG_LIBS   += $(shell pkg-config --libs dnnl 2>/dev/null || echo -ldnnl) -lgomp
endif
# HDF5 (libhdf5-dev, the serial build: hdf5.pc), optional: lib/data/hdf5_*.c
# fail with "HDF5 support was not built" without it.
HDF5     ?= auto
ifeq ($(HDF5),auto)
override HDF5 := $(shell pkg-config --exists hdf5 2>/dev/null && echo 1 || echo 0)
endif
ifeq ($(HDF5),1)
PKG_CFLAGS += $(shell pkg-config --cflags hdf5) -DPARPI_HDF5
PKG_LIBS   += $(shell pkg-config --libs hdf5 2>/dev/null || echo -lhdf5)
endif
ifeq ($(MAKELEVEL),0)
$(info parpi: sgemm backends built: openblas$(if $(filter 1,$(DNNL)), dnnl) (DNNL=$(DNNL)))
$(info parpi: HDF5 import/export $(if $(filter 1,$(HDF5)),built,not built) (HDF5=$(HDF5)))
endif
ALL_CFLAGS  = -std=gnu11 $(WARN) $(CFLAGS) $(SAN) -fPIC -Ilib $(PKG_CFLAGS) \
              -DPARPI_VERSION='"$(VERSION)"' -DPARPI_SHAREDIR='"$(SHAREDIR)"' -MMD -MP
LDLIBS   := $(PKG_LIBS) -lmujoco -lpthread -lm

LIB_SRC  := $(sort $(wildcard lib/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(OUT)/obj/%.o)
# cmd/common.c is linked into every C program; each cmd/parpi-X.c is one program.
CMD_COMMON := $(patsubst %.c,$(OUT)/obj/%.o,$(wildcard cmd/common.c))
CMD_SRC  := $(sort $(wildcard cmd/parpi-*.c))
PROGS    := $(CMD_SRC:cmd/%.c=$(OUT)/bin/%)
SCRIPTS  := $(sort $(wildcard cmd/parpi-*.sh))
SCRIPT_BINS := $(SCRIPTS:cmd/%.sh=$(OUT)/bin/%)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(OUT)/tests/%)
BENCH_SRC := $(sort $(wildcard dev/bench/bench_*.c))
BENCHES  := $(BENCH_SRC:dev/bench/%.c=$(OUT)/bench/%)
STATIC   := $(OUT)/lib/libparpi.a
SHARED   := $(OUT)/lib/libparpi.so

# The installed face of libparpi: these headers and nothing else (each includes
# only headers of this list). Program code, *_impl.h and the stage internals stay private.
PUBLIC_HEADERS := base/err.h base/rng.h base/opt.h frame/tensor.h frame/frame.h nn/mlp.h nn/adam.h nn/blas.h \
                  env/env.h data/replay.h data/d4rl.h stage/stage.h

.PHONY: all native check check-unit check-cli check-learn check-long check-asan check-unit-cli \
        bench fuzz graph install uninstall clean
all: $(STATIC) $(SHARED) $(PROGS) $(SCRIPT_BINS)

# keep the programs' objects (make would delete them as intermediates)
.SECONDARY:

native:
	$(MAKE) OPT="$(FAST_OPT)" OUT=build/native all

$(OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The nets' elementwise kernels: -O3 and no errno from sqrtf so that GCC
# vectorises them (see lib/nn/mlp_kernels.c).
$(OUT)/obj/lib/nn/mlp_kernels.o: ALL_CFLAGS += -O3 -fno-math-errno

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -shared -o $@ $^ $(LDLIBS)

$(OUT)/bin/%: $(OUT)/obj/cmd/%.o $(CMD_COMMON) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) $< $(CMD_COMMON) -o $@ $(STATIC) $(LDLIBS)

$(OUT)/bin/%: cmd/%.sh
	@mkdir -p $(dir $@)
	cp $< $@ && chmod +x $@

$(OUT)/tests/%: tests/unit/%.c tests/unit/check.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $< -o $@ $(STATIC) $(LDLIBS)

$(OUT)/bench/%: dev/bench/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $< -o $@ $(STATIC) $(LDLIBS)

# ---- tests ----
# Every suite prints TAP; tests/run-tap adds them up and prints the closing
# "N passed, N failed, N skipped" line (and fails if anything failed or nothing ran).
TEST_ENV = PATH="$(abspath $(OUT)/bin):$$PATH" PARPI_SHARE="$(abspath share/parpi)" \
           PARPI_TEST_BUILD="$(abspath $(OUT))" OPENBLAS_NUM_THREADS=1
CLI_TESTS   := $(sort $(wildcard tests/cli/*.bats))
LEARN_TESTS := $(sort $(wildcard tests/learn/*.bats))

check: all $(UNITS)
	@$(TEST_ENV) tests/run-tap $(UNITS) $(CLI_TESTS) $(LEARN_TESTS)

check-unit: all $(UNITS)
	@$(TEST_ENV) tests/run-tap $(UNITS)

check-cli: all
	@$(TEST_ENV) tests/run-tap $(CLI_TESTS)

check-learn: all
	@$(TEST_ENV) tests/run-tap $(LEARN_TESTS)

# The long variants the tests skip in `make check` (PARPI_LONG_TESTS): 12
# SIGKILLs a run instead of 3, and kills inside saves (about 30 s more); a
# replay file over 1 GiB (1.3 GB in $TMPDIR, 3 GB of memory, under a minute).
LONG_UNITS := $(OUT)/tests/test_replay_long
check-long: all $(LONG_UNITS)
	@$(TEST_ENV) PARPI_LONG_TESTS=1 tests/run-tap $(LEARN_TESTS) $(LONG_UNITS)

# Sanitizer build in its own tree: unit and CLI tests (the learning tests
# train for minutes and are left to `make check`).
check-asan:
	$(MAKE) OUT=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	  ASAN_OPTIONS=detect_leaks=1 check-unit-cli

check-unit-cli: all $(UNITS)
	@$(TEST_ENV) ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tests/run-tap $(UNITS) $(CLI_TESTS)

# Benchmarks run on the fast build (build/native) unless OUT is given.
ifeq ($(OUT),build)
bench:
	$(MAKE) OPT="$(FAST_OPT)" OUT=build/native bench
else
bench: all $(BENCHES)
	@for b in $(BENCHES); do PATH="$(abspath $(OUT)/bin):$$PATH" PARPI_SHARE="$(abspath share/parpi)" $$b || exit 1; done
endif

FUZZ_SECONDS ?= 60
FUZZ_SRC := lib/base/err.c $(wildcard lib/frame/*.c)
# New interesting inputs go to build/fuzz/corpus-work, crashes to build/fuzz/crash-*
# (fix, then copy the input into tests/fuzz/corpus: `make check` replays it).
fuzz:
	@mkdir -p build/fuzz/corpus-work
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Ilib \
	  tests/fuzz/fuzz_frame.c $(FUZZ_SRC) -o build/fuzz/fuzz_frame -lm
	build/fuzz/fuzz_frame -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 \
	  -artifact_prefix=build/fuzz/ build/fuzz/corpus-work tests/fuzz/corpus

graph:
	@dev/import-graph

# ---- install ----
MAN1 := $(wildcard man/man1/*.1)
MAN5 := $(wildcard man/man5/*.5)
MAN7 := $(wildcard man/man7/*.7)
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	  $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(PROGS) $(SCRIPT_BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)
	@for h in $(PUBLIC_HEADERS); do \
	  install -D -m 644 lib/$$h $(DESTDIR)$(INCDIR)/$$h || exit 1; done
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1)
	$(if $(MAN5),install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5)
	$(if $(MAN7),install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7)
	cp -R share/parpi/. $(DESTDIR)$(SHAREDIR)/
	install -m 644 completions/parpi.bash $(DESTDIR)$(BASHCOMPDIR)/parpi
	install -m 644 completions/_parpi $(DESTDIR)$(ZSHCOMPDIR)/_parpi
	@for p in $(notdir $(PROGS) $(SCRIPT_BINS)); do \
	  ln -sf parpi $(DESTDIR)$(BASHCOMPDIR)/$$p; done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGS) $(SCRIPT_BINS)))
	rm -f $(DESTDIR)$(LIBDIR)/libparpi.a $(DESTDIR)$(LIBDIR)/libparpi.so
	rm -rf $(DESTDIR)$(INCDIR) $(DESTDIR)$(SHAREDIR)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(MAN7)))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/parpi $(DESTDIR)$(ZSHCOMPDIR)/_parpi
	rm -f $(addprefix $(DESTDIR)$(BASHCOMPDIR)/,$(notdir $(PROGS) $(SCRIPT_BINS)))

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CMD_COMMON:.o=.d) $(CMD_SRC:%.c=$(OUT)/obj/%.d) $(UNITS:%=%.d) $(BENCHES:%=%.d)
