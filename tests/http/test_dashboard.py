"""The dashboard page (GET /) in a real browser: headless Chromium, driven over the DevTools protocol,
loads the page from http_exporter.so in an engine process (conftest's) that recorded scripted calls
(dashboard_helpers.SESSIONS, explicit timestamps). The DOM is checked against the JSON API's records
of the same server; a screenshot goes to build/http/dashboard.png for a person to look at."""
from __future__ import annotations

import http.client
import json
import math
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional
from urllib.parse import quote

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import dashboard_helpers as dh  # noqa: E402

SCREENSHOT = dh.REPO / "build" / "http" / "dashboard.png"
CALL, HOSTILE, REDACTED = (c.session_id for c in dh.SESSIONS)
PART_NAMES = {"stt_ns": "STT", "eou_ns": "EOU", "llm_ttft_ns": "LLM", "tts_ttfb_ns": "TTS",
              "realtime_ns": "Realtime", "remainder_ns": "Other"}
WAIT_S = 15.0  # every wait for the page: a bound, not a sleep (it usually takes well under a second)

# The page's state as JSON: what a person sees, plus the data-* attributes that tie it to the records.
READ_PAGE = r"""(() => {
  const q = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const text = (sel, root) => { const e = (root || document).querySelector(sel); return e ? e.textContent : null; };
  const row = (tr) => Object.fromEntries(q("td[data-stage]", tr)
    .map((td) => [td.dataset.stage, [td.textContent, td.dataset.ns || null]]));
  return {
    mode: document.getElementById("status").dataset.mode,
    status: document.getElementById("status").textContent,
    title: document.title,
    sessions: q("#sessions a").map((a) => ({
      id: a.dataset.sessionId, shown: text(".sid", a), counts: text(".counts", a), lastE2e: text(".last-e2e", a),
      labels: q(".chip", a).map((c) => c.textContent), current: a.getAttribute("aria-current"),
      href: a.getAttribute("href") })),
    detailTitle: text("#detail-title"),
    banner: document.getElementById("detail-banner").hidden ? null : text("#detail-banner"),
    cards: Object.fromEntries(q("#cards .card").map((c) => [c.dataset.card, text(".v", c)])),
    stageColumns: q("#stages thead th[data-stage]").map((th) => th.dataset.stage),
    p50: row(document.querySelector('#stages tr[data-q="p50"]')),
    p95: row(document.querySelector('#stages tr[data-q="p95"]')),
    turns: q("#turns .turn").map((r) => {
      const track = r.querySelector(".track").getBoundingClientRect();
      return {
        id: Number(r.dataset.turnId), outcome: text(".outcome", r), e2e: text(".e2e", r),
        trackWidth: track.width, trackRight: track.right,
        segments: q(".seg", r).map((s) => ({
          stage: s.dataset.stage, ns: Number(s.dataset.ns), label: text(".seg-ms", s),
          width: s.getBoundingClientRect().width,
          labelShown: getComputedStyle(s.firstChild).visibility === "visible" })),
        parts: q(".parts > span", r).map((s) => s.textContent),
        facts: q(".facts .chip", r).map((c) => c.textContent),
        texts: q(".texts [data-text]", r).map((d) => [d.dataset.text, text("q", d)]) };
    }),
    injected: q("#sessions *, #detail *").filter((e) => ["IMG", "SVG", "SCRIPT", "IFRAME"]
      .includes(e.tagName.toUpperCase()) || Array.from(e.attributes).some((a) => a.name.startsWith("on"))).length,
    pageWidth: document.documentElement.scrollWidth,
    clippedCards: q("#cards .v").filter((v) => v.scrollWidth > v.clientWidth).map((v) => v.textContent),
  };
})()"""


# ---- what the page must show, computed from the records ----------------------------------------------

def shown_ms(ns: int) -> str:
    """The page's rendering of a duration: milliseconds rounded to the nearest tenth, no trailing .0."""
    tenths = (ns + 50_000) // 100_000
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"


def nearest_rank(values: List[int], q: float) -> Optional[int]:
    """The nearest-rank quantile (docs/turn-schema.md: the snapshot's stage p50/p95 use the same)."""
    if not values:
        return None
    s = sorted(values)
    r = max(1, math.ceil(q * len(s)))  # q * n in doubles, as the page and the library compute it
    return s[min(r, len(s)) - 1]


def get_json(base: str, path: str, token: Optional[str] = None) -> Any:
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def turns_url(sid: str) -> str:
    return f"/api/v1/sessions/{quote(sid, safe='')}/turns?limit=50"


# ---- fixtures ---------------------------------------------------------------------------------------

@dataclass
class Served:
    """An engine process serving the scripted calls; next_t: when each call's next turn may start."""
    engine: Any
    next_t: Dict[str, int]

    @property
    def base(self) -> str:
        return str(self.engine.base)

    def add_turn(self, sid: str, turn: dh.Turn) -> None:
        calls, self.next_t[sid] = dh.turn_calls(sid, self.next_t[sid], turn)
        self.engine.calls(calls)
        self.engine.flush()


@pytest.fixture
def served(start_engine: Callable[..., Any]) -> Served:
    e = start_engine()
    return Served(e, dh.record_calls(e))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dh.Browser]:
    if not dh.chromium_path():
        pytest.fail("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    b = dh.Browser(tmp_path_factory.mktemp("chromium"))
    yield b
    b.close()


def drawn(sid: str, turns: int) -> str:
    """A page expression: call `sid` is shown, with `turns` turns."""
    return (f"document.getElementById('detail-title')?.textContent === {json.dumps(sid)} && "
            f"document.querySelectorAll('#turns .turn').length === {turns}")


def open_call(browser: dh.Browser, base: str, sid: str, turns: int, query: str = "") -> Dict[str, Any]:
    """Loads the page on call `sid` by its link (#session=<id>) and waits until its turns are drawn."""
    browser.navigate(f"{base}/{query}#session={quote(sid, safe='')}")
    listed = f"document.querySelectorAll('#sessions a').length === {len(dh.SESSIONS)}"
    headline = "document.querySelectorAll('#cards .card').length > 0"
    browser.wait_for(f"{drawn(sid, turns)} && {listed} && {headline}", WAIT_S, f"{turns} turns and the sessions")
    return browser.evaluate(READ_PAGE)


def switch_to(browser: dh.Browser, sid: str, turns: int) -> Dict[str, Any]:
    """Selects call `sid` on the open page (a new #session=<id>) and waits until its turns are drawn."""
    browser.evaluate(f"location.hash = 'session=' + encodeURIComponent({json.dumps(sid)})")
    browser.wait_for(drawn(sid, turns), WAIT_S, f"call {sid!r}")
    return browser.evaluate(READ_PAGE)


@pytest.fixture
def page(served: Served, browser: dh.Browser) -> Iterator[Dict[str, Any]]:
    """The page opened on the first call; whatever the test does next, it must log no error."""
    browser.errors.clear()
    yield open_call(browser, served.base, CALL, len(dh.SESSIONS[0].turns))
    assert browser.errors == [], "the page logged errors"


# ---- tests ------------------------------------------------------------------------------------------

def test_the_api_serves_the_scripted_calls(served: Served) -> None:
    """The records the page is checked against are the scripted ones (each breakdown adds up)."""
    for call in dh.SESSIONS:
        turns = get_json(served.base, turns_url(call.session_id))
        assert [t["e2e_breakdown_ns"] for t in turns] == [dh.expected_breakdown(t) for t in call.turns]
        assert all(sum(t["e2e_breakdown_ns"].values()) == t["e2e_latency_ns"] for t in turns)


def test_every_open_session_is_listed_with_its_counts_and_last_e2e(served: Served, page: Dict[str, Any]) -> None:
    api = get_json(served.base, "/api/v1/sessions")
    assert [s["id"] for s in page["sessions"]] == [s["session_id"] for s in api]
    assert sorted(s["session_id"] for s in api) == sorted(c.session_id for c in dh.SESSIONS)
    for shown, s in zip(page["sessions"], api):
        assert shown["shown"] == s["session_id"]
        assert shown["href"] == "#session=" + quote(s["session_id"], safe="-_.!~*'()")
        assert shown["counts"] == f"{s['turns_completed']} completed · {s['turns_interrupted']} interrupted"
        assert shown["lastE2e"] == f"last e2e {shown_ms(s['last_e2e_ns'])} ms"
        assert shown["labels"] == [f"{k}={v}" for k, v in s["labels"].items()]
        assert shown["current"] == ("true" if s["session_id"] == CALL else None)
    first = next(s for s in api if s["session_id"] == CALL)
    assert (first["turns_completed"], first["turns_interrupted"]) == (5, 1)


def test_each_turn_is_a_waterfall_of_its_records_breakdown(served: Served, browser: dh.Browser,
                                                            page: Dict[str, Any]) -> None:
    browser.screenshot(SCREENSHOT)
    records = get_json(served.base, turns_url(CALL))
    assert page["detailTitle"] == CALL
    assert [t["id"] for t in page["turns"]] == [r["turn_id"] for r in reversed(records)]  # newest first
    px_per_ns = max(s["width"] / s["ns"] for t in page["turns"] for s in t["segments"])
    for shown, rec in zip(page["turns"], reversed(records)):
        parts = [(k, v) for k, v in rec["e2e_breakdown_ns"].items() if v > 0]
        assert [(s["stage"], s["ns"]) for s in shown["segments"]] == parts, f"turn {rec['turn_id']}"
        assert [s["label"] for s in shown["segments"]] == [shown_ms(v) for _, v in parts]
        assert shown["parts"] == [f"{PART_NAMES[k]} {shown_ms(v)}" for k, v in parts]
        assert shown["e2e"] == f"{shown_ms(rec['e2e_latency_ns'])} ms"
        assert shown["outcome"] == rec["outcome"]
        for s in shown["segments"]:
            # one scale for every turn; 1 px: layout rounds widths to fractions of a pixel
            assert abs(s["width"] - s["ns"] * px_per_ns) <= 1.0, (rec["turn_id"], s)
            assert s["labelShown"] or s["width"] < 40, f"a {s['width']:.0f} px segment hides its label"
        assert sum(s["width"] for s in shown["segments"]) <= shown["trackWidth"] + 0.5
    longest = max(r["e2e_latency_ns"] for r in records)
    assert longest * px_per_ns >= page["turns"][0]["trackWidth"] / 2, "the scale wastes over half the track"


def check_stage_table(shown: Dict[str, Any], records: List[Dict[str, Any]]) -> None:
    """The p50/p95 row of every stage (and e2e) are the nearest-rank values over the records."""
    columns = {k: [r["e2e_breakdown_ns"][k] for r in records] for k in PART_NAMES}
    columns["e2e"] = [r["e2e_latency_ns"] for r in records]
    del columns["realtime_ns"]  # the page shows realtime only for calls that have it; these have none
    assert shown["stageColumns"] == list(columns)
    for q, name in ((0.5, "p50"), (0.95, "p95")):
        want = {k: nearest_rank(v, q) for k, v in columns.items()}
        assert shown[name] == {k: [shown_ms(v), str(v)] for k, v in want.items()}, name


def test_p50_and_p95_per_stage_are_the_nearest_rank_values_of_the_shown_turns(served: Served,
                                                                                page: Dict[str, Any]) -> None:
    check_stage_table(page, get_json(served.base, turns_url(CALL)))
    assert page["p95"]["e2e"] == ["1365", "1365000000"] and page["p50"]["llm_ttft_ns"] == ["360", "360000000"]


def test_the_snapshot_headline_numbers_are_shown(served: Served, page: Dict[str, Any]) -> None:
    snap = get_json(served.base, f"/api/v1/sessions/{quote(CALL, safe='')}")
    t = snap["turns"]
    assert page["cards"]["Turns"] == str(t["completed"] + t["interrupted"]) == "6"
    assert page["cards"]["Barge-ins"] == str(snap["interruptions"]) == "1"
    assert page["cards"]["Last e2e"] == f"{shown_ms(t['last']['e2e_latency_ns'])} ms" == "660 ms"
    assert page["cards"]["Tokens"] == f"{snap['token_totals']['prompt']} in" == "2992 in"
    assert page["cards"]["Audio out"] == f"{round(snap['audio_bytes_out'] / 1024)} KiB"
    assert "Out of order" not in page["cards"]  # shown only when there are some


def test_barge_ins_quality_flags_tools_fallbacks_and_transcripts_are_shown_per_turn(page: Dict[str, Any]) -> None:
    turns = {t["id"]: t for t in page["turns"]}
    assert turns[3]["facts"] == ["tool error ×1", "tool get_order 250 ms ✓", "tool search_kb 40 ms ✗ failed"]
    assert turns[4]["outcome"] == "interrupted"
    assert turns[4]["facts"] == ["barge-in · agent stopped in 150 ms"]
    assert turns[5]["facts"] == ["user spoke over the agent", "tts switch: acme-tts → backup-tts (timeout)"]
    assert turns[6]["facts"] == ["overlap"]
    for i, turn in enumerate(dh.SESSIONS[0].turns, start=1):
        assert turns[i]["texts"] == [["user_transcript", turn.user], ["agent_response", turn.agent]]


def test_strings_from_the_api_are_shown_as_text_never_as_markup(served: Served, browser: dh.Browser,
                                                                 page: Dict[str, Any]) -> None:
    assert page["injected"] == 0 and page["title"] == "voicetelemetry · live calls"
    hostile = next(s for s in page["sessions"] if s["id"] == HOSTILE)
    assert hostile["shown"] == HOSTILE and hostile["labels"] == ["transport=web<rtc>"]
    now = switch_to(browser, HOSTILE, 1)
    assert now["detailTitle"] == HOSTILE and now["banner"] is None
    assert now["turns"][0]["texts"] == [["user_transcript", "<svg onload=alert(1)>"], ["agent_response", "ok"]]
    assert now["injected"] == 0 and now["title"] == "voicetelemetry · live calls"


def test_transcripts_the_session_redacts_are_not_shown(served: Served, browser: dh.Browser,
                                                       page: Dict[str, Any]) -> None:
    records = get_json(served.base, turns_url(REDACTED))
    assert all(r["texts"]["user_transcript"]["redacted"] and "text" not in r["texts"]["user_transcript"]
               for r in records)
    now = switch_to(browser, REDACTED, len(records))
    assert [t["texts"] for t in now["turns"]] == [[]] * len(records) and len(records) == 11
    assert [[s["ns"] for s in t["segments"]] for t in now["turns"]] == \
        [[v for v in r["e2e_breakdown_ns"].values() if v] for r in reversed(records)]
    check_stage_table(now, records)


def test_a_turn_recorded_while_the_page_is_open_appears_live(served: Served, browser: dh.Browser,
                                                              page: Dict[str, Any]) -> None:
    browser.wait_for("document.getElementById('status').dataset.mode === 'sse'", WAIT_S, "the event stream")
    served.add_turn(CALL, dh.LIVE_TURN)
    turn_id = len(dh.SESSIONS[0].turns) + 1
    browser.wait_for(f"document.querySelector('#turns .turn[data-turn-id=\"{turn_id}\"]') !== null && document"
                     ".querySelector('#sessions a[aria-current] .counts').textContent.startsWith('6 completed')",
                     WAIT_S, "the new turn and the session's new count")
    now = browser.evaluate(READ_PAGE)
    want = dh.expected_breakdown(dh.LIVE_TURN)
    assert now["turns"][0]["id"] == turn_id
    assert [(s["stage"], s["ns"]) for s in now["turns"][0]["segments"]] == [(k, v) for k, v in want.items() if v]
    assert now["turns"][0]["e2e"] == "755 ms" and now["cards"]["Last e2e"] == "755 ms"
    assert now["mode"] == "sse"


def test_everything_fits_a_1280_by_800_window(page: Dict[str, Any]) -> None:
    assert page["pageWidth"] <= 1280
    assert all(t["trackRight"] <= 1280 for t in page["turns"])
    assert page["clippedCards"] == []


def test_opening_every_call_in_turn_logs_no_errors(served: Served, browser: dh.Browser, page: Dict[str, Any]) -> None:
    for call in dh.SESSIONS[::-1]:
        switch_to(browser, call.session_id, len(call.turns))
    assert browser.errors == []


def test_without_the_event_stream_the_page_falls_back_to_polling(start_engine: Callable[..., Any],
                                                                  browser: dh.Browser) -> None:
    e = start_engine(sse_max_clients=0)  # the exporter answers /api/v1/events with 503
    served = Served(e, dh.record_calls(e))
    browser.errors.clear()
    open_call(browser, served.base, CALL, len(dh.SESSIONS[0].turns))
    browser.wait_for("document.getElementById('status').dataset.mode === 'poll'", WAIT_S, "polling")
    assert "polling every 2 s" in browser.evaluate("document.getElementById('status').textContent")
    served.add_turn(CALL, dh.LIVE_TURN)
    browser.wait_for(drawn(CALL, len(dh.SESSIONS[0].turns) + 1), WAIT_S, "the new turn, polled")
    # the browser's own note of the refused stream is the only one
    assert [m.split(" http")[0] for m in browser.errors] == \
        ["log: Failed to load resource: the server responded with a status of 503 (Service Unavailable)"]
    assert all(m.endswith("/api/v1/events") for m in browser.errors)


def stream_takes_query_token(base: str, token: str) -> bool:
    """Does the exporter accept the token as ?access_token= on /api/v1/events (all EventSource can send)?"""
    c = http.client.HTTPConnection(base.split("//")[1], timeout=5)
    try:
        c.request("GET", f"/api/v1/events?access_token={token}")
        return c.getresponse().status == 200  # the head only: the stream itself never ends
    finally:
        c.close()


def test_with_a_token_in_its_address_the_page_sends_it_on_every_request(start_engine: Callable[..., Any],
                                                                        browser: dh.Browser) -> None:
    """The exporter asks for the token on / as well, which a browser cannot send from its address bar:
    the test adds it to the page's own load only (as a proxy in front of the exporter could). Every
    API request must carry it from the page itself; the event stream gets it as ?access_token= and,
    where the exporter does not take it there, the page polls with the header instead."""
    token = "dash-T0ken_42"
    e = start_engine(token=token)
    served = Served(e, dh.record_calls(e))
    live = stream_takes_query_token(served.base, token)
    browser.errors.clear()
    browser.authorize_page_loads(f"Bearer {token}")
    try:
        open_call(browser, served.base, CALL, len(dh.SESSIONS[0].turns), query=f"?token={token}")
    finally:
        browser.authorize_page_loads(None)
    browser.wait_for(f"document.getElementById('status').dataset.mode === '{'sse' if live else 'poll'}'",
                     WAIT_S, "the event stream" if live else "polling")
    served.add_turn(CALL, dh.LIVE_TURN)
    browser.wait_for(drawn(CALL, len(dh.SESSIONS[0].turns) + 1), WAIT_S, "the new turn")
    refused = [f"log: Failed to load resource: the server responded with a status of 401 (Unauthorized) "
               f"{served.base}/api/v1/events?access_token={token}"]
    assert browser.errors == ([] if live else refused)
