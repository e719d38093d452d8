"""Drive otlp_sink.so directly through its plugin table with a host written here (ctypes): scripted
event lines (e.g. session.start carrying start_unix_ns and a traceparent, which the core does not send
yet), a scripted Prometheus text, and a record of count_drop and log calls."""
from __future__ import annotations

import ctypes as C
import json
import threading
import time
from typing import Dict, List, Optional

LOG_FN = C.CFUNCTYPE(None, C.c_void_p, C.c_int32, C.c_char_p)
NOW_FN = C.CFUNCTYPE(C.c_uint64, C.c_void_p)
DROP_FN = C.CFUNCTYPE(None, C.c_void_p, C.c_uint64)
PROM_FN = C.CFUNCTYPE(C.c_int32, C.c_void_p, C.c_void_p, C.c_size_t, C.POINTER(C.c_size_t))
SNAP_FN = C.CFUNCTYPE(C.c_int32, C.c_void_p, C.c_uint64, C.c_void_p, C.c_size_t, C.POINTER(C.c_size_t))


class HostApi(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("abi_major", C.c_uint32), ("abi_minor", C.c_uint32),
                ("reserved", C.c_uint32), ("log", LOG_FN), ("now_ns", NOW_FN), ("count_drop", DROP_FN),
                ("prom_text", PROM_FN), ("snapshot_json", SNAP_FN)]


class Batch(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("n_events", C.c_uint32), ("data", C.c_char_p), ("len", C.c_size_t),
                ("sequence", C.c_uint64), ("dropped_before", C.c_uint64), ("attempt", C.c_uint32),
                ("reserved", C.c_uint32)]


INIT_FN = C.CFUNCTYPE(C.c_int32, C.POINTER(HostApi), C.c_void_p, C.c_char_p, C.POINTER(C.c_void_p), C.c_char_p,
                      C.c_size_t)
WRITE_FN = C.CFUNCTYPE(C.c_int32, C.c_void_p, C.POINTER(Batch))
FLUSH_FN = C.CFUNCTYPE(C.c_int32, C.c_void_p, C.c_uint64)
SHUT_FN = C.CFUNCTYPE(None, C.c_void_p, C.c_uint64)


class Table(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("abi_major", C.c_uint32), ("abi_minor", C.c_uint32),
                ("name", C.c_char_p), ("version", C.c_char_p), ("init", INIT_FN), ("write", WRITE_FN),
                ("flush", FLUSH_FN), ("shutdown", SHUT_FN)]


class FakeHost:
    """One plugin instance with this host. prom: the text prom_text returns (changeable)."""

    def __init__(self, so_path: str, config: Dict, prom: str = "") -> None:
        self.lib = C.CDLL(so_path)
        entry = self.lib.voicetelemetry_sink_plugin_v1
        entry.restype = C.POINTER(Table)
        self.table = entry().contents
        self.prom = prom
        self.drops = 0
        self.logs: List[tuple] = []
        self.lock = threading.Lock()
        self.seq = 0
        self._cbs = (LOG_FN(self._log), NOW_FN(lambda _c: time.monotonic_ns()), DROP_FN(self._drop),
                     PROM_FN(self._prom), SNAP_FN(lambda *_a: -8))
        self.host = HostApi(C.sizeof(HostApi), 1, 0, 0, *self._cbs)
        self.state = C.c_void_p()
        err = C.create_string_buffer(512)
        rc = self.table.init(C.byref(self.host), None, json.dumps(config).encode(), C.byref(self.state), err, 512)
        if rc != 0:
            raise RuntimeError(err.value.decode())

    def _log(self, _ctx, level, msg):
        with self.lock:
            self.logs.append((level, msg.decode()))

    def _drop(self, _ctx, n):
        with self.lock:
            self.drops += n

    def _prom(self, _ctx, buf, cap, len_out):
        data = self.prom.encode()
        len_out[0] = len(data)
        if cap < len(data) + 1:
            return -3  # VT_E_BUFFER_TOO_SMALL
        C.memmove(buf, data + b"\0", len(data) + 1)
        return 0

    def write(self, lines: List[Dict], dropped_before: int = 0) -> int:
        text = "".join(json.dumps(l, separators=(",", ":")) + "\n" for l in lines).encode()
        self.seq += 1
        b = Batch(C.sizeof(Batch), len(lines), text, len(text), self.seq, dropped_before, 1, 0)
        return self.table.write(self.state, C.byref(b))

    def flush(self, seconds: float = 5.0) -> int:
        return self.table.flush(self.state, time.monotonic_ns() + int(seconds * 1e9))

    def shutdown(self, seconds: float = 2.0) -> None:
        if self.state:
            self.table.shutdown(self.state, time.monotonic_ns() + int(seconds * 1e9))
            self.state = C.c_void_p()


def envelope(event_type: str, session_id: Optional[str], ts_us: int, data: Dict, unix_us: Optional[int] = None,
             turn_id: Optional[str] = None) -> Dict:
    ev = {"type_id": "core::telemetry/event@1", "session_id": session_id, "event_type": event_type,
          "correlation_id": None, "turn_id": turn_id, "timestamp_us": ts_us}
    if unix_us is not None:
        ev["timestamp_unix_us"] = unix_us
    ev["data"] = data
    return ev
