"""Process metrics, Prometheus exposition, clock and version."""
from __future__ import annotations

from ctypes import c_char_p, c_double
from typing import Callable, Optional, Sequence

from . import _raw
from ._util import Labels, StrLike, as_float, cstr, invalid, label_array, text_call
from .errors import raise_last_error

__all__ = [
    "counter_add",
    "gauge_set",
    "gauge_add",
    "observe",
    "register_labels",
    "set_buckets",
    "prom_text",
    "now_ns",
    "version",
    "version_number",
]


def _metric_call(fn: Callable[..., int], name: StrLike, value: float, help: Optional[StrLike],
                 labels: Optional[Labels]) -> None:
    arr, n, keep = label_array(labels)
    rc = fn(cstr(name, "metric name"), cstr(help, "help"), arr, n, as_float(value, "value"))
    if rc:
        raise_last_error(rc)
    del keep


def counter_add(name: StrLike, value: float, help: Optional[StrLike] = None,
                labels: Optional[Labels] = None) -> None:
    """Add ``value`` to a counter series (``vt_counter_add``); the name must end in ``_total``.

    ``help`` is required on a family's first use. Negative values are ignored (counters only go
    up); NaN/inf raise InvalidArgumentError. Labels not registered for the family are dropped.
    """
    _metric_call(_raw.vt_counter_add, name, value, help, labels)


def gauge_set(name: StrLike, value: float, help: Optional[StrLike] = None,
              labels: Optional[Labels] = None) -> None:
    """Set a gauge series to ``value`` (``vt_gauge_set``)."""
    _metric_call(_raw.vt_gauge_set, name, value, help, labels)


def gauge_add(name: StrLike, value: float, help: Optional[StrLike] = None,
              labels: Optional[Labels] = None) -> None:
    """Add ``value`` (may be negative) to a gauge series (``vt_gauge_add``)."""
    _metric_call(_raw.vt_gauge_add, name, value, help, labels)


def observe(name: StrLike, value: float, help: Optional[StrLike] = None,
            labels: Optional[Labels] = None) -> None:
    """Record one sample (base units: seconds, bytes) of a latency family (``vt_observe``).

    Exposed as a histogram ``name`` and a summary ``name_quantiles``. ``value`` must be >= 0.
    """
    _metric_call(_raw.vt_observe, name, value, help, labels)


def register_labels(name: StrLike, keys: Sequence[StrLike]) -> None:
    """Declare the label keys a metric accepts (``vt_register_labels``); replaces earlier keys.

    For the built-in ``voicetelemetry_*`` session metrics the keys choose which session labels
    label their series (default: ``transport``), for sessions created afterwards.
    """
    if keys is None or isinstance(keys, (str, bytes)):
        raise invalid(f"keys must be a sequence of label keys, not {type(keys).__name__}")
    enc = [cstr(k, "label key") for k in keys]
    arr = (c_char_p * len(enc))(*enc) if enc else None
    rc = _raw.vt_register_labels(cstr(name, "metric name"), arr, len(enc))
    if rc:
        raise_last_error(rc)


def set_buckets(name: StrLike, bounds: Sequence[float]) -> None:
    """Choose the histogram bucket upper bounds of a latency family (``vt_set_buckets``).

    Strictly increasing finite values (+Inf is implicit); before the family's first observation
    (built-ins: before the first session), else :class:`~voicetelemetry.OrderError`.
    """
    if bounds is None or isinstance(bounds, (str, bytes)):
        raise invalid(f"bounds must be a sequence of numbers, not {type(bounds).__name__}")
    vals = [as_float(b, "bucket bound") for b in bounds]
    arr = (c_double * len(vals))(*vals) if vals else None
    rc = _raw.vt_set_buckets(cstr(name, "metric name"), arr, len(vals))
    if rc:
        raise_last_error(rc)


def prom_text() -> str:
    """Every metric of the process in Prometheus text format 0.0.4 (``vt_prom_text``).

    Serve it with ``Content-Type: text/plain; version=0.0.4; charset=utf-8``.
    """
    return text_call(_raw.vt_prom_text).decode("utf-8")


#: Content-Type for serving :func:`prom_text`.
PROM_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def now_ns() -> int:
    """CLOCK_MONOTONIC in nanoseconds: the clock ``t_ns == 0`` stands for (``vt_now_ns``).

    On Linux ``time.monotonic_ns()`` reads the same clock.
    """
    return int(_raw.vt_now_ns())


def version() -> str:
    """The loaded library's version text, e.g. ``"1.0.0"``."""
    return _raw.string(_raw.vt_version_string())


def version_number() -> int:
    """The loaded library's ``vt_version_number()`` (major * 1000000 + minor * 1000 + patch)."""
    return int(_raw.vt_version_number())
