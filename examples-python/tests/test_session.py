"""The idiomatic Session / AudioBatch API, including every error path."""
from __future__ import annotations

import gc
import warnings
from array import array

import pytest

import voicetelemetry as vt
from voicetelemetry import _raw as R
from voicetelemetry import _util

RECORDERS = ["record_vad_start", "record_vad_end", "record_text_send", "record_text_out",
             "record_interruption", "record_turn_start", "record_turn_complete"]


def test_context_manager_and_end_idempotent():
    with vt.Session(session_id="ctx-1", labels={"transport": "webrtc"}) as s:
        assert s.handle != 0 and not s.ended
        assert s.session_id == "ctx-1"
        assert "open" in repr(s)
    assert s.ended and "ended" in repr(s)
    s.end()
    s.end()  # still fine
    s.close()


def test_generated_session_id():
    with vt.Session() as s:
        sid = s.session_id
        assert sid.startswith("vt-") and len(sid) == 19
        assert s.snapshot()["session_id"] == sid


def test_every_record_call_counts():
    with vt.Session(start_t_ns=1_000) as s:
        s.record_vad_start(2_000)
        s.record_vad_end(3_000)
        s.record_turn_start(3_000)
        s.record_audio_out(100, 1_003_000)  # 1 ms after vad_end
        s.record_audio_out(50)  # t_ns = 0: now
        s.record_interruption(1_500_000)
        s.record_text_send(2_000_000)
        s.record_text_out(4_000_000)
        s.record_turn_complete(5_000_000)
        s.record_usage(total=10, prompt=7, response=3)
        s.record_usage(cached=2, thoughts=1)
        snap = s.snapshot(1_000_001_000)
    assert snap["uptime_secs"] == 1
    assert snap["audio_chunks_out"] == 2 and snap["audio_bytes_out"] == 150
    assert snap["vad_starts"] == 1 and snap["vad_ends"] == 1
    assert snap["response_count"] == 1 and snap["last_response_latency_ms"] == 1
    assert snap["interruptions"] == 1
    assert snap["text_sends"] == 1 and snap["text_response_latency_ms"]["last"] == 2
    assert snap["turns_completed"] == 1 and snap["turn_duration_ms"]["last"] == 4.997
    assert snap["total_token_count"] == 10 and snap["cached_content_token_count"] == 2
    assert snap["thoughts_token_count"] == 1 and snap["usage_reports"] == 2
    assert snap["token_totals"] == {"total": 10, "prompt": 7, "response": 3,
                                    "cached_content": 2, "thoughts": 1}


def test_use_after_end_raises_bad_handle():
    s = vt.Session()
    s.end()
    calls = [lambda: s.record_audio_out(1), lambda: s.record_usage(total=1),
             lambda: s.snapshot(), lambda: s.record_batch([(vt.EventKind.VAD_END,)]),
             lambda: s.snapshot_json()]
    calls += [lambda name=name: getattr(s, name)() for name in RECORDERS]
    for call in calls:
        with pytest.raises(vt.BadHandleError) as ei:
            call()
        assert ei.value.code == R.VT_E_BAD_HANDLE == vt.BadHandleError.CODE
        assert str(s.handle) in ei.value.message  # the library's message names the handle
        assert isinstance(ei.value, vt.VoiceTelemetryError)


def test_made_up_handle_raises_bad_handle():
    s = vt.Session()
    real = s._hc
    s._hc = R.vt_session(0xDEAD_BEEF_0000_0001)
    try:
        with pytest.raises(vt.BadHandleError, match="unknown or has ended"):
            s.record_audio_out(1)
        with pytest.raises(vt.BadHandleError):
            s.record_vad_end()
    finally:
        s._hc = real
        s.end()


@pytest.mark.parametrize("kwargs, match", [
    (dict(session_id=""), "empty"),
    (dict(session_id="x" * 129), "longer than 128"),
    (dict(session_id="bad\udc80"), "UTF-8"),
    (dict(session_id="nul\x00inside"), "NUL"),
    (dict(session_id=42), "must be a str"),
    (dict(labels={"1a": "x"}), "not a valid label name"),
    (dict(labels={"le": "x"}), "reserved"),
    (dict(labels=[("a", "1"), ("a", "2")]), "twice"),
    (dict(labels={"a": "x" * 257}), "longer than 256"),
    (dict(labels={f"k{i}": "v" for i in range(17)}), "at most 16"),
    (dict(labels=[("only-one",)]), "pair"),
    (dict(start_t_ns=-1), r"\[0, 2\*\*64\)"),
    (dict(text_policy=7), "text_policy"),
    (dict(turn_history=5000), "VT_MAX_TURN_HISTORY"),
])
def test_create_invalid_arguments(kwargs, match):
    with pytest.raises(vt.InvalidArgumentError, match=match) as ei:
        vt.Session(**kwargs)
    assert ei.value.code == -1


def test_label_none_value_is_absent():
    with vt.Session(labels={"transport": "sip", "region": None, "empty": ""}) as s:
        assert s.snapshot()["labels"] == {"transport": "sip"}


@pytest.mark.parametrize("name", RECORDERS)
def test_record_rejects_bad_t_ns(session, name):
    with pytest.raises(vt.InvalidArgumentError):
        getattr(session, name)(-5)
    with pytest.raises(vt.InvalidArgumentError):
        getattr(session, name)("soon")


def test_audio_out_rejects_bad_arguments(session):
    for args in [(-1,), (1, -1), (1.5,), ("640",), (None,)]:
        with pytest.raises(vt.InvalidArgumentError):
            session.record_audio_out(*args)
    assert session.snapshot()["audio_chunks_out"] == 0


def test_usage_validation(session):
    for kw in [dict(total=-1), dict(prompt=1.5), dict(response="3"), dict(cached=True),
               dict(thoughts=1 << 63)]:
        with pytest.raises(vt.InvalidArgumentError):
            session.record_usage(**kw)
    session.record_usage()  # nothing reported: valid, counts a report
    assert session.snapshot()["usage_reports"] == 1


def test_record_batch(session):
    K = vt.EventKind
    n = session.record_batch([vt.Event(K.VAD_END, 0, 1_000), (K.AUDIO_OUT, 320, 2_000_000),
                              (K.AUDIO_OUT, 320), (K.TURN_START,), (K.TURN_COMPLETE, 0, 3_000_000)])
    assert n == 5
    snap = session.snapshot()
    assert snap["audio_bytes_out"] == 640 and snap["response_count"] == 1
    assert snap["turns_completed"] == 1
    assert session.record_batch([]) == 0


def test_record_batch_errors(session):
    with pytest.raises(vt.InvalidArgumentError) as ei:
        session.record_batch([(vt.EventKind.AUDIO_OUT, 10), (vt.EventKind.AUDIO_OUT, 10), (99, 0)])
    assert ei.value.applied == 2
    assert "2" in ei.value.message
    assert session.snapshot()["audio_chunks_out"] == 2  # those before it were applied
    for bad in [[(1, -1)], [(1 << 32,)], [("x",)], [5], [(1, 0, -3)]]:
        with pytest.raises(vt.InvalidArgumentError):
            session.record_batch(bad)


def test_audio_batch_append_extend_flush():
    with vt.Session(start_t_ns=1) as s:
        s.record_vad_end(1_000_000)
        with s.audio_batch(capacity=4) as b:
            assert b.capacity == 4
            b.append(100, 2_000_000)  # closes a 1 ms response latency
            b.append(100)
            assert len(b) == 2
            for _ in range(5):  # crosses the capacity: auto flush
                b.append(10)
            assert len(b) == 3
            assert b.extend_audio([1, 2, 3, 4, 5, 6, 7, 8, 9]) == 9
            assert len(b) == 0
            b.extend_audio(array("Q", [5, 5]), [10_000_000, 11_000_000])
            b.add(vt.EventKind.INTERRUPTION)
            b.add(vt.EventKind.AUDIO_OUT, 7)
            assert b.flush() == 2
            assert b.flush() == 0
        snap = s.snapshot()
        assert snap["audio_chunks_out"] == 2 + 5 + 9 + 2 + 1
        assert snap["audio_bytes_out"] == 200 + 50 + 45 + 10 + 7
        assert snap["response_count"] == 1 and snap["last_response_latency_ms"] == 1
        assert snap["interruptions"] == 1
        assert s._batches == []  # the with-block detached it


def test_audio_batch_keeps_order_with_single_calls():
    """Pending audio is applied before a vad_end, so it cannot close the new latency."""
    with vt.Session() as s:
        b = vt.AudioBatch(s, capacity=64)
        t0 = vt.now_ns()
        b.append(10, t0)  # before the user stops speaking
        s.record_vad_end(t0 + 1_000_000)  # flushes b first
        b.append(10, t0 + 5_000_000)  # the answer: 4 ms
        snap = s.snapshot()  # flushes b
        assert snap["response_latency_ms"]["count"] == 1
        assert snap["last_response_latency_ms"] == 4
        b.append(3)
        s.end()  # flushes b, then ends
    assert snap["audio_chunks_out"] == 2


def test_audio_batch_stamps_first_chunk_now():
    """With t_ns = 0 the first chunk after a flush is stamped when appended, not when flushed."""
    import time

    with vt.Session() as s:
        b = s.audio_batch()
        s.record_vad_end()
        b.append(10)
        time.sleep(0.05)
        b.flush()
        lat = s.snapshot()["last_response_latency_ms"]
        assert lat < 40, lat


def test_audio_batch_errors():
    with vt.Session() as s:
        with pytest.raises(vt.InvalidArgumentError):
            vt.AudioBatch("not a session")
        for cap in (0, -1, 1 << 21, 2.5):
            with pytest.raises(vt.InvalidArgumentError):
                vt.AudioBatch(s, cap)
        b = s.audio_batch(8)
        for args in [(-1,), (1, -2)]:
            with pytest.raises(vt.InvalidArgumentError):
                b.append(*args)
        with pytest.raises(vt.InvalidArgumentError):
            b.extend_audio([1, -1])
        with pytest.raises(vt.InvalidArgumentError):
            b.extend_audio([1, 2], [3])
        with pytest.raises(vt.InvalidArgumentError):
            b.add(1 << 32)
        b.add(99)  # unknown kinds are judged by the library when the batch is applied
        with pytest.raises(vt.InvalidArgumentError) as ei:
            b.flush()
        assert ei.value.applied == 0 and "0" in ei.value.message
        b.close()
    b2 = vt.AudioBatch(vt.Session(), 4)
    b2._session.end()
    b2.append(1)
    with pytest.raises(vt.BadHandleError):
        b2.flush()


def test_small_buffers_grow_and_retry():
    with vt.Session(session_id="grow-" + "x" * 100, labels={"transport": "y" * 200}) as s:
        want = s.snapshot_json(10**18)
        for size in (1, 2, 50, len(want), len(want) + 1):
            _util.set_buffer_size(size)
            assert s.snapshot_json(10**18) == want
        _util.set_buffer_size(1)
        text = vt.prom_text()
        assert text.startswith("# HELP")
        assert len(_util._local.buf) == len(text.encode()) + 1  # grown to exactly len + 1


def test_buffer_contract_retries_when_text_grows(monkeypatch):
    calls = []

    def fake(buf, cap, len_out):
        calls.append(cap)
        need = min(10 * len(calls), 20)  # the text grows once between calls
        len_out._obj.value = need
        if cap < need + 1:
            return R.VT_E_BUFFER_TOO_SMALL
        import ctypes
        ctypes.memmove(buf, b"y" * need + b"\0", need + 1)
        return 0

    _util.set_buffer_size(1)
    assert _util.text_call(fake) == b"y" * 20
    assert calls == [1, 11, 21]
    _util.set_buffer_size(1)

    def always_growing(buf, cap, len_out):
        len_out._obj.value = cap + 5
        return R.VT_E_BUFFER_TOO_SMALL

    with pytest.raises(vt.InternalError, match="kept growing"):
        _util.text_call(always_growing)
    _util.set_buffer_size(_util.INITIAL_BUFFER_BYTES)


def test_session_limit():
    opened = []
    try:
        with pytest.raises(vt.LimitError) as ei:
            for _ in range(R.VT_MAX_SESSIONS + 1):
                opened.append(vt.Session())
        assert ei.value.code == R.VT_E_LIMIT
        assert len(opened) <= R.VT_MAX_SESSIONS
    finally:
        for s in opened:
            s.end()
    with vt.Session():
        pass


def test_forgotten_session_is_ended_with_warning():
    s = vt.Session()
    h = s.handle
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        del s
        gc.collect()
    assert any(issubclass(x.category, ResourceWarning) for x in w)
    assert R.vt_end_session(h) == R.VT_E_BAD_HANDLE  # already ended by the finalizer


def test_error_mapping_every_status():
    classes = {-1: vt.InvalidArgumentError, -2: vt.BadHandleError, -3: vt.BufferTooSmallError,
               -4: vt.LimitError, -5: vt.OrderError, -6: vt.InternalError, -7: vt.NotFoundError,
               -8: vt.PluginError, -9: vt.PermissionRefusedError}
    for code, cls in classes.items():
        err = vt.error_for_status(code, "detail")
        assert type(err) is cls and err.code == code and cls.CODE == code
        assert err.message == "detail" and "detail" in str(err)
        assert err.status == R.string(R.vt_status_str(code)) != "unknown status"
    unknown = vt.error_for_status(-42, "")
    assert type(unknown) is vt.VoiceTelemetryError and unknown.status == "unknown status"
