#!/usr/bin/env python3
"""The prometheus_client side of bench/parts/85-metrics.sh: the same families, label values, bucket
bounds and observations as bench/metrics/bench_metrics.c (from the same arguments), then the time of
generate_latest. Prints "<figure> <value>" lines (best of ROUNDS).

    peer.py expo COUNTERS HISTOGRAMS SERIES OBS BOUNDS ROUNDS
"""
from __future__ import annotations

import sys
import time

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


def observation(s: int, i: int) -> float:
    """The i-th value of series s (the same formula as bench_metrics.c and the Go peer)."""
    return ((s * 31 + i * 7919) % 1000 + 1) / 400.0


def expo(counters: int, histograms: int, series: int, obs: int, bounds: list, rounds: int) -> None:
    prometheus_client.disable_created_metrics()  # the _created series the others do not have
    reg = CollectorRegistry()
    for f in range(counters):
        c = Counter(f"bench_events{f}_total", "Events of the bench.", ["id"], registry=reg)
        for s in range(series):
            c.labels(f"s{s}").inc((s % 5 + 1) * 10)
    for f in range(histograms):
        h = Histogram(f"bench_stage{f}_seconds", "Stage latency of the bench.", ["id"], buckets=bounds,
                      registry=reg)
        for s in range(series):
            child = h.labels(f"s{s}")
            for i in range(obs):
                child.observe(observation(s, i))
    text = generate_latest(reg)
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter_ns()
        text = generate_latest(reg)
        best = min(best, time.perf_counter_ns() - t)
    lines = sum(1 for line in text.split(b"\n") if line and not line.startswith(b"#"))
    print(f"expo_us {best / 1e3:.1f}\nexpo_lines {lines}\nexpo_bytes {len(text)}")


def main() -> int:
    if len(sys.argv) != 8 or sys.argv[1] != "expo":
        print(__doc__, file=sys.stderr)
        return 2
    a = sys.argv[2:]
    expo(int(a[0]), int(a[1]), int(a[2]), int(a[3]), [float(b) for b in a[4].split(",")], int(a[5]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
