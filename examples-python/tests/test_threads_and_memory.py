"""Concurrency (exact totals from many threads) and memory (create/end cycles do not grow RSS)."""
from __future__ import annotations

import os
import threading

import voicetelemetry as vt


def prom_value(name: str, labels: dict) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for fam in text_string_to_metric_families(vt.prom_text()):
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def test_concurrent_recording_exact_totals():
    threads_n, per_thread = 8, 20_000
    label = {"transport": "pytest-threads"}
    bytes0 = prom_value("voicetelemetry_audio_out_bytes_total", label)
    with vt.Session(labels=label) as s:
        start = threading.Barrier(threads_n + 1)
        errors = []
        stop_reader = threading.Event()

        def producer(i: int) -> None:
            try:
                start.wait()
                batch = s.audio_batch(64) if i % 2 else None
                for _ in range(per_thread):
                    if batch is None:
                        s.record_audio_out(3)
                    else:
                        batch.append(3)
                if batch is not None:
                    batch.close()
                s.record_interruption()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def reader() -> None:
            while not stop_reader.is_set():  # snapshots and prom text concurrently with records
                s.snapshot()
                vt.prom_text()

        ths = [threading.Thread(target=producer, args=(i,)) for i in range(threads_n)]
        rd = threading.Thread(target=reader)
        for t in ths:
            t.start()
        rd.start()
        start.wait()
        for t in ths:
            t.join()
        stop_reader.set()
        rd.join()
        assert not errors, errors
        snap = s.snapshot()
        assert snap["audio_chunks_out"] == threads_n * per_thread
        assert snap["audio_bytes_out"] == 3 * threads_n * per_thread
        assert snap["interruptions"] == threads_n
    assert prom_value("voicetelemetry_audio_out_bytes_total", label) - bytes0 == \
        3 * threads_n * per_thread


def test_many_sessions_from_threads():
    handles = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(500):
            with vt.Session() as s:
                s.record_audio_out(1)
                with lock:
                    handles.append(s.handle)

    ths = [threading.Thread(target=work) for _ in range(4)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    assert len(set(handles)) == len(handles) == 2000  # handles are never reused


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cycle(n: int) -> None:
    for _ in range(n):
        s = vt.Session(labels={"transport": "rss"})
        s.record_audio_out(640)
        s.end()


def test_create_end_cycles_do_not_grow_rss():
    cycle(20_000)  # warm-up: slots, caches, allocator arenas
    before = rss_bytes()
    cycle(100_000)
    growth = rss_bytes() - before
    assert growth < 2 * 1024 * 1024, f"RSS grew by {growth / 1024:.0f} KiB over 100k cycles"


def test_other_threads_leave_a_batch_alone_end_flushes_it():
    """A batch is flushed by its own thread's calls (and by end), never under its owner's feet."""
    with vt.Session() as s:
        made = threading.Event()
        go_on = threading.Event()
        holder = []

        def owner() -> None:
            b = s.audio_batch(1000)
            b.append(5)
            b.append(5)
            holder.append(b)
            made.set()
            go_on.wait(10)
            s.record_interruption()  # the owner's own call flushes its pending events first

        t = threading.Thread(target=owner)
        t.start()
        assert made.wait(10)
        s.record_interruption()  # another thread: the owner's batch is left alone
        assert s.snapshot()["audio_chunks_out"] == 0 and len(holder[0]) == 2
        go_on.set()
        t.join()
        assert s.snapshot()["audio_chunks_out"] == 2 and len(holder[0]) == 0
        b2 = []
        t = threading.Thread(target=lambda: (b2.append(s.audio_batch()), b2[0].append(7)))
        t.start()
        t.join()
    assert len(b2[0]) == 0  # end() flushed the batch of a thread that never closed it
