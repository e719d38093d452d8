"""Process metrics and the Prometheus text (parsed with prometheus_client)."""
from __future__ import annotations

import ctypes
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

import voicetelemetry as vt


def families():
    return {f.name: f for f in text_string_to_metric_families(vt.prom_text())}


def samples(fam, name=None):
    return [s for s in fam.samples if name is None or s.name == name]


def test_counter_gauge_observe_roundtrip(uname):
    c, g, o = uname("_total"), uname(), uname("_seconds")
    vt.register_labels(c, ["route"])
    vt.counter_add(c, 2, help="Requests.", labels={"route": "a"})
    vt.counter_add(c, 3.5, labels=[("route", "a")])
    vt.counter_add(c, -7, labels={"route": "a"})  # ignored: counters only go up
    vt.counter_add(c, 1, labels={"route": "b"})
    vt.gauge_set(g, 10, help="Level.")
    vt.gauge_add(g, -2.5)
    for v in (0.01, 0.2, 0.2, 3.0):
        vt.observe(o, v, help="Latency.")
    fams = families()
    cf = fams[c[: -len("_total")]]
    assert cf.type == "counter" and cf.documentation == "Requests."
    by_route = {s.labels["route"]: s.value for s in samples(cf, c)}
    assert by_route == {"a": 5.5, "b": 1.0}
    gf = fams[g]
    assert gf.type == "gauge" and samples(gf)[0].value == 7.5
    hf = fams[o]
    assert hf.type == "histogram"
    assert samples(hf, o + "_count")[0].value == 4
    assert samples(hf, o + "_sum")[0].value == pytest.approx(3.41)
    buckets = {s.labels["le"]: s.value for s in samples(hf, o + "_bucket")}
    assert buckets["0.01"] == 1 and buckets["0.2"] == 3 and buckets["+Inf"] == 4
    qf = fams[o + "_quantiles"]
    assert qf.type == "summary"
    q = {s.labels["quantile"]: s.value for s in qf.samples if "quantile" in s.labels}
    assert set(q) == {"0.5", "0.9", "0.95", "0.99"}
    assert q["0.5"] == pytest.approx(0.2, rel=0.02)


def test_builtin_session_families():
    before = families()

    def val(fams, name, sample=None):
        return sum(s.value for s in samples(fams[name], sample or name))

    chunks0 = val(before, "voicetelemetry_audio_out_chunks", "voicetelemetry_audio_out_chunks_total")
    with vt.Session(labels={"transport": "pytest"}) as s:
        s.record_vad_end()
        s.record_audio_out(640)
        s.record_audio_out(640)
        during = families()
        assert val(during, "voicetelemetry_sessions_active") >= 1
    after = families()
    assert val(after, "voicetelemetry_audio_out_chunks",
               "voicetelemetry_audio_out_chunks_total") == chunks0 + 2
    for name in ("voicetelemetry_sessions_total", "voicetelemetry_audio_out_bytes_total",
                 "voicetelemetry_interruptions_total", "voicetelemetry_turns_total",
                 "voicetelemetry_metrics_unknown_label_total",
                 "voicetelemetry_metrics_series_dropped_total"):
        fam = after[name[: -len("_total")]]
        assert fam.type == "counter", name
    for name in ("voicetelemetry_response_latency_seconds",
                 "voicetelemetry_text_response_latency_seconds",
                 "voicetelemetry_turn_duration_seconds"):
        assert after[name].type == "histogram"
        assert after[name + "_quantiles"].type == "summary"
    pytest_series = [s for s in samples(after["voicetelemetry_audio_out_bytes"])
                     if s.labels.get("transport") == "pytest"]
    assert pytest_series and pytest_series[0].value >= 1280


@pytest.mark.parametrize("fn, suffix, match", [
    (vt.counter_add, "", "must end in _total"),
    (vt.gauge_set, "_total", "_total"),
    (vt.gauge_add, "_count", "_count"),
    (vt.observe, "_sum", "_sum"),
    (vt.observe, "_bucket", "_bucket"),
    (vt.gauge_set, "_quantiles", "_quantiles"),
])
def test_suffix_rules(uname, fn, suffix, match):
    with pytest.raises(vt.InvalidArgumentError, match=match) as ei:
        fn(uname(suffix), 1, help="h")
    assert ei.value.code == -1


@pytest.mark.parametrize("name, match", [
    (None, "NULL"),
    ("", "not a valid"),
    ("1bad", "not a valid"),
    ("has space", "not a valid"),
    ("x" * 201, "longer than 200"),
    ("voicetelemetry_mine", "belong to the library"),
    ("nul\x00name", "NUL"),
    (b"\xff\xfe", "UTF-8|not a valid"),
    (5, "must be a str"),
])
def test_bad_metric_names(name, match):
    with pytest.raises(vt.InvalidArgumentError, match=match):
        vt.gauge_set(name, 1, help="h")


def test_help_type_and_value_rules(uname):
    g = uname()
    with pytest.raises(vt.InvalidArgumentError, match="help"):
        vt.gauge_set(g, 1)
    with pytest.raises(vt.InvalidArgumentError, match="help"):
        vt.gauge_set(g, 1, help="")
    vt.gauge_set(g, 1, help="first")
    vt.gauge_set(g, 2, help="second (ignored)")
    with pytest.raises(vt.InvalidArgumentError):
        vt.observe(g, 1, help="h")  # type fixed by first use
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(vt.InvalidArgumentError, match="finite"):
            vt.gauge_set(g, bad)
    with pytest.raises(vt.InvalidArgumentError, match="number"):
        vt.gauge_set(g, "3")
    with pytest.raises(vt.InvalidArgumentError, match="negative"):
        vt.observe(uname(), -0.5, help="h")
    assert families()[g].documentation == "first"


@pytest.mark.parametrize("labels, match", [
    ({"le": "1"}, "reserved"),
    ({"quantile": "1"}, "reserved"),
    ({"__x": "1"}, "reserved"),
    ({"9x": "1"}, "not a valid label name"),
    ({"k": "v" * 257}, "longer than 256"),
    ({"k": "a\udc80"}, "UTF-8"),
    ({"k": "a\x00b"}, "NUL"),
    ({f"k{i}": "v" for i in range(17)}, "16"),
])
def test_bad_labels(uname, labels, match):
    with pytest.raises(vt.InvalidArgumentError, match=match):
        vt.gauge_set(uname(), 1, help="h", labels=labels)


def test_unregistered_label_dropped_and_counted(uname):
    g = uname()
    vt.register_labels(g, ["keep"])
    vt.gauge_set(g, 4, help="h", labels={"keep": "1", "drop": "x"})
    fams = families()
    assert [s.labels for s in samples(fams[g])] == [{"keep": "1"}]
    unknown = fams["voicetelemetry_metrics_unknown_label"]
    assert any(s.labels.get("metric") == g and s.value == 1 for s in unknown.samples)


def test_register_labels_errors(uname):
    with pytest.raises(vt.InvalidArgumentError):
        vt.register_labels(uname(), ["ok", "1bad"])
    with pytest.raises(vt.InvalidArgumentError):
        vt.register_labels(uname(), ["a", "a"])
    with pytest.raises(vt.InvalidArgumentError):
        vt.register_labels(uname(), [f"k{i}" for i in range(17)])
    with pytest.raises(vt.InvalidArgumentError):
        vt.register_labels(uname(), "abc")  # a str is not a list of keys
    with pytest.raises(vt.InvalidArgumentError):
        vt.register_labels(None, ["a"])
    vt.register_labels(uname(), [])  # no labels at all: valid


def test_series_limit(uname):
    g = uname()
    vt.register_labels(g, ["i"])
    for i in range(vt.raw.VT_MAX_SERIES_PER_FAMILY):
        vt.gauge_set(g, i, help="h", labels={"i": str(i)})
    with pytest.raises(vt.LimitError) as ei:
        vt.gauge_set(g, 1, labels={"i": "one too many"})
    assert ei.value.code == -4
    dropped = families()["voicetelemetry_metrics_series_dropped"]
    assert any(s.labels.get("metric") == g and s.value >= 1 for s in dropped.samples)


def test_set_buckets(uname):
    o = uname("_seconds")
    vt.set_buckets(o, [0.1, 0.5, 2])
    vt.observe(o, 0.3, help="h")
    buckets = {s.labels["le"]: s.value for s in families()[o].samples if "le" in s.labels}
    assert buckets == {"0.1": 0, "0.5": 1, "2.0": 1, "+Inf": 1} or \
        buckets == {"0.1": 0, "0.5": 1, "2": 1, "+Inf": 1}
    with pytest.raises(vt.OrderError) as ei:
        vt.set_buckets(o, [1, 2])
    assert ei.value.code == -5
    for bad in ([], [2, 1], [1, 1], [math.nan], [math.inf], list(range(1, 66)), "abc", None):
        with pytest.raises(vt.InvalidArgumentError):
            vt.set_buckets(uname(), bad)
    g = uname()
    vt.gauge_set(g, 1, help="h")
    with pytest.raises(vt.InvalidArgumentError):
        vt.set_buckets(g, [1])  # not a histogram family


def test_now_and_version():
    a = vt.now_ns()
    assert vt.now_ns() >= a > 0
    assert vt.version() == "1.2.0" and vt.version_number() == 1_002_000


# -- property tests -------------------------------------------------------------------------------

label_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1, max_size=80,
).filter(lambda s: len(s.encode()) <= 256)

_PROP_GAUGE = "pyt_prop_unicode_label_values"
_seen: dict = {}


@settings(max_examples=150, deadline=None)
@given(value=label_text, number=st.floats(allow_nan=False, allow_infinity=False,
                                          min_value=-1e15, max_value=1e15))
def test_label_values_roundtrip_through_prom_text(value, number):
    """Any UTF-8 label value is escaped by vt_prom_text and parses back equal."""
    vt.register_labels(_PROP_GAUGE, ["v"])
    vt.gauge_set(_PROP_GAUGE, number, help="Property test: unicode label values.",
                 labels={"v": value})
    fam = families()[_PROP_GAUGE]
    got = {s.labels["v"]: s.value for s in fam.samples}
    assert value in got
    assert got[value] == number


@settings(max_examples=100, deadline=None)
@given(sid=label_text.filter(lambda s: len(s.encode()) <= 128), label=label_text)
def test_session_strings_roundtrip_through_snapshot(sid, label):
    """Session ids and label values come back unchanged from the snapshot JSON."""
    with vt.Session(session_id=sid, labels={"provider": label}) as s:
        snap = s.snapshot()
    assert snap["session_id"] == sid
    assert snap["labels"] == {"provider": label}


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(min_value=0, max_value=1 << 40), max_size=600),
       cap=st.integers(min_value=1, max_value=300))
def test_batch_equals_single_calls(sizes, cap):
    """Recording through AudioBatch gives the same counters as one call per chunk."""
    with vt.Session() as a, vt.Session() as b:
        for n in sizes:
            a.record_audio_out(n)
        with b.audio_batch(cap) as batch:
            half = len(sizes) // 2
            for n in sizes[:half]:
                batch.append(n)
            batch.extend_audio(sizes[half:])
        sa, sb = a.snapshot(), b.snapshot()
    assert sa["audio_chunks_out"] == sb["audio_chunks_out"] == len(sizes)
    assert sa["audio_bytes_out"] == sb["audio_bytes_out"] == sum(sizes)


# ---- metric handles: Counter, Gauge, Histogram (vt_metric_get and its writes) ---------------------


def test_handles_write_what_the_by_name_calls_write(uname):
    c, g, h = uname("_total"), uname(), uname("_seconds")
    counter = vt.Counter(c, "Requests.", {"route": "a"})
    gauge = vt.Gauge(g, "Level.")
    hist = vt.Histogram(h, "Latency.", [("route", "a")])
    counter.add()
    counter.add(2.5)
    counter.add(-7)  # ignored: counters only go up
    vt.counter_add(c, 1, labels={"route": "a"})  # by name: the same series
    gauge.set(10)
    gauge.add(-2.5)
    for v in (0.01, 0.2, 0.2, 3.0):
        hist.observe(v)
    fams = families()
    assert [(s.labels, s.value) for s in samples(fams[c[: -len("_total")]], c)] == [({"route": "a"}, 4.5)]
    assert samples(fams[g])[0].value == 7.5
    hf = fams[h]
    assert samples(hf, h + "_count")[0].value == 4
    assert samples(hf, h + "_sum")[0].value == pytest.approx(3.41)
    buckets = {s.labels["le"]: s.value for s in samples(hf, h + "_bucket")}
    assert buckets["0.01"] == 1 and buckets["0.2"] == 3 and buckets["+Inf"] == 4
    assert not counter.overflow and counter.handle == vt.Counter(c, None, {"route": "a"}).handle
    assert repr(gauge) == f"Gauge({g!r}, handle={gauge.handle:#x})"


def test_handles_from_four_threads_give_exact_totals(uname):
    import threading

    c, h = uname("_total"), uname("_seconds")
    counter, hist = vt.Counter(c, "Calls."), vt.Histogram(h, "Latency.")

    def work():
        for i in range(20_000):
            counter.add()
            hist.observe((i % 4) * 0.25)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fams = families()
    assert samples(fams[c[: -len("_total")]])[0].value == 80_000
    assert samples(fams[h], h + "_count")[0].value == 80_000
    assert samples(fams[h], h + "_sum")[0].value == 30_000


def test_handle_errors(uname):
    with pytest.raises(vt.InvalidArgumentError, match="must end in _total"):
        vt.Counter(uname(), "Help.")
    with pytest.raises(vt.InvalidArgumentError, match="help text is required"):
        vt.Gauge(uname())
    with pytest.raises(vt.InvalidArgumentError, match="reserved"):
        vt.Histogram(uname("_seconds"), "Help.", {"le": "1"})
    g = uname()
    vt.Gauge(g, "Level.")
    with pytest.raises(vt.InvalidArgumentError, match="is a gauge, not a counter"):
        vt.Counter(g)  # a gauge's name: the kinds conflict (the _total rule is for new families)
    counter, gauge, hist = vt.Counter(uname("_total"), "C."), vt.Gauge(g), vt.Histogram(uname("_seconds"), "H.")
    for call, bad in ((counter.add, float("nan")), (gauge.set, float("inf")), (hist.observe, -1.0),
                      (gauge.add, "1"), (hist.observe, None)):
        with pytest.raises(vt.InvalidArgumentError):
            call(bad)
    # the raw layer: a handle of the wrong kind, a made-up handle
    assert vt.raw.vt_metric_set(counter.handle, 1.0) == vt.raw.VT_E_INVALID_ARG
    assert vt.raw.vt_metric_observe(gauge.handle, 1.0) == vt.raw.VT_E_INVALID_ARG
    assert vt.raw.vt_metric_add(12345, 1.0) == vt.raw.VT_E_BAD_HANDLE
    assert vt.raw.vt_metric_add(0, 1.0) == vt.raw.VT_E_BAD_HANDLE
    out = vt.raw.vt_metric(7)
    assert vt.raw.vt_metric_get(9, b"x_total", b"X.", None, 0, ctypes.byref(out)) == vt.raw.VT_E_INVALID_ARG
    assert out.value == 0


def test_handle_at_the_series_limit_counts_drops(uname):
    name = uname("_total")
    for i in range(vt.raw.VT_MAX_SERIES_PER_FAMILY):
        vt.counter_add(name, 1, help="Many.", labels={"i": str(i)})
    over = vt.Counter(name, None, {"i": "one too many"})
    assert over.overflow and over.handle != 0
    for _ in range(3):
        with pytest.raises(vt.LimitError, match="already has 2000 series"):
            over.add()
    dropped = families()["voicetelemetry_metrics_series_dropped"]
    assert [s.value for s in dropped.samples if s.labels.get("metric") == name] == [3]
    assert not vt.Counter(name, None, {"i": "0"}).overflow  # an existing series is still a series
