# emotop - terminal realtime monitor of facial emotions.
# Targets: all emotop emotop-train test asan valgrind bench fuzz install uninstall clean
# Knobs: PREFIX DESTDIR CC OPT V=1 SANITIZER SYSTEMDUNITDIR

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/emotop
# emotop@.service goes here (systemd reads /usr/lib/systemd/system and
# /usr/local/lib/systemd/system; `pkg-config --variable=systemdsystemunitdir
# systemd` names the distribution's own)
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
CC ?= cc
OPT ?= -O2
PKG_CONFIG ?= pkg-config
VERSION := 0.1.0

WARN = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wundef -Wwrite-strings
PKGS_CORE = yaml-0.1
PKGS_AV = libavformat libavcodec libswscale libavutil libavdevice
PKGS_UI = ncursesw
# the dashboard's preview pane (src/dashboard_chafa.c only; not libemotop.a)
PKGS_PREVIEW = chafa
PKGS_TRAIN = libjpeg

CPPFLAGS += -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DEMOTOP_VERSION=\"$(VERSION)\" -MMD -MP
# CFLAGS is the user's (make CFLAGS=... or the environment); the flags the
# build needs (warnings, C11, -pthread, -fopenmp for the trainer, the
# sanitizers) live in ALL_CFLAGS around it, so no CFLAGS can drop them.
CFLAGS ?= $(OPT) -g
ALL_CFLAGS = $(WARN) -pthread $(SAN_CFLAGS) $(CFLAGS) $(XFLAGS)
CFLAGS_CORE := $(shell $(PKG_CONFIG) --cflags $(PKGS_CORE))
CFLAGS_AV := $(shell $(PKG_CONFIG) --cflags $(PKGS_AV))
CFLAGS_UI := $(shell $(PKG_CONFIG) --cflags $(PKGS_UI))
LIBS_CORE := $(shell $(PKG_CONFIG) --libs $(PKGS_CORE)) -lm
LIBS_AV := $(shell $(PKG_CONFIG) --libs $(PKGS_AV))
LIBS_UI := $(shell $(PKG_CONFIG) --libs $(PKGS_UI))
# -isystem: glib's headers are not held to our warnings
CFLAGS_PREVIEW := $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags $(PKGS_PREVIEW)))
LIBS_PREVIEW := $(shell $(PKG_CONFIG) --libs $(PKGS_PREVIEW))
comma := ,
# The trainer prefers Debian's OpenMP build of OpenBLAS (one thread pool
# shared with our own OpenMP loops, no spinning against each other): its
# own pkg-config file, so cblas.h and the library are the same build
# whatever Debian's alternatives select; else the default openblas.
OPENBLAS_OMP := /usr/lib/$(shell $(CC) -dumpmachine)/openblas-openmp
OPENBLAS_PC := $(if $(wildcard $(OPENBLAS_OMP)/pkgconfig/openblas.pc),PKG_CONFIG_PATH=$(OPENBLAS_OMP)/pkgconfig )$(PKG_CONFIG)
CFLAGS_BLAS := $(shell $(OPENBLAS_PC) --cflags openblas)
LIBS_BLAS := $(shell $(OPENBLAS_PC) --libs openblas)
BLAS_LIBDIR := $(patsubst -L%,%,$(filter -L%,$(LIBS_BLAS)))
LIBS_TRAIN := $(shell $(PKG_CONFIG) --libs $(PKGS_TRAIN)) $(LIBS_BLAS) \
	$(foreach d,$(BLAS_LIBDIR),-Wl$(comma)-rpath$(comma)$(d)) -fopenmp
ALL_LDFLAGS = -pthread $(SAN_LDFLAGS) $(LDFLAGS)

ifdef SANITIZER
SAN_CFLAGS = -fsanitize=$(SANITIZER) -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_LDFLAGS = -fsanitize=$(SANITIZER)
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

B := build

# The engine library: every src/*.c except the application-only stages.
APP_SRC := src/main.c $(wildcard src/capture*.c src/dashboard*.c src/app_*.c src/scan*.c src/pipeline*.c)
LIB_SRC := $(filter-out $(APP_SRC), $(wildcard src/*.c))
LIB_ASM := src/model_blob.S
TRAIN_SRC := $(wildcard src/train/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o) $(LIB_ASM:%.S=$(B)/%.o)
APP_OBJ := $(filter-out $(B)/src/main.o, $(APP_SRC:%.c=$(B)/%.o))
TRAIN_OBJ := $(TRAIN_SRC:%.c=$(B)/%.o)
TESTS := $(TEST_SRC:tests/%.c=$(B)/tests/%)
BENCHES := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)
LIB := $(B)/libemotop.a

# Models embedded in the binary (present ones only).
MODELS := $(wildcard models/*.qnn)

.PHONY: all test unit cli asan valgrind bench fuzz install uninstall clean
all: emotop emotop-train

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(CFLAGS_CORE) $(CFLAGS_AV) $(CFLAGS_UI) -c $< -o $@

# The trainer's loops use OpenMP (both cores); the runtime engine does not.
# -O3 vectorizes its element-wise layers (ReLU, BN, depthwise conv) to the
# same floats (no reassociation): 1.3 to 1.5x the images per second of a
# MobileNet-style detector's training, 1.2x the classifier's (session 17).
$(B)/src/train/%.o: XFLAGS = -O3 -fopenmp $(CFLAGS_BLAS)
# Loops that vectorize only at -O3 (GCC's -O2 leaves them scalar), the same
# bytes either way: the face blur (0.35 -> 0.32 ms per classified face,
# bench_qnn) and the detector's pyramid column sums (bench_detect).
$(B)/src/facenorm.o $(B)/src/detect.o: XFLAGS = -O3
$(B)/src/dashboard_chafa.o: XFLAGS = $(CFLAGS_PREVIEW)

$(B)/src/model_blob.o: src/model_blob.S $(MODELS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(CPPFLAGS) $(foreach m,$(MODELS),-DHAVE_MODEL_$(basename $(notdir $(m)))=1) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# Binaries are built in $(B)/; the default build also links them at the top.
emotop: $(B)/emotop
	$(Q)$(if $(filter build,$(B)),ln -sf $(B)/emotop emotop)
emotop-train: $(B)/emotop-train
	$(Q)$(if $(filter build,$(B)),ln -sf $(B)/emotop-train emotop-train)

$(B)/emotop: $(B)/src/main.o $(APP_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_AV) $(LIBS_UI) $(LIBS_PREVIEW) $(LIBS_CORE)

$(B)/emotop-train: $(TRAIN_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_TRAIN) $(LIBS_CORE)

# Tests link the library, the app stages (not main) and, for trainer tests,
# the trainer objects (not its main).
TRAIN_LIB_OBJ := $(filter-out $(B)/src/train/main.o, $(TRAIN_OBJ))
$(B)/tests/%: tests/%.c tests/unit.h $(APP_OBJ) $(TRAIN_LIB_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(CPPFLAGS) -Itests $(ALL_CFLAGS) $(CFLAGS_CORE) $(CFLAGS_AV) $(CFLAGS_UI) $(CFLAGS_BLAS) $(ALL_LDFLAGS) -o $@ $< \
		$(APP_OBJ) $(TRAIN_LIB_OBJ) $(LIB) $(LIBS_AV) $(LIBS_UI) $(LIBS_PREVIEW) $(LIBS_TRAIN) $(LIBS_CORE)

$(B)/bench/%: tests/bench/%.c $(APP_OBJ) $(TRAIN_LIB_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BENCH   $@")
	$(Q)$(CC) $(CPPFLAGS) -Itests $(ALL_CFLAGS) $(CFLAGS_CORE) $(CFLAGS_AV) $(CFLAGS_UI) $(CFLAGS_BLAS) $(ALL_LDFLAGS) -o $@ $< \
		$(APP_OBJ) $(TRAIN_LIB_OBJ) $(LIB) $(LIBS_AV) $(LIBS_UI) $(LIBS_PREVIEW) $(LIBS_TRAIN) $(LIBS_CORE)

# Helper programs the shell tests drive (tests/*_driver.c, built like tests).
DRIVERS := $(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/*_driver.c))

# make test: unit tests, then shell tests of the binaries (tests/cli/*.sh).
RUN_ENV = SHARED=$${SHARED:-../shared} EMOTOP=$(B)/emotop EMOTOP_TRAIN=$(B)/emotop-train \
	DASH_DRIVER=$(B)/tests/dash_driver
test: all $(TESTS) $(DRIVERS)
	@$(RUN_ENV) tests/run.sh $(TESTS) -- $(wildcard tests/cli/*.sh)

unit: $(TESTS)
	@$(RUN_ENV) tests/run.sh $(TESTS) --

asan:
	$(MAKE) B=build-asan OPT="-O1" SANITIZER=address,undefined test

# The unit tests under valgrind's memcheck (the shell tests run the
# binaries unwrapped, as make test does). One OpenMP and OpenBLAS thread:
# valgrind runs threads one at a time, and OpenMP's spin-waiting workers on
# tiny problems took test_fnn from 1 s to minutes (every code path runs
# with one thread as with several).
valgrind: $(TESTS)
	@OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(RUN_ENV) VALGRIND=1 tests/run.sh $(TESTS) --

bench: all $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $(RUN_ENV) $$b || exit 1; done

# libFuzzer targets (clang): the model loader/executor and the config
# reader, each for FUZZ_SECONDS. The model corpus: small generated models
# (tests/fuzz/fuzz_model_seeds.c, built with CC) and the shipped ones that
# fit in FUZZ_MAX_LEN, each behind fuzz_model's selector byte (0x01: fix up
# size and CRC, a no-op on a good file). Not part of make test.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 65536
# -fno-sanitize-recover: an UBSan finding stops the run and saves the input
# (crash-*), as an ASan one does; without it UBSan only prints and goes on.
FUZZ_FLAGS = -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Iinclude -Isrc -D_DEFAULT_SOURCE
FUZZ_QNN_SRC = src/model.c src/qnn.c src/qnn_kern.c src/qnn_avx2.c src/qnn_avx2_dw.c src/qnn_avx512.c src/cpu.c src/err.c \
	$(B)/src/model_blob.o
$(B)/fuzz/fuzz_model: tests/fuzz/fuzz_model.c $(FUZZ_QNN_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $^ -lm -o $@
$(B)/fuzz/fuzz_config: tests/fuzz/fuzz_config.c $(wildcard src/config*.c) src/emotion.c src/err.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(CFLAGS_CORE) $^ $(LIBS_CORE) -o $@
$(B)/fuzz/fuzz_model_seeds: tests/fuzz/fuzz_model_seeds.c tests/qnn_rand.h $(LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Itests $(ALL_CFLAGS) $(CFLAGS_CORE) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS_CORE)
fuzz: $(B)/fuzz/fuzz_model $(B)/fuzz/fuzz_config $(B)/fuzz/fuzz_model_seeds
	@rm -rf $(B)/fuzz/model-seeds && mkdir -p $(B)/fuzz/model-seeds $(B)/fuzz/model-corpus $(B)/fuzz/config-corpus
	$(B)/fuzz/fuzz_model_seeds $(B)/fuzz/model-seeds
	@for m in $(B)/fuzz/model-seeds/*.qnn $(MODELS); do \
		if [ $$(($$(wc -c < "$$m") + 1)) -le $(FUZZ_MAX_LEN) ]; then \
			(printf '\001'; cat "$$m") > $(B)/fuzz/model-corpus/seed-$$(basename "$$m"); \
		else echo "fuzz: $$m not seeded (above FUZZ_MAX_LEN=$(FUZZ_MAX_LEN))"; fi; \
	done
	@cp config/*.yaml $(wildcard tests/data/*.yaml) $(B)/fuzz/config-corpus/
	$(B)/fuzz/fuzz_model -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) $(B)/fuzz/model-corpus
	$(B)/fuzz/fuzz_config -max_total_time=$(FUZZ_SECONDS) -max_len=8192 $(B)/fuzz/config-corpus

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 755 $(B)/emotop $(B)/emotop-train $(DESTDIR)$(BINDIR)/
	@# the pages name the example config where this PREFIX puts it
	for m in $(wildcard man/*.1 man/*.5); do \
		sed -e 's|/usr/local/share/emotop|$(DATADIR)|g' -e 's|/usr/local/lib/systemd/system|$(SYSTEMDUNITDIR)|g' \
			"$$m" > $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/} && \
		chmod 644 $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/} || exit 1; \
	done
	@# the models are embedded in the binary: only the example config
	install -m 644 config/emotop.yaml config/emotop.rules.yml config/emotop.logrotate \
		docs/emotop-lines.schema.json $(DESTDIR)$(DATADIR)/
	@# the service template: one instance per room config in /etc/emotop
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/emotop@.service.in > $(DESTDIR)$(SYSTEMDUNITDIR)/emotop@.service
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/emotop@.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/emotop $(DESTDIR)$(BINDIR)/emotop-train
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/*.1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard man/*.5)))
	rm -rf $(DESTDIR)$(DATADIR)
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/emotop@.service

clean:
	rm -rf build build-asan emotop emotop-train

-include $(shell find $(B) -name '*.d' 2>/dev/null)
