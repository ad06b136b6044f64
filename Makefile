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
AR := ar
# A compiler cache when the machine has one (`make tools` installs ccache): a rebuild
# after `make clean`, and a handout unpacked elsewhere whose tangled files are this
# tree's, compile nothing twice.  Every path on a compile's command line is relative to
# the tree (and ccache makes the compiler's own relative to CCACHE_BASEDIR), so one cache
# serves trees in different places, straight from its index, without preprocessing; the
# price is that an object found there names, in its debugging information, the directory
# of the tree that compiled it first.  Without ccache, `env` runs the compiler as is.
ifndef CCACHE
CCACHE := $(or $(shell command -v ccache 2>/dev/null),env)
endif
export CCACHE
export CCACHE_DIR ?= $(CURDIR)/build/ccache
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
# The tangled files' #line directives name the chapters, so ccache would take them for
# headers and look a handout's chapters (answers hidden) up as changed ones; the
# compiler never reads them.
export CCACHE_IGNOREHEADERS := chapters
# The compiler writes the list of headers it read (-MD, beside the object), and ccache
# takes it from there instead of running the preprocessor a second time (depend mode):
# a fifth of the cost of a compile not in the cache.
export CCACHE_DEPEND := 1
COMPILE = $(CCACHE) $(CC) -MD
# The build's own programs need nothing beyond the standard library: it runs the system's
# interpreter (Debian's, which `make tools` installs), not whichever python3 comes first
# in PATH, where a version manager's shim can cost a tenth of a second a start.
PYTHON ?= $(or $(wildcard /usr/bin/python3),python3)
export PYTHON
CSTD := -std=gnu11
WARN := -Wall -Wextra -Werror
CFLAGS ?= -g -O1
# The chapters' test programs are compiled unoptimized: they spend their time in the
# library, and optimizing them was half of the build.  The sanitizer builds compile them
# with -O1, and so with the warnings that need the optimizer.
TEST_CFLAGS ?= -g -O0
# Evaluated once per make process, on first use (after `make tools` has run), and
# handed down to sub-makes through the environment so they do not ask again.
ifndef JOBS
JOBS := $(shell nproc 2>/dev/null || echo 2)
endif
export JOBS
# Test programs are linked with gold where the toolchain has it (Debian's binutils does):
# it links them in half the time of the default linker, and a check links hundreds.
ifndef LINK_FLAGS
LINK_FLAGS := $(shell $(CC) -fuse-ld=gold -Wl,--version 2>/dev/null | grep -q '^GNU gold' \
                && echo -fuse-ld=gold)
endif
export LINK_FLAGS
CHECK_LIBS ?= $(eval CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck))$(CHECK_LIBS)
CHECK_CFLAGS ?= $(eval CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null))$(CHECK_CFLAGS)
SUBMAKE = $(MAKE) -s CHECK_LIBS="$(CHECK_LIBS)" CHECK_CFLAGS="$(CHECK_CFLAGS)"
# A sub-make runs JOBS jobs, or, inside a make that already runs jobs in parallel, shares
# that make's job slots (a -j of its own would make GNU make warn and start a second pool).
# Lines that start one are marked '+': make finds $(MAKE) only when a line names it, not
# through $(SUBMAKE), and hands the job slots only to lines it knows are sub-makes.
PAR = $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(JOBS))

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
tests_of = $(sort $(wildcard tests/ch$(1)_*.c))
TEST_SUPPORT := tests/test_main.c tests/testlib.c
TEST_HEADERS := $(wildcard tests/*.h)

# ---------------------------------------------------------------------------
## all: install missing tools, tangle, build every chapter's library, render the book
all: tools tangle
	+@$(SUBMAKE) $(PAR) libs-quiet
	+@$(SUBMAKE) $(PAR) book
	@echo "Done.  Read the book: open build/book/index.html in a browser."

## help: list every target
help:
	@grep -hE '^## ' $(MAKEFILE_LIST) | sed 's/^## /  make /' | sed 's/: /\t/' | expand -t 28

# ---------------------------------------------------------------------------
# Tools.  Detected by command, so a machine that lost one is repaired.
TOOL_PACKAGES := noweb pandoc check pkg-config lcov python3 graphviz spin bubblewrap gnuplot-nox \
                 patch ccache
TOOL_COMMANDS := notangle noroots pandoc checkmk pkg-config lcov genhtml $(PYTHON) dot spin bwrap \
                 gnuplot patch ccache

## tools: install the Debian packages the build needs (noweb without its TeX recommends)
tools:
	@missing=""; for c in $(TOOL_COMMANDS); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	pkg-config --exists check 2>/dev/null || missing="$$missing libcheck"; \
	if [ -n "$$missing" ]; then \
	    echo "tools: installing what is missing:$$missing"; \
	    tools/install-packages.sh $(TOOL_PACKAGES) >build-tools.log 2>&1 \
	        || { tail -n 20 build-tools.log; echo "tools: install failed (log: build-tools.log)"; exit 1; }; \
	    rm -f build-tools.log; \
	fi

# ---------------------------------------------------------------------------
# Tangling: code/ from every chapter, build/chNN/code from chapters 00..NN alone.
# tools/tangle.py parses the chapters once, rewrites only files whose content
# changed, and refuses to overwrite a file in code/ that was edited by hand.

## tangle: rewrite code/ from the chapters (only files whose content changed)
tangle: build/code.stamp

# In a student's handout (it has reference/), the files the exercises replace are not
# tangled: its chapters show their chunks as placeholders, and the libraries take the
# compiled reference objects instead (tools/handout.py).
# (An extension exercise's file is the book's own code, its starter: it stays.)
FILL_IN_FILES = $(shell grep -L '^kind *= *extension' exercises/ch*/*/exercise.conf \
                  | xargs -r sed -n 's/^replaces *= *//p')
ANSWER_FILES := $(if $(wildcard reference),$(FILL_IN_FILES))
TANGLE := $(PYTHON) tools/tangle.py $(foreach f,$(ANSWER_FILES),--exclude $(f))
TANGLE_DEPS := $(CHAPTERS) tools/tangle.py tools/solutions.sh \
               $(wildcard exercises/ch*/*/exercise.conf exercises/ch*/*/solution/*.patch \
                          exercises/ch*/*/starter/*)
# code/ files are inputs too: a file edited by hand is caught by the tangler.
build/code.stamp: $(TANGLE_DEPS) $(wildcard code/src/*.c code/include/*.h)
	@mkdir -p build
	@$(TANGLE) code $(CHAPTERS)
	@$(TANGLE) --prefixes build $(CHAPTERS)
	@tools/solutions.sh write build
	@touch $@
	@echo "tangle: code/ and the prefixes $(firstword $(CODE_NUMS))..$(LAST) in build/chNN/code are up to date"

## check-sync: fail if code/ differs from a fresh tangle, or a chunk is never used
# It compares before tangling anything, so a stale code/ cannot be repaired unseen.
check-sync:
	@$(TANGLE) --check code $(CHAPTERS) \
	    || { echo "check-sync: code/ is out of date: run 'make tangle' and commit code/" \
	              "(a file edited by hand stops the tangle: move the edit into its chapter first)"; \
	         exit 1; }
	@$(TANGLE) --prefixes build $(CHAPTERS)
	@tools/solutions.sh check build
	@# Passing, it has left what the tangle would: code/, the prefixes and the solutions
	@# as the chapters make them.  The stamp says so, and the build does not redo it.
	@touch build/code.stamp
	@echo "check-sync: $(if $(wildcard exercises/*/*/solution),code/ and the exercises' solutions match,code/ matches) the chapters"

# ---------------------------------------------------------------------------
# Libraries.  build/lib from code/; build/chNN from chapters 00..NN alone.
# The prefix rules are generated for every chapter and run in one make process
# (after the tangle, so the wildcards below see the trees).

LIB_SRCS = $(wildcard code/src/*.c)
# In a handout, the whole book's reference objects for the files it does not tangle.
LIB_REFS = $(wildcard reference/ch$(LAST)/*.o)
# Sorted, so that a handout's library, whose reference objects come from elsewhere,
# holds its members in the same order, and its programs are the same code as this tree's.
LIB_OBJS = $(sort $(patsubst code/src/%.c,build/lib/obj/%.o,$(LIB_SRCS)) \
                  $(patsubst reference/ch$(LAST)/%.o,build/lib/obj/%.o,$(LIB_REFS)))

build/lib/obj/%.o: reference/ch$(LAST)/%.o
	@mkdir -p $(@D)
	@cp $< $@
LIB_HDRS = $(wildcard code/include/*.h)

build/lib/obj/%.o: code/src/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(COMPILE) $(CSTD) $(WARN) $(CFLAGS) -pthread -Icode/include -c $< -o $@

build/lib/libhmmwb.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

## lib: build/lib/libhmmwb.a, the whole library (headers in code/include)
lib: build/code.stamp
	+@$(SUBMAKE) $(PAR) build/lib/libhmmwb.a

# Each prefix runs the suites of its own chapter; the last prefix, which is the
# whole book, runs every suite.  `make check CHAPTER=NN` runs ch01..chNN on NN.
own_tests = $(if $(filter $(1),$(LAST)),$(call tests_upto,$(1)),$(call tests_of,$(1)))
pfx_bins = $(patsubst tests/%.c,build/ch$(1)/tests/%,$(2))

define prefix_rules
PFX_SRCS_$(1) := $$(wildcard build/ch$(1)/code/src/*.c)
PFX_HDRS_$(1) := $$(wildcard build/ch$(1)/code/include/*.h)
PFX_REF_$(1) := $$(patsubst reference/ch$(1)/%.o,build/ch$(1)/obj/%.o,$$(wildcard reference/ch$(1)/*.o))
PFX_OBJS_$(1) := $$(sort $$(patsubst build/ch$(1)/code/src/%.c,build/ch$(1)/obj/%.o,$$(PFX_SRCS_$(1))) \
                        $$(PFX_REF_$(1)))

build/ch$(1)/obj/%.o: reference/ch$(1)/%.o
	@mkdir -p $$(@D)
	@cp $$< $$@
PFX_SUPPORT_$(1) := $$(patsubst tests/%.c,build/ch$(1)/tobj/test-%.o,$$(TEST_SUPPORT))

build/ch$(1)/obj/%.o: build/ch$(1)/code/src/%.c $$(PFX_HDRS_$(1))
	@mkdir -p $$(@D)
	$$(COMPILE) $$(CSTD) $$(WARN) $$(CFLAGS) -pthread -Ibuild/ch$(1)/code/include -c $$< -o $$@

build/ch$(1)/libhmmwb.a: $$(PFX_OBJS_$(1))
	@rm -f $$@
	$$(AR) rcs $$@ $$^

build/ch$(1)/tobj/test-%.o: tests/%.c $$(TEST_HEADERS) $$(PFX_HDRS_$(1))
	@mkdir -p $$(@D)
	$$(COMPILE) $$(CSTD) $$(WARN) $$(TEST_CFLAGS) -pthread $$(CHECK_CFLAGS) -Ibuild/ch$(1)/code/include -Itests -c $$< -o $$@

build/ch$(1)/tests/%: build/ch$(1)/tobj/test-%.o $$(PFX_SUPPORT_$(1)) build/ch$(1)/libhmmwb.a
	@mkdir -p $$(@D)
	$$(CC) $$(TEST_CFLAGS) $$(LINK_FLAGS) -pthread $$< $$(PFX_SUPPORT_$(1)) build/ch$(1)/libhmmwb.a \
	    $$(CHECK_LIBS) -o $$@
endef
$(foreach n,$(CODE_NUMS),$(eval $(call prefix_rules,$(n))))

PREFIX_LIBS := $(foreach n,$(CODE_NUMS),build/ch$(n)/libhmmwb.a)
PREFIX_BINS := $(foreach n,$(CODE_NUMS),$(call pfx_bins,$(n),$(call own_tests,$(n))))

# Targets for the sub-make that runs after the tangle.
prefix-libs-built: $(PREFIX_LIBS)
prefix-bins-built: $(PREFIX_LIBS) $(PREFIX_BINS)
libs-quiet: build/lib/libhmmwb.a $(PREFIX_LIBS)
	@echo "build: build/lib/libhmmwb.a and the chapter libraries build/ch{$(firstword $(CODE_NUMS))..$(LAST)}/libhmmwb.a"

## libs: the whole library and build/chNN/libhmmwb.a for every chapter prefix
libs: build/code.stamp
	+@$(SUBMAKE) $(PAR) libs-quiet

prefix-libs: build/code.stamp
	+@$(SUBMAKE) $(PAR) prefix-libs-built

prefix-bins: build/code.stamp
	+@$(SUBMAKE) $(PAR) prefix-bins-built

# One prefix's tests, e.g. `make test-prefix-03`: its own suites (all of them for the last).
test-prefix-%: prefix-bins
	@tools/run-tests.sh "chapter $* prefix" $(call pfx_bins,$*,$(call own_tests,$*))

# ---------------------------------------------------------------------------
## check: the test command: every stage below, one verdict line each, then "N passed, M failed"
## check CHAPTER=NN: tangle chapters 00..NN alone, build them, run tests ch01..chNN
#
# Stages of `make check`, in order (tools/stage.sh runs each, logs in build/check/logs):
#   sync       code/ and the solutions match a fresh tangle of the chapters
#   libs       every chapter prefix's library compiles (-Werror)
#   build      every chapter prefix's test programs compile
#   chNN       prefix NN's own suites; the last prefix runs every chapter's suites
#   book       the rendered book: every link, anchor and image resolves, no noweb leaks
#   tools      the self-tests of the ladder-diagram drawer, the link checker and stage.sh
#   model      the SPIN model of the interval-notifier protocol
#   starters   every starter fails at least one test (its tests can fail)
#   solutions  every reference solution scores full marks
#   grader     the hostile submissions get exactly the expected verdicts
#   autograder the Gradescope zip unpacks, sets up and grades four submissions exactly
#   handout    the students' handout holds no answer line, and checks and grades unpacked
#   exercises  (student's handout only) every exercise in MYWORK scores full marks
# The stages from tools on depend only on their inputs; when those are unchanged since a
# passing run, the recorded verdict is reused (and says so).  A chapter's suites run in
# every `make check`, but once only: the handout's unpack, checked inside it, runs the
# same programs (tools/stage.sh --programs).
# A student's handout has no solutions and no grader test submissions: the stages that
# need them, and the starters' (a property of the tests, not of a student's work), are
# staff-only and left out there.
STAFF_STAGES := $(if $(wildcard exercises/*/*/solution),starters solutions) \
                $(if $(wildcard tests/grading),grader autograder handout)
# In a student's handout, the last stage is the student's own work (MYWORK): every
# exercise not yet solved fails it, named with its first failing test.
STUDENT_STAGES := $(if $(wildcard reference),exercises)
# The model checker and the tools' self-tests need nothing built: they start at once,
# beside sync.  After sync and libs: the stages that need only the libraries start beside
# the build of the test programs; the chapters' suites and the book (whose figures run
# some of them) start once that build is done.
FREE_STAGES := tools model
EARLY_STAGES := $(STAFF_STAGES) $(STUDENT_STAGES)
LATE_STAGES := $(foreach n,$(CODE_NUMS),ch$(n)) book
GRADER_INPUTS = tools/grade.py tools/policy.py tools/sandbox.py \
                $(wildcard exercises/ch*/*/*/* exercises/ch*/*/*.conf) \
                $(TEST_SUPPORT) $(TEST_HEADERS) $(PREFIX_LIBS)
ifdef CHAPTER
ifeq ($(filter $(CHAPTER),$(CODE_NUMS)),)
$(error CHAPTER=$(CHAPTER): no such chapter with code; choose one of: $(CODE_NUMS))
endif
check: tools build/code.stamp
	+@$(SUBMAKE) $(PAR) $(call pfx_bins,$(CHAPTER),$(call tests_upto,$(CHAPTER)))
	@tools/run-tests.sh "chapter $(CHAPTER) prefix, suites 01..$(CHAPTER)" \
	    $(call pfx_bins,$(CHAPTER),$(call tests_upto,$(CHAPTER)))
else
check: tools
	@# tools/check_run.sh runs them in order, side by side where it can.
	@SUBMAKE='$(SUBMAKE)' tools/check_run.sh "$(FREE_STAGES)" "$(EARLY_STAGES)" "$(LATE_STAGES)"
	@tools/verdict.sh build/check/run
endif

check-stage-sync:
	@tools/stage.sh sync -- $(MAKE) -s check-sync
check-stage-libs:
	@tools/stage.sh libs -- bash -c '$(SUBMAKE) prefix-libs && echo "libs: $(words $(CODE_NUMS)) chapter libraries"'
check-stage-build:
	@tools/stage.sh build -- bash -c '$(SUBMAKE) prefix-bins && echo "build: $(words $(PREFIX_BINS)) test programs"'
check-stage-ch%:
	@tools/stage.sh ch$* --inputs tools/run-tests.sh \
	    --programs "$(call pfx_bins,$*,$(call own_tests,$*))" -- $(SUBMAKE) test-prefix-$*
check-stage-book:
	@tools/stage.sh book -- $(SUBMAKE) -j$(JOBS) check-book
check-stage-tools:
	@tools/stage.sh tools --inputs "tools/ladder.py tools/check_book.py tools/stage.sh \
	    tools/test_stage.sh" -- $(SUBMAKE) check-tools
check-stage-model:
	@tools/stage.sh model --inputs "tests/model/interval_notifier.pml tools/check_model.sh" -- \
	    $(SUBMAKE) check-model
# staff-only begin
check-stage-solutions: prefix-libs
	@tools/stage.sh solutions --inputs "$(GRADER_INPUTS)" -- $(SUBMAKE) grade-solutions
check-stage-starters: prefix-libs
	@tools/stage.sh starters --inputs "$(GRADER_INPUTS)" -- $(SUBMAKE) check-starters
# staff-only end
check-stage-exercises: prefix-libs
	@tools/stage.sh exercises -- $(SUBMAKE) check-exercises
# staff-only begin
check-stage-autograder:
	@tools/stage.sh autograder --inputs "$(GRADER_INPUTS) tools/autograder.py \
	    tools/test_autograder.py Makefile $(wildcard tests/grading/attacks/libc-override/*/*/*) \
	    $(CHAPTERS) tools/tangle.py" -- $(SUBMAKE) check-autograder
check-stage-handout: prefix-libs
	@tools/stage.sh handout --inputs "$(shell git ls-files 2>/dev/null) tools/handout.py \
	    tools/check_handout.py $(PREFIX_LIBS)" -- \
	    $(SUBMAKE) check-handout
check-stage-grader: prefix-libs
	@tools/stage.sh grader --inputs "$(GRADER_INPUTS) tools/test_grader.py \
	    $(shell find tests/grading -type f -o -type l)" -- $(SUBMAKE) check-grader
# staff-only end

# ---------------------------------------------------------------------------
# Sanitizer and coverage builds of the whole library and every test.
ALL_TESTS := $(sort $(wildcard tests/ch[0-9][0-9]_*.c))

# In a handout, the reference objects go in as they are, uninstrumented: the sanitizers
# then check the book's code around them (and intercept their calls into libc).
# ThreadSanitizer cannot see the atomics of uninstrumented code, and would report races
# they order: its build takes reference/tsan/, compiled with its flags.
define instrumented_build
build/$(1)/obj/%.o: code/src/%.c $$(LIB_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(CSTD) $$(WARN) $(2) -pthread -Icode/include -c $$< -o $$@

build/$(1)/libhmmwb.a: $$(patsubst code/src/%.c,build/$(1)/obj/%.o,$$(LIB_SRCS)) $(3)
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
$(eval $(call instrumented_build,asan,$(ASAN_FLAGS),$$(LIB_REFS)))
$(eval $(call instrumented_build,tsan,$(TSAN_FLAGS),$$(wildcard reference/tsan/*.o)))
$(eval $(call instrumented_build,coverage,$(COV_FLAGS),$$(LIB_REFS)))

## check-asan: every test under AddressSanitizer and UBSan
check-asan: tools build/code.stamp
	+@$(MAKE) -s $(PAR) $(patsubst tests/%.c,build/asan/tests/%,$(ALL_TESTS))
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    tools/run-tests.sh "asan+ubsan" $(patsubst tests/%.c,build/asan/tests/%,$(ALL_TESTS))

## check-tsan: every test under ThreadSanitizer
check-tsan: tools build/code.stamp
	+@$(MAKE) -s $(PAR) $(patsubst tests/%.c,build/tsan/tests/%,$(ALL_TESTS))
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 SIM_RUN_WRAPPER="setarch -R" \
	    tools/run-tests.sh "tsan" $(patsubst tests/%.c,build/tsan/tests/%,$(ALL_TESTS))

## check-valgrind: every test under Valgrind memcheck (slow)
check-valgrind: lib
	+@$(MAKE) -s $(PAR) $(patsubst tests/%.c,build/valgrind/tests/%,$(ALL_TESTS))
	@SIM_RUN_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --trace-children=yes" \
	    CK_TIMEOUT_MULTIPLIER=20 tools/run-tests.sh "valgrind" $(patsubst tests/%.c,build/valgrind/tests/%,$(ALL_TESTS))
$(eval $(call instrumented_build,valgrind,-g -O1,$$(LIB_REFS)))

## coverage: line and branch coverage of the chapters' code, annotated on the .nw files
coverage: tools build/code.stamp
	@rm -rf build/coverage/obj/*.gcda build/coverage/html
	+@$(MAKE) -s $(PAR) $(patsubst tests/%.c,build/coverage/tests/%,$(ALL_TESTS))
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
grade: prefix-libs
	@$(PYTHON) tools/grade.py $(if $(SUBMISSION),--submission $(SUBMISSION),--starters)

# The chapter libraries a grader needs, and only those: `make grade-libs PREFIXES="01 04"`.
grade-libs: build/code.stamp
	+@$(SUBMAKE) $(PAR) $(foreach n,$(or $(PREFIXES),$(CODE_NUMS)),build/ch$(n)/libhmmwb.a)

# staff-only begin
## autograder [ASSIGNMENT="chNN-slug/NAME ..."]: build/autograder.zip for Gradescope (default: every exercise)
autograder:
	@$(PYTHON) tools/autograder.py build $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

## check-autograder: unpack the autograder in a scratch root and grade four submissions with it
check-autograder:
	@$(PYTHON) tools/test_autograder.py

## grade-all SUBMISSIONS=DIR: grade one folder per student (DIR/STUDENT/chNN-slug/NAME/...)
grade-all: prefix-libs
	@test -n "$(SUBMISSIONS)" || { echo "grade-all: say which folder: make grade-all SUBMISSIONS=DIR"; exit 2; }
	@$(PYTHON) tools/grade.py --batch $(SUBMISSIONS) --out build/grade-all

## grade-solutions: grade every reference solution; fails below 100 %
grade-solutions: prefix-libs
	@$(PYTHON) tools/grade.py --solutions --expect full --out build/grade-solutions
# staff-only end

MYWORK ?= mywork
## check-exercises [MYWORK=DIR]: grade your own work (default mywork/), naming every unsolved exercise
check-exercises: prefix-libs
	@$(PYTHON) tools/grade.py --submission $(MYWORK) --expect solved --out build/grade-mywork

## check-starters: grade every starter; fails if one scores 100 % (its tests cannot fail)
check-starters: prefix-libs
	@# A starter fails at least one test, so a test that times out proves it as well as
	@# any: a small budget, so that the starters that loop cost little.
	@GRADE_TIMEOUT_MULTIPLIER=0.2 $(PYTHON) tools/grade.py --starters --expect partial --out build/grade-starters \
	    | tail -n 1

# staff-only begin
## check-grader: grade the hostile submissions in tests/grading/ and check the verdicts
check-grader: prefix-libs
	@$(PYTHON) tools/test_grader.py

## handout: build/handout.tar.gz for students: committed files only, no solutions, no staff targets
handout: prefix-libs
	+@$(SUBMAKE) $(PAR) $(patsubst src/%.c,build/tsan/obj/%.o,$(FILL_IN_FILES))
	@$(PYTHON) tools/handout.py build/handout.tar.gz

## check-handout: make the handout, prove no answer line is in it, and build, check and grade a fresh unpack
check-handout: handout
	@$(PYTHON) tools/check_handout.py --build build/handout.tar.gz
# staff-only end

# ---------------------------------------------------------------------------
# Figures.  Ladder diagrams are drawn from the traces that scenario tests write into
# build/figures when SIM_TRACE_DIR is set (tools/ladder.py); state diagrams are drawn
# by Graphviz from figures/*.dot.  Each scenario test runs in the prefix of its chapter.
LADDER_FIGURES_04 := build/figures/seed001-valid.txt build/figures/seed001-seq.txt
LADDER_FIGURES_08 := build/figures/seed002-before.txt build/figures/seed002-owner.txt
LADDER_FIGURES_09 := build/figures/seed004-check-pass.txt build/figures/seed004-owner.txt
DOT_FIGURES := $(patsubst figures/%.dot,build/figures/%.svg,$(wildcard figures/*.dot))
FIGURE_SVGS := $(foreach n,04 08 09,$(LADDER_FIGURES_$(n):.txt=.svg)) $(DOT_FIGURES) \
               build/figures/bench-ratios.svg

## figures: run the race scenarios and draw their ladder diagrams, and the state diagrams
figures: tools build/code.stamp
	+@$(SUBMAKE) $(PAR) $(FIGURE_SVGS)

define ladder_traces
$$(LADDER_FIGURES_$(1)) &: build/ch$(1)/tests/$(2)
	@mkdir -p build/figures
	@SIM_TRACE_DIR=build/figures CK_FORK=yes CK_VERBOSITY=silent build/ch$(1)/tests/$(2)
endef
$(eval $(call ladder_traces,04,ch04_seed_race))
$(eval $(call ladder_traces,08,ch08_seed_migrate))
$(eval $(call ladder_traces,09,ch09_seed_exclusive))

build/figures/%.svg: build/figures/%.txt tools/ladder.py
	@$(PYTHON) tools/ladder.py $< -o $@

build/figures/%.svg: figures/%.dot
	@mkdir -p $(@D)
	@dot -Tsvg $< -o $@

BOOK_FIGURE_DEPS := figures

## check-tools: the self-tests of the build's own tools (diagram drawer, link checker, stage verdicts)
TOOL_SELF_TESTS := "ladder drawer|$(PYTHON) tools/ladder.py --self-test" \
                   "link checker|$(PYTHON) tools/check_book.py --self-test" \
                   "stage verdicts|tools/test_stage.sh"
check-tools:
	@p=0; f=0; parts=""; \
	for t in $(TOOL_SELF_TESTS); do \
	    last=$$(eval "$${t#*|}" | tail -n 1); \
	    read -r tp tf < <(sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed$$/\1 \2/p' <<<"$$last"); \
	    [ -n "$$tp" ] || { tp=0; tf=1; }; \
	    p=$$((p + tp)); f=$$((f + tf)); parts="$$parts$${parts:+, }$${t%%|*} $$tp of $$((tp + tf))"; \
	done; \
	echo "check-tools: $$parts"; \
	echo "check-tools: $$p passed, $$f failed"; \
	[ "$$f" -eq 0 ]

## check-model: model-check the interval-notifier protocol with SPIN (and its broken variants)
check-model:
	@command -v spin >/dev/null || tools/install-packages.sh spin
	@tools/check_model.sh

# ---------------------------------------------------------------------------
# Benchmarks: programs in tests/bench, linked with the whole library.  Each prints a
# table whose ratios compare with a baseline measured in the same run, and writes its
# numbers under build/bench/.  Never part of `make check`: speed is not a test verdict.
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,build/bench/%,$(BENCH_SRCS))

# Each benchmark is compiled with the library's sources in one link-time-optimised build,
# so that calls across the library's files (kept apart for the exercises) are inlined as
# they would be in one file.
build/bench/%: tests/bench/%.c $(LIB_SRCS) $(LIB_HDRS) $(LIB_REFS)
	@mkdir -p $(@D)
	@$(CC) $(CSTD) $(WARN) -O2 -flto -g -pthread -Icode/include $< $(LIB_SRCS) $(LIB_REFS) -o $@

## bench: measure the simulation against same-run baselines; tables, data and a plot in build/bench/
bench: tools build/code.stamp
	+@$(SUBMAKE) $(PAR) $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $${b##*/}"; $$b build/bench/$${b##*/}.dat || exit 1; done
	@tools/bench_machine.sh >build/bench/machine.txt
	@gnuplot -e "hmm='build/bench/bench_hmm.dat'; mig='build/bench/bench_migrate.dat'; \
	    out='build/bench/ratios.svg'" tools/bench_plot.gp
	@echo "bench: data in build/bench/*.dat, plot in build/bench/ratios.svg;" \
	    "'make bench-record' puts this run in the book's Appendix A"

# The book shows one recorded run (book/measurements/, committed): its table and plot are
# drawn from those numbers whenever the book is built.
MEASURED := book/measurements
## bench-record: keep the last `make bench` run in book/measurements/ for the book's appendix
bench-record:
	@test -f build/bench/bench_hmm.dat -a -f build/bench/bench_migrate.dat \
	    -a -f build/bench/machine.txt || { echo "bench-record: run 'make bench' first"; exit 2; }
	@mkdir -p $(MEASURED)
	@cp build/bench/bench_hmm.dat build/bench/bench_migrate.dat build/bench/machine.txt $(MEASURED)/
	@echo "bench-record: $(MEASURED)/ holds the run; commit it with the chapters"

build/book-inc/measurements.md: $(wildcard $(MEASURED)/*) tools/bench_table.py
	@mkdir -p $(@D)
	@$(PYTHON) tools/bench_table.py $(MEASURED) >$@.tmp && mv $@.tmp $@

build/figures/bench-ratios.svg: $(wildcard $(MEASURED)/*.dat) tools/bench_plot.gp
	@mkdir -p $(@D)
	@gnuplot -e "hmm='$(MEASURED)/bench_hmm.dat'; mig='$(MEASURED)/bench_migrate.dat'; \
	    out='$@'" tools/bench_plot.gp

# ---------------------------------------------------------------------------
# Programs the chapters show running: each `examples/chNN_NAME.c` root is built
# against chapter NN's prefix alone, run, and its output included in the chapter
# (build/book-inc/chNN_NAME.md), so the book prints what the code really does.
EXAMPLES := $(notdir $(basename $(wildcard code/examples/ch[0-9][0-9]_*.c)))
example_ch = $(firstword $(subst _, ,$(1)))

define example_rules
build/$(call example_ch,$(1))/examples/$(1): build/$(call example_ch,$(1))/code/examples/$(1).c \
        build/$(call example_ch,$(1))/libhmmwb.a
	@mkdir -p $$(@D)
	$$(CC) $$(CSTD) $$(WARN) $$(CFLAGS) -pthread -Ibuild/$(call example_ch,$(1))/code/include $$< \
	    build/$(call example_ch,$(1))/libhmmwb.a -o $$@

# The book asks for the output from the top, maybe before anything is tangled: tangle
# first, then build the program in a sub-make, which sees the tangled trees.  The output
# is rewritten only when it changed, so that the pages are not rendered again for nothing.
build/book-inc/$(1).md: build/code.stamp tools/run_example.sh
	+@$$(SUBMAKE) build/$(call example_ch,$(1))/examples/$(1)
	@mkdir -p $$(@D)
	@tools/run_example.sh build/$(call example_ch,$(1))/examples/$(1) >$$@.tmp
	@if cmp -s $$@.tmp $$@; then rm $$@.tmp; else mv $$@.tmp $$@; fi
endef
$(foreach e,$(EXAMPLES),$(eval $(call example_rules,$(e))))

## examples: build and run the programs the chapters show, keeping their output for the book
examples: build/code.stamp
	+@$(SUBMAKE) $(PAR) $(foreach e,$(EXAMPLES),build/book-inc/$(e).md)
	@echo "examples: $(words $(EXAMPLES)) programs run; output in build/book-inc/"

BOOK_CHAPTERS := $(CHAPTERS) $(sort $(wildcard chapters/[A-Z]-*.nw))
BOOK_INCLUDES := build/book-inc/measurements.md $(foreach e,$(EXAMPLES),build/book-inc/$(e).md)

# ---------------------------------------------------------------------------
## clean: remove build/
clean:
	rm -rf build

.PHONY: all help tools tangle check-sync lib libs libs-quiet prefix-libs prefix-bins examples \
        prefix-libs-built prefix-bins-built \
        check check-asan check-tsan check-valgrind coverage clean grade grade-solutions \
        check-starters check-exercises check-grader handout check-handout figures check-model check-tools bench bench-record grade-all \
        grade-libs autograder check-autograder

-include book/book.mk
