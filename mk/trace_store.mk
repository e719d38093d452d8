# Trace store (issue 10, sections 3-4): the SQLite sink plugin, its C tests, the Python and Go readers.
#
#   make test-trace-store    the plugin driven by a scripted host (exact rows, SIGKILL durability, a
#                            concurrent reader, bad files, retries, migration), the same through the
#                            real library, then the Python and Go readers' tests

PLUGINS += $(BUILD)/plugins/sqlite_sink.so
$(BUILD)/plugins/sqlite_sink.so: PLUGIN_LIBS := -lsqlite3
$(BUILD)/plugins/sqlite_sink.so: examples-c/plugins/json_mini.h
TEST_SUITES += test-trace-store

TRACE_DIR   := $(BUILD)/tests/trace_store
TRACE_TESTS := $(TRACE_DIR)/test_sqlite_sink $(TRACE_DIR)/test_trace_e2e
# The Go reader needs mattn/go-sqlite3, which Debian ships for GOPATH builds
# (golang-github-mattn-go-sqlite3-dev); the core binding is reached through a link in a GOPATH of
# our own, so examples-go's module stays standard-library only.
TRACE_GOPATH := $(abspath $(BUILD))/gopath
TRACE_GO_ENV := GO111MODULE=off GOFLAGS= GOPATH=$(TRACE_GOPATH):/usr/share/gocode \
    CGO_CFLAGS=-I$(abspath include) CGO_LDFLAGS="-L$(abspath $(LIBDIR)) -Wl,-rpath,$(abspath $(LIBDIR))"

.PHONY: test-trace-store test-trace-store-c test-trace-store-python test-trace-store-go

$(TRACE_DIR)/test_sqlite_sink: tests/trace_store/test_sqlite_sink.c tests/trace_store/host.h tests/c/check.h \
    include/voicetelemetry.h include/voicetelemetry_plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(CWARN) -D_GNU_SOURCE -O1 -g -Iinclude -Itests/c -o $@ $< -ldl -lsqlite3

$(TRACE_DIR)/test_trace_e2e: tests/trace_store/test_trace_e2e.c tests/c/check.h include/voicetelemetry.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CWARN) -D_GNU_SOURCE -O1 -g -Iinclude -Itests/c -o $@ $< $(LINK_BUILD) -lsqlite3 -lpthread

test-trace-store: test-trace-store-c test-trace-store-python test-trace-store-go

test-trace-store-c: $(TRACE_TESTS) $(BUILD)/plugins/sqlite_sink.so
	test "$$(nm -D --defined-only $(BUILD)/plugins/sqlite_sink.so | awk '{print $$3}')" = voicetelemetry_sink_plugin_v1
	tests/c/run_all.sh $(TRACE_TESTS)

test-trace-store-python: $(LIB) $(BUILD)/plugins/sqlite_sink.so
	VOICETELEMETRY_LIB=$(abspath $(LIB)) $(PYTHON) -m pytest -q examples-python/tests/test_traces.py

test-trace-store-go: $(LIB) $(BUILD)/plugins/sqlite_sink.so
	@mkdir -p $(TRACE_GOPATH)/src/github.com/voicetelemetry
	ln -sfn $(abspath examples-go) $(TRACE_GOPATH)/src/github.com/voicetelemetry/voicetelemetry-go
	cd $(TRACE_GOPATH)/src/github.com/voicetelemetry/voicetelemetry-go/traces && \
	    $(TRACE_GO_ENV) $(GO) vet . && $(TRACE_GO_ENV) $(GO) test -count=1 .

# The plugin and its driver built with AddressSanitizer and UBSan, then the driver run (not part of
# make test: it doubles the build; run it after changing the plugin or json_mini.h).
.PHONY: test-trace-store-sanitize
test-trace-store-sanitize: examples-c/plugins/sqlite_sink.c examples-c/plugins/json_mini.h
	@mkdir -p $(TRACE_DIR)/asan
	$(CC) -std=c99 -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fPIC -shared -fvisibility=hidden \
	    -Iinclude -o $(TRACE_DIR)/asan/sqlite_sink.so examples-c/plugins/sqlite_sink.c -lsqlite3
	$(CC) $(CWARN) -g -O1 -fsanitize=address,undefined -D_GNU_SOURCE -DSINK='"$(TRACE_DIR)/asan/sqlite_sink.so"' \
	    -Iinclude -Itests/c -o $(TRACE_DIR)/asan/test_sqlite_sink tests/trace_store/test_sqlite_sink.c -ldl -lsqlite3
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(TRACE_DIR)/asan/test_sqlite_sink
