# libvoicetelemetry — build, install, demo, test, bench.
#
#   make            release library: build/lib/libvoicetelemetry.so (Swift runtime linked in statically)
#   make demo       the C voice-engine demo, built against an installed-style copy (build/stage)
#   make test       every test suite (Swift, C, header, symbols, Python, Go)
#   make bench      benchmarks (never part of the tests)
#   make install PREFIX=/usr/local

PREFIX      ?= /usr/local
SWIFT       ?= swift
CC          ?= gcc
PYTHON      ?= python3
GO          ?= go
BUILD       := build
LIBDIR      := $(BUILD)/lib
STAGE       := $(abspath $(BUILD)/stage)
LIB         := $(LIBDIR)/libvoicetelemetry.so
SWIFT_OUT   := .build/release/libvoicetelemetry.so
SOURCES     := $(shell find Sources include -type f) Package.swift
VERSION     := $(shell sed -n 's/^\#define VT_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)/\2/p' include/voicetelemetry.h | paste -sd. -)
CWARN       := -std=c99 -Wall -Wextra -pedantic -Werror
LINK_BUILD  := -L$(abspath $(LIBDIR)) -lvoicetelemetry -Wl,-rpath,$(abspath $(LIBDIR))

.PHONY: all lib install stage demo test test-swift test-layers test-c test-header test-symbols test-docs test-python test-go \
        test-tsan test-readme test-demo plugins bench clean

all: lib

lib: $(LIB) plugins

# VT_STATIC_SWIFT_RUNTIME: the Swift runtime is linked in, so the fork handlers name its
# thread-id cache directly (Sources/CForkHooks/runtime_tid_cache.c).
$(LIB): $(SOURCES)
	@# SwiftPM does not track the C headers the Swift code imports: a header newer than the last
	@# build makes a Swift file newer too, so the module is compiled against it.
	@for h in include/*.h Sources/CShims/*.h; do \
	    if [ -e $(SWIFT_OUT) ] && [ $$h -nt $(SWIFT_OUT) ]; then touch Sources/VoiceTelemetry/ABI/VersionABI.swift; fi; done
	$(SWIFT) build -c release -Xswiftc -static-stdlib -Xcc -DVT_STATIC_SWIFT_RUNTIME
	@mkdir -p $(LIBDIR)
	cp $(SWIFT_OUT) $@.tmp
	strip --strip-unneeded $@.tmp
	mv -f $@.tmp $@   # a new inode: processes still running the old library keep their mapping

# ---- sink plugins (built against include/voicetelemetry_plugin.h only; just the entry point exported) --

PLUGIN_CFLAGS := $(CWARN) -O2 -fPIC -shared -fvisibility=hidden -Iinclude
PLUGINS       := $(BUILD)/plugins/jsonl_sink.so
HOSTILE       := wrong_abi no_entry null_entry init_fails slow retry fatal weird null_write null_init \
                 small_table bad_name minimal forks_in_init
TEST_PLUGINS  := $(patsubst %,$(BUILD)/tests/plugins/%.so,$(HOSTILE) scripted scripted_b)

# Fragments under mk/ (one file per component: mk/<component>.mk) add to PLUGINS and TEST_SUITES; a
# plugin that links a system library sets it target-specifically: `$(BUILD)/plugins/x.so: PLUGIN_LIBS := -lx`.
TEST_SUITES   := test-swift test-layers test-header test-symbols test-docs test-c test-tsan test-python test-go test-readme test-demo
# Every header a C test may include (the ordinary, TSan and ASan builds of the suite: mk/reliability.mk).
C_TEST_HEADERS := $(wildcard tests/c/*.h) include/voicetelemetry.h include/voicetelemetry_plugin.h bench/alloc_counter.h
include $(sort $(wildcard mk/*.mk))

plugins: $(PLUGINS)

$(BUILD)/plugins/%.so: examples-c/plugins/%.c include/voicetelemetry_plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -o $@ $< $(PLUGIN_LIBS)

$(BUILD)/tests/plugins/scripted.so $(BUILD)/tests/plugins/scripted_b.so: tests/plugins/scripted.c include/voicetelemetry_plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -DSCRIPTED_NAME='"$(basename $(notdir $@))"' -o $@ $<

$(BUILD)/tests/plugins/%.so: tests/plugins/hostile.c include/voicetelemetry_plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -DHOSTILE_$* -DHOSTILE_NAME='"$*"' -o $@ $<

# ---- install ---------------------------------------------------------------------------------------

install: $(LIB) $(PLUGINS)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
	    $(DESTDIR)$(PREFIX)/lib/voicetelemetry/plugins
	install -m 0755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libvoicetelemetry.so
	install -m 0644 include/voicetelemetry.h include/voicetelemetry_plugin.h $(DESTDIR)$(PREFIX)/include/
	install -m 0755 $(PLUGINS) $(DESTDIR)$(PREFIX)/lib/voicetelemetry/plugins/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' voicetelemetry.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/voicetelemetry.pc

# An installed-style copy inside the build tree: what the demo links against.
stage: $(LIB)
	$(MAKE) --no-print-directory install PREFIX=$(STAGE)

# ---- demo ------------------------------------------------------------------------------------------

$(BUILD)/voice_engine: examples-c/voice_engine.c stage
	PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig $(CC) $(CWARN) -O2 -o $@ $< \
	    $$(PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig pkg-config --cflags --libs voicetelemetry) \
	    -Wl,-rpath,$(STAGE)/lib -lpthread

demo: $(BUILD)/voice_engine
	VOICE_ENGINE_OUT=$(BUILD)/demo ./$(BUILD)/voice_engine $(STAGE)/lib/voicetelemetry/plugins/jsonl_sink.so \
	    $(BUILD)/demo/events.jsonl

# Every fenced block of README.md, examples-python/README.md and examples-go/README.md, run as a new
# user would on a scratch copy of the checkout (build/readme/), or checked as the note above it says
# (tests/readme/run_blocks.py); the driver's own rules first. Needs network for pip's setuptools.
test-readme: $(LIB)
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/readme
	$(PYTHON) tests/readme/run_blocks.py

# The demo as a test: built against the installed copy (pkg-config), it runs, its sink got every
# event, and its Prometheus text passes promtool.
test-demo: $(BUILD)/voice_engine
	rm -rf $(BUILD)/demo
	VOICE_ENGINE_OUT=$(BUILD)/demo ./$(BUILD)/voice_engine $(STAGE)/lib/voicetelemetry/plugins/jsonl_sink.so \
	    $(BUILD)/demo/events.jsonl > $(BUILD)/demo.out
	test $$(wc -l < $(BUILD)/demo.out) -le 50   # one screen
	grep -Eq '^call-sip-001: 8 turns \(6 completed, 2 interrupted\)' $(BUILD)/demo.out
	grep -Eq '^ +1  completed +[0-9]+ ( +[0-9]+){5}  S+E*L+T+\.*$$' $(BUILD)/demo.out
	grep -Eq '^  cost 0\.[0-9]{6} USD = stt 0\.[0-9]{6} \+ llm 0\.[0-9]{6} \+ tts' $(BUILD)/demo.out
	grep -Eq '^== events: .* got ([0-9]+) of \1 events \(0 dropped\)' $(BUILD)/demo.out
	grep -q '"e2e_breakdown_ns":{' $(BUILD)/demo/call-sip-001.turns.json
	! grep -q '"quality":\["' $(BUILD)/demo/*.turns.json   # the demo's data are clean: no quality flags
	test $$(grep -c '^voicetelemetry_' $(BUILD)/demo/metrics.prom) -gt 100
	promtool check metrics < $(BUILD)/demo/metrics.prom
	@echo "demo: runs against the installed copy; events all delivered; exposition lint-clean"

# ---- tests -----------------------------------------------------------------------------------------

test: $(TEST_SUITES)
	@echo "make test: all suites passed"

test-swift:
	$(SWIFT) test

# The Swift sources' layers (docs/architecture.md): each folder uses only the folders below it, as the
# compiler's dependency records of a debug build show (the build test-swift made, brought up to date).
test-layers:
	python3 tests/structure/test_check_layers.py
	$(SWIFT) build
	python3 tests/structure/check_layers.py .build/debug/VoiceTelemetry.build

test-header: | $(BUILD)
	$(CC) $(CWARN) -fsyntax-only -Iinclude tests/header/header_c.c
	g++ -std=c++11 -Wall -Wextra -pedantic -Werror -fsyntax-only -Iinclude tests/header/header_cpp.cpp
	@echo "header: compiles as C99 and C++11 with warnings as errors"

test-symbols: $(LIB)
	tests/symbols/check_exports.sh $(LIB) include/voicetelemetry.h

test-docs:
	tests/docs/check_event_schema.sh
	python3 tests/docs/check_header_docs.py

C_TESTS := $(patsubst tests/c/%.c,$(BUILD)/tests/%,$(wildcard tests/c/test_*.c))

# A C test linked against a sanitizer build of the library: $(1) the compiler and its flags, $(2) the
# library's directory (found at run time through rpaths, the sanitizer runtime's too).
link_sanitized_c_test = $(1) -Iinclude -Itests/c -o $@ $< -L$(abspath $(2)) -lvoicetelemetry \
    -Wl,-rpath,$(abspath $(2)) -Wl,-rpath,$$($(firstword $(1)) -print-resource-dir)/lib/linux -lpthread -lm

$(BUILD)/tests/%: tests/c/%.c $(C_TEST_HEADERS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CWARN) -D_GNU_SOURCE -O1 -g -Iinclude -Itests/c -o $@ $< $(LINK_BUILD) -lpthread -lm

test-c: $(C_TESTS) $(PLUGINS) $(TEST_PLUGINS)
	tests/c/run_all.sh $(C_TESTS)

# The plugin stress test again, against a ThreadSanitizer build of the library (own scratch path).
TSAN_CC     ?= clang
TSAN_LIBDIR := .build-tsan/debug
.PHONY: tsan-lib
tsan-lib:
	$(SWIFT) build -c debug -Xswiftc -sanitize=thread --scratch-path .build-tsan

# One link rule for every C test against the TSan library (tsan-lib is phony: they are relinked each run).
$(BUILD)/tsan/%: tests/c/%.c $(C_TEST_HEADERS) tsan-lib
	@mkdir -p $(dir $@)
	$(call link_sanitized_c_test,$(TSAN_CC) -std=c99 -Wall -Wextra -D_GNU_SOURCE -O1 -g -fsanitize=thread -shared-libsan,$(TSAN_LIBDIR))

test-tsan: $(BUILD)/tsan/test_plugins_stress $(BUILD)/tsan/test_robustness $(PLUGINS) $(TEST_PLUGINS)
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(abspath tests/c/tsan.supp)" \
	    VT_STRESS_SECONDS=4 $(BUILD)/tsan/test_plugins_stress
	@# The robustness driver against the debug build too: debug-only traps (e.g. misaligned loads),
	@# and races, in fewer calls than the release run makes.
	TSAN_OPTIONS="halt_on_error=1 suppressions=$(abspath tests/c/tsan.supp)" VT_ROBUST_CALLS=8000 \
	    $(BUILD)/tsan/test_robustness

test-python: $(LIB) $(PLUGINS) $(TEST_PLUGINS)
	VOICETELEMETRY_LIB=$(abspath $(LIB)) $(PYTHON) -m pytest -q examples-python/tests --ignore=examples-python/tests/integrations

# The Go module is built offline against the standard library only.
GO_OFFLINE := GOFLAGS=-mod=mod GOPROXY=off

test-go: $(LIB) $(PLUGINS) $(TEST_PLUGINS)
	cd examples-go && $(GO_OFFLINE) $(GO) vet ./... && $(GO_OFFLINE) $(GO) test -count=1 ./... && \
	    $(GO_OFFLINE) $(GO) test -race -count=1 ./...

# ---- benchmarks ------------------------------------------------------------------------------------

bench: $(LIB)
	bench/run.sh

$(BUILD):
	mkdir -p $@

clean:
	rm -rf $(BUILD) .build
