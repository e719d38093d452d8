"""The raw layer: every header declaration is mirrored, and the C error paths behave as documented."""
from __future__ import annotations

import ctypes
import re
import threading
from ctypes import byref, c_char_p, c_size_t, c_void_p, sizeof
from pathlib import Path

import pytest

import voicetelemetry as vt
from voicetelemetry import _raw as R

# The whole header, every section (the plugin section included).
HEADER = (Path(__file__).resolve().parents[2] / "include" / "voicetelemetry.h").read_text()
RAW_SRC = Path(R.__file__).read_text()

FUNCS = re.findall(r"^[a-z_][a-z0-9_ ]*?\**\s*\**(vt_[a-z0-9_]+)\(", HEADER, re.M)
MACROS = re.findall(r"^#define (VT_[A-Z0-9_]+) ", HEADER, re.M)
ENUMS = re.findall(r"^\s+(VT_[A-Z0-9_]+) = (-?\d+)", HEADER, re.M)
STRUCTS = re.findall(r"^typedef struct (vt_[a-z_]+) \{", HEADER, re.M)


def test_header_parsed():
    assert len(FUNCS) >= 36 and "vt_record_batch" in FUNCS and "vt_prom_text" in FUNCS
    assert {"vt_turn_mark", "vt_turn_usage", "vt_turn_history_json"} <= set(FUNCS)
    assert {"vt_label", "vt_session_config", "vt_usage", "vt_event", "vt_token_usage"} <= \
        set(STRUCTS)
    assert ("VT_STAGE_TOOL", "13") in ENUMS and "VT_TURN_MAX_NAME_BYTES" in MACROS
    # The last section, "Events and sink plugins", is parsed too.
    assert {"vt_emit", "vt_set_event_rate_limit", "vt_set_plugin_dir", "vt_load_plugin",
            "vt_unload_plugin", "vt_list_plugins", "vt_plugin_stats", "vt_flush_events"} <= \
        set(FUNCS)
    assert FUNCS[-1] == "vt_flush_events"
    assert "vt_plugin_statistics" in STRUCTS
    assert {"VT_MAX_EVENT_BYTES", "VT_MAX_PLUGINS", "VT_MAX_PLUGIN_QUEUE"} <= set(MACROS)
    assert ("VT_E_PERMISSION", "-9") in ENUMS


def test_raw_sections_follow_header_sections():
    """_raw.py has one section per header section, in the header's order."""
    titles = re.findall(r"^/\* -{20,}\n \* ([A-Z][^\n]*)\n", HEADER, re.M)
    assert titles[-1] == "Events and sink plugins" and len(titles) >= 8
    pos = -1
    for title in titles:
        key = title.split(" (")[0]
        found = RAW_SRC.find(f"\n# {key}", pos + 1)
        assert found > pos, f"section {title!r} missing or out of order in _raw.py"
        pos = found


def test_every_typedef_mirrored():
    for name in re.findall(r"^typedef (?:u?int\d+_t|struct \w+) (vt_[a-z_]+)\b", HEADER, re.M):
        assert hasattr(R, name), name


@pytest.mark.parametrize("name", FUNCS)
def test_every_function_bound_with_prototype(name):
    fn = getattr(R, name)
    assert fn is not None, f"{name} missing from the loaded library"
    assert fn.argtypes is not None, f"{name}: argtypes not set"
    assert fn.restype is not c_char_p, f"{name}: library-owned memory must not be c_char_p"
    # The C prototype is repeated as a comment right above the binding.
    proto = re.search(r"^((?:const )?[a-z_0-9]+ \**" + name + r"\([^;]*\);)", HEADER,
                      re.M).group(1)
    first_line = proto.splitlines()[0].strip()
    assert f"# {first_line}" in RAW_SRC, f"{name}: prototype comment missing"
    n_c_args = 0 if "(void)" in proto else proto.count(",") + 1
    assert len(fn.argtypes) == n_c_args, f"{name}: {len(fn.argtypes)} argtypes vs {n_c_args}"


def test_every_macro_and_enum_mirrored():
    for name in MACROS:
        if name in ("VOICETELEMETRY_H",):
            continue
        assert hasattr(R, name), name
    for name, value in ENUMS:
        assert getattr(R, name) == int(value), name
    assert R.VT_VERSION_NUMBER == 1_002_000


def test_struct_layouts():
    P = sizeof(c_void_p)
    assert sizeof(R.vt_label) == 2 * P
    assert sizeof(R.vt_event) == 24
    assert R.vt_event.value.offset == 8 and R.vt_event.t_ns.offset == 16
    assert sizeof(R.vt_usage) == 48 and R.vt_usage.total.offset == 8
    assert R.vt_session_config.labels.offset == 2 * P
    assert R.vt_session_config.start_t_ns.offset == 4 * P
    assert R.vt_session_config.turn_history.offset == 4 * P + 16
    # Since 1.1 (offsets as a C compiler lays them out: 56, 64, 72 and 80 bytes on LP64). The 1.1
    # fields start past the 1.0 struct (its tail padding after turn_history included, which a 1.0
    # caller's struct_size covers and may hold anything).
    assert R.vt_session_config.metadata_json.offset == 4 * P + 24
    assert R.vt_session_config.traceparent.offset == 5 * P + 24
    assert R.vt_session_config.clock.offset == 6 * P + 24
    if P == 8:
        assert sizeof(R.vt_session_config) == 80
    assert sizeof(R.vt_token_usage) == 80 and R.vt_token_usage.input.offset == 8
    assert R.vt_token_usage.output_audio.offset == 72
    # vt_plugin_statistics (offsets as a C compiler lays them out on LP64 and ILP32 alike).
    S = R.vt_plugin_statistics
    assert sizeof(S) == 472
    assert (S.disabled.offset, S.id.offset, S.name.offset, S.version.offset) == (4, 8, 16, 80)
    assert (S.emitted.offset, S.queued.offset, S.plugin_reported_drops.offset) == (112, 168, 200)
    assert (S.queue_capacity.offset, S.reserved.offset, S.last_error.offset) == (208, 212, 216)
    assert S.name.size == 64 and S.version.size == 32 and S.last_error.size == 256


# Lock-free turn-collector calls ("Thread-safety: any thread, lock-free" in the header).
LOCK_FREE_TURN_CALLS = {"vt_turn_mark", "vt_turn_value", "vt_turn_text", "vt_turn_usage",
                        "vt_turn_error"}
METRIC_WRITES = {"vt_metric_add", "vt_metric_set", "vt_metric_observe"}


def _section(title: str) -> str:
    """The header text of the section whose title starts with ``title`` (up to the next section)."""
    return re.split(r"\n/\* -{20,}\n \* ", HEADER.split("\n * " + title, 1)[1], maxsplit=1)[0]


# Every call of the Traces section takes the library's short internal lock (the section's
# "Thread-safety" line says so), so it releases the GIL, vt_record_* names included.
TRACE_CALLS = set(re.findall(r"^vt_status (vt_[a-z_]+)\(", _section("Traces"), re.M))


def test_gil_choice():
    """Record calls keep the GIL (PyDLL); calls that may block release it (CDLL)."""
    assert TRACE_CALLS == {"vt_step_start", "vt_step_end", "vt_record_message",
                           "vt_record_outcome_reward", "vt_record_event_reward",
                           "vt_record_outcome_reward_for", "vt_record_event_reward_for"}
    pyapi = ctypes._FUNCFLAG_PYTHONAPI
    for name in FUNCS:
        keeps_gil = bool(getattr(R, name)._flags_ & pyapi)
        expect = ((name.startswith("vt_record_") and name not in TRACE_CALLS)
                  or name in ("vt_now_ns", "vt_session_now_ns", "vt_emit") or name in LOCK_FREE_TURN_CALLS
                  or name in METRIC_WRITES)
        assert keeps_gil == expect, name


def test_gil_choice_in_traces_section_follows_header():
    """The header says the Traces calls take the internal lock: none of them keeps the GIL."""
    section = _section("Traces")
    assert "these calls take the short internal lock" in section
    assert "lock-free" not in section
    pyapi = ctypes._FUNCFLAG_PYTHONAPI
    for name in TRACE_CALLS:
        assert not getattr(R, name)._flags_ & pyapi, name


def test_gil_choice_follows_header_lock_free_marks():
    """The PyDLL set of turn calls is exactly the functions the header marks lock-free."""
    section = HEADER.split(" * Turn collector", 1)[1].split(" * Events and sink plugins", 1)[0]
    lock_free = set()
    for doc, name in re.findall(r"/\*\*((?:(?!\*/).)*)\*/\s*vt_status (vt_turn_[a-z_]+)\(", section,
                                re.S):
        if "lock-free" in doc:
            lock_free.add(name)
    assert lock_free == LOCK_FREE_TURN_CALLS


def test_gil_choice_in_metrics_section_follows_header():
    """Of the metrics section, exactly the calls the header says are lock-free keep the GIL."""
    section = _section("Process metrics")
    pyapi = ctypes._FUNCFLAG_PYTHONAPI
    docs = re.findall(r"/\*\*((?:(?!\*/).)*)\*/\s*vt_status (vt_[a-z_]+)\(", section, re.S)
    assert {name for _, name in docs} >= {"vt_counter_add", "vt_metric_get"} | METRIC_WRITES
    for doc, name in docs:
        assert bool(getattr(R, name)._flags_ & pyapi) == ("Lock-free" in doc), name


def test_gil_choice_in_plugin_section_follows_header():
    """Of the plugin section, only what the header calls lock-free (vt_emit) keeps the GIL."""
    section = HEADER.split(" * Events and sink plugins", 1)[1]
    pyapi = ctypes._FUNCFLAG_PYTHONAPI
    docs = re.findall(r"/\*\*((?:(?!\*/).)*)\*/\s*vt_status (vt_[a-z_]+)\(", section, re.S)
    assert len(docs) == 9  # vt_load_plugin_table since 1.1
    for doc, name in docs:
        assert bool(getattr(R, name)._flags_ & pyapi) == ("lock-free" in doc), name


def test_version_and_strings():
    assert R.vt_version_number() == vt.version_number() >= 1_000_000
    assert R.string(R.vt_version_string()) == vt.version() == "1.2.0"
    assert R.string(R.vt_status_str(R.VT_OK)) == "ok"
    assert R.string(R.vt_status_str(-12345)) == "unknown status"


def test_last_error_is_thread_local():
    rc = R.vt_end_session(987654321)
    assert rc == R.VT_E_BAD_HANDLE
    mine = R.string(R.vt_last_error())
    assert mine
    seen = []
    t = threading.Thread(target=lambda: seen.append(R.string(R.vt_last_error())))
    t.start()
    t.join()
    assert seen == [""]
    assert R.string(R.vt_last_error()) == mine  # a success does not clear it
    assert R.vt_end_session(0) == R.VT_OK
    assert R.string(R.vt_last_error()) == mine


def test_now_ns_is_monotonic_clock():
    import time

    a = time.monotonic_ns()
    b = R.vt_now_ns()
    c = time.monotonic_ns()
    assert a <= b <= c


def test_create_session_error_paths():
    cfg = R.vt_session_config()
    cfg.struct_size = sizeof(cfg)
    assert R.vt_create_session(byref(cfg), None) == R.VT_E_INVALID_ARG
    assert "out" in R.string(R.vt_last_error())
    cfg.struct_size = 4  # smaller than offsetof(labels)
    out = R.vt_session(0)
    assert R.vt_create_session(byref(cfg), byref(out)) == R.VT_E_INVALID_ARG
    assert out.value == 0
    assert R.vt_create_session(None, byref(out)) == R.VT_OK and out.value != 0
    assert R.vt_end_session(out) == R.VT_OK
    assert R.vt_end_session(out) == R.VT_E_BAD_HANDLE


def test_snapshot_buffer_contract():
    out = R.vt_session(0)
    assert R.vt_create_session(None, byref(out)) == R.VT_OK
    try:
        n = c_size_t(0)
        now = R.vt_now_ns() + 10**9  # a fixed "now" keeps the length fixed
        assert R.vt_snapshot_json_at(out, now, None, 0, byref(n)) == R.VT_E_BUFFER_TOO_SMALL
        need = n.value
        assert need > 100
        buf = ctypes.create_string_buffer(need)  # one byte short (no room for the NUL)
        assert R.vt_snapshot_json_at(out, now, buf, need, byref(n)) == R.VT_E_BUFFER_TOO_SMALL
        assert n.value == need
        buf = ctypes.create_string_buffer(need + 1)
        assert R.vt_snapshot_json_at(out, now, buf, need + 1, byref(n)) == R.VT_OK
        assert n.value == need and len(buf.value) == need
        assert R.vt_snapshot_json(out, buf, need + 1, None) == R.VT_E_INVALID_ARG
        assert R.vt_snapshot_json(out, None, 10, byref(n)) == R.VT_E_INVALID_ARG
        assert R.vt_snapshot_json_at(out, 0, None, 10, byref(n)) == R.VT_E_INVALID_ARG
        assert R.vt_snapshot_json(0, buf, need + 1, byref(n)) == R.VT_E_BAD_HANDLE
    finally:
        R.vt_end_session(out)


def test_prom_text_buffer_contract():
    n = c_size_t(0)
    assert R.vt_prom_text(None, 0, byref(n)) == R.VT_E_BUFFER_TOO_SMALL
    assert R.vt_prom_text(None, 0, None) == R.VT_E_INVALID_ARG
    assert R.vt_prom_text(None, 5, byref(n)) == R.VT_E_INVALID_ARG


def test_usage_and_batch_error_paths():
    out = R.vt_session(0)
    assert R.vt_create_session(None, byref(out)) == R.VT_OK
    try:
        assert R.vt_record_usage(out, None) == R.VT_E_INVALID_ARG
        u = R.vt_usage()
        u.struct_size = 4  # does not cover `total`
        assert R.vt_record_usage(out, byref(u)) == R.VT_E_INVALID_ARG
        done = c_size_t(99)
        assert R.vt_record_batch(out, None, 0, sizeof(R.vt_event), byref(done)) == R.VT_OK
        assert done.value == 0
        assert R.vt_record_batch(out, None, 3, sizeof(R.vt_event), byref(done)) == \
            R.VT_E_INVALID_ARG
        evs = (R.vt_event * 3)()
        for e in evs:
            e.kind = R.VT_EV_AUDIO_OUT
            e.value = 10
        assert R.vt_record_batch(out, evs, 3, 8, byref(done)) == R.VT_E_INVALID_ARG
        evs[2].kind = 99
        assert R.vt_record_batch(out, evs, 3, sizeof(R.vt_event), byref(done)) == \
            R.VT_E_INVALID_ARG
        assert "2" in R.string(R.vt_last_error())  # the message names the index
        assert done.value == 2
        assert R.vt_record_batch(out, evs, 2, sizeof(R.vt_event), None) == R.VT_OK
    finally:
        R.vt_end_session(out)
    assert R.vt_record_audio_out(out, 1, 0) == R.VT_E_BAD_HANDLE
    assert R.vt_record_vad_start(0, 0) == R.VT_E_BAD_HANDLE


def test_load_plugin_table_refuses_a_null_table():
    pid = R.vt_plugin_id(0)
    assert R.vt_load_plugin_table(None, None, byref(pid)) == R.VT_E_INVALID_ARG
    assert R.string(R.vt_last_error()) and pid.value == 0
