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
REL_RESDIR    = $(shell $(REL_CC) -print-resource-dir)/lib/linux

# ---- AddressSanitizer build and the C suite -----------------------------------------------------------
# swiftc offers -sanitize=address (and thread, fuzzer) but no UndefinedBehaviorSanitizer on this target,
# so UBSan instruments the C side only; the Swift side keeps its own overflow and bounds traps (debug build).
ASAN_LIBDIR  := .build-asan/debug
ASAN_CFLAGS  := -std=c99 -Wall -Wextra -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined -shared-libsan
ASAN_TESTS   := $(patsubst tests/c/%.c,$(BUILD)/asan/%,$(wildcard tests/c/test_*.c))
# Leak checking stays on: the suite ends its sessions and unloads its plugins.
ASAN_ENV     := ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:halt_on_error=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

asan-lib:
	$(SWIFT) build -c debug -Xswiftc -sanitize=address --scratch-path .build-asan
.PHONY: asan-lib

$(BUILD)/asan/%: tests/c/%.c tests/c/check.h asan-lib
	@mkdir -p $(dir $@)
	$(REL_CC) $(ASAN_CFLAGS) -Iinclude -Itests/c -o $@ $< \
	    -L$(abspath $(ASAN_LIBDIR)) -lvoicetelemetry -Wl,-rpath,$(abspath $(ASAN_LIBDIR)) \
	    -Wl,-rpath,$(REL_RESDIR) -lpthread -lm

# VT_ROBUST_CALLS: the random-call driver makes 10000 calls per seed (100000 by default) under ASan.
test-asan: $(ASAN_TESTS) $(PLUGINS) $(TEST_PLUGINS)
	$(ASAN_ENV) VT_ROBUST_CALLS=10000 tests/c/run_all.sh $(ASAN_TESTS)
	@echo "asan: the C suite is clean under AddressSanitizer (library and tests) and UBSan (tests)"
