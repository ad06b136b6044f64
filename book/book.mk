# book/book.mk -- renders the workbook: HTML pages and a PDF.
#
# Included by the top-level Makefile (`include book/book.mk`), or used on its
# own from the repository root:
#
#     make -f book/book.mk book check-book
#     make -f book/book.mk BOOK_OUT=/tmp/out CHAPTERS="a.nw b.nw" book
#
# Pipeline (one noidx pass over all chapters, so links cross chapters):
#     markup CHAPTERS | tools/nwdefs.py | finduses | noidx      -> $(BOOK_OUT)/tmp/book.nwp
#     tools/nw2pandoc.py --format html   -> $(BOOK_OUT)/md/*.md  -> pandoc -> $(BOOK_OUT)/*.html
#     tools/nw2pandoc.py --format latex  -> $(BOOK_OUT)/pdf/book.md -> pandoc/xelatex -> PDF
# Each stage runs as its own command with its output in a file, so a failing
# stage fails the build (the same effect as `set -o pipefail`).
#
# Figures: a chapter shows an image by its path from the chapter file, e.g.
#     ![Two CPUs race on one PTE](../figures/pte-race.svg)
# The part of the path after the last "figures/" is kept: the page refers to
# figures/pte-race.svg, and every image (svg, png, jpg, gif) found in
# $(BOOK_FIGURE_DIRS) is copied to $(BOOK_OUT)/figures/.  So figure file names
# must be unique across those directories; a generated figure in
# build/figures/x.svg may be written ../build/figures/x.svg or ../figures/x.svg.
# Figures that are generated should be listed in BOOK_FIGURE_DEPS so that they
# exist before the book is built.  In HTML an image alone in its paragraph is
# a numbered figure ("Figure 4.2"); in the PDF LaTeX numbers it.
#
# Variables (all may be overridden):
#   CHAPTERS          chapter sources, in order       (chapters/*.nw, sorted)
#   BOOK_CHAPTERS     what the book shows             (CHAPTERS; the top Makefile adds
#                     the appendices, chapters/A-*.nw, which hold no library code)
#   BOOK_INCLUDES     files the chapters include (`<!-- include: PATH -->`), made first
#   BOOK_OUT          output directory                 (build/book)
#   BOOK_FIGURE_DIRS  where figure images are found    (figures build/figures)
#   BOOK_FIGURE_DEPS  targets that generate figures    (none)
#   NOWEB_LIB PYTHON PANDOC

BOOK_SRC := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
BOOK_ROOT := $(patsubst %/,%,$(dir $(BOOK_SRC)))

NOWEB_LIB ?= /usr/lib/noweb
PYTHON ?= $(or $(wildcard /usr/bin/python3),python3)
PANDOC ?= pandoc
CHAPTERS ?= $(sort $(wildcard chapters/*.nw))
BOOK_CHAPTERS ?= $(CHAPTERS)
BOOK_INCLUDES ?=
BOOK_OUT ?= build/book
BOOK_TOOLS ?= $(BOOK_ROOT)/tools
BOOK_FIGURE_DIRS ?= figures build/figures
BOOK_FIGURE_DEPS ?=
BOOK_PDF ?= $(BOOK_OUT)/hmm-workbook.pdf
BOOK_PDF_PACKAGES ?= texlive-xetex texlive-latex-recommended texlive-latex-extra \
                     texlive-fonts-recommended lmodern fonts-dejavu librsvg2-bin

BOOK_EXERCISES := $(wildcard $(BOOK_ROOT)/exercises/ch*/*/README.md \
                    $(BOOK_ROOT)/exercises/ch*/*/exercise.conf \
                    $(BOOK_ROOT)/exercises/ch*/*/tests/points)
BOOK_STEMS := $(basename $(notdir $(BOOK_CHAPTERS)))
BOOK_PAGE_STEMS := index $(BOOK_STEMS) chunk-index identifier-index
BOOK_PAGES := $(addprefix $(BOOK_OUT)/,$(addsuffix .html,$(BOOK_PAGE_STEMS)))
BOOK_MD := $(addprefix $(BOOK_OUT)/md/,$(addsuffix .md,$(BOOK_PAGE_STEMS)))
BOOK_STREAM := $(BOOK_OUT)/tmp/book.nwp
BOOK_FIGURES := $(foreach d,$(BOOK_FIGURE_DIRS),\
                  $(wildcard $(d)/*.svg $(d)/*.png $(d)/*.jpg $(d)/*.jpeg $(d)/*.gif))
BOOK_PANDOC_HTML := $(PANDOC) --from=markdown --to=html5 --standalone \
                    --template=$(BOOK_SRC)/template.html \
                    --metadata-file=$(BOOK_SRC)/metadata.yaml \
                    --toc --toc-depth=3 --wrap=preserve

.PHONY: book pdf check-book book-figures book-pdf-tools

## book: render the HTML book into build/book (index.html, one page a chapter, indexes)
book: $(BOOK_PAGES) $(BOOK_OUT)/style.css book-figures

## check-book: build the book, then check every link, anchor and image, and that no noweb syntax shows
check-book: book
	@$(PYTHON) $(BOOK_TOOLS)/check_book.py $(BOOK_OUT)

## pdf: render the whole book as one PDF, build/book/hmm-workbook.pdf (installs xelatex if missing)
pdf: $(BOOK_PDF)

# The noweb stream of all chapters, with definitions, uses and cross-references.
$(BOOK_STREAM): $(BOOK_CHAPTERS) $(BOOK_TOOLS)/nwdefs.py
	@test -n "$(strip $(BOOK_CHAPTERS))" || { echo "book: no chapters (CHAPTERS is empty)" >&2; exit 1; }
	@mkdir -p $(@D)
	@echo "book: cross-referencing $(words $(BOOK_CHAPTERS)) chapters"
	@$(NOWEB_LIB)/markup $(BOOK_CHAPTERS) > $@.1
	@$(PYTHON) $(BOOK_TOOLS)/nwdefs.py < $@.1 > $@.2
	@$(NOWEB_LIB)/finduses < $@.2 > $@.3
	@$(NOWEB_LIB)/noidx < $@.3 > $@.4
	@rm -f $@.1 $@.2 $@.3
	@mv $@.4 $@

# nw2pandoc rewrites only the Markdown files whose text changed, so pandoc
# runs again only for those pages.
$(BOOK_OUT)/md/.stamp: $(BOOK_STREAM) $(BOOK_TOOLS)/nw2pandoc.py $(BOOK_EXERCISES) $(BOOK_INCLUDES)
	@mkdir -p $(@D)
	@$(PYTHON) $(BOOK_TOOLS)/nw2pandoc.py --format html --outdir $(@D) < $(BOOK_STREAM)
	@touch $@

$(BOOK_MD): $(BOOK_OUT)/md/.stamp
	@test -f $@ || { echo "book: $@ was not written" >&2; exit 1; }

$(BOOK_PAGES): $(BOOK_OUT)/%.html: $(BOOK_OUT)/md/%.md $(BOOK_SRC)/template.html \
                                    $(BOOK_SRC)/metadata.yaml
	@echo "book: $@"
	@$(BOOK_PANDOC_HTML) --output=$@ $<

$(BOOK_OUT)/style.css: $(BOOK_SRC)/style.css
	@mkdir -p $(@D)
	@cp $< $@

## book-figures: copy figure images into build/book/figures
book-figures: $(BOOK_FIGURE_DEPS)
	@mkdir -p $(BOOK_OUT)/figures
	@for d in $(BOOK_FIGURE_DIRS); do \
	  for f in $$d/*.svg $$d/*.png $$d/*.jpg $$d/*.jpeg $$d/*.gif; do \
	    if [ -f "$$f" ] && ! cmp -s "$$f" "$(BOOK_OUT)/figures/$${f##*/}"; then \
	      cp "$$f" "$(BOOK_OUT)/figures/" || exit 1; \
	    fi; \
	  done; \
	done

$(BOOK_OUT)/pdf/book.md: $(BOOK_STREAM) $(BOOK_TOOLS)/nw2pandoc.py $(BOOK_EXERCISES) $(BOOK_INCLUDES)
	@mkdir -p $(@D)
	@echo "pdf: $@"
	@$(PYTHON) $(BOOK_TOOLS)/nw2pandoc.py --format latex --outdir $(@D) --output $(@F) < $(BOOK_STREAM)
	@touch $@

$(BOOK_PDF): $(BOOK_OUT)/pdf/book.md $(BOOK_SRC)/metadata.yaml $(BOOK_SRC)/pdf.yaml \
             $(BOOK_FIGURES) | book-figures book-pdf-tools
	@echo "pdf: typesetting $@ with xelatex"
	@$(PANDOC) $< --from=markdown --pdf-engine=xelatex --top-level-division=chapter \
	  --metadata-file=$(BOOK_SRC)/metadata.yaml --metadata-file=$(BOOK_SRC)/pdf.yaml \
	  -V mainfont="DejaVu Serif" -V monofont="DejaVu Sans Mono" \
	  --resource-path=$(BOOK_OUT) --output=$@.tmp.pdf
	@mv $@.tmp.pdf $@

# Installs what the PDF needs when it is missing (as root, or with sudo).
book-pdf-tools:
	@if command -v xelatex >/dev/null 2>&1 && command -v rsvg-convert >/dev/null 2>&1 \
	    && kpsewhich fvextra.sty needspace.sty lmodern.sty pzdr.tfm >/dev/null 2>&1 \
	    && [ -n "$$(fc-list 'DejaVu Serif' 2>/dev/null)" ]; then :; \
	else \
	  inst="apt-get install -y --no-install-recommends $(BOOK_PDF_PACKAGES)"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; \
	  else echo "pdf: xelatex, its packages or fonts are missing; as root run:" >&2; \
	       echo "  apt-get update && $$inst" >&2; exit 1; fi; \
	  echo "pdf: installing $(BOOK_PDF_PACKAGES)"; \
	  DEBIAN_FRONTEND=noninteractive $$sudo $$inst \
	    || { DEBIAN_FRONTEND=noninteractive $$sudo apt-get update \
	         && DEBIAN_FRONTEND=noninteractive $$sudo $$inst; } || exit 1; \
	fi
