# picklefs - see README.md.
#   make            release build: build/pickletool, build/picklefs
#   make test       installs missing deps, builds under ASan+UBSan, runs all tests
#   make DEBUG=1    unoptimised build with debug info
#   make run        builds, makes the bundled examples and mounts them
#   make fuzz       runs the libFuzzer decoder harness for FUZZ_SECONDS
#   make bench      runs the benchmarks in scripts/ (slow)
#   make install    installs the two binaries into $(PREFIX)/bin

CC      ?= cc
PYTHON  ?= /usr/bin/python3
PREFIX  ?= /usr/local
BUILD   := build
FUZZ_SECONDS ?= 60

PKGS    := fuse3 zlib bzip2
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
               -Wno-unused-parameter -MMD -MP -Icodec -Ifs
ifeq ($(DEBUG),1)
  OPT := -O0 -g3
else
  OPT := -O2 -g
endif
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS   := $(shell pkg-config --libs fuse3 2>/dev/null)
Z_LIBS      := $(shell pkg-config --libs zlib 2>/dev/null || echo -lz) -lbz2
CRIT_CFLAGS := $(shell pkg-config --cflags criterion 2>/dev/null)
CRIT_LIBS   := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

CODEC_SRC := $(sort $(wildcard codec/*.c))
# fs/ files that need libfuse: fuse_*.c and main.c; the rest is the
# FUSE-free presentation core that pickletool and the unit tests link.
FS_FUSE_SRC := $(sort $(wildcard fs/fuse_*.c)) fs/main.c
FS_CORE_SRC := $(filter-out $(FS_FUSE_SRC) fs/pickletool.c,$(sort $(wildcard fs/*.c)))
UNIT_SRC    := $(sort $(wildcard tests/unit/*.c))

obj = $(patsubst %.c,$(1)/%.o,$(2))

REL := $(BUILD)/rel
ASAN := $(BUILD)/asan

all: $(BUILD)/pickletool $(BUILD)/picklefs

# ---- release ------------------------------------------------------------
$(REL)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(OPT) $(FUSE_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/pickletool: $(call obj,$(REL),$(CODEC_SRC) $(FS_CORE_SRC) fs/pickletool.c)
	$(CC) $(OPT) $^ -o $@ $(Z_LIBS) -lpthread -lm $(LDFLAGS)

$(BUILD)/picklefs: $(call obj,$(REL),$(CODEC_SRC) $(FS_CORE_SRC) $(FS_FUSE_SRC))
	$(CC) $(OPT) $^ -o $@ $(FUSE_LIBS) $(Z_LIBS) -lpthread -lm $(LDFLAGS)

# ---- sanitizer build (what make test runs) ------------------------------
$(ASAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 -g $(SAN) $(FUSE_CFLAGS) $(CRIT_CFLAGS) $(CFLAGS) -c $< -o $@

$(ASAN)/pickletool: $(call obj,$(ASAN),$(CODEC_SRC) $(FS_CORE_SRC) fs/pickletool.c)
	$(CC) $(SAN) $^ -o $@ $(Z_LIBS) -lpthread -lm

$(ASAN)/picklefs: $(call obj,$(ASAN),$(CODEC_SRC) $(FS_CORE_SRC) $(FS_FUSE_SRC))
	$(CC) $(SAN) $^ -o $@ $(FUSE_LIBS) $(Z_LIBS) -lpthread -lm

$(ASAN)/test-unit: $(call obj,$(ASAN),$(CODEC_SRC) $(FS_CORE_SRC) $(UNIT_SRC))
	$(CC) $(SAN) $^ -o $@ $(CRIT_LIBS) $(Z_LIBS) -lpthread -lm

# ---- tests --------------------------------------------------------------
deps:
	@bash scripts/install-deps.sh

test: deps
	$(MAKE) $(ASAN)/pickletool $(ASAN)/picklefs $(ASAN)/test-unit $(BUILD)/pickletool $(BUILD)/picklefs
	PYTHON=$(PYTHON) BUILD=$(BUILD) bash tests/run-all.sh

unit: $(ASAN)/test-unit
	$(ASAN)/test-unit

# ---- fuzzing ------------------------------------------------------------
FUZZ_SRC := $(filter-out codec/compress.c,$(CODEC_SRC))
$(BUILD)/fuzz-decode: tests/fuzz/fuzz_decode.c $(FUZZ_SRC)
	@mkdir -p $(BUILD)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -Icodec -fsanitize=fuzzer,address,undefined $^ -o $@ -lpthread -lm

fuzz: $(BUILD)/fuzz-decode
	@mkdir -p $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz-decode -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -rss_limit_mb=2048 $(BUILD)/fuzz-corpus tests/fuzz/seeds

# ---- examples and benchmarks -------------------------------------------
# deps first, then a fresh make: this Makefile asks pkg-config for
# libfuse3's flags when it is read, before deps could install it.
run: deps
	$(MAKE) all
	PYTHON=$(PYTHON) bash scripts/run-examples.sh

bench: all
	PYTHON=$(PYTHON) bash scripts/bench.sh
	PYTHON=$(PYTHON) bash scripts/bench-mount.sh
	PYTHON=$(PYTHON) bash scripts/bench-write.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/pickletool $(BUILD)/picklefs $(DESTDIR)$(PREFIX)/bin/

format:
	clang-format -i codec/*.[ch] fs/*.[ch] tests/unit/*.c tests/fuzz/*.c

clean:
	rm -rf $(BUILD)

.PHONY: all deps test unit fuzz run bench install format clean

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
