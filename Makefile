# Makefile - the two commands of the README, and a few conveniences.
#
# Why: CMake builds and ctest tests; this file only strings the steps
# together so that `make run` and `make test` work on a fresh Debian 12.
#
#   make run     install what is missing, build, initialise rhis.db, serve
#   make test    install what is missing, run the whole suite (tools/run-tests.sh)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= 2
DB         ?= sqlite:rhis.db
LISTEN     ?= 127.0.0.1:8080
PWFILE     ?= .rhis-admin-password
DEMO       ?= 1
DEMO_AREA  ?= 220221
DEMO_YEARS ?= 2019-2025
DEMO_SEED  ?= 1
DEMO_SCALE ?= 0.1
RHIS       := ./$(BUILD)/rhis
C_SOURCES   = $(shell find src include tests -name '*.[ch]' 2>/dev/null)

.PHONY: all run test build deps deps-test clean format tidy checksrc fuzz bench help

all: build

help:
	@echo "make run     build, initialise $(DB) and serve on http://$(LISTEN)/"
	@echo "make test    the whole test suite (both builds, PostgreSQL, checksrc)"
	@echo "make build | clean | format | tidy | checksrc | fuzz | bench"

deps:
	@tools/install-deps.sh run

deps-test:
	@tools/install-deps.sh test

# Configures only once; the CONFIGURE_DEPENDS globs pick up new files.
$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

run: deps
	@$(MAKE) --no-print-directory build
	@sh web/build.sh
	@if [ ! -s $(PWFILE) ]; then \
	    umask 077; \
	    head -c 24 /dev/urandom | base64 | tr -d '/+=\n' | head -c 20 > $(PWFILE); \
	    echo "make run: created $(PWFILE) (the admin password)"; \
	fi
	$(RHIS) init --db $(DB) --admin-password-file $(PWFILE)
	@# Reference data (areas, code lists) is loaded by init. Institutions
	@# are loaded when their file is there; the import is idempotent.
	@if [ -f data/institutions-220221.csv ]; then \
	    $(RHIS) import-institutions --db $(DB) data/institutions-220221.csv; \
	fi
	@# The demo region (rhis demo): residents, staff, care and surveillance
	@# events of $(DEMO_AREA), with the population denominators per village
	@# (so data/population-220221.csv, township totals of 2020, is not
	@# loaded beside them). A county already generated is skipped, so a
	@# second `make run` changes nothing. DEMO=0 skips it.
	@if [ "$(DEMO)" != 0 ]; then \
	    $(RHIS) demo --db $(DB) --area $(DEMO_AREA) --years $(DEMO_YEARS) \
	        --seed $(DEMO_SEED) --scale $(DEMO_SCALE); \
	fi
	@echo
	@echo "  RHIS is starting on http://$(LISTEN)/"
	@echo "  log in as: admin   password: $$(head -n 1 $(PWFILE))   (in $(PWFILE))"
	@echo
	exec $(RHIS) serve --db $(DB) --listen $(LISTEN)

test: deps-test
	tools/run-tests.sh

checksrc:
	tools/checksrc.sh

format:
	clang-format -i $(C_SOURCES)

tidy: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)
	find src -name '*.c' -print0 | xargs -0 -r -n 8 -P $(JOBS) clang-tidy -p $(BUILD) --quiet

fuzz:
	@if [ -x tools/fuzz.sh ]; then tools/fuzz.sh; \
	else echo "make fuzz: tools/fuzz.sh does not exist yet"; fi

bench:
	@if [ -x bench/run.sh ]; then bench/run.sh; \
	else echo "make bench: bench/run.sh does not exist yet"; fi

clean:
	rm -rf build build-asan build-fuzz build-tsan
