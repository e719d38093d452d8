"""voicetelemetry.hooks: in-process callbacks on the events (an in-process plugin, vt_load_plugin_table).

Every test synchronises with vt.flush_events() (all events emitted before it have been through the
callbacks when it returns); nothing sleeps.
"""
from __future__ import annotations

import ctypes
import logging
import threading
from typing import Any, Dict, List, Tuple

import pytest

import voicetelemetry as vt
from voicetelemetry import _raw as R

SEC = 1_000_000_000
MS = 1_000_000
S, M = vt.TurnStage, vt.TurnMark


@pytest.fixture(autouse=True)
def no_plugins_left():
    yield
    assert vt.list_plugins() == [], "a test left a plugin loaded"


def unix_us(snap: Dict[str, Any], t_ns: int) -> int:
    return (snap["start_unix_ns"] + t_ns - snap["start_ns"]) // 1000


def test_table_layout_mirrors_the_plugin_header():
    P = ctypes.sizeof(ctypes.c_void_p)
    T, B = R.vt_plugin_table, R.vt_sink_batch
    assert (T.abi_minor.offset, T.name.offset, T.version.offset) == (8, 16, 16 + P)
    assert (T.init.offset, T.write.offset, T.flush.offset, T.shutdown.offset) == \
        (16 + 2 * P, 16 + 3 * P, 16 + 4 * P, 16 + 5 * P)
    assert (B.n_events.offset, B.data.offset, B.len.offset) == (4, 8, 8 + P)
    assert (B.sequence.offset, B.dropped_before.offset, B.attempt.offset) == (8 + 2 * P, 16 + 2 * P, 24 + 2 * P)
    assert R.vt_host_api.log.offset == 16 and R.vt_host_api.snapshot_json.offset == 16 + 4 * P
    assert R.vt_host_api.prom_text_as.offset == 16 + 5 * P  # ABI 1.1: four more, past the 1.0 end
    if P == 8:
        assert (ctypes.sizeof(T), ctypes.sizeof(B), ctypes.sizeof(R.vt_host_api)) == (64, 48, 88)


def test_priority_order_exact_events_errors_and_stats(caplog):
    """The seed's hooks: callbacks at different priorities on a scripted call; every event exact."""
    calls: List[Tuple[str, str]] = []  # (callback, event_type) for the session's events
    seen: Dict[str, List[Dict[str, Any]]] = {}  # what each callback saw
    threads = set()

    def recorder(tag: str):
        def callback(event: Dict[str, Any]) -> None:
            threads.add(threading.get_ident())
            if event["session_id"] == "hooks-1":
                calls.append((tag, event["event_type"]))
                seen.setdefault(tag, []).append(event)
        return callback

    def boom(event: Dict[str, Any]) -> None:
        recorder("boom")(event)
        raise ValueError(f"hook failed on {event['data']['role']}")

    hooks = vt.Hooks("pytest_hooks")
    hooks.on("*", recorder("all_low"), priority=-5)
    hooks.on_message(recorder("msg_a"))                    # priority 0, registered first
    hooks.on("message", boom, priority=5)
    hooks.on("*", recorder("all_high"), priority=10)
    hooks.on("message", recorder("msg_b"))                 # priority 0, registered second
    hooks.on_session_start(recorder("start"), priority=10)  # ties with all_high: registered later
    hooks.on_session_end(recorder("end"))
    hooks.on_turn_complete(recorder("turn"))
    hooks.on_step_start(recorder("step"))
    hooks.on_reward(recorder("reward"))
    assert hooks.callbacks("message")[1] is boom and len(hooks.callbacks("message")) == 5

    caplog.set_level(logging.ERROR, logger="voicetelemetry.hooks")
    with hooks:
        assert hooks.loaded and hooks.id != 0
        s = vt.Session(session_id="hooks-1", clock=vt.Clock.MEDIA, start_t_ns=1 * SEC,
                       text_policy=vt.TextPolicy.INCLUDE, labels={"transport": "sip"})
        s.step_start("lookup", {"tool": "orders"}, 1100 * MS)
        s.record_message("tool", {"order": 42, "status": "shipped"}, t_ns=1200 * MS)
        s.step_end("lookup", 1300 * MS)
        s.turn_mark(S.USER_SPEECH, M.START, 2 * SEC)
        s.turn_mark(S.USER_SPEECH, M.END, 3 * SEC)
        s.turn_text(vt.TurnTextKind.USER_TRANSCRIPT, "where is my order", 3 * SEC)
        s.record_event_reward("helpfulness", 0.5, "sparse", "llm_judge", t_ns=3100 * MS)
        s.turn_mark(S.AGENT_SPEECH, M.START, 3400 * MS)
        s.turn_text(vt.TurnTextKind.AGENT_RESPONSE, "it has shipped", 3400 * MS)
        s.turn_mark(S.AGENT_SPEECH, M.END, 5 * SEC)
        last_turn = s.last_turn()
        # A completed turn's events go out when a plugin thread or a flush drains them: flush here,
        # so that they come before the next event.
        vt.flush_events(5.0)
        s.emit("llm.response", {"model": "gpt-4o-mini", "latency_ms": 412}, correlation_id="req-7",
               turn_id="1", t_ns=5500 * MS)
        final = s.snapshot(now_t_ns=6 * SEC)
        s.end(t_ns=6 * SEC)
        vt.flush_events(5.0)
        st = hooks.stats()

    types = ["session.start", "step.start", "message", "step.end", "reward.event", "turn.complete",
             "message", "message", "llm.response", "session.end"]
    assert [e["event_type"] for e in seen["all_low"]] == types
    # The order of the calls, event by event: priority first, then registration.
    want: List[Tuple[str, str]] = []
    for t in types:
        tags = {"session.start": ["all_high", "start"], "message": ["all_high", "boom", "msg_a", "msg_b"],
                "step.start": ["all_high", "step"], "reward.event": ["all_high", "reward"],
                "turn.complete": ["all_high", "turn"], "session.end": ["all_high", "end"]}.get(t, ["all_high"])
        want += [(tag, t) for tag in tags + ["all_low"]]
    assert calls == want
    # Every callback of an event gets the same parsed event.
    assert seen["all_high"] == seen["all_low"]
    assert [id(e) for e in seen["msg_a"]] == [id(e) for e in seen["boom"]] == [id(e) for e in seen["msg_b"]]

    # Exact envelopes and data.
    def exact(event: Dict[str, Any], event_type: str, t_ns: int, data: Dict[str, Any], turn_id=None,
              correlation_id=None) -> None:
        assert list(event) == ["type_id", "session_id", "event_type", "correlation_id", "turn_id",
                               "timestamp_us", "timestamp_unix_us", "data"]
        assert event["type_id"] == vt.EVENT_TYPE_ID and event["session_id"] == "hooks-1"
        assert event["event_type"] == event_type
        assert (event["correlation_id"], event["turn_id"]) == (correlation_id, turn_id), event_type
        assert (event["timestamp_us"], event["timestamp_unix_us"]) == (t_ns // 1000, unix_us(final, t_ns))
        assert event["data"] == data and list(event["data"]) == list(data), event_type  # key order too

    ev = seen["all_low"]
    exact(ev[0], "session.start", 1 * SEC, {
        "labels": {"transport": "sip"}, "text_policy": "include", "clock": "media", "start_ns": 1 * SEC,
        "start_unix_ns": final["start_unix_ns"], "trace_id": final["trace_id"], "parent_span_id": None,
        "metadata": None})
    exact(ev[1], "step.start", 1100 * MS, {"step_id": "lookup", "turn_number": None,
                                           "metadata": {"tool": "orders"}})
    exact(ev[2], "message", 1200 * MS, {
        "role": "tool", "step_id": "lookup", "content_type": "json", "content": {"order": 42, "status": "shipped"},
        "chars": 31, "redacted": False, "truncated": False, "metadata": None})
    exact(ev[3], "step.end", 1300 * MS, {"step_id": "lookup"})
    exact(ev[4], "reward.event", 3100 * MS, {
        "objective_key": "helpfulness", "value": 0.5, "reward_type": "sparse", "source": "llm_judge",
        "step_id": "turn-1", "annotation": None})
    assert last_turn is not None and last_turn["turn_id"] == 1 and last_turn["end_ns"] == 5 * SEC
    exact(ev[5], "turn.complete", 5 * SEC, last_turn, turn_id="1")
    exact(ev[6], "message", 3 * SEC, {
        "role": "user", "step_id": "turn-1", "content_type": "text", "content": "where is my order",
        "chars": 17, "redacted": False, "truncated": False, "metadata": None}, turn_id="1")
    exact(ev[7], "message", 3400 * MS, {
        "role": "assistant", "step_id": "turn-1", "content_type": "text", "content": "it has shipped",
        "chars": 14, "redacted": False, "truncated": False, "metadata": None}, turn_id="1")
    exact(ev[8], "llm.response", 5500 * MS, {"model": "gpt-4o-mini", "latency_ms": 412}, turn_id="1",
          correlation_id="req-7")
    exact(ev[9], "session.end", 6 * SEC, final)  # the final snapshot, exactly
    assert final["uptime_secs"] == 5 and final["session_id"] == "hooks-1"

    # The raising callback: counted, logged, and the callbacks after it ran all the same.
    assert hooks.errors == 3
    assert isinstance(hooks.last_error, ValueError) and str(hooks.last_error) == "hook failed on assistant"
    logged = [r for r in caplog.records if r.name == "voicetelemetry.hooks"]
    assert len(logged) == 3 and all(r.levelno == logging.ERROR and r.exc_info for r in logged)
    assert "pytest_hooks" in logged[0].getMessage() and "ValueError" in logged[0].getMessage()
    assert [e["data"]["role"] for e in seen["msg_b"]] == ["tool", "user", "assistant"]

    # Statistics: every event offered was delivered (a raising callback does not make it a drop).
    assert st.name == "pytest_hooks" and st.version == "1.0.0"
    assert st.emitted == st.delivered == hooks.events >= len(types)
    assert st.dropped == 0 and st.queued == 0 and not st.disabled and st.balanced
    # Only the plugin's thread ran the callbacks: never this (the recording) thread.
    assert len(threads) == 1 and threading.get_ident() not in threads
    assert not hooks.loaded and hooks.id == 0


def test_unload_stops_delivery_and_load_again():
    got: List[str] = []
    hooks = vt.Hooks("pytest_unload")
    hooks.on_event(lambda e: got.append(e["event_type"]))
    hooks.load()
    pid = hooks.id
    vt.emit("app.one", {"n": 1})
    vt.flush_events()
    assert got == ["app.one"]
    hooks.close()
    hooks.close()  # idempotent
    assert not hooks.loaded and pid not in [p.id for p in vt.list_plugins()]
    with pytest.raises(vt.NotFoundError):
        hooks.stats()
    with pytest.raises(vt.NotFoundError):
        vt.Plugin(pid).stats()
    vt.emit("app.two", {"n": 2})
    with vt.Session(session_id="after-unload"):
        pass
    vt.flush_events()
    assert got == ["app.one"]  # nothing reached the hooks after unload
    # Loaded again: a new plugin id, the same callbacks.
    with hooks:
        assert hooks.id not in (0, pid)
        vt.emit("app.three")
        vt.flush_events()
        assert hooks.stats().delivered == 1
    assert got == ["app.one", "app.three"]


def test_recording_threads_never_wait_for_a_slow_callback():
    """A callback blocked on the plugin's thread does not block emit (the recording side)."""
    release = threading.Event()
    entered = threading.Event()
    waited: List[bool] = []
    got: List[int] = []

    def slow(event: Dict[str, Any]) -> None:
        if event["data"]["n"] == 0:
            entered.set()
            waited.append(release.wait(30))  # True only if the main thread went on meanwhile
        got.append(event["data"]["n"])

    with vt.Hooks("pytest_slow") as hooks:
        hooks.on("app.tick", slow)
        vt.emit("app.tick", {"n": 0})
        assert entered.wait(30)
        for n in range(1, 6):  # the plugin's thread is inside `slow`: these only queue
            vt.emit("app.tick", {"n": n})
        release.set()
        vt.flush_events()
        assert waited == [True] and got == [0, 1, 2, 3, 4, 5]
        st = hooks.stats()
        assert st.emitted == st.delivered == 6 and st.dropped == 0


def test_registration_off_decorator_and_close_from_a_callback():
    hooks = vt.Hooks("pytest_reg")
    order: List[str] = []

    @hooks.on("app.x", priority=2)
    def first(event):
        order.append("first")

    def second(event):
        order.append("second")

    hooks.on("app.x", second)
    hooks.on("*", second, priority=1)
    assert hooks.callbacks("app.x") == (first, second, second)
    assert hooks.callbacks("app.y") == (second,)
    assert hooks.off(second, "app.x") == 1
    assert hooks.callbacks("app.x") == (first, second)
    refused: List[BaseException] = []

    def closer(event):
        try:
            hooks.close()
        except RuntimeError as exc:
            refused.append(exc)

    with hooks:
        vt.emit("app.x")
        vt.flush_events()
        assert order == ["first", "second"]
        hooks.on("app.y", closer)  # registered while loaded: from the next batch on
        vt.emit("app.y")
        vt.flush_events()
        assert hooks.loaded and len(refused) == 1 and "its own hooks" in str(refused[0])
        assert hooks.off(second) == 1 and hooks.off(closer) == 1
        vt.emit("app.x")
        vt.flush_events()
    assert order == ["first", "second", "second", "first"]
    assert hooks.errors == 0


def test_errors_of_the_library_and_of_arguments():
    with vt.Hooks("pytest_dup"):
        with pytest.raises(vt.PluginError, match="already loaded"):
            vt.Hooks("pytest_dup").load()
    with pytest.raises(vt.PluginError):
        vt.Hooks("not a valid name!").load()
    with pytest.raises(vt.InvalidArgumentError):
        vt.Hooks("pytest_cfg", config={"queue_capacity": "many"}).load()
    with pytest.raises(vt.InvalidArgumentError):
        vt.Hooks("pytest_cfg", config=["not", "an", "object"])
    h = vt.Hooks("pytest_args", config={"queue_capacity": 64})
    with pytest.raises(vt.InvalidArgumentError):
        h.on("", print)
    with pytest.raises(vt.InvalidArgumentError):
        h.on("x", "not callable")
    with pytest.raises(vt.InvalidArgumentError):
        h.on("x", print, priority=1.5)
    with h:
        with pytest.raises(RuntimeError, match="loaded already"):
            h.load()
        assert h.stats().queue_capacity == 64


def test_readme_hooks_block_runs(monkeypatch, capsys, caplog):
    """README "Hooks": the block runs as written and prints what it promises (the callbacks' lines
    included, printed on the plugin's thread before flush_events returned); it unloads its hooks."""
    import re
    from pathlib import Path

    readme = Path(__file__).resolve().parents[1] / "README.md"
    section = readme.read_text("utf-8").split("\n## Hooks", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    monkeypatch.chdir(readme.parents[1])
    import gc
    gc.collect()  # sessions other tests dropped end now, not into the README's hooks
    caplog.set_level(logging.ERROR, logger="voicetelemetry.hooks")
    exec(compile(code, str(readme), "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out.splitlines()
    promised = [line.split("# -> ", 1)[1].strip() for line in code.splitlines() if "# -> " in line]
    assert promised and printed == promised  # every line, in this order, and nothing else
    assert [r.getMessage().split(": ", 1)[0] for r in caplog.records] == ["voicetelemetry hooks 'app_hooks'"]
