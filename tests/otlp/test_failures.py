"""The OTLP/HTTP failure rules through the real library: retryable statuses (with Retry-After), a
status that must not be retried, partial success, a receiver that is down and then up, a receiver
that hangs. Accounting is checked in the plugin's stats file and in the host's plugin statistics."""
from __future__ import annotations

import contextlib
import email.utils
import socket
import time

import pytest

from conftest import SCENARIOS, otlp_plugin, play, read_stats, vt, wait_stats
from receiver import Receiver, Reply

CASCADED_SPANS = 10  # session, turn, 6 stages, 2 first-token/byte children


def traces_statuses(r: Receiver):
    return [q.status for q in r.traces_requests()]


def span_ids(r: Receiver):
    return [s.span_id for _, s in r.spans()]


def test_503_twice_then_200_each_span_once(so, receiver, tmp_path):
    receiver.script["/v1/traces"] = [Reply(503), Reply(503)]
    with otlp_plugin(so, receiver.endpoint, tmp_path, metrics=False) as p:
        play(SCENARIOS / "cascaded.txt")
        vt.flush_events(10.0)
        ps = p.stats()
    # the call's events may reach the plugin in one batch or two (one request each, sent in order)
    statuses = traces_statuses(receiver)
    assert statuses[:3] == [503, 503, 200] and set(statuses[3:]) <= {200}, statuses
    ids = span_ids(receiver)
    assert len(ids) == len(set(ids)) == CASCADED_SPANS
    st = read_stats(tmp_path / "otlp-stats.json")
    n = len(statuses)
    assert st["spans"] == {"created": 10, "exported": 10, "rejected": 0, "dropped": 0, "pending": 0,
                           "requests": n, "requests_ok": n - 2, "requests_failed": 2, "retries": 2}
    assert st["events"]["lost"] == 0 and ps.plugin_reported_drops == 0 and ps.dropped == 0


def test_429_retry_after_is_honoured(so, receiver, tmp_path):
    receiver.script["/v1/traces"] = [Reply(429, {"Retry-After": "1"})]
    with otlp_plugin(so, receiver.endpoint, tmp_path, metrics=False):
        play(SCENARIOS / "cascaded.txt")
        vt.flush_events(10.0)
    reqs = receiver.traces_requests()
    assert [q.status for q in reqs][:2] == [429, 200] and {q.status for q in reqs[2:]} <= {200}
    gap = reqs[1].t - reqs[0].t
    assert 1.0 <= gap < 2.5, gap  # not the 50 ms first backoff: the one second the receiver asked for
    assert len(span_ids(receiver)) == CASCADED_SPANS


def test_429_retry_after_as_an_http_date_is_honoured(so, receiver, tmp_path):
    # RFC 9110's other form: a date, three whole seconds ahead (so the wait is between 2 and 3 s,
    # whatever fraction of a second has passed when the reply is read).
    when = email.utils.formatdate(int(time.time()) + 3, usegmt=True)
    receiver.script["/v1/traces"] = [Reply(429, {"Retry-After": when})]
    with otlp_plugin(so, receiver.endpoint, tmp_path, metrics=False):
        play(SCENARIOS / "cascaded.txt")
        vt.flush_events(10.0)
    reqs = receiver.traces_requests()
    assert [q.status for q in reqs][:2] == [429, 200]
    gap = reqs[1].t - reqs[0].t
    assert 1.5 <= gap < 4.0, gap
    assert len(span_ids(receiver)) == CASCADED_SPANS


def test_400_is_dropped_counted_not_retried(so, receiver, tmp_path):
    receiver.default = Reply(400)  # every request (the call may come in one batch or two)
    with otlp_plugin(so, receiver.endpoint, tmp_path, metrics=False) as p:
        play(SCENARIOS / "cascaded.txt")
        vt.flush_events(10.0)
        time.sleep(0.3)  # a retry would come within 50 ms
        ps = p.stats()
    statuses = traces_statuses(receiver)
    assert set(statuses) == {400} and len(statuses) == read_stats(tmp_path / "otlp-stats.json")["spans"]["requests"]
    st = read_stats(tmp_path / "otlp-stats.json")
    assert st["spans"]["created"] == st["spans"]["dropped"] == CASCADED_SPANS
    assert st["spans"]["exported"] == 0 and st["spans"]["retries"] == 0 and st["spans"]["pending"] == 0
    # the two events that made those spans (turn.complete, session.end) were accepted, then lost
    assert st["events"]["lost"] == 2 and ps.plugin_reported_drops == 2
    assert "HTTP 400" in st["last_error"]


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_partial_success_is_counted(so, receiver, tmp_path, protocol):
    receiver.script["/v1/traces"] = [Reply(200, rejected=3)]
    with otlp_plugin(so, receiver.endpoint, tmp_path, metrics=False, protocol=protocol):
        play(SCENARIOS / "cascaded.txt")
        vt.flush_events(10.0)
    st = read_stats(tmp_path / "otlp-stats.json")
    assert (st["spans"]["exported"], st["spans"]["rejected"], st["spans"]["dropped"]) == (7, 3, 0)
    assert st["last_error"] == "scripted rejection"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_receiver_absent_5s_then_up(so, tmp_path):
    port = free_port()
    names = ["cascaded", "tools_kb", "realtime"]
    with otlp_plugin(so, f"http://127.0.0.1:{port}", tmp_path, metrics=False) as p:
        for n in names:
            play(SCENARIOS / f"{n}.txt")
        with contextlib.suppress(vt.LimitError):  # the plugin's flush cannot succeed: nothing is delivered yet
            vt.flush_events(0.5)
        st = wait_stats(tmp_path / "otlp-stats.json", lambda st: st["spans"]["retries"] >= 2, 2.0)
        assert (st["spans"]["created"], st["spans"]["pending"], st["spans"]["exported"]) == (25, 25, 0)
        time.sleep(4.0)
        r = Receiver().start(port)
        try:
            vt.flush_events(10.0)
            st = read_stats(tmp_path / "otlp-stats.json")
            ps = p.stats()
        finally:
            r.stop()
    ids = span_ids(r)
    assert len(ids) == len(set(ids)) == st["spans"]["created"] == st["spans"]["exported"] == 10 + 9 + 6
    assert st["spans"]["dropped"] == st["spans"]["pending"] == 0 and st["spans"]["retries"] >= 3
    assert ps.dropped == 0 and ps.plugin_reported_drops == 0 and ps.delivered == ps.emitted
    assert not r.errors


def test_hanging_receiver_never_slows_the_host(so, receiver, tmp_path):
    receiver.default = Reply(hang_s=2.0)
    vt.set_event_rate_limit(0)
    with otlp_plugin(so, receiver.endpoint, tmp_path, metrics=False, timeout_ms=300, queue_capacity=8192) as p:
        s = vt.Session(session_id="hang-1", start_t_ns=1000)
        worst = 0.0
        t0 = time.perf_counter()
        for i in range(2000):
            a = time.perf_counter()
            s.record_audio_out(640, 0)
            s.emit("custom.tick", {"i": i})
            worst = max(worst, time.perf_counter() - a)
        spent = time.perf_counter() - t0
        s.end()
        with contextlib.suppress(vt.LimitError):
            vt.flush_events(0.5)
        st = wait_stats(tmp_path / "otlp-stats.json", lambda st: st["spans"]["retries"] >= 1, 2.0)
        assert (st["spans"]["pending"], st["spans"]["exported"]) == (1, 0)
        receiver.default = Reply()  # the receiver recovers: the retried request goes through
        vt.flush_events(10.0)
        ps = p.stats()
    vt.set_event_rate_limit(100)  # the default
    st = read_stats(tmp_path / "otlp-stats.json")
    assert spent < 2.0 and worst < 0.2, (spent, worst)  # 4000 calls: no call waited for the 300 ms timeout
    assert st["spans"]["created"] == st["spans"]["exported"] == 1 and st["spans"]["retries"] >= 1
    assert "Timeout" in st["last_error"] or st["last_status"] == 200
    assert [q.status for q in receiver.traces_requests()].count(200) == 1
    assert ps.dropped == 0 and ps.emitted == ps.delivered


def test_unload_with_the_receiver_down_keeps_the_deadline(so, tmp_path):
    port = free_port()
    with otlp_plugin(so, f"http://127.0.0.1:{port}", tmp_path, drain_timeout_ms=1000) as p:
        play(SCENARIOS / "cascaded.txt")
        with contextlib.suppress(vt.LimitError):
            vt.flush_events(0.3)
        t = time.monotonic()
        p.unload()
        took = time.monotonic() - t
    assert took < 2.5, took  # the host's drain deadline (1 s), not the retries
    st = read_stats(tmp_path / "otlp-stats.json")
    assert (st["spans"]["created"], st["spans"]["dropped"], st["spans"]["exported"]) == (10, 10, 0)
    assert st["points"]["created"] == st["points"]["dropped"] > 0 and st["points"]["pending"] == 0
    assert st["events"]["lost"] == 2 and "connect" in st["last_error"]


def test_unload_while_a_transfer_hangs_keeps_the_deadline(so, receiver, tmp_path):
    receiver.default = Reply(hang_s=6.0)
    with otlp_plugin(so, receiver.endpoint, tmp_path, metrics=False, drain_timeout_ms=1000) as p:
        play(SCENARIOS / "cascaded.txt")
        assert receiver.wait_for(lambda: False, 0.5) is False  # the request is in flight, hanging
        t = time.monotonic()
        p.unload()
        took = time.monotonic() - t
    assert took < 3.0, took  # the transfer is aborted at the deadline, not after its 10 s timeout
    st = read_stats(tmp_path / "otlp-stats.json")
    assert (st["spans"]["created"], st["spans"]["dropped"], st["spans"]["pending"]) == (10, 10, 0)
    assert st["events"]["lost"] == 2
