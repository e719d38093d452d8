# The Grafana dashboard (dashboards/voicetelemetry.json, written by dashboards/generate.py) and the
# Prometheus rules (prometheus/rules.yml), checked against a real Prometheus.
#
#   make test-dashboards   promtool check rules and promtool test rules; the dashboard's structure;
#                          then a Prometheus (Debian's prometheus package) started on a loopback port
#                          scraping an engine process that serves /metrics with http_exporter.so and
#                          loads two test sinks (slow, fatal): every panel query returns data, every
#                          rule is healthy, the recorded quantiles and the alerts' states are checked
TEST_SUITES += test-dashboards
DASHBOARD_PLUGINS := $(BUILD)/plugins/http_exporter.so $(BUILD)/tests/plugins/slow.so $(BUILD)/tests/plugins/fatal.so

.PHONY: test-dashboards
test-dashboards: $(LIB) $(DASHBOARD_PLUGINS)
	VOICETELEMETRY_LIB=$(abspath $(LIB)) HTTP_EXPORTER=$(abspath $(BUILD)/plugins/http_exporter.so) \
	    TEST_PLUGINS_DIR=$(abspath $(BUILD)/tests/plugins) \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/dashboards
