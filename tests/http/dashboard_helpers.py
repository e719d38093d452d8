"""Helpers of the dashboard test: the scripted calls (recorded through conftest's engine process, with
explicit timestamps) and a headless Chromium driven over the DevTools protocol
(``--remote-debugging-pipe``: NUL-separated JSON messages on fds 3 and 4, so no websocket client is
needed)."""
from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MS = 1_000_000
S_NS = 1_000_000_000


# ---- the scripted calls ----------------------------------------------------------------------------

@dataclass
class Turn:
    """One user utterance and the answer, as stage durations in ms on the critical path.

    stt: speech end -> STT final; eou: STT final -> EOU end; llm: EOU end -> first token (or, with
    preemptive, LLM first token `preemptive` ms after the STT final: before the EOU end, so its part
    is 0 and the turn is flagged overlap); tts: -> TTS first byte; rem: -> first agent audio.
    """
    stt: float
    eou: float
    llm: float
    tts: float
    rem: float
    user: str = ""
    agent: str = ""
    preemptive: Optional[float] = None
    barge_in_after: Optional[float] = None   # user barges in this long after the first agent audio
    agent_stops_after: float = 150           # ... and the agent stops this long after the barge-in
    tools: List[Tuple[str, float, bool]] = field(default_factory=list)  # name, duration ms, ok
    fallback: Optional[Tuple[str, str, str]] = None  # TTS provider from, to, reason
    tokens: Optional[Tuple[int, int]] = None  # the LLM's usage report: prompt, response


@dataclass
class Call:
    session_id: str
    labels: Dict[str, str]
    include_texts: bool
    turns: List[Turn]


SESSIONS = [
    Call("support-7f3a", {"transport": "sip", "provider": "acme", "region": "eu-west"}, True, [
        Turn(120, 200, 350, 90, 40, "Hi, I'd like to check on my order.", "Sure, what's the order number?",
             tokens=(812, 24)),
        Turn(95.25, 180, 420, 110.5, 35, "It's <b>4471</b> & the name is O'Brien <script>alert(1)</script>",
             "Thanks, one moment while I look that up.", tokens=(870, 31)),
        Turn(130, 210, 900, 95, 30, "Is it shipped yet?", "It shipped yesterday and arrives Friday.",
             tools=[("get_order", 250, True), ("search_kb", 40, False)], tokens=(1310, 44)),
        Turn(110, 190, 380, 100, 45, "Can you change the address?", "I can help with that. First, could you",
             barge_in_after=600),
        Turn(105, 200, 360, 640, 50, "To 12 Harbour Road, please.", "Done: the new address is 12 Harbour Road.",
             fallback=("acme-tts", "backup-tts", "timeout")),
        Turn(100, 400, 0, 120, 40, "Great, thanks.", "You're welcome. Anything else?", preemptive=150),
    ]),
    Call("<img src=x onerror=\"document.title='pwned'\"> & co", {"transport": "web<rtc>"}, True, [
        Turn(150, 250, 500, 150, 60, "<svg onload=alert(1)>", "ok"),
    ]),
    # eleven turns: the nearest rank of p95 (ceil(0.95 * 11) = 11) differs from a rounded one (10)
    Call("webrtc-19c2", {"transport": "webrtc"}, False, [
        Turn(100 + (37 * i) % 90, 180 + (53 * i) % 110, 300 + (71 * i) % 400, 80 + (29 * i) % 70, 30 + (17 * i) % 40,
             f"my card number ends in {4111 + i}", "Thanks, I have it.") for i in range(11)
    ]),
]

#: The turn the live-update check adds to the first call while the page is open.
LIVE_TURN = Turn(115, 190, 330, 85, 35, "One more thing: the delivery window?", "Between 9 and 12.")


def expected_breakdown(t: Turn) -> Dict[str, int]:
    """The e2e_breakdown_ns a Turn must produce (docs/turn-schema.md: the parts add up to e2e)."""
    return {"stt_ns": round(t.stt * MS), "eou_ns": round(t.eou * MS), "llm_ttft_ns": round(t.llm * MS),
            "tts_ttfb_ns": round(t.tts * MS), "realtime_ns": 0, "remainder_ns": round(t.rem * MS)}


def turn_calls(sid: str, t: int, turn: Turn) -> Tuple[List[List[Any]], int]:
    """The Session calls (conftest Engine.calls form) of `turn` with the user's speech ending at `t`,
    and when the next turn may start."""
    b = expected_breakdown(turn)
    stt_final = t + b["stt_ns"]
    eou_end = stt_final + b["eou_ns"]
    first_token = stt_final + round(turn.preemptive * MS) if turn.preemptive is not None else eou_end + b["llm_ttft_ns"]
    tts_start = max(eou_end, first_token)
    first_audio = tts_start + b["tts_ttfb_ns"] + b["remainder_ns"]
    end = first_audio + 1800 * MS
    if turn.barge_in_after is not None:
        end = first_audio + round((turn.barge_in_after + turn.agent_stops_after) * MS)

    def mark(stage: str, m: str, at: int) -> List[Any]:
        return [sid, "turn_mark", "@TurnStage." + stage, "@TurnMark." + m, at]

    c = [[sid, "record_vad_start", t - 1200 * MS],  # the core's VAD calls are the turn's user speech
         mark("STT", "START", t - 1150 * MS), [sid, "record_vad_end", t], mark("STT", "FINAL", stt_final),
         [sid, "turn_text", "@TurnTextKind.USER_TRANSCRIPT", turn.user, stt_final],
         mark("EOU", "START", stt_final), mark("EOU", "END", eou_end),
         mark("LLM", "START", stt_final if turn.preemptive is not None else eou_end)]
    for name, dur, ok in turn.tools:
        start = eou_end + 10 * MS
        c.append([sid, "turn_tool_call", "@ToolKind.FUNCTION", name, start, start + round(dur * MS), ok])
        if not ok:
            c.append([sid, "turn_error", "@TurnStage.TOOL", start + round(dur * MS)])
    c.append(mark("LLM", "FIRST", first_token))
    if turn.tokens:
        c.append([sid, "record_usage", sum(turn.tokens), turn.tokens[0], turn.tokens[1], None, None, first_token])
    c.append(mark("TTS", "START", tts_start))
    if turn.fallback:
        c.append([sid, "turn_fallback", "@TurnStage.TTS", "@FallbackKind.SWITCH", *turn.fallback, tts_start + MS])
    c += [mark("TTS", "FIRST", tts_start + b["tts_ttfb_ns"]),
          [sid, "turn_text", "@TurnTextKind.AGENT_RESPONSE", turn.agent, first_audio],
          mark("LLM", "END", first_audio)]
    # 200 ms of 16 kHz 16-bit audio a chunk; the first one is the agent's first audio
    c += [[sid, "record_audio_out", 6400, first_audio + k * 200 * MS] for k in range((end - first_audio) // (200 * MS))]
    if turn.barge_in_after is not None:
        c.append([sid, "record_interruption", first_audio + round(turn.barge_in_after * MS)])
    c += [mark("TTS", "END", end), mark("AGENT_SPEECH", "END", end)]
    return c, end + 3 * S_NS


def record_calls(engine: Any) -> Dict[str, int]:
    """Opens SESSIONS in the engine process, each with its turns, all within the last ten minutes on
    CLOCK_MONOTONIC (the library's clock, shared by every process); returns when each call's next
    turn may start."""
    base = time.monotonic_ns() - 600 * S_NS
    next_t = {}
    for i, call in enumerate(SESSIONS):
        start = base + i * 20 * S_NS
        engine.session(call.session_id, call.labels, start_t_ns=start,
                       text_policy="include" if call.include_texts else "redact")
        t = start + 5 * S_NS
        calls: List[List[Any]] = []
        for turn in call.turns:
            more, t = turn_calls(call.session_id, t, turn)
            calls += more
        engine.calls(calls)
        next_t[call.session_id] = t
    engine.flush()
    return next_t


# ---- headless Chromium over the DevTools protocol ---------------------------------------------------

def chromium_path() -> Optional[str]:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _high(fds: Tuple[int, int]) -> Tuple[int, int]:
    """The pipe's ends moved to fds of 10 and above: the child's redirections to 3 and 4 must not
    overwrite (or close) one of them."""
    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return moved[0], moved[1]


class Browser:
    """Headless Chromium with one page, driven over --remote-debugging-pipe.

    Console errors, uncaught exceptions and failed loads the page logs are collected in `errors`.
    """

    def __init__(self, tmp: Path, width: int = 1280, height: int = 800, timeout: float = 30.0) -> None:
        self.timeout = timeout
        to_chrome_r, self._w = _high(os.pipe())
        self._r, from_chrome_w = _high(os.pipe())
        profile = tmp / "chromium-profile"
        profile.mkdir()
        args = [chromium_path(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--mute-audio", "--hide-scrollbars",
                f"--user-data-dir={profile}", f"--window-size={width},{height}", "--remote-debugging-pipe",
                "about:blank"]
        # the protocol's pipe is fd 3 (commands in) and fd 4 (replies and events out)
        shell = f'exec "$@" 3<&{to_chrome_r} 4>&{from_chrome_w} {to_chrome_r}<&- {from_chrome_w}>&-'
        self.log = open(tmp / "chromium.log", "w+")
        self.proc = subprocess.Popen(["bash", "-c", shell, "bash", *args], pass_fds=(to_chrome_r, from_chrome_w),
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._replies: Dict[int, Dict[str, Any]] = {}
        self._unawaited: Set[int] = set()            # ids of commands whose replies nobody waits for
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._page_auth: Optional[str] = None
        self.errors: List[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.width, self.height = width, height
        self.session = self._attach()

    # -- protocol --
    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._replies[-1] = {"closed": True}
                    self._cond.notify_all()
                return
            buf += chunk
            *messages, buf = buf.split(b"\0")
            for raw in messages:
                self._dispatch(json.loads(raw))

    def _dispatch(self, msg: Dict[str, Any]) -> None:
        if "id" in msg:
            with self._cond:
                if msg["id"] in self._unawaited:
                    self._unawaited.discard(msg["id"])
                else:
                    self._replies[msg["id"]] = msg
                    self._cond.notify_all()
        elif msg.get("method") == "Fetch.requestPaused":
            self._authorize(msg)
        else:
            self._collect_error(msg)

    def _authorize(self, msg: Dict[str, Any]) -> None:
        """A paused page load goes on with the Authorization header (see authorize_page_loads)."""
        p = msg["params"]
        headers = [{"name": k, "value": v} for k, v in p["request"]["headers"].items() if k.lower() != "authorization"]
        if self._page_auth:
            headers.append({"name": "Authorization", "value": self._page_auth})
        self._post("Fetch.continueRequest", {"requestId": p["requestId"], "headers": headers}, msg.get("sessionId"),
                   awaited=False)

    def _collect_error(self, msg: Dict[str, Any]) -> None:
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.errors.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.errors.append("console.error: " + " ".join(str(a.get("value", a.get("description")))
                                                            for a in p.get("args", [])))
        elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
            self.errors.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")

    def _post(self, method: str, params: Optional[Dict[str, Any]], session: Optional[str], awaited: bool) -> int:
        with self._cond:
            self._next_id += 1
            mid = self._next_id
            if not awaited:
                self._unawaited.add(mid)
        msg: Dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = memoryview(json.dumps(msg).encode() + b"\0")
        with self._write_lock:  # the reader thread posts too: one message at a time, whole
            while data:
                data = data[os.write(self._w, data):]
        return mid

    def send(self, method: str, params: Optional[Dict[str, Any]] = None, session: Optional[str] = None,
             timeout: Optional[float] = None) -> Dict[str, Any]:
        mid = self._post(method, params, session, awaited=True)
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while mid not in self._replies:
                left = deadline - time.monotonic()
                assert left > 0 and -1 not in self._replies, f"no reply to {method} (chromium: {self._log_tail()})"
                self._cond.wait(left)
            reply = self._replies.pop(mid)
        assert "error" not in reply, f"{method}: {reply['error']}"
        return reply["result"]

    def _log_tail(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-1500:]

    def _attach(self) -> str:
        targets = self.send("Target.getTargets")["targetInfos"]
        page = next((t for t in targets if t["type"] == "page"), None)
        target = page["targetId"] if page else self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.send(domain + ".enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        return session

    # -- page --
    def authorize_page_loads(self, authorization: Optional[str]) -> None:
        """Sends `Authorization: <authorization>` with the page's own loads (documents), and with
        nothing the page requests itself; None stops it."""
        self._page_auth = authorization
        if authorization:
            self.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "resourceType": "Document"}]},
                      session=self.session)
        else:
            self.send("Fetch.disable", session=self.session)

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", {"url": url}, session=self.session)

    def _evaluate(self, expression: str) -> Tuple[Any, Optional[str]]:
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                      session=self.session)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            return None, d.get("exception", {}).get("description", d.get("text"))
        return r["result"].get("value"), None

    def evaluate(self, expression: str) -> Any:
        """The JSON value of `expression` in the page (awaited if it is a promise)."""
        value, error = self._evaluate(expression)
        assert error is None, f"evaluate failed: {error}"
        return value

    def wait_for(self, expression: str, timeout: float, what: str) -> Any:
        """Polls `expression` every 50 ms until it is truthy (an exception, e.g. while the page is still
        loading, counts as not yet); fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value, error = self._evaluate(expression)
            if value:
                return value
            assert time.monotonic() < deadline, \
                f"timed out after {timeout} s waiting for {what} (last: {error or value!r}); page errors: {self.errors}"
            time.sleep(0.05)

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"}, session=self.session)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.send("Browser.close", timeout=5)
        except (AssertionError, OSError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()

