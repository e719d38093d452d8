# otlp_sink.so: the OTLP/HTTP exporter plugin (docs/otlp.md). It links libcurl and zlib itself; the
# core library stays free of them. Sources under examples-c/plugins/otlp/ (one .so).
OTLP_DIR     := examples-c/plugins/otlp
OTLP_SOURCES := $(wildcard $(OTLP_DIR)/*.c)
OTLP_SINK    := $(BUILD)/plugins/otlp_sink.so
OTLP_C_CALL  := $(BUILD)/tests/otlp/c_call
PLUGINS      += $(OTLP_SINK)
TEST_SUITES  += test-otlp

$(OTLP_SINK): PLUGIN_LIBS := -lcurl -lz -lpthread
$(OTLP_SINK): $(OTLP_SOURCES) $(OTLP_DIR)/otlp.h include/voicetelemetry_plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -o $@ $(OTLP_SOURCES) $(PLUGIN_LIBS)

$(OTLP_C_CALL): tests/otlp/c_call.c include/voicetelemetry.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CWARN) -O1 -Iinclude -o $@ $< $(LINK_BUILD)

.PHONY: test-otlp otlp-sink
otlp-sink: $(OTLP_SINK)

# The Python suite (receiver, span trees, failure paths, metrics, the event contract, the C driver)
# and the Go binding's trace test.
test-otlp: $(LIB) $(OTLP_SINK) $(OTLP_C_CALL) $(BUILD)/plugins/jsonl_sink.so
	VOICETELEMETRY_LIB=$(abspath $(LIB)) OTLP_SINK=$(abspath $(OTLP_SINK)) OTLP_C_CALL=$(abspath $(OTLP_C_CALL)) \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/otlp
	cd examples-go && $(GO_OFFLINE) $(GO) test -count=1 -run 'TestOTLP' .
