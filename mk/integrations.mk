# voicetelemetry.integrations (examples-python/integrations/README.md): the Pipecat observer and the
# LiveKit AgentSession adapter, tested against the real frameworks from PyPI (requirements-test.txt).
# The tests load jsonl_sink.so and sqlite_sink.so (hence `plugins`). VT_REQUIRE_INTEGRATIONS=1: a
# framework that is not installed fails the suite instead of skipping. Not -q: the header names the
# installed framework versions.
TEST_SUITES += test-integrations

.PHONY: test-integrations
test-integrations: $(LIB) plugins
	VOICETELEMETRY_LIB=$(abspath $(LIB)) VT_REQUIRE_INTEGRATIONS=1 \
	    $(PYTHON) -m pytest -rs -p no:cacheprovider examples-python/tests/integrations
