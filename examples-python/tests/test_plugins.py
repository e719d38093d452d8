"""Events and sink plugins from Python: loading and refusals, emit and its validation, the exact
envelope and text redaction, the library's own events, statistics and their accounting identity,
the rate limit, the plugin directory. The sink is the repository's example, jsonl_sink.so.

Plugins, the rate limit and the plugin directory are process-global: every test unloads what it
loads (fixtures), and the autouse fixture restores the defaults and checks nothing is left loaded.
No sleep is an assertion: waits are flush_events() with a timeout or bounded polls of the stats.
"""
from __future__ import annotations

import gc
import json
import math
import shutil
import threading
import time
from ctypes import byref, c_size_t, sizeof
from pathlib import Path
from typing import Callable, Dict, List

import pytest

import voicetelemetry as vt
from voicetelemetry import _raw as R

ENVELOPE_KEYS = ["type_id", "session_id", "event_type", "correlation_id", "turn_id",
                 "timestamp_us", "timestamp_unix_us", "data"]
SEC = 1_000_000_000


def unix_us_of(snapshot: Dict, t_ns: int) -> int:
    """An event's timestamp_unix_us at ``t_ns`` on a session's clock: through the anchor its
    snapshot shows (start_unix_ns at start_ns), as tests/c/check.h's unix_us_of."""
    return (snapshot["start_unix_ns"] + t_ns - snapshot["start_ns"]) // 1000


def process_anchor_us() -> int:
    """The wall clock minus the monotonic clock, in microseconds: the anchor of events of no session
    (taken once by the library; the wall clock may have been slewed since, by far less than 50 ms)."""
    return (time.time_ns() - time.monotonic_ns()) // 1000


@pytest.fixture(autouse=True)
def clean_plugin_state():
    """Unlimited rate (tests set their own), no plugin dir, nothing loaded; restored after."""
    gc.collect()  # sessions other tests dropped end now, not in the middle of an exact count
    assert vt.list_plugins() == []
    vt.set_event_rate_limit(0)
    yield
    vt.set_event_rate_limit(R.VT_DEFAULT_EVENT_RATE_LIMIT)
    vt.set_plugin_dir(None)
    left = vt.list_plugins()
    for p in left:
        p.unload()
    assert left == [], f"test left plugins loaded: {left}"


@pytest.fixture
def load(jsonl_sink_so, tmp_path):
    """load(config=None, path=jsonl_sink) -> Plugin, unloaded at the end of the test."""
    loaded: List[vt.Plugin] = []

    def _load(config=None, path=None) -> vt.Plugin:
        p = vt.load_plugin(path or jsonl_sink_so, config)
        loaded.append(p)
        return p

    yield _load
    for p in loaded:
        p.unload()


@pytest.fixture
def sink(load, tmp_path):
    """A loaded jsonl_sink writing to tmp_path/events.jsonl: (plugin, reader of its events)."""
    out = tmp_path / "events.jsonl"
    plugin = load({"path": str(out), "health_interval_ms": 3_600_000})

    def events(event_type=None) -> List[Dict]:
        vt.flush_events(5.0)
        if not out.exists():
            return []
        evs = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
        return [e for e in evs if event_type is None or e["event_type"] == event_type]

    return Sink(plugin, out, events)


class Sink:
    """The loaded jsonl_sink of a test: ``plugin``, its file ``out``, ``events(type=None)``."""

    def __init__(self, plugin: vt.Plugin, out: Path, events: Callable[..., List[Dict]]):
        self.plugin, self.out, self.events = plugin, out, events
        self.id = plugin.id

    def stats(self) -> vt.PluginStats:
        return self.plugin.stats()


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """Poll ``predicate`` until true or about ``timeout_s`` passed (never a timing assertion)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def identity(st: vt.PluginStats) -> None:
    assert st.emitted == st.delivered + st.dropped + st.queued, st
    assert st.balanced


# ---- loading, listing, statistics, unloading ------------------------------------------------------


def test_load_list_stats_unload(jsonl_sink_so, tmp_path):
    p = vt.load_plugin(jsonl_sink_so, {"path": str(tmp_path / "a.jsonl")})
    try:
        assert p.id != 0 and p.loaded
        assert (p.name, p.version, p.path) == ("jsonl_sink", "1.0.0", str(jsonl_sink_so))
        assert vt.list_plugins() == [p]
        assert vt.list_plugins()[0] is p  # the same object comes back while it is alive
        assert vt.Plugin(p.id) is p
        st = p.stats()
        assert isinstance(st, vt.PluginStats)
        assert (st.id, st.name, st.version, st.disabled) == (p.id, "jsonl_sink", "1.0.0", False)
        assert st.queue_capacity == R.VT_DEFAULT_PLUGIN_QUEUE
        assert (st.emitted, st.delivered, st.dropped, st.queued, st.last_error) == (0, 0, 0, 0, "")
        assert st.dropped_by_reason == {"queue_full": 0, "rate_limited": 0, "too_large": 0,
                                        "plugin": 0, "disabled": 0}
        assert "jsonl_sink" in repr(p) and "loaded" in repr(p)
    finally:
        p.unload()
    assert not p.loaded and "unloaded" in repr(p)
    assert vt.list_plugins() == []
    with pytest.raises(vt.NotFoundError):
        p.stats()
    p.unload()  # idempotent
    p.unload()
    assert R.vt_unload_plugin(p.id) == R.VT_E_NOT_FOUND  # the library no longer knows the id
    # Ids are never reused.
    with vt.load_plugin(jsonl_sink_so, {"path": str(tmp_path / "b.jsonl")}) as q:
        assert q.id != p.id and q.loaded and q != p
    assert not q.loaded


def test_context_manager_unloads_on_error(jsonl_sink_so, tmp_path):
    with pytest.raises(RuntimeError):
        with vt.load_plugin(jsonl_sink_so, {"path": str(tmp_path / "x.jsonl")}) as p:
            raise RuntimeError("boom")
    assert not p.loaded and vt.list_plugins() == []


def test_config_forms_and_host_keys(load, tmp_path):
    out = tmp_path / "cfg.jsonl"
    p = load(json.dumps({"path": str(out), "queue_capacity": 20}))  # JSON text; rounded up
    assert p.stats().queue_capacity == 32
    p.unload()
    p = load(json.dumps({"path": str(out)}).encode(), )  # bytes
    assert p.stats().queue_capacity == R.VT_DEFAULT_PLUGIN_QUEUE
    p.unload()
    p = load({"path": str(out), "queue_capacity": R.VT_MAX_PLUGIN_QUEUE, "unknown": [1, {}]})
    assert p.stats().queue_capacity == R.VT_MAX_PLUGIN_QUEUE
    p.unload()
    # A dict config is sent as UTF-8 (not \u escapes, which jsonl_sink's small parser refuses).
    (tmp_path / "d\u00e9j\u00e0").mkdir()
    utf8_out = tmp_path / "d\u00e9j\u00e0" / "\u00e9v\u00e9nements.jsonl"
    load({"path": str(utf8_out)})
    vt.emit("cfg.utf8")
    vt.flush_events(5.0)
    assert json.loads(utf8_out.read_text())["event_type"] == "cfg.utf8"


def test_plugin_from_id_and_bad_ids(sink):
    assert vt.Plugin(sink.id) is sink.plugin
    for bad in (0, 12345, sink.id ^ 0x100):
        with pytest.raises(vt.NotFoundError):
            vt.Plugin(bad)
    for bad in (-1, 2 ** 64, "1", 1.5, None):
        with pytest.raises(vt.InvalidArgumentError):
            vt.Plugin(bad)  # type: ignore[arg-type]
    # The raw layer's answers for made-up ids.
    assert R.vt_unload_plugin(0) == R.VT_OK
    assert R.vt_unload_plugin(12345) == R.VT_E_NOT_FOUND
    s = R.vt_plugin_statistics()
    s.struct_size = sizeof(s)
    assert R.vt_plugin_stats(0, byref(s)) == R.VT_E_NOT_FOUND
    assert R.vt_plugin_stats(sink.id, None) == R.VT_E_INVALID_ARG
    s.struct_size = 4
    assert R.vt_plugin_stats(sink.id, byref(s)) == R.VT_E_INVALID_ARG


def test_unload_after_raw_unload_reports_not_found(jsonl_sink_so, tmp_path):
    p = vt.load_plugin(jsonl_sink_so, {"path": str(tmp_path / "r.jsonl")})
    assert R.vt_unload_plugin(p.id) == R.VT_OK
    with pytest.raises(vt.NotFoundError):
        p.unload()
    p.unload()  # and then it is a no-op


def test_raw_stats_struct_size_contract(sink):
    """An older, shorter struct: only the fields its struct_size covers are written."""
    s = R.vt_plugin_statistics()
    s.struct_size = R.vt_plugin_statistics.name.offset
    s.name = b"untouched"
    assert R.vt_plugin_stats(sink.id, byref(s)) == R.VT_OK
    assert s.id == sink.id and s.name == b"untouched"


def test_list_plugins_raw_contract(sink, load, hostile_so):
    other = load(path=hostile_so("minimal"))
    assert vt.list_plugins() == [sink.plugin, other]  # oldest first
    ids = (R.vt_plugin_id * 4)()
    n = c_size_t(0)
    assert R.vt_list_plugins(ids, 1, byref(n)) == R.VT_E_BUFFER_TOO_SMALL
    assert n.value == 2 and ids[0] == sink.id
    assert R.vt_list_plugins(None, 2, byref(n)) == R.VT_E_INVALID_ARG
    assert R.vt_list_plugins(ids, 4, None) == R.VT_E_INVALID_ARG


# ---- refusals ------------------------------------------------------------------------------------


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(vt.NotFoundError) as ei:
        vt.load_plugin(tmp_path / "does_not_exist.so")
    assert "does not exist" in ei.value.message


def test_world_writable_copy_is_refused(jsonl_sink_so, tmp_path):
    ww = tmp_path / "world_writable.so"
    shutil.copyfile(jsonl_sink_so, ww)
    ww.chmod(0o666)
    with pytest.raises(vt.PermissionRefusedError) as ei:
        vt.load_plugin(ww, {"path": str(tmp_path / "w.jsonl")})
    assert "world-writable" in ei.value.message
    assert ei.value.code == R.VT_E_PERMISSION


def test_not_a_shared_object_is_refused(tmp_path):
    text = tmp_path / "not_elf.so"
    text.write_text("not an ELF file\n")
    with pytest.raises(vt.PluginError) as ei:
        vt.load_plugin(text)
    assert "not a loadable shared object" in ei.value.message
    py = tmp_path / "plugin.py"
    py.write_text("print('hi')\n")
    with pytest.raises(vt.PluginError):
        vt.load_plugin(py)
    with pytest.raises(vt.PluginError) as ei:
        vt.load_plugin(tmp_path)  # a directory
    assert "not a regular file" in ei.value.message


def test_bad_path_and_config_arguments(jsonl_sink_so, tmp_path):
    for bad_path in ("", b"\xff\xfe.so", "a\x00b.so"):
        with pytest.raises(vt.InvalidArgumentError):
            vt.load_plugin(bad_path)
    for bad_config in ('{"path":', "[1]", b"1", {"path": float("nan")}, {"p": object()}, [1]):
        with pytest.raises(vt.InvalidArgumentError):
            vt.load_plugin(jsonl_sink_so, bad_config)  # type: ignore[arg-type]
    out = str(tmp_path / "x.jsonl")
    for host_key in ({"queue_capacity": 0}, {"queue_capacity": "big"},
                     {"queue_capacity": R.VT_MAX_PLUGIN_QUEUE + 1}):
        with pytest.raises(vt.InvalidArgumentError) as ei:
            vt.load_plugin(jsonl_sink_so, {"path": out, **host_key})
        assert "queue_capacity" in ei.value.message
    # jsonl_sink's own init failure, with its text in the message.
    with pytest.raises(vt.PluginError) as ei:
        vt.load_plugin(jsonl_sink_so, {})
    assert 'config needs "path"' in ei.value.message
    with pytest.raises(vt.PluginError) as ei:
        vt.load_plugin(jsonl_sink_so, None)
    assert vt.list_plugins() == []


def test_plugin_refusals_from_hostile_plugins(hostile_so):
    for variant, error, needle in (
        ("no_entry", vt.NotFoundError, "voicetelemetry_sink_plugin_v1"),
        ("wrong_abi", vt.PluginError, f"ABI 2.{R.VT_PLUGIN_ABI_MINOR} does not match"),  # hostile.c: 2.<minor>
        ("init_fails", vt.PluginError, "database unreachable at db.invalid:5432"),
    ):
        with pytest.raises(error) as ei:
            vt.load_plugin(hostile_so(variant))
        assert needle in ei.value.message, (variant, ei.value.message)


def test_duplicate_name_is_refused(sink, jsonl_sink_so, tmp_path):
    with pytest.raises(vt.PluginError) as ei:
        vt.load_plugin(jsonl_sink_so, {"path": str(tmp_path / "dup.jsonl")})
    assert "already loaded" in ei.value.message
    assert vt.list_plugins() == [sink.plugin]


def test_plugin_dir(jsonl_sink_so, tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    vt.set_plugin_dir(allowed)
    try:
        with pytest.raises(vt.PermissionRefusedError) as ei:
            vt.load_plugin(jsonl_sink_so, {"path": str(tmp_path / "d.jsonl")})
        assert "outside the plugin directory" in ei.value.message
        inside = allowed / "jsonl_sink.so"
        shutil.copyfile(jsonl_sink_so, inside)
        inside.chmod(0o755)
        with vt.load_plugin(inside, {"path": str(tmp_path / "d.jsonl")}) as p:
            assert p.name == "jsonl_sink"
        # ".." does not get around it.
        sneaky = allowed / ".." / "outside.so"
        shutil.copyfile(jsonl_sink_so, sneaky)
        sneaky.chmod(0o755)
        with pytest.raises(vt.PermissionRefusedError):
            vt.load_plugin(sneaky, {"path": str(tmp_path / "d.jsonl")})
        # Neither does a sibling whose name starts with the directory's, or a symbolic link.
        sibling = tmp_path / "allowed2"
        sibling.mkdir()
        shutil.copyfile(jsonl_sink_so, sibling / "p.so")
        (sibling / "p.so").chmod(0o755)
        (allowed / "link").symlink_to(sibling)
        for path in (sibling / "p.so", allowed / "link" / "p.so"):
            with pytest.raises(vt.PermissionRefusedError):
                vt.load_plugin(path, {"path": str(tmp_path / "d.jsonl")})
    finally:
        vt.set_plugin_dir(None)
    with pytest.raises(vt.NotFoundError):
        vt.set_plugin_dir(tmp_path / "no_such_dir")
    with pytest.raises(vt.InvalidArgumentError):
        vt.set_plugin_dir("")
    with vt.load_plugin(jsonl_sink_so, {"path": str(tmp_path / "d.jsonl")}):
        pass  # from anywhere again


# ---- emit: envelope, redaction, validation -------------------------------------------------------


def test_envelope_exact_and_text_redaction(sink):
    payload = {"text": "h\u00e9llo world", "nested": {"user_transcript": "secret", "n": 1},
               "context": "kept", "texts": ["kept too"], "agent_text": 7}
    with vt.Session(session_id='call-"7"') as redacted, \
            vt.Session(session_id="call-8", text_policy=vt.TextPolicy.INCLUDE,
                       max_text_chars=5) as included:
        redacted.emit("stt.result", payload, correlation_id="corr-1", turn_id="turn-1",
                      t_ns=1_234_567_890)
        vt.emit("stt.result", json.dumps(payload), session=included, t_ns=2_000_000_000)
        vt.emit("app.ping", t_ns=5_000)  # no session, no payload
        vt.emit("app.bytes", b'{"transcript":"abc","x":[true,null]}', t_ns=7_999)
        snap7, snap8 = redacted.snapshot(), included.snapshot()
    evs = sink.events()
    mine = [e for e in evs if e["event_type"] in ("stt.result", "app.ping", "app.bytes")]
    # Events of no session are on the process's anchor, which Python can only approximate.
    anchor_us = process_anchor_us()
    for e in mine[2:]:
        assert abs(e["timestamp_unix_us"] - e["timestamp_us"] - anchor_us) < 50_000, e
    no_session_unix = [e["timestamp_unix_us"] for e in mine[2:]]
    assert mine == [
        {"type_id": vt.EVENT_TYPE_ID, "session_id": 'call-"7"', "event_type": "stt.result",
         "correlation_id": "corr-1", "turn_id": "turn-1", "timestamp_us": 1_234_567,
         "timestamp_unix_us": unix_us_of(snap7, 1_234_567_890),
         "data": {"text": "[redacted 11 chars]",
                  "nested": {"user_transcript": "[redacted 6 chars]", "n": 1},
                  "context": "kept", "texts": ["kept too"], "agent_text": 7}},
        {"type_id": "core::telemetry/event@1", "session_id": "call-8", "event_type": "stt.result",
         "correlation_id": None, "turn_id": None, "timestamp_us": 2_000_000,
         "timestamp_unix_us": unix_us_of(snap8, 2_000_000_000),
         "data": {"text": "h\u00e9llo", "nested": {"user_transcript": "secre", "n": 1},
                  "context": "kept", "texts": ["kept too"], "agent_text": 7}},
        {"type_id": "core::telemetry/event@1", "session_id": None, "event_type": "app.ping",
         "correlation_id": None, "turn_id": None, "timestamp_us": 5,
         "timestamp_unix_us": no_session_unix[0], "data": {}},
        {"type_id": "core::telemetry/event@1", "session_id": None, "event_type": "app.bytes",
         "correlation_id": None, "turn_id": None, "timestamp_us": 7,
         "timestamp_unix_us": no_session_unix[1],
         "data": {"transcript": "[redacted 3 chars]", "x": [True, None]}},
    ]
    # One process anchor: the two events of no session, 2999 ns apart, are as far apart on the
    # wall clock (each cut to the microsecond).
    assert no_session_unix[1] - no_session_unix[0] in (2, 3)
    for e in evs:
        assert list(e) == ENVELOPE_KEYS  # key order as documented
    text = sink.out.read_text("utf-8")
    assert "secret" not in text and "world" not in text
    st = sink.stats()
    assert st.emitted == len(evs) and st.delivered == len(evs)  # 4 + 2 session.start + 2 .end
    identity(st)


def test_emit_now_and_session_id_generated(sink):
    with vt.Session() as s:
        before = vt.now_ns()
        s.emit("app.now")
        after = vt.now_ns()
        sid = s.session_id
    (e,) = sink.events("app.now")
    assert e["session_id"] == sid and sid.startswith("vt-")
    assert before // 1000 <= e["timestamp_us"] <= after // 1000


def test_core_events_session_start_end_interruption_usage(sink):
    with vt.Session(session_id="core-1", labels={"transport": "sip"}, start_t_ns=10 * SEC) as s:
        s.record_interruption(11 * SEC)
        s.record_interruption(11 * SEC + 1)
        s.record_usage(total=30, prompt=20, response=10)
        s.record_vad_end(11 * SEC + 500_000_000)
        s.record_audio_out(320, 12 * SEC)
        final = s.snapshot()
    evs = [e for e in sink.events() if e["session_id"] == "core-1"]
    # The vad_end -> agent audio exchange is a turn too: it completes when the session ends.
    assert [e["event_type"] for e in evs] == ["session.start", "interruption", "interruption",
                                              "usage", "turn.complete", "session.end"]
    start, i1, i2, usage, turn, end = evs
    assert turn["turn_id"] == str(turn["data"]["turn_id"]) == "1"
    assert turn["timestamp_us"] == 12_000_000
    assert (turn["data"]["completed_by"], turn["data"]["e2e_latency_ns"]) == ("session_end",
                                                                             500_000_000)
    assert start["timestamp_us"] == 10_000_000
    assert start["data"]["labels"] == {"transport": "sip"}
    assert (i1["timestamp_us"], i1["data"]) == (11_000_000, {"interruptions": 1})
    assert (i2["timestamp_us"], i2["data"]) == (11_000_000, {"interruptions": 2})
    assert usage["data"] == {"total": 30, "prompt": 20, "response": 10, "cached": None,
                             "thoughts": None}
    # session.end carries the final snapshot (as vt_snapshot_json): equal to the one read just
    # before the end, apart from what depends on the reading time and the turn the end completed.
    snap = end["data"]
    assert snap["schema_version"] == 1 and snap["session_id"] == "core-1"
    assert snap["audio_bytes_out"] == 320 and snap["interruptions"] == 2
    assert snap["last_response_latency_ms"] == 500
    assert snap["total_token_count"] == 30
    assert set(snap) == set(final)
    assert snap["turns"]["completed"] == final["turns"]["completed"] + 1 == 1
    assert snap["turns"]["last"]["e2e_latency_ns"] == 500_000_000
    now_dependent = {"uptime_secs", "audio_throughput_kbps", "turns"}
    assert {k: v for k, v in snap.items() if k not in now_dependent} == \
        {k: v for k, v in final.items() if k not in now_dependent}
    st = sink.stats()
    assert (st.emitted, st.delivered) == (6, 6)
    identity(st)


def test_core_events_cost_nothing_without_plugins(tmp_path, load):
    with vt.Session(session_id="before-load") as s:
        s.record_interruption()
        p = load({"path": str(tmp_path / "late.jsonl")})
        s.record_interruption()  # emitted: a plugin is loaded now
    vt.flush_events(5.0)
    evs = [json.loads(x) for x in (tmp_path / "late.jsonl").read_text().splitlines()]
    assert [e["event_type"] for e in evs] == ["interruption", "session.end"]
    assert evs[0]["data"] == {"interruptions": 2}
    assert p.stats().emitted == 2


def test_emit_validation_without_plugins():
    """Validation happens whether or not a plugin is loaded."""
    vt.emit("x.y", {"a": 1})
    vt.emit("x.y")
    vt.emit("x.y", ' { "k" : [ 1 , -2.5e+3 , true , null ] } ')
    for bad in ("", "[]", "1", '"s"', "{", '{"a":}', '{"a":1,}', "{a:1}", '{"a":01}', '{"a":NaN}',
                '{"a":1} x', b'{"a":"\xc3"}', b'{"a":"\xed\xa0\x80"}'):
        with pytest.raises(vt.InvalidArgumentError):
            vt.emit("t", bad)
    with pytest.raises(vt.InvalidArgumentError) as ei:
        vt.emit("t", '{"a":01}')
    assert "leading zero" in ei.value.message
    deep = '{"a":' + "[" * 64 + "]" * 64 + "}"
    with pytest.raises(vt.InvalidArgumentError) as ei:
        vt.emit("t", deep)
    assert "deeper than 64" in ei.value.message
    vt.emit("t", '{"a":' + "[" * 63 + "]" * 63 + "}")
    # The binding's own checks: what cannot be JSON, or not a JSON object, or a NUL in the text.
    for bad in ([1, 2], 3, {"a": float("nan")}, {"a": math.inf}, {"a": {1, 2}}, '{"a":1}\x00{',
                {"s": "\udcff"}):
        with pytest.raises(vt.InvalidArgumentError):
            vt.emit("t", bad)  # type: ignore[arg-type]
    # Event types and ids.
    for bad_type in ("", "has space", 'quote"', "a" * (R.VT_MAX_EVENT_TYPE_BYTES + 1), None, 5):
        with pytest.raises(vt.InvalidArgumentError):
            vt.emit(bad_type)  # type: ignore[arg-type]
    vt.emit("A-z_0.9:/-" + "a" * (R.VT_MAX_EVENT_TYPE_BYTES - 10))
    with pytest.raises(vt.InvalidArgumentError):
        vt.emit("t", correlation_id="i" * (R.VT_MAX_EVENT_ID_BYTES + 1))
    vt.emit("t", correlation_id="i" * R.VT_MAX_EVENT_ID_BYTES, turn_id="\u00e9")
    with pytest.raises(vt.InvalidArgumentError):
        vt.emit("t", turn_id="\udcff")  # a lone surrogate is not UTF-8
    for bad_t in (-1, 2 ** 64, 1.5, "0"):
        with pytest.raises(vt.InvalidArgumentError):
            vt.emit("t", t_ns=bad_t)  # type: ignore[arg-type]
    # Sessions.
    with pytest.raises(vt.BadHandleError):
        vt.emit("t", session=12345)
    s = vt.Session()
    s.end()
    with pytest.raises(vt.BadHandleError):
        s.emit("t")
    with pytest.raises(vt.BadHandleError):
        vt.emit("t", session=s)


def test_invalid_payload_forwards_nothing(sink):
    with pytest.raises(vt.InvalidArgumentError):
        vt.emit("bad.payload", '{"a":')
    with pytest.raises(vt.InvalidArgumentError):
        vt.emit("bad.payload", {"a": float("nan")})
    assert sink.events() == [] and sink.stats().emitted == 0


def test_too_large_is_limit_error_and_counted(sink):
    vt.emit("app.big", {"a": "x" * (R.VT_MAX_EVENT_BYTES - 200)})  # fits with its envelope
    with pytest.raises(vt.LimitError):
        vt.emit("app.big", {"a": "x" * R.VT_MAX_EVENT_BYTES})
    evs = sink.events("app.big")
    assert len(evs) == 1
    st = sink.stats()
    assert (st.emitted, st.delivered, st.dropped_too_large, st.queued) == (2, 1, 1, 0)
    assert st.dropped_by_reason["too_large"] == 1
    identity(st)


# ---- statistics, rate limit, delivery ------------------------------------------------------------


def test_accounting_identity_under_concurrent_emit(load, tmp_path):
    """4 threads emit into a small queue: whatever is dropped, the books balance after a flush."""
    out = tmp_path / "many.jsonl"
    p = load({"path": str(out), "queue_capacity": 16, "health_interval_ms": 3_600_000})
    n_threads, per_thread = 4, 2000
    barrier = threading.Barrier(n_threads)
    errors: List[BaseException] = []

    def work(k: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                vt.emit("load.x", {"k": k, "i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    vt.flush_events(10.0)
    st = p.stats()
    assert st.emitted == n_threads * per_thread
    assert st.queued == 0
    assert st.dropped == st.dropped_queue_full  # the only possible reason here
    identity(st)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert sum(1 for e in lines if e["event_type"] == "load.x") == st.delivered
    # Per thread, what survived is in emission order (a queue drops its oldest, never reorders).
    for k in range(n_threads):
        seq = [e["data"]["i"] for e in lines if e["event_type"] == "load.x" and e["data"]["k"] == k]
        assert seq == sorted(seq)


def test_rate_limit(sink):
    vt.set_event_rate_limit(5)
    for i in range(12):
        vt.emit("rl.a", t_ns=100 * SEC + i)
    for _ in range(3):
        vt.emit("rl.b", t_ns=100 * SEC)
    for _ in range(6):
        vt.emit("rl.a", t_ns=101 * SEC)
    assert len(sink.events("rl.a")) == 10 and len(sink.events("rl.b")) == 3
    st = sink.stats()
    assert (st.emitted, st.delivered, st.dropped_rate_limited) == (21, 13, 8)
    identity(st)
    # The library's own events are not rate limited.
    vt.set_event_rate_limit(1)
    with vt.Session(session_id="rl-s", start_t_ns=200 * SEC) as s:
        for i in range(5):
            s.record_interruption(200 * SEC + i)
    assert len([e for e in sink.events("interruption") if e["session_id"] == "rl-s"]) == 5
    # 0 = unlimited; limits.
    vt.set_event_rate_limit(0)
    for _ in range(300):
        vt.emit("rl.c", t_ns=300 * SEC)
    assert len(sink.events("rl.c")) == 300
    vt.set_event_rate_limit(1_000_000)
    for bad in (1_000_001, 2 ** 32, -1, 1.5, "5"):
        with pytest.raises(vt.InvalidArgumentError):
            vt.set_event_rate_limit(bad)  # type: ignore[arg-type]


def test_health_events_while_dropping(load, tmp_path):
    out = tmp_path / "health.jsonl"
    p = load({"path": str(out), "health_interval_ms": 20})
    vt.set_event_rate_limit(2)
    for _ in range(10):
        vt.emit("h.x", t_ns=500 * SEC)
    assert wait_for(lambda: p.stats().health_events >= 1), p.stats()
    vt.flush_events(5.0)
    st = p.stats()
    assert (st.emitted, st.delivered, st.dropped_rate_limited) == (10, 2, 8)
    identity(st)
    health = [e for e in map(json.loads, out.read_text().splitlines())
              if e["event_type"] == "telemetry.health"]
    assert health and health[0]["session_id"] is None
    assert health[0]["data"]["plugin"] == "jsonl_sink"
    assert health[0]["data"]["dropped"]["rate_limited"] == 8


def test_fatal_plugin_is_disabled_others_keep_going(sink, load, hostile_so):
    fatal = load(path=hostile_so("fatal"))
    for _ in range(20):
        vt.emit("f.x")
    vt.flush_events(5.0)
    st = fatal.stats()
    assert st.disabled and st.emitted == 20 and st.dropped_disabled == 20 and st.delivered == 0
    assert "FATAL" in st.last_error
    identity(st)
    assert len(sink.events("f.x")) == 20
    prom = vt.prom_text()
    assert 'voicetelemetry_plugin_disabled{plugin="fatal"} 1' in prom
    assert 'voicetelemetry_plugin_events_delivered_total{plugin="jsonl_sink"} 20' in prom


def test_flush_timeout_is_limit_error(load, hostile_so):
    stuck = load({"drain_timeout_ms": 100}, path=hostile_so("retry"))
    vt.emit("s.x")
    with pytest.raises(vt.LimitError) as ei:
        vt.flush_events(0.1)
    assert "flush timed out" in ei.value.message
    st = stuck.stats()
    assert st.emitted == 1 and st.delivered == 0 and st.queued == 1
    identity(st)
    stuck.unload()  # drains until its 100 ms deadline, then counts the rest as "disabled"
    for bad in (-1, float("nan"), float("inf"), "1", None):
        with pytest.raises(vt.InvalidArgumentError):
            vt.flush_events(bad)  # type: ignore[arg-type]
    vt.flush_events(0)


def test_flush_and_load_release_the_gil(load, hostile_so):
    """A blocked flush does not stop other Python threads (CDLL releases the GIL)."""
    load({"drain_timeout_ms": 100}, path=hostile_so("retry"))
    vt.emit("g.x")
    ticks = []
    done = threading.Event()

    def spin():
        while not done.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=spin)
    t.start()
    try:
        n0 = len(ticks)
        with pytest.raises(vt.LimitError):
            vt.flush_events(0.3)
        assert len(ticks) > n0  # the other thread ran while this one waited in C
    finally:
        done.set()
        t.join()


def test_session_end_event_with_turns(sink):
    """turn.complete goes out too, with the turn record (texts per the session's policy)."""
    S, M = vt.TurnStage, vt.TurnMark
    with vt.Session(session_id="turny", start_t_ns=SEC) as s:
        s.turn_mark(S.USER_SPEECH, M.START, SEC)
        s.turn_mark(S.USER_SPEECH, M.END, 2 * SEC)
        s.turn_text(vt.TurnTextKind.USER_TRANSCRIPT, "top secret words", 2 * SEC)
        s.turn_mark(S.AGENT_SPEECH, M.START, 3 * SEC)
        s.turn_mark(S.AGENT_SPEECH, M.END, 4 * SEC)
        last = s.last_turn()
    turns = [e for e in sink.events("turn.complete") if e["session_id"] == "turny"]
    assert len(turns) == 1
    assert turns[0]["data"] == last
    assert "top secret" not in sink.out.read_text()


# ---- library bugs found while writing the binding, fixed since: regression tests ----


def test_escaped_transcript_key_is_redacted(sink):
    with vt.Session(session_id="esc-key") as s:  # text_policy REDACT (the default)
        s.emit("bug.key", r'{"te\u0078t":"secret words","user_\u0074ext":"more secret"}')
    (e,) = sink.events("bug.key")
    assert "secret" not in json.dumps(e)


def test_surrogate_pair_escapes_count_as_one_character(sink):
    six = "\U0001F600" * 6
    text = json.dumps({"text": six})  # ensure_ascii=True: "\ud83d\ude00" x 6
    with vt.Session(session_id="sp-red") as red, \
            vt.Session(session_id="sp-inc", text_policy=vt.TextPolicy.INCLUDE,
                       max_text_chars=5) as inc:
        red.emit("bug.sp", text)
        inc.emit("bug.sp", text)
        inc.emit("bug.sp.utf8", {"text": six})  # the same text as UTF-8: handled right
    by_session = {e["session_id"]: e["data"]["text"] for e in sink.events("bug.sp")}
    (utf8,) = sink.events("bug.sp.utf8")
    assert utf8["data"]["text"] == "\U0001F600" * 5
    assert by_session["sp-red"] == "[redacted 6 chars]"
    assert by_session["sp-inc"] == "\U0001F600" * 5
