"""The event contract, driven through the plugin table with scripted lines (tests/otlp/fakehost.py):
the session anchor (start_unix_ns/start_ns, else the envelope's timestamp_unix_us, else the plugin's
clocks), a W3C traceparent, metadata, key order, unknown keys and types, malformed lines, sessions the
plugin never saw start, the bounded session map, and the configuration and its environment."""
from __future__ import annotations

import json
import os
import time

import pytest

from conftest import SO, attrs, read_stats
from fakehost import FakeHost, envelope

MS = 1_000_000
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def record(turn_id=1, start=2_000 * MS, end=4_000 * MS, **extra):
    rec = {"schema_version": 1, "session_id": "s", "turn_id": turn_id, "outcome": "completed",
           "completed_by": "agent_speech_end", "start_ns": start, "end_ns": end,
           "user_speech": {"start_ns": start, "end_ns": start + 500 * MS, "duration_ns": 500 * MS},
           "agent_speech": {"start_ns": start + 900 * MS, "end_ns": end, "duration_ns": end - start - 900 * MS},
           "errors": {}, "tool_calls": [], "fallbacks": []}
    rec.update(extra)
    return rec


def start_event(sid, ts_us, **data):
    return envelope("session.start", sid, ts_us, {"labels": {"transport": "sip"}, "text_policy": "redact", **data})


def host(receiver, tmp_path, **cfg):
    config = {"endpoint": receiver.endpoint, "metrics": False, "stats_path": str(tmp_path / "st.json")}
    config.update(cfg)
    return FakeHost(str(SO), config)


def spans_by_name(receiver):
    return {s.name: s for _, s in receiver.spans()}


def test_anchor_traceparent_metadata(receiver, tmp_path):
    start_ns, start_unix = 5_000_000, 1_764_000_000_123_456_789
    h = host(receiver, tmp_path)
    try:
        assert h.write([
            start_event("call-1", 5_000, start_ns=start_ns, start_unix_ns=start_unix,
                        metadata={"tenant": "acme", "priority": 3, "beta": True},
                        traceparent=f"00-{TRACE}-{PARENT}-01"),
            envelope("turn.complete", "call-1", 4_000_000, record(), turn_id="1"),
        ]) == 0
        # key order is free and unknown keys are ignored
        end = {"data": {"schema_version": 1, "future": {"x": [1, 2]}}, "timestamp_us": 9_000_000,
               "event_type": "session.end", "session_id": "call-1", "extra": None, "type_id": "core::telemetry/event@1"}
        assert h.write([end]) == 0
        assert h.flush() == 0
    finally:
        h.shutdown()
    by = spans_by_name(receiver)
    root, turn = by["voice_session"], by["invoke_agent"]
    ux = lambda t: start_unix + (t - start_ns)  # noqa: E731
    assert root.trace_id.hex() == TRACE and root.parent_span_id.hex() == PARENT
    assert {s.trace_id.hex() for s in by.values()} == {TRACE}
    assert (root.start_time_unix_nano, root.end_time_unix_nano) == (start_unix, ux(9_000_000_000))
    assert (turn.start_time_unix_nano, turn.end_time_unix_nano) == (ux(2_000 * MS), ux(4_000 * MS))
    assert (by["user_speech"].start_time_unix_nano, by["user_speech"].end_time_unix_nano) == (ux(2_000 * MS), ux(2_500 * MS))
    a = attrs(root)
    assert (a["voicetelemetry.metadata.tenant"], a["voicetelemetry.metadata.priority"], a["voicetelemetry.metadata.beta"],
            a["voicetelemetry.label.transport"], a["voicetelemetry.session.text_policy"]) == ("acme", 3, True, "sip", "redact")


def test_anchor_from_envelope_unix_time(receiver, tmp_path):
    h = host(receiver, tmp_path, protocol="http/json")
    unix0 = 1_764_000_000_000_000  # µs
    try:
        h.write([envelope("session.start", "c2", 1_000, {"labels": {}}, unix_us=unix0),
                 envelope("turn.complete", "c2", 4_000_000, record(), unix_us=unix0 + 3_999_000),
                 envelope("session.end", "c2", 5_000_000, {}, unix_us=unix0 + 4_999_000),
                 envelope("session.start", "c3", 1_000, {}, unix_us=unix0),
                 envelope("session.end", "c3", 9_000_000, {"end_ns": 6_000_000_000}, unix_us=unix0 + 8_999_000)])
        h.flush()
    finally:
        h.shutdown()
    by = {(s.name, attrs(s).get("gen_ai.conversation.id")): s for _, s in receiver.spans()}
    by["voice_session"] = by[("voice_session", "c2")]
    by["invoke_agent"] = by[("invoke_agent", "c2")]
    off = (unix0 - 1_000) * 1000
    # the session's own end time (data end_ns, session clock) wins over the envelope's
    assert by[("voice_session", "c3")].end_time_unix_nano == 6_000_000_000 + off
    assert by["voice_session"].start_time_unix_nano == 1_000_000 + off
    assert by["invoke_agent"].start_time_unix_nano == 2_000 * MS + off
    assert by["voice_session"].end_time_unix_nano == 5_000_000_000 + off


def test_trace_id_from_the_core(receiver, tmp_path):
    """session.start's trace_id (the id the core shows in the snapshot) is the trace's, parent_span_id
    the root's parent; an invalid id is replaced by a random one."""
    h = host(receiver, tmp_path)
    try:
        h.write([start_event("t1", 1_000, trace_id=TRACE), start_event("t2", 1_000, trace_id="xyz"),
                 start_event("t3", 1_000, trace_id=TRACE, parent_span_id=PARENT, clock="media"),
                 start_event("t4", 1_000, trace_id=None, parent_span_id=PARENT),
                 envelope("session.end", "t1", 2_000, {}), envelope("session.end", "t2", 2_000, {}),
                 envelope("session.end", "t3", 2_000, {}), envelope("session.end", "t4", 2_000, {})])
        h.flush()
    finally:
        h.shutdown()
    roots = {attrs(s)["gen_ai.conversation.id"]: s for _, s in receiver.spans()}
    assert roots["t1"].trace_id.hex() == TRACE and roots["t1"].parent_span_id == b""
    assert roots["t2"].trace_id.hex() not in (TRACE, "0" * 32) and len(roots["t2"].trace_id) == 16
    # the core's form of a joined trace: trace_id and the caller's parent_span_id
    assert (roots["t3"].trace_id.hex(), roots["t3"].parent_span_id.hex()) == (TRACE, PARENT)
    assert attrs(roots["t3"])["voicetelemetry.session.clock"] == "media"
    assert roots["t4"].parent_span_id == b"" and roots["t4"].trace_id.hex() != TRACE  # no trace: no parent


def test_anchor_from_own_clocks_and_bad_traceparent(receiver, tmp_path):
    h = host(receiver, tmp_path)
    try:
        h.write([start_event("c3", 1_000, traceparent="00-" + "0" * 32 + "-" + PARENT + "-01"),
                 envelope("session.end", "c3", 2_000_000, {})])
        h.flush()
    finally:
        h.shutdown()
    root = spans_by_name(receiver)["voice_session"]
    assert root.parent_span_id == b"" and root.trace_id.hex() != "0" * 32 and len(root.trace_id) == 16
    off = root.start_time_unix_nano - 1_000_000
    assert abs(off - (time.time_ns() - time.monotonic_ns())) < 1_000_000_000
    assert root.end_time_unix_nano - root.start_time_unix_nano == 1_999_000_000


def test_unknown_session_bad_lines_and_ignored_types(receiver, tmp_path):
    h = host(receiver, tmp_path)
    try:
        lines = [envelope("turn.complete", "late", 4_000_000, record()),
                 envelope("custom.thing", "late", 4_100_000, {"a": 1}),
                 envelope("telemetry.health", None, 4_200_000, {"plugin": "otlp_sink", "dropped_since_last": 1})]
        assert h.write(lines, dropped_before=7) == 0
        # a malformed line in a batch costs only that line
        text = b'{"event_type": "session.end", "session_id": "late", "timestamp_us": 6000000, "data": {}}\n{nope\n'
        import ctypes
        from fakehost import Batch
        b = Batch(ctypes.sizeof(Batch), 2, text, len(text), 99, 0, 1, 0)
        assert h.table.write(h.state, ctypes.byref(b)) == 0
        h.flush()
    finally:
        h.shutdown()
    by = spans_by_name(receiver)
    root = by["voice_session"]
    assert attrs(root)["voicetelemetry.session.start_seen"] is False
    assert root.start_time_unix_nano == by["invoke_agent"].start_time_unix_nano  # starts with its first turn
    assert by["invoke_agent"].parent_span_id == root.span_id
    st = read_stats(tmp_path / "st.json")
    assert st["events"] == {"seen": 5, "used": 3, "ignored": 1, "bad": 1, "lost": 0, "host_dropped_before": 7}
    assert [(e.name, attrs(e)) for e in root.events] == [("custom.thing", {"a": 1})]
    assert st["sessions"] == {"started": 0, "ended": 1, "evicted": 0, "untracked": 1}


def test_bounded_session_map_and_unload(receiver, tmp_path):
    h = host(receiver, tmp_path, max_sessions=2)
    try:
        h.write([start_event(f"m{i}", 1_000 * (i + 1)) for i in range(3)])  # m0 is evicted
        h.write([envelope("turn.complete", "m1", 4_000_000, record())])
        h.flush()
        names = [(attrs(s)["gen_ai.conversation.id"], attrs(s).get("voicetelemetry.session.incomplete"))
                 for _, s in receiver.spans() if s.name == "voice_session"]
        assert names == [("m0", True)]
    finally:
        h.shutdown()  # m1 and m2 are still open: their roots go out, marked incomplete
    roots = {attrs(s)["gen_ai.conversation.id"]: s for _, s in receiver.spans() if s.name == "voice_session"}
    assert sorted(roots) == ["m0", "m1", "m2"]
    assert roots["m1"].end_time_unix_nano - roots["m1"].start_time_unix_nano == 4_000 * MS - 2_000_000
    st = read_stats(tmp_path / "st.json")
    assert st["sessions"]["evicted"] == 1 and st["spans"]["created"] == st["spans"]["exported"] == 3 + 3


@pytest.mark.parametrize("cfg,msg", [
    ({"protocol": "grpc"}, '"protocol" must be "http/protobuf" or "http/json"'),
    ({"compression": "zstd"}, '"compression" must be "gzip" or "none"'),
    ({"span_names": "jaeger"}, '"span_names" must be "otel" or "videosdk"'),
    ({"metrics_temporality": "lowmemory"}, '"metrics_temporality" must be "cumulative" or "delta"'),
    ({"endpoint": "127.0.0.1:4318"}, '"endpoint" must be an http:// or https:// URL'),
    ({"timeout_ms": 0}, 'config "timeout_ms" must be an integer'),
    ({"headers": ["x"]}, 'config "headers" must be an object of strings'),
    ({"resource": "x"}, 'config "resource" must be an object'),
])
def test_bad_config_is_refused(cfg, msg):
    with pytest.raises(RuntimeError) as e:
        FakeHost(str(SO), cfg)
    assert msg in str(e.value)


def test_environment_when_config_is_silent(receiver, tmp_path, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint + "/")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=se%20cret,x-team = voice")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging,service.name=ignored")
    h = FakeHost(str(SO), {"metrics": False, "stats_path": str(tmp_path / "st.json")})
    try:
        h.write([start_event("e1", 1_000), envelope("session.end", "e1", 2_000, {})])
        h.flush()
    finally:
        h.shutdown()
    (res, span), = receiver.spans()
    req = receiver.traces_requests()[0]
    assert (req.content_type, req.encoding) == ("application/json", "")
    assert req.headers["x-api-key"] == "se cret" and req.headers["x-team"] == "voice"
    assert attrs(res)["service.name"] == "from-env" and attrs(res)["deployment.environment"] == "staging"


def test_config_wins_over_environment(receiver, tmp_path, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    h = FakeHost(str(SO), {"endpoint": receiver.endpoint, "protocol": "http/protobuf", "service_name": "from-config",
                           "headers": {"authorization": "Bearer t0k"}, "metrics": False})
    try:
        h.write([start_event("e2", 1_000), envelope("session.end", "e2", 2_000, {})])
        assert h.flush() == 0
    finally:
        h.shutdown()
    (res, _), = receiver.spans()
    req = receiver.traces_requests()[0]
    assert (req.content_type, req.encoding) == ("application/x-protobuf", "gzip")
    assert attrs(res)["service.name"] == "from-config"
    assert req.headers["authorization"] == "Bearer t0k"


def test_other_events_are_root_span_events(receiver, tmp_path):
    h = host(receiver, tmp_path, max_session_events=3, protocol="http/json")
    try:
        h.write([start_event("ev1", 1_000, start_ns=1_000_000, start_unix_ns=1_764_000_000_000_000_000),
                 envelope("usage", "ev1", 2_000, {"total": 30, "prompt": 20, "response": 10, "cached": None}),
                 envelope("interruption", "ev1", 3_000, {"interruptions": 1}),
                 envelope("llm.response", "ev1", 4_000, {"model": "m", "ok": True, "latency_s": 0.25,
                                                          "nested": {"x": 1}, "tags": ["a", "b"]}),
                 envelope("custom.late", "ev1", 5_000, {}),
                 envelope("custom.later", "ev1", 6_000, {}),
                 envelope("session.end", "ev1", 7_000, {})])
        h.flush()
    finally:
        h.shutdown()
    (_, root), = receiver.spans()
    ux = lambda us: 1_764_000_000_000_000_000 + us * 1000 - 1_000_000  # noqa: E731
    assert [(e.name, e.time_unix_nano, attrs(e)) for e in root.events] == [
        ("usage", ux(2_000), {"total": 30, "prompt": 20, "response": 10}),
        ("interruption", ux(3_000), {"interruptions": 1}),
        ("llm.response", ux(4_000), {"model": "m", "ok": True, "latency_s": 0.25, "tags": ["a", "b"]})]
    assert root.dropped_events_count == 2


def test_mutated_lines_never_break_the_plugin(receiver, tmp_path):
    """Seeded byte mutations and truncations of a real turn record: every line is counted (used, ignored
    or bad), the plugin keeps sending, and whatever it sends decodes."""
    import random
    rnd = random.Random(11)
    good = json.dumps(envelope("turn.complete", "fz", 4_000_000, record(tool_calls=[
        {"name": "t\u00e9", "kind": "mcp", "ok": False, "start_ns": 1, "end_ns": None}])), separators=(",", ":"))
    lines = []
    for i in range(400):
        b = bytearray(good.encode())
        for _ in range(rnd.randint(1, 4)):
            op, at = rnd.random(), rnd.randrange(len(b))
            if op < 0.4:
                b[at] = rnd.choice(b'{}[]":,0123456789-eE.nulltruefalse\\u\xc3\xa9\x80\xff ')
            elif op < 0.7:
                del b[at:at + rnd.randint(1, 40)]
            else:
                b[at:at] = bytes(rnd.choice([b'null', b'"x"', b'[]', b'{}', b'1e999', b'-0', b'\\u00']))
        lines.append(bytes(b).replace(b"\n", b" "))
    h = host(receiver, tmp_path)
    import ctypes
    from fakehost import Batch
    try:
        for i in range(0, 400, 50):
            text = b"".join(l + b"\n" for l in lines[i:i + 50])
            b = Batch(ctypes.sizeof(Batch), 50, text, len(text), i + 1, 0, 1, 0)
            assert h.table.write(h.state, ctypes.byref(b)) == 0
        assert h.write([start_event("after", 1_000), envelope("session.end", "after", 2_000, {})]) == 0
        assert h.flush() == 0
    finally:
        h.shutdown()
    st = read_stats(tmp_path / "st.json")
    e = st["events"]
    assert e["seen"] == 402 and e["used"] + e["ignored"] + e["bad"] == 402 and e["bad"] > 100
    assert st["spans"]["created"] == st["spans"]["exported"] > 0
    assert any(s.name == "voice_session" and attrs(s)["gen_ai.conversation.id"] == "after" for _, s in receiver.spans())


def test_genai_duration_of_a_failed_call_has_error_type(receiver, tmp_path):
    h = host(receiver, tmp_path, metrics=True, metrics_interval_ms=0)
    llm = {"provider": "p", "model": "m", "start_ns": 1, "first_token_ns": 2, "end_ns": 500_000_001, "ttft_ns": 1,
           "duration_ns": 500_000_000}
    try:
        h.write([envelope("turn.complete", "g1", 1, record(llm=llm, errors={"llm": 2})),
                 envelope("turn.complete", "g1", 2, record(turn_id=2, llm=llm))])
        h.flush()
    finally:
        h.shutdown()
    m = next(m for m in receiver.metric_requests()[-1].resource_metrics[0].scope_metrics[0].metrics
             if m.name == "gen_ai.client.operation.duration")
    got = sorted((attrs(p).get("error.type", ""), p.count, p.sum) for p in m.histogram.data_points)
    assert got == [("", 1, 0.5), ("_OTHER", 1, 0.5)]
