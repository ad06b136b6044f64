# The HMM workbook: the one entry point.  `make help` lists every target.
#
# Layout of what the build makes (all under build/, never committed):
#   build/chNN/code/     chapters 00..NN tangled alone
#   build/chNN/          libhmmwb.a of that prefix and its test programs
#   build/lib/           libhmmwb.a of the whole book (from code/)
#   build/book/          the rendered HTML book (and PDF)
#   build/asan, build/tsan, build/coverage   instrumented builds

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := all
MAKEFLAGS += --no-print-directory

CC := gcc
JOBS := $(shell nproc 2>/dev/null || echo 2)
AR := ar
PYTHON ?= python3
CSTD := -std=gnu11
WARN := -Wall -Wextra -Werror
CFLAGS ?= -g -O1
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)

# Chapters: chapters/NN-slug.nw.  Chapter numbers that carry code and tests.
CHAPTERS := $(sort $(wildcard chapters/[0-9][0-9]-*.nw))
CHAPTER_NUMS := $(patsubst chapters/%,%,$(foreach c,$(CHAPTERS),$(firstword $(subst -, ,$(c)))))
CODE_NUMS := $(filter-out 00,$(CHAPTER_NUMS))
LAST := $(lastword $(CODE_NUMS))
# Chapter numbers are two digits, so "NN <= MM" is "NN sorts first".
chnum = $(firstword $(subst -, ,$(notdir $(1))))
num_le = $(filter $(1),$(firstword $(sort $(1) $(2))))
chapters_upto = $(foreach c,$(CHAPTERS),$(if $(call num_le,$(call chnum,$(c)),$(1)),$(c)))
tests_upto = $(sort $(foreach n,$(CHAPTER_NUMS),$(if $(call num_le,$(n),$(1)),$(wildcard tests/ch$(n)_*.c))))
TEST_SUPPORT := tests/test_main.c tests/testlib.c
TEST_HEADERS := $(wildcard tests/*.h)

# ---------------------------------------------------------------------------
## all: install missing tools, tangle, build every chapter's library, render the book
all: tools tangle libs book

## help: list every target
help:
	@grep -hE '^## ' $(MAKEFILE_LIST) | sed 's/^## /  make /' | sed 's/: /\t/' | expand -t 28

# ---------------------------------------------------------------------------
# Tools.  Detected by command, so a machine that lost one is repaired.
TOOL_PACKAGES := noweb pandoc check pkg-config lcov python3 graphviz spin
TOOL_COMMANDS := notangle noroots pandoc checkmk pkg-config lcov genhtml $(PYTHON) dot spin

## tools: install the Debian packages the build needs (noweb without its TeX recommends)
tools:
	@missing=""; for c in $(TOOL_COMMANDS); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	pkg-config --exists check 2>/dev/null || missing="$$missing libcheck"; \
	if [ -n "$$missing" ]; then \
	    echo "tools: missing:$$missing"; \
	    tools/install-packages.sh $(TOOL_PACKAGES); \
	fi

# ---------------------------------------------------------------------------
# Tangling.

## tangle: rewrite code/ from the chapters (only files whose content changed)
tangle:
	@tools/tangle.sh code $(CHAPTERS)
	@for n in $(CODE_NUMS); do $(MAKE) -s prefix-tangle CHAPTER=$$n; done
	@tools/solutions.sh write build
	@mkdir -p build && touch build/code.stamp

# The build's own route to code/: tangle only when a chapter or the tangler changed.
TANGLE_DEPS := $(CHAPTERS) tools/tangle.sh tools/solutions.sh \
               $(wildcard exercises/ch*/*/exercise.conf)
build/code.stamp: $(TANGLE_DEPS)
	@$(MAKE) -s tangle

## check-sync: fail if code/ differs from a fresh tangle, or a chunk is never used
check-sync:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	tools/tangle.sh "$$tmp" $(CHAPTERS); \
	if ! diff -r -q "$$tmp" code >/dev/null; then \
	    diff -r "$$tmp" code | head -n 20; \
	    echo "check-sync: code/ is out of date: run 'make tangle' and commit code/"; exit 1; \
	fi; \
	for n in $(CODE_NUMS); do $(MAKE) -s prefix-tangle CHAPTER=$$n; done; \
	tools/solutions.sh check build; \
	echo "check-sync: code/ and the exercises' solutions match the chapters"

# ---------------------------------------------------------------------------
# Libraries.  build/lib from code/; build/chNN from chapters 00..NN alone.

LIB_SRCS = $(wildcard code/src/*.c)
LIB_OBJS = $(patsubst code/src/%.c,build/lib/obj/%.o,$(LIB_SRCS))
LIB_HDRS = $(wildcard code/include/*.h)

build/lib/obj/%.o: code/src/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -pthread -Icode/include -c $< -o $@

build/lib/libhmmwb.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

## lib: build/lib/libhmmwb.a, the whole library (headers in code/include)
lib: build/code.stamp
	@$(MAKE) -s -j$(JOBS) build/lib/libhmmwb.a

## libs: the whole library and build/chNN/libhmmwb.a for every chapter prefix
libs: lib
	@for n in $(CODE_NUMS); do $(MAKE) prefix-lib CHAPTER=$$n; done

# A prefix build: tangle chapters 00..NN into build/chNN/code, compile, archive.
ifdef CHAPTER
ifeq ($(filter $(CHAPTER),$(CODE_NUMS)),)
$(error CHAPTER=$(CHAPTER): no such chapter with code; choose one of: $(CODE_NUMS))
endif
PFX := build/ch$(CHAPTER)
PFX_CHAPTERS := $(call chapters_upto,$(CHAPTER))
PFX_TESTS := $(call tests_upto,$(CHAPTER))
PFX_SRCS = $(wildcard $(PFX)/code/src/*.c)
PFX_OBJS = $(patsubst $(PFX)/code/src/%.c,$(PFX)/obj/%.o,$(PFX_SRCS))
PFX_HDRS = $(wildcard $(PFX)/code/include/*.h)
PFX_BINS = $(patsubst tests/%.c,$(PFX)/tests/%,$(PFX_TESTS))

$(PFX)/obj/%.o: $(PFX)/code/src/%.c $(PFX_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -pthread -I$(PFX)/code/include -c $< -o $@

$(PFX)/libhmmwb.a: $(PFX_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

PFX_SUPPORT_OBJS = $(patsubst tests/%.c,$(PFX)/obj/test-%.o,$(TEST_SUPPORT))

$(PFX)/obj/test-%.o: tests/%.c $(TEST_HEADERS) $(PFX_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -pthread $(CHECK_CFLAGS) -I$(PFX)/code/include -Itests -c $< -o $@

$(PFX)/tests/%: tests/%.c $(PFX_SUPPORT_OBJS) $(TEST_HEADERS) $(PFX)/libhmmwb.a
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -pthread $(CHECK_CFLAGS) -I$(PFX)/code/include -Itests \
	    $< $(PFX_SUPPORT_OBJS) $(PFX)/libhmmwb.a $(CHECK_LIBS) -o $@

prefix-tangle: $(PFX)/code.stamp

$(PFX)/code.stamp: $(PFX_CHAPTERS) tools/tangle.sh
	@tools/tangle.sh $(PFX)/code $(PFX_CHAPTERS)
	@touch $@

prefix-lib: prefix-tangle
	@$(MAKE) -s -j$(JOBS) $(PFX)/libhmmwb.a CHAPTER=$(CHAPTER)

prefix-tests: prefix-lib
	@$(MAKE) -s -j$(JOBS) $(PFX_BINS) CHAPTER=$(CHAPTER)
	@tools/run-tests.sh "chapter $(CHAPTER) prefix" $(PFX_BINS)
endif

# ---------------------------------------------------------------------------
## check: the test command: sync, book links, every chapter prefix with its tests
## check CHAPTER=NN: tangle chapters 00..NN alone, build them, run tests ch01..chNN
ifdef CHAPTER
check: tools
	@$(MAKE) prefix-tests CHAPTER=$(CHAPTER)
else
check: tools check-sync
	@$(MAKE) check-book
	@for n in $(CODE_NUMS); do $(MAKE) prefix-tests CHAPTER=$$n; done
	@$(MAKE) check-model check-tools
	@$(MAKE) $(if $(wildcard exercises/*/*/solution),grade-solutions) check-starters \
	    $(if $(wildcard tests/grading/hostile),check-grader)
endif

# ---------------------------------------------------------------------------
# Sanitizer and coverage builds of the whole library and every test.
ALL_TESTS := $(sort $(wildcard tests/ch[0-9][0-9]_*.c))

define instrumented_build
build/$(1)/obj/%.o: code/src/%.c $$(LIB_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(CSTD) $$(WARN) $(2) -pthread -Icode/include -c $$< -o $$@

build/$(1)/libhmmwb.a: $$(patsubst code/src/%.c,build/$(1)/obj/%.o,$$(LIB_SRCS))
	@rm -f $$@
	$$(AR) rcs $$@ $$^

build/$(1)/tests/%: tests/%.c $$(TEST_SUPPORT) $$(TEST_HEADERS) build/$(1)/libhmmwb.a
	@mkdir -p $$(@D)
	$$(CC) $$(CSTD) $$(WARN) $(2) -pthread $$(CHECK_CFLAGS) -Icode/include -Itests \
	    $$< $$(TEST_SUPPORT) build/$(1)/libhmmwb.a $$(CHECK_LIBS) -o $$@
endef

ASAN_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
TSAN_FLAGS := -g -O1 -fsanitize=thread
COV_FLAGS := -g -O0 --coverage
$(eval $(call instrumented_build,asan,$(ASAN_FLAGS)))
$(eval $(call instrumented_build,tsan,$(TSAN_FLAGS)))
$(eval $(call instrumented_build,coverage,$(COV_FLAGS)))

## check-asan: every test under AddressSanitizer and UBSan
check-asan: tools build/code.stamp
	@$(MAKE) -s -j$(JOBS) $(patsubst tests/%.c,build/asan/tests/%,$(ALL_TESTS))
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    tools/run-tests.sh "asan+ubsan" $(patsubst tests/%.c,build/asan/tests/%,$(ALL_TESTS))

## check-tsan: every test under ThreadSanitizer
check-tsan: tools build/code.stamp
	@$(MAKE) -s -j$(JOBS) $(patsubst tests/%.c,build/tsan/tests/%,$(ALL_TESTS))
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 SIM_RUN_WRAPPER="setarch -R" \
	    tools/run-tests.sh "tsan" $(patsubst tests/%.c,build/tsan/tests/%,$(ALL_TESTS))

## check-valgrind: every test under Valgrind memcheck (slow)
check-valgrind: lib
	@$(MAKE) -s -j$(JOBS) $(patsubst tests/%.c,build/valgrind/tests/%,$(ALL_TESTS))
	@SIM_RUN_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --trace-children=yes" \
	    CK_TIMEOUT_MULTIPLIER=20 tools/run-tests.sh "valgrind" $(patsubst tests/%.c,build/valgrind/tests/%,$(ALL_TESTS))
$(eval $(call instrumented_build,valgrind,-g -O1))

## coverage: line and branch coverage of the chapters' code, annotated on the .nw files
coverage: tools build/code.stamp
	@rm -rf build/coverage/obj/*.gcda build/coverage/html
	@$(MAKE) -s -j$(JOBS) $(patsubst tests/%.c,build/coverage/tests/%,$(ALL_TESTS))
	@tools/run-tests.sh "coverage" $(patsubst tests/%.c,build/coverage/tests/%,$(ALL_TESTS)) >/dev/null \
	    || echo "coverage: some tests failed; the report covers the tests that passed"
	@lcov -q -c -d build/coverage/obj -o build/coverage/all.info --rc lcov_branch_coverage=1 2>/dev/null
	@lcov -q -e build/coverage/all.info '*/chapters/*' -o build/coverage/chapters.info --rc lcov_branch_coverage=1 2>/dev/null
	@genhtml -q --branch-coverage build/coverage/chapters.info -o build/coverage 2>/dev/null
	@lcov --summary build/coverage/chapters.info --rc lcov_branch_coverage=1 2>&1 | grep -E 'lines|functions|branches'
	@echo "coverage: report in build/coverage/index.html"

# ---------------------------------------------------------------------------
# Exercises and grading.

## grade SUBMISSION=DIR: grade DIR/chNN-slug/NAME/ files (default: the starters)
grade: libs
	@$(PYTHON) tools/grade.py $(if $(SUBMISSION),--submission $(SUBMISSION),--starters)

## grade-solutions: grade every reference solution; fails below 100 %
grade-solutions: libs
	@$(PYTHON) tools/grade.py --solutions --expect full --out build/grade-solutions

## check-starters: grade every starter; fails if one scores 100 % (its tests cannot fail)
check-starters: libs
	@GRADE_TIMEOUT_MULTIPLIER=0.3 $(PYTHON) tools/grade.py --starters --expect partial --out build/grade-starters >/dev/null
	@echo "check-starters: every starter scores below full marks"

## check-grader: grade the hostile submissions in tests/grading/ and check the verdicts
check-grader: libs
	@$(PYTHON) tools/test_grader.py

## handout: build/handout.tar.gz for students (everything but the solutions)
handout: build/code.stamp
	@mkdir -p build
	@git ls-files -co --exclude-standard | grep -v '^exercises/.*/solution/' | grep -v '^tests/grading/' \
	    | tar -czf build/handout.tar.gz --transform 's,^,hmm-workbook/,' -T -
	@echo "handout: build/handout.tar.gz ($$(tar -tzf build/handout.tar.gz | wc -l) files, no solutions)"

# ---------------------------------------------------------------------------
# Figures drawn from the simulator's own runs.  A scenario test writes its trace into
# build/figures when SIM_TRACE_DIR is set; tools/ladder.py draws each trace.
FIGURE_CHAPTER := 04
FIGURE_TEST := build/ch$(FIGURE_CHAPTER)/tests/ch04_seed_race
FIGURE_TRACES := build/figures/seed001-valid.txt build/figures/seed001-seq.txt
FIGURE_SVGS := $(FIGURE_TRACES:.txt=.svg)

## figures: run the race scenarios and draw their ladder diagrams into build/figures
figures: tools
	@$(MAKE) -s prefix-lib CHAPTER=$(FIGURE_CHAPTER)
	@$(MAKE) -s $(FIGURE_TEST) CHAPTER=$(FIGURE_CHAPTER)
	@$(MAKE) -s $(FIGURE_SVGS)

$(FIGURE_TRACES) &: $(FIGURE_TEST)
	@mkdir -p build/figures
	@SIM_TRACE_DIR=build/figures CK_FORK=yes CK_VERBOSITY=silent $(FIGURE_TEST)

build/figures/%.svg: build/figures/%.txt tools/ladder.py
	$(PYTHON) tools/ladder.py $< -o $@

BOOK_FIGURE_DEPS := figures

## check-tools: the self-tests of the build's own tools (diagram drawer, link checker)
check-tools:
	@$(PYTHON) tools/ladder.py --self-test | tail -n 1
	@$(PYTHON) tools/check_book.py --self-test | tail -n 1

## check-model: model-check the interval-notifier protocol with SPIN (and its broken variants)
check-model:
	@command -v spin >/dev/null || tools/install-packages.sh spin
	@tools/check_model.sh

# ---------------------------------------------------------------------------
## clean: remove build/
clean:
	rm -rf build

.PHONY: all help tools tangle check-sync lib libs prefix-tangle prefix-lib prefix-tests \
        check check-asan check-tsan check-valgrind coverage clean grade grade-solutions \
        check-starters check-grader handout figures check-model check-tools

-include book/book.mk
