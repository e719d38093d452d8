#!/usr/bin/env python3
"""Python binding overhead, measured against a bare ctypes crossing in the same run.

Rows:
  record_audio_out     ns per Session.record_audio_out(640) / ns per ctypes call of a no-op C
                       function with the same argument types (bench/python/noop.c), loaded the
                       same way (PyDLL, argtypes set, prebuilt c_uint64 handle).   target <= 1.3
  ... explicit t_ns    the same with a timestamp argument (no clock read in the library).
  batch extend_audio   ns per chunk recorded with AudioBatch.extend_audio (256 per call) /
                       ns per single Session.record_audio_out.                      target <= 0.1
  batch append         ns per chunk with AudioBatch.append + flush every 256 (per-frame Python
                       call; informational).
  Counter.add(1)       ns per add through a metric handle (vt_metric_add) / ns per ctypes call of a
                       no-op with vt_metric_add's types (uint64, double).              target <= 1.3
  Histogram.observe    the same for vt_metric_observe.                                 target <= 1.3
Best of many short interleaved slices (ratios are robust on a noisy machine; absolute ns are not).
"""
from __future__ import annotations

import argparse
import ctypes
import sys
import time
from array import array
from ctypes import c_double, c_int32, c_size_t, c_uint64
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "examples-python"))
import voicetelemetry as vt  # noqa: E402


def load_noop(path: str):
    lib = ctypes.PyDLL(path)
    fn = lib.noop_record_audio_out
    fn.argtypes = (c_uint64, c_size_t, c_uint64)  # same as vt_record_audio_out
    fn.restype = c_int32
    metric = lib.noop_metric
    metric.argtypes = (c_uint64, c_double)  # same as vt_metric_add / vt_metric_observe
    metric.restype = c_int32
    return fn, metric


def best_ns(fn, n: int) -> float:
    t = time.perf_counter_ns()
    fn(n)
    return (time.perf_counter_ns() - t) / n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--noop", default=str(REPO / "build" / "bench" / "libvtnoop.so"))
    ap.add_argument("--iters", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()

    noop, noop_metric = load_noop(args.noop)
    s = vt.Session(session_id="bench-python")
    hc = c_uint64(s.handle)  # the baseline uses the same prebuilt-handle style as Session
    batch = s.audio_batch(256)
    sizes = array("Q", [640]) * 256

    def base(n):
        f, h = noop, hc
        for _ in range(n):
            f(h, 640, 0)

    def base_t(n):
        f, h = noop, hc
        for _ in range(n):
            f(h, 640, 123456789)

    def ours(n):
        rec = s.record_audio_out
        for _ in range(n):
            rec(640)

    def ours_t(n):
        rec = s.record_audio_out
        for _ in range(n):
            rec(640, 123456789)

    def ext(n):
        e = batch.extend_audio
        for _ in range(n // 256):
            e(sizes)

    def app(n):
        a = batch.append
        for _ in range(n):
            a(640)
        batch.flush()

    counter = vt.Counter("pybench_handle_total", "Bench.", {"transport": "sip"})
    hist = vt.Histogram("pybench_handle_seconds", "Bench.", {"transport": "sip"})
    hm = c_uint64(counter.handle)

    def base_m(n):
        f, h = noop_metric, hm
        for _ in range(n):
            f(h, 1.0)

    def c_add(n):
        add = counter.add
        for _ in range(n):
            add(1.0)

    def h_obs(n):
        obs = hist.observe
        for _ in range(n):
            obs(0.25)

    def empty(n):
        for _ in range(n):
            pass

    cases = {"base": base, "base_t": base_t, "ours": ours, "ours_t": ours_t, "ext": ext,
             "app": app, "base_m": base_m, "c_add": c_add, "h_obs": h_obs, "empty": empty}
    best = {k: float("inf") for k in cases}
    for k, f in cases.items():  # warm-up
        f(10_000)
    # Many short interleaved slices, best per case: on a shared, noisy machine the minimum over
    # short slices finds the quiet moments for every case alike.
    slice_n = max(2560, args.iters // 20)
    for _ in range(args.runs * args.iters // slice_n):
        for k, f in cases.items():
            best[k] = min(best[k], best_ns(f, slice_n))
    s.end()

    rows = [
        ("record_audio_out(640)", best["ours"], "ctypes no-op", best["base"], 1.3),
        ("record_audio_out(640, t_ns)", best["ours_t"], "ctypes no-op", best["base_t"], 1.3),
        ("batch extend_audio, per chunk", best["ext"], "record_audio_out", best["ours"], 0.1),
        ("batch append, per chunk", best["app"], "record_audio_out", best["ours"], None),
        ("Counter.add(1.0)", best["c_add"], "ctypes no-op", best["base_m"], 1.3),
        ("Histogram.observe(0.25)", best["h_obs"], "ctypes no-op", best["base_m"], 1.3),
    ]
    print(f"python {sys.version.split()[0]}, library {vt.version()}; best of "
          f"{args.runs * args.iters // slice_n} interleaved slices of {slice_n} calls "
          f"(empty loop: {best['empty']:.1f} ns/iter, included in all)")
    print(f"{'path':32} {'ours ns':>9} {'baseline':>18} {'base ns':>9} {'ratio':>7} {'target':>8}")
    status = 0
    for name, ours_ns, bname, base_ns, target in rows:
        ratio = ours_ns / base_ns
        tgt = f"<= {target}" if target is not None else "-"
        flag = ""
        if target is not None and ratio > target:
            flag = "  MISSED"
            status = 1
        print(f"{name:32} {ours_ns:9.1f} {bname:>18} {base_ns:9.1f} {ratio:7.3f} {tgt:>8}{flag}")
    return status


if __name__ == "__main__":
    sys.exit(main())
