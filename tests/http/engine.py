"""A scripted voice-engine process for the HTTP suite: it loads libvoicetelemetry (Python binding)
and http_exporter.so, then records what its parent tells it, one JSON command per stdin line, with
the timestamps given. conftest.py's Engine drives it; the plugin serves this process over HTTP.

    python3 engine.py PLUGIN.so CONFIG_JSON

First stdout line: {"port": N} once the plugin listens (or {"error": "..."}: the load failed).
Then for every command line one answer line: {"ok": RESULT} or {"error": "TYPE: message"}.
Commands ({"op": ...}):
  session  id, labels, start_t_ns, text_policy ("include"/"redact"), turn_history, clock ("media")
  calls    calls: [[session_id, method, arg, ...], ...] -- Session methods; an argument
           "@TurnStage.LLM" names a binding enum member
  end      id, t_ns                  vt: fn, args, kwargs (a module function: counter_add, ...)
  flush    (vt_flush_events)          unload (the plugin)          exit
stdin closing ends the process.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "examples-python"))
os.environ.setdefault("VOICETELEMETRY_LIB", str(REPO / "build" / "lib" / "libvoicetelemetry.so"))

import voicetelemetry as vt  # noqa: E402

sessions = {}


def arg(v):
    if isinstance(v, str) and v.startswith("@"):
        cls, name = v[1:].split(".")
        return getattr(vt, cls)[name]
    return v


def op_session(c):
    policy = vt.TextPolicy.INCLUDE if c.get("text_policy") == "include" else vt.TextPolicy.REDACT
    kw = dict(labels=c.get("labels"), start_t_ns=c.get("start_t_ns", 0), text_policy=policy,
              turn_history=c.get("turn_history", 0))
    if c.get("clock") == "media":
        kw["clock"] = vt.Clock.MEDIA
    s = vt.Session(c["id"], **kw)
    sessions[c["id"]] = s
    return s.session_id


def op_calls(c):
    for call in c["calls"]:
        sid, method, *args = call
        getattr(sessions[sid], method)(*[arg(a) for a in args])
    return len(c["calls"])


def op_end(c):
    sessions.pop(c["id"]).end(c.get("t_ns", 0))
    return True


def op_vt(c):
    return getattr(vt, c["fn"])(*[arg(a) for a in c.get("args", [])], **c.get("kwargs", {}))


def main() -> int:
    so, config = sys.argv[1], json.loads(sys.argv[2])
    try:
        plugin = vt.load_plugin(so, config)
    except vt.VoiceTelemetryError as e:
        print(json.dumps({"error": str(e)}), flush=True)
        return 1
    port = int(Path(config["port_file"]).read_text()) if config.get("port_file") else None
    print(json.dumps({"port": port}), flush=True)
    ops = {"session": op_session, "calls": op_calls, "end": op_end, "vt": op_vt,
           "flush": lambda c: vt.flush_events(c.get("seconds", 5.0)), "unload": lambda c: plugin.unload()}
    for line in sys.stdin:
        c = json.loads(line)
        if c["op"] == "exit":
            break
        try:
            out = {"ok": ops[c["op"]](c)}
        except Exception as e:  # the parent reports it with the command
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out, default=str), flush=True)
    if plugin.loaded:
        plugin.unload()
    return 0


if __name__ == "__main__":
    sys.exit(main())
