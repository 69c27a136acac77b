# mod_caldav - top-level build.
#
#   make            build core, repos, the module and the tools
#                   (also "make all" or "make build")
#   make run        install what is missing, build, start a private httpd
#   make stop       stop it (same PORT=)
#   make test       install what is missing, build, run every test
#   make test SAN=1 the same, built and run under AddressSanitizer + UBSan
#
# core/ and repos/ are compiled WITHOUT the httpd include path: an
# accidental #include "httpd.h" there fails the build (layering rule).

PORT     ?= 8008
SAN      ?= 0
PYTHON   ?= /usr/bin/python3
APXS     ?= apxs
BUILD    ?= build
VAR      ?= $(CURDIR)/var

CC       := gcc
APR_CFLAGS := $(shell pkg-config --cflags apr-1 apr-util-1 2>/dev/null)
APR_LIBS   := $(shell pkg-config --libs apr-1 apr-util-1 2>/dev/null)
HTTPD_INC  := $(shell $(APXS) -q INCLUDEDIR 2>/dev/null)

WARN     := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
OPT      := -O2 -g
SANFLAGS :=
ifeq ($(SAN),1)
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  OPT      := -O1 -g
  BUILD    := build-san
endif
CFLAGS_COMMON := -std=gnu11 -fPIC -fvisibility=hidden $(OPT) $(WARN) $(SANFLAGS) -D_GNU_SOURCE
CORE_CFLAGS   := $(CFLAGS_COMMON) $(APR_CFLAGS) -Icore
REPOS_CFLAGS  := $(CFLAGS_COMMON) $(APR_CFLAGS) -Icore -Irepos
MOD_CFLAGS    := $(CFLAGS_COMMON) $(APR_CFLAGS) -I$(HTTPD_INC) -Icore -Irepos -Imod_caldav
TOOL_CFLAGS   := $(CFLAGS_COMMON) $(APR_CFLAGS) -Icore -Irepos -Itools
LIBS          := -lical -ldb $(APR_LIBS)

CORE_SRC  := $(wildcard core/*.c)
REPOS_SRC := $(wildcard repos/*.c)
MOD_SRC   := $(wildcard mod_caldav/*.c)
TOOL_SRC  := $(wildcard tools/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)

CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/%.o)
REPOS_OBJ := $(REPOS_SRC:%.c=$(BUILD)/%.o)
MOD_OBJ   := $(MOD_SRC:%.c=$(BUILD)/%.o)
TOOL_OBJ  := $(TOOL_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

LIBCORE   := $(BUILD)/libcalcore.a
LIBSTORE  := $(BUILD)/libcalstore.a
MODULE    := $(BUILD)/mod_caldav.so
TOOL      := $(BUILD)/caldavctl

.PHONY: all build deps run stop test unit itest bench core-bench clean distclean check-layering
all: $(MODULE) $(TOOL) $(UNIT_BIN)

# "build" is also the output directory: without this a "make build" found
# it present and built nothing.
build: all

deps:
	@sh scripts/deps.sh

$(BUILD)/core/%.o: core/%.c $(wildcard core/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -c $< -o $@

$(BUILD)/repos/%.o: repos/%.c $(wildcard repos/*.h core/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(REPOS_CFLAGS) -c $< -o $@

$(BUILD)/mod_caldav/%.o: mod_caldav/%.c $(wildcard mod_caldav/*.h repos/*.h core/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(MOD_CFLAGS) -c $< -o $@

# tools/ is compiled without the httpd include path too.
$(BUILD)/tools/%.o: tools/%.c $(wildcard tools/*.h repos/*.h core/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TOOL_CFLAGS) -c $< -o $@

$(LIBCORE): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBSTORE): $(REPOS_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The module is linked by apxs (libtool) from our objects and the two PIC
# archives; -Wl,--exclude-libs keeps the archives' symbols out of httpd's
# global namespace.
$(MODULE): $(MOD_OBJ) $(LIBSTORE) $(LIBCORE)
	@mkdir -p $(BUILD)/apxs
	cd $(BUILD)/apxs && $(APXS) -c -o mod_caldav.la \
	    $(addprefix $(CURDIR)/,$(MOD_OBJ)) \
	    $(CURDIR)/$(LIBSTORE) $(CURDIR)/$(LIBCORE) \
	    $(if $(SANFLAGS),-lasan -lubsan) \
	    -lical -ldb >apxs.log 2>&1 || { cat apxs.log; exit 1; }
	cp $(BUILD)/apxs/.libs/mod_caldav.so $@.tmp && mv -f $@.tmp $@   # new inode: a running httpd keeps its mapping

# caldavctl links the same two archives as the module, and never httpd.
$(TOOL): $(TOOL_OBJ) $(LIBSTORE) $(LIBCORE)
	$(CC) $(TOOL_OBJ) -o $@ $(LIBSTORE) $(LIBCORE) $(LIBS) $(SANFLAGS)

comma := ,

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tap.h $(LIBSTORE) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(REPOS_CFLAGS) -Itests/unit $< -o $@ $(LIBSTORE) $(LIBCORE) $(LIBS) $(SANFLAGS)

# Layering: core/, repos/ and tools/ must not include httpd or mod_dav
# headers.
check-layering:
	@if grep -rlE '#\s*include\s*[<"](httpd|http_[a-z_]+|mod_dav|ap_[a-z_]+|util_[a-z_]+)\.h[>"]' core repos tools; then \
	    echo "error: core/, repos/ or tools/ includes an httpd header"; exit 1; fi

run: deps all
	@$(PYTHON) scripts/devserver.py start --port $(PORT) --var $(VAR) --module $(CURDIR)/$(MODULE) $(if $(filter 1,$(SAN)),--san)

stop:
	@$(PYTHON) scripts/devserver.py stop --port $(PORT) --var $(VAR)

# Each unit test binary gets 5 minutes: a hang fails the run instead of
# stalling CI.
unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "# $$t"; timeout -k 10 300 $$t; done

itest: $(MODULE)
	$(PYTHON) -m pytest -q -ra tests/http --module $(CURDIR)/$(MODULE) $(if $(filter 1,$(SAN)),--san)

test: deps check-layering all
	@$(MAKE) --no-print-directory unit SAN=$(SAN)
	@$(MAKE) --no-print-directory itest SAN=$(SAN)

# The benchmark (not part of make test): bench/README.md.  BENCH_ARGS=--quick
# for a 1k-only smoke run.
bench: deps all
	sh bench/run.sh $(BENCH_ARGS)

# The core micro-benchmark (not part of make test): what a PUT costs in
# core/ (parse + index record), objects/s; bench/README.md.
# CORE_BENCH_ARGS e.g. "-p 10 -n 1780272000 /tmp/bench-cache/v2-seed42-10000".
CORE_BENCH := $(BUILD)/bench/core_put_bench

$(CORE_BENCH): bench/core_put_bench.c $(LIBSTORE) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(REPOS_CFLAGS) $< -o $@ $(LIBSTORE) $(LIBCORE) $(LIBS) $(SANFLAGS)

core-bench: $(CORE_BENCH)
	$(CORE_BENCH) $(CORE_BENCH_ARGS)

clean:
	rm -rf build build-san

distclean: clean
	rm -rf var
