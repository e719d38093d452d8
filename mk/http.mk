# http_exporter.so: the process's own HTTP endpoint (docs/http.md) -- /metrics, the JSON API of open
# sessions and turns, Server-Sent Events, /healthz and the dashboard page, served from the plugin's
# own threads. Sources under examples-c/plugins/http/ (one .so; the page is embedded at build time).
#
#   make test-http   the pytest suite (tests/http) against engine processes loading the plugin
#   make serve       the demo engine playing calls until Ctrl-C, with the endpoint up
HTTP_DIR      := examples-c/plugins/http
HTTP_SOURCES  := $(wildcard $(HTTP_DIR)/*.c)
HTTP_EXPORTER := $(BUILD)/plugins/http_exporter.so
HTTP_PAGE     := $(HTTP_DIR)/dashboard.html
PLUGINS       += $(HTTP_EXPORTER)
TEST_SUITES   += test-http

$(HTTP_EXPORTER): PLUGIN_LIBS := -lz -lpthread
$(HTTP_EXPORTER): $(HTTP_SOURCES) $(HTTP_DIR)/http.h $(HTTP_PAGE) examples-c/plugins/json_mini.h \
    include/voicetelemetry_plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -std=c11 -D_GNU_SOURCE -DHX_DASHBOARD_PATH='"$(abspath $(HTTP_PAGE))"' \
	    -o $@ $(HTTP_SOURCES) $(PLUGIN_LIBS)

# The same sources with AddressSanitizer and UBSan, loaded by a scripted host (tests/http/fakehost.c)
# for the robustness tests: no library needed, every read past a buffer or leak at shutdown fails.
HTTP_ASAN_DIR   := $(BUILD)/tests/http/asan
HTTP_ASAN_FLAGS := -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
$(HTTP_ASAN_DIR)/http_exporter.so: $(HTTP_SOURCES) $(HTTP_DIR)/http.h $(HTTP_PAGE) examples-c/plugins/json_mini.h \
    include/voicetelemetry_plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -std=c11 -D_GNU_SOURCE $(HTTP_ASAN_FLAGS) -DHX_DASHBOARD_PATH='"$(abspath $(HTTP_PAGE))"' \
	    -o $@ $(HTTP_SOURCES) -lz -lpthread
$(HTTP_ASAN_DIR)/fakehost: tests/http/fakehost.c include/voicetelemetry_plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(CWARN) -D_GNU_SOURCE $(HTTP_ASAN_FLAGS) -Iinclude -o $@ $< -ldl

# The demo engine linked against build/lib (not the installed copy: building that would run a sub-make
# of the library), for the serve mode's test.
$(BUILD)/tests/http/voice_engine: examples-c/voice_engine.c include/voicetelemetry.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CWARN) -O1 -Iinclude -o $@ $< $(LINK_BUILD)

.PHONY: test-http http-exporter serve
http-exporter: $(HTTP_EXPORTER)

test-http: $(LIB) $(HTTP_EXPORTER) $(HTTP_ASAN_DIR)/http_exporter.so $(HTTP_ASAN_DIR)/fakehost $(BUILD)/tests/http/voice_engine
	test "$$(nm -D --defined-only $(HTTP_EXPORTER) | awk '{print $$3}')" = voicetelemetry_sink_plugin_v1
	VOICETELEMETRY_LIB=$(abspath $(LIB)) HTTP_EXPORTER=$(abspath $(HTTP_EXPORTER)) \
	    HTTP_EXPORTER_ASAN=$(abspath $(HTTP_ASAN_DIR)/http_exporter.so) HTTP_FAKEHOST=$(abspath $(HTTP_ASAN_DIR)/fakehost) \
	    HTTP_VOICE_ENGINE=$(abspath $(BUILD)/tests/http/voice_engine) \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/http

# The demo engine (built against the installed copy, like make demo) in its serve mode.
SERVE_LISTEN ?= 127.0.0.1:9464
serve: $(BUILD)/voice_engine
	./$(BUILD)/voice_engine --serve $(STAGE)/lib/voicetelemetry/plugins/http_exporter.so $(SERVE_LISTEN)
