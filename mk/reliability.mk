# Reliability tooling (issue 18): an AddressSanitizer build of the library and the whole C suite, libFuzzer
# targets, the 1.0 ABI baseline check, and a long soak run.
#
#   make test-asan   the C suite (tests/c/test_*.c) against an ASan build of the library, UBSan on the C side
#   make test-fuzz   each fuzz target for FUZZ_TEST_SECONDS (short: regressions surface in CI)
#   make test-abi    abidiff of the library and plugin ABI against abi/*.abi (the 1.0 ABI), with a self-test
#   make fuzz        each fuzz target for FUZZ_SECONDS (a campaign; not part of make test)
#   make soak        a million sessions with plugins loaded and reloaded; RSS, fds, threads, accounting
#
# Nothing here rebuilds the release library: targets that need it depend on it order-only.

TEST_SUITES += test-asan test-fuzz test-abi

.PHONY: test-asan test-fuzz test-abi fuzz fuzz-build soak abi-baseline

REL_CC       ?= clang
comma        := ,

# ---- AddressSanitizer build and the C suite -----------------------------------------------------------
# swiftc offers -sanitize=address (and thread, fuzzer) but no UndefinedBehaviorSanitizer on this target,
# so UBSan instruments the C side only; the Swift side keeps its own overflow and bounds traps, which -O
# keeps too. The library is built optimised (a debug Swift build under ASan made the suite many times
# slower); the debug build's asserts run in test-tsan.
ASAN_LIBDIR  := .build-asan/release
ASAN_CFLAGS  := -std=c99 -Wall -Wextra -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined -shared-libsan
ASAN_TESTS   := $(patsubst tests/c/%.c,$(BUILD)/asan/%,$(wildcard tests/c/test_*.c))
# Leak checking stays on: the suite ends its sessions and unloads its plugins. (strict_string_checks is
# left off: it made test_core several times slower.)
ASAN_ENV     := ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:halt_on_error=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# SwiftPM stops when a source changes during the build (a shared working tree): try up to three times.
swift_build_retry = for try in 1 2 3; do $(SWIFT) build $(1) && break; [ $$try != 3 ] || exit 1; sleep 5; done

asan-lib:
	$(call swift_build_retry,-c release -Xswiftc -sanitize=address --scratch-path .build-asan)
.PHONY: asan-lib

$(BUILD)/asan/%: tests/c/%.c $(C_TEST_HEADERS) asan-lib
	@mkdir -p $(dir $@)
	$(call link_sanitized_c_test,$(REL_CC) $(ASAN_CFLAGS),$(ASAN_LIBDIR))

# VT_ROBUST_CALLS: the random-call driver makes 20000 calls per seed (100000 by default) under ASan.
test-asan: $(ASAN_TESTS) $(PLUGINS) $(TEST_PLUGINS)
	$(ASAN_ENV) VT_ROBUST_CALLS=20000 tests/c/run_all.sh $(ASAN_TESTS)
	@echo "asan: the C suite is clean under AddressSanitizer (library and tests) and UBSan (tests)"

# ---- libFuzzer targets ------------------------------------------------------------------------------
# The library is built with ASan and edge coverage (swiftc -sanitize-coverage; trace-cmp left out: on
# JSON-scanning code it costs more executions than the comparisons it reveals, and the dictionaries in
# fuzz/dict give the tokens). Targets link libFuzzer and the static ASan runtime (the shared one cannot
# come first in the library list of a libFuzzer binary); UBSan instruments the targets' own C code.
FUZZ_LIBDIR   := .build-fuzz/release
FUZZ_TARGETS  := emit metrics session turn batch output sequence prices
FUZZ_BINS     := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_CFLAGS   := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O1 -g -fuse-ld=bfd \
                 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude -Ifuzz -Itests/c \
                 -DFUZZ_PLUGIN_DIR='"$(abspath $(BUILD)/fuzz)"'
FUZZ_SECONDS      ?= 300
FUZZ_TEST_SECONDS ?= 10
# SWIFT_BACKTRACE=enable=no: the Swift runtime's crash handler would otherwise copy thread stacks on an
# abort and ASan would report those reads instead of the finding.
FUZZ_ENV      := SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:allocator_may_return_null=1 \
                 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

fuzz-lib:
	$(call swift_build_retry,-c release -Xswiftc -sanitize=address \
	    -Xswiftc -sanitize-coverage=edge$(comma)inline-8bit-counters$(comma)pc-table --scratch-path .build-fuzz)
.PHONY: fuzz-lib

$(BUILD)/fuzz/check_sink.so: fuzz/check_sink.c fuzz/json_check.h include/voicetelemetry_plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -Ifuzz -o $@ $<

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_util.h fuzz/json_check.h tests/c/turn_scenario.h include/voicetelemetry.h fuzz-lib
	@mkdir -p $(dir $@)
	$(REL_CC) $(FUZZ_CFLAGS) -o $@ $< -L$(abspath $(FUZZ_LIBDIR)) -lvoicetelemetry \
	    -Wl,-rpath,$(abspath $(FUZZ_LIBDIR)) -lpthread -lm

fuzz-build: $(FUZZ_BINS) $(BUILD)/fuzz/check_sink.so

define rel_nl


endef

# One target: $(1) name, $(2) seconds, $(3) working corpus (new inputs go there; the committed seeds in
# fuzz/corpus/<name> are read too), $(4) log file. Prints the execution count; a finding fails the run
# and leaves the input in $(BUILD)/fuzz/artifacts/.
define run_fuzz
	@mkdir -p $(3) $(BUILD)/fuzz/artifacts
	@echo "fuzz_$(1): $(2) s"
	@cd . && $(FUZZ_ENV) nice -n 19 $(BUILD)/fuzz/fuzz_$(1) -max_total_time=$(2) $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS)) \
	    -print_final_stats=1 -timeout=20 -rss_limit_mb=4096 -max_len=$(if $(filter emit,$(1)),16384,4096) \
	    $(if $(wildcard fuzz/dict/$(1).dict),-dict=fuzz/dict/$(1).dict) \
	    -artifact_prefix=$(BUILD)/fuzz/artifacts/$(1)- $(3) fuzz/corpus/$(1) > $(4) 2>&1 \
	    || { tail -n 60 $(4); echo "fuzz_$(1): FINDING (log: $(4))"; exit 1; }
	@grep -aE '^stat::(number_of_executed_units|average_exec_per_sec)' $(4) | sed 's/^/  fuzz_$(1) /'
endef

# A campaign: FUZZ_SECONDS per target (FUZZ_RUNS caps the executions), one target at a time, nice 19;
# the working corpora stay in $(BUILD)/fuzz/corpus for the next campaign.
fuzz: fuzz-build
	$(foreach t,$(FUZZ_TARGETS),$(call run_fuzz,$(t),$(FUZZ_SECONDS),$(BUILD)/fuzz/corpus/$(t),$(BUILD)/fuzz/$(t).log)$(rel_nl))

# In make test: each target for FUZZ_TEST_SECONDS from the committed seeds only (a fresh corpus each time).
test-fuzz: fuzz-build
	@rm -rf $(BUILD)/fuzz/test-corpus
	$(foreach t,$(FUZZ_TARGETS),$(call run_fuzz,$(t),$(FUZZ_TEST_SECONDS),$(BUILD)/fuzz/test-corpus/$(t),$(BUILD)/fuzz/test-$(t).log)$(rel_nl))
	@echo "fuzz: every target ran $(FUZZ_TEST_SECONDS) s without a finding"

# ---- ABI baseline (abi/) -------------------------------------------------------------------------------
# abi/libvoicetelemetry.abi and abi/plugin.abi: the 1.0 ABI (headers of commit 4edbf3d, kept in abi/1.0),
# as abidw sees a -g probe built from them (abi/gen_probe.py says why not the Swift library itself).
# test-abi: the committed baseline is what abi/1.0 gives; include/ keeps it (additions pass); the release
# library exports every 1.0 function; and the self-test shows what fails and what passes.
test-abi: | $(LIB)
	abi/check.sh baseline $(BUILD)/abi/baseline > $(BUILD)/abi-baseline.log 2>&1 || { cat $(BUILD)/abi-baseline.log; exit 1; }
	abidiff $(BUILD)/abi/baseline/libvoicetelemetry.abi abi/libvoicetelemetry.abi
	abidiff $(BUILD)/abi/baseline/plugin.abi abi/plugin.abi
	abi/check.sh check $(BUILD)/abi/check $(LIB)
	abi/check.sh selftest $(BUILD)/abi/selftest

# Rewrites the committed baseline from abi/1.0 (only for a new major version's baseline).
abi-baseline:
	abi/check.sh baseline $(BUILD)/abi/baseline
	cp $(BUILD)/abi/baseline/libvoicetelemetry.abi $(BUILD)/abi/baseline/plugin.abi abi/

# ---- soak (not in make test) ------------------------------------------------------------------------
SOAK_ENV ?=
$(BUILD)/soak/soak: tests/soak/soak.c | $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CWARN) -D_GNU_SOURCE -O2 -g -Iinclude -o $@ $< $(LINK_BUILD) -lpthread

soak: $(BUILD)/soak/soak $(PLUGINS) $(BUILD)/tests/plugins/scripted.so
	$(SOAK_ENV) nice -n 19 $(BUILD)/soak/soak
