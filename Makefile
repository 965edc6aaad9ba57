# picklefs - see README.md.
#   make            release build: build/pickletool, build/picklefs
#   make test       installs missing deps, builds under ASan+UBSan (and the
#                   fuzz harnesses, not run), runs all tests
#   make DEBUG=1    unoptimised build with debug info
#   make run        builds, makes the bundled examples and mounts them
#   make fuzz       runs each libFuzzer harness (tests/fuzz) for FUZZ_SECONDS
#   make bench      runs the benchmarks in scripts/ (slow)
#   make install    installs the two binaries into $(PREFIX)/bin

CC      ?= cc
PYTHON  ?= /usr/bin/python3
PREFIX  ?= /usr/local
BUILD   := build
FUZZ_SECONDS ?= 60

PKGS    := fuse3 zlib bzip2 liblzma libzstd libpng
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
               -Wno-unused-parameter -MMD -MP
ifeq ($(DEBUG),1)
  OPT := -O0 -g3
else
  OPT := -O2 -g
endif
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS   := $(shell pkg-config --libs fuse3 2>/dev/null)
Z_LIBS      := $(shell pkg-config --libs zlib 2>/dev/null || echo -lz) -lbz2 \
               $(shell pkg-config --libs liblzma libzstd 2>/dev/null || echo -llzma -lzstd)
PNG_CFLAGS  := $(shell pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS    := $(shell pkg-config --libs libpng 2>/dev/null || echo -lpng)
CRIT_CFLAGS := $(shell pkg-config --cflags criterion 2>/dev/null)
CRIT_LIBS   := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

# The layers (README, "How the code is organised"), lowest first. Each is
# compiled with the include paths of itself and the layers below it and
# no others, so a call upwards (the codec asking the mount, the
# presentation asking FUSE) does not compile.
CODEC_SRC := $(sort $(wildcard codec/*.c))
CONT_SRC  := $(sort $(wildcard fs/container/*.c))
VIEW_SRC  := $(sort $(wildcard fs/view/*.c))
CORE_SRC  := $(sort $(wildcard fs/core/*.c))
FUSE_SRC  := $(sort $(wildcard fs/fuse/*.c))
TOOL_SRC  := $(sort $(wildcard fs/tool/*.c))
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))

INC_codec := -Icodec
INC_cont  := $(INC_codec) -Ifs/container
INC_view  := $(INC_cont) -Ifs/view $(PNG_CFLAGS)
INC_core  := $(INC_view) -Ifs/core
INC_fuse  := $(INC_core) -Ifs/fuse $(FUSE_CFLAGS)
INC_tool  := $(INC_core)
INC_unit  := $(INC_core) $(CRIT_CFLAGS)
# include paths of a source file, by the folder it is in
inc_of = $(strip $(if $(filter codec/%,$1),$(INC_codec),\
	$(if $(filter fs/container/%,$1),$(INC_cont),\
	$(if $(filter fs/view/%,$1),$(INC_view),\
	$(if $(filter fs/core/%,$1),$(INC_core),\
	$(if $(filter fs/fuse/%,$1),$(INC_fuse),\
	$(if $(filter fs/tool/%,$1),$(INC_tool),\
	$(if $(filter tests/fuzz/%,$1),$(INC_view),$(INC_unit)))))))))

obj = $(patsubst %.c,$(1)/%.o,$(2))
# the layers as static archives: a program links what it uses of them
LAYERS = $(1)/libpfcore.a $(1)/libpfview.a $(1)/libpfcont.a $(1)/libpkcodec.a

REL := $(BUILD)/rel
ASAN := $(BUILD)/asan

all: $(BUILD)/pickletool $(BUILD)/picklefs

define layer_rules
$(1)/libpkcodec.a: $$(call obj,$(1),$$(CODEC_SRC))
	rm -f $$@ && ar rcs $$@ $$^
$(1)/libpfcont.a: $$(call obj,$(1),$$(CONT_SRC))
	rm -f $$@ && ar rcs $$@ $$^
$(1)/libpfview.a: $$(call obj,$(1),$$(VIEW_SRC))
	rm -f $$@ && ar rcs $$@ $$^
$(1)/libpfcore.a: $$(call obj,$(1),$$(CORE_SRC))
	rm -f $$@ && ar rcs $$@ $$^
endef
$(eval $(call layer_rules,$(REL)))
$(eval $(call layer_rules,$(ASAN)))

# ---- release ------------------------------------------------------------
$(REL)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(OPT) $(call inc_of,$<) $(CFLAGS) -c $< -o $@

# The release pickletool is linked statically: it is the front end for
# machines without FUSE (one file to copy into a container), and a scan
# is mostly process start, which static linking halves (README,
# Performance). STATIC_TOOL= links it like picklefs.
STATIC_TOOL ?= -static
$(BUILD)/pickletool: $(call obj,$(REL),$(TOOL_SRC)) $(call LAYERS,$(REL))
	$(CC) $(OPT) $(STATIC_TOOL) $^ -o $@ $(PNG_LIBS) $(Z_LIBS) -lpthread -lm $(LDFLAGS)

$(BUILD)/picklefs: $(call obj,$(REL),$(FUSE_SRC)) $(call LAYERS,$(REL))
	$(CC) $(OPT) $^ -o $@ $(FUSE_LIBS) $(PNG_LIBS) $(Z_LIBS) -lpthread -lm $(LDFLAGS)

# ---- sanitizer build (what make test runs) ------------------------------
$(ASAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 -g $(SAN) $(call inc_of,$<) $(CFLAGS) -c $< -o $@

$(ASAN)/pickletool: $(call obj,$(ASAN),$(TOOL_SRC)) $(call LAYERS,$(ASAN))
	$(CC) $(SAN) $^ -o $@ $(PNG_LIBS) $(Z_LIBS) -lpthread -lm

$(ASAN)/picklefs: $(call obj,$(ASAN),$(FUSE_SRC)) $(call LAYERS,$(ASAN))
	$(CC) $(SAN) $^ -o $@ $(FUSE_LIBS) $(PNG_LIBS) $(Z_LIBS) -lpthread -lm

# the unit tests link every object: Criterion finds tests by their
# registration, which an archive member nothing refers to would lose
$(ASAN)/test-unit: $(call obj,$(ASAN),$(CODEC_SRC) $(CONT_SRC) $(VIEW_SRC) $(CORE_SRC) $(UNIT_SRC))
	$(CC) $(SAN) $^ -o $@ $(CRIT_LIBS) $(PNG_LIBS) $(Z_LIBS) -lpthread -lm

# ---- tests --------------------------------------------------------------
deps:
	@bash scripts/install-deps.sh

# the fuzz harnesses are built (not run: make fuzz) so that they keep
# compiling against the layers they test
test: deps
	$(MAKE) $(ASAN)/pickletool $(ASAN)/picklefs $(ASAN)/test-unit $(BUILD)/pickletool $(BUILD)/picklefs fuzz-build
	PYTHON=$(PYTHON) BUILD=$(BUILD) bash tests/run-all.sh

unit: $(ASAN)/test-unit
	$(ASAN)/test-unit

# ---- fuzzing ------------------------------------------------------------
# One libFuzzer harness per tests/fuzz/fuzz_NAME.c, built into
# $(BUILD)/fuzz-NAME with clang under ASan+UBSan, linked against the
# codec, container and view layers as archives of their own (the same
# wildcards as the other builds: the harnesses use public headers only).
# make fuzz runs
# every harness for FUZZ_SECONDS, one after the other, each on its corpus
# $(BUILD)/fuzz-corpus/NAME, seeded from the fixtures by
# tests/fuzz/make-seeds.sh; crashes go to $(BUILD)/fuzz-artifacts/NAME/.
# make fuzz-build only builds them. FUZZ_ONLY="dis names" runs a subset;
# FUZZ_ARGS adds libFuzzer options.
FUZZ_CC ?= clang
FUZZOBJ := $(BUILD)/fuzzobj
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_ONLY ?= $(FUZZ_NAMES)
FUZZ_SAN := -g -O1 -fno-omit-frame-pointer \
            -fsanitize=address,undefined -fno-sanitize-recover=undefined
# fuzz_compress wraps read(2) to give the codec short reads
FUZZ_LDFLAGS_compress := -Wl,--wrap=read

$(FUZZOBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS_BASE) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(call inc_of,$<) $(CFLAGS) -c $< -o $@
$(eval $(call layer_rules,$(FUZZOBJ)))

$(BUILD)/fuzz-%: $(FUZZOBJ)/tests/fuzz/fuzz_%.o $(FUZZOBJ)/libpfview.a $(FUZZOBJ)/libpfcont.a $(FUZZOBJ)/libpkcodec.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ $(FUZZ_LDFLAGS_$*) $(PNG_LIBS) $(Z_LIBS) -lpthread -lm

# the harness objects are not intermediate files to delete after linking
.SECONDARY: $(patsubst %,$(FUZZOBJ)/tests/fuzz/fuzz_%.o,$(FUZZ_NAMES))

fuzz-build: $(addprefix $(BUILD)/fuzz-,$(FUZZ_NAMES))

fuzz: fuzz-build
	BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_ONLY) -- $(FUZZ_ARGS)

# ---- examples and benchmarks -------------------------------------------
# repr(float), the new digits against the former ones (scripts/bench-float.sh)
$(REL)/scripts/bench-float.o: CFLAGS += -Itests/unit
$(BUILD)/bench-float: $(REL)/scripts/bench-float.o $(REL)/tests/unit/float_ref.o $(REL)/libpkcodec.a
	$(CC) $(OPT) $^ -o $@ -lm

# deps first, then a fresh make: this Makefile asks pkg-config for
# libfuse3's flags when it is read, before deps could install it.
run: deps
	$(MAKE) all
	PYTHON=$(PYTHON) bash scripts/run-examples.sh

bench: all
	PYTHON=$(PYTHON) bash scripts/bench.sh
	PYTHON=$(PYTHON) bash scripts/bench-mount.sh
	PYTHON=$(PYTHON) bash scripts/bench-write.sh
	PYTHON=$(PYTHON) BUILD=$(BUILD) bash scripts/bench-archives.sh
	PYTHON=$(PYTHON) BUILD=$(BUILD) bash scripts/bench-scan.sh
	PYTHON=$(PYTHON) BUILD=$(BUILD) bash scripts/bench-float.sh
	PYTHON=$(PYTHON) BUILD=$(BUILD) bash scripts/bench-views.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/pickletool $(BUILD)/picklefs $(DESTDIR)$(PREFIX)/bin/

format:
	clang-format -i codec/*.[ch] fs/*/*.[ch] tests/unit/*.c tests/fuzz/*.c

clean:
	rm -rf $(BUILD)

.PHONY: all deps test unit fuzz fuzz-build run bench install format clean

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
