"""Process metrics, Prometheus exposition, clock and version."""
from __future__ import annotations

import ctypes
from ctypes import byref, c_char_p, c_double, c_uint64
from enum import IntEnum
from typing import Callable, Optional, Sequence

from . import _raw
from ._util import Labels, StrLike, as_float, cstr, invalid, label_array, text_call
from .errors import InvalidArgumentError, error_for_status, raise_last_error

__all__ = [
    "Counter",
    "Gauge",
    "Histogram",
    "counter_add",
    "gauge_set",
    "gauge_add",
    "observe",
    "register_labels",
    "set_buckets",
    "prom_text",
    "PROM_CONTENT_TYPE",
    "ExpositionFormat",
    "FORMAT_PROMETHEUS",
    "FORMAT_OPENMETRICS",
    "OPENMETRICS_CONTENT_TYPE",
    "prom_text_as",
    "content_type",
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


# ---- metric handles (vt_metric_get, vt_metric_add / _set / _observe) -----------------------------

_metric_add = _raw.vt_metric_add  # PyDLL: lock-free like the record calls, the GIL is kept
_metric_set = _raw.vt_metric_set
_metric_observe = _raw.vt_metric_observe


class _Metric:
    """One series resolved once (``vt_metric_get``); its writes are one lock-free call each."""

    __slots__ = ("_hc", "name", "overflow")
    _kind = 0

    def __init__(self, name: StrLike, help: Optional[StrLike] = None,
                 labels: Optional[Labels] = None) -> None:
        arr, n, keep = label_array(labels)
        out = c_uint64(0)
        rc = _raw.vt_metric_get(self._kind, cstr(name, "metric name"), cstr(help, "help"), arr, n,
                                byref(out))
        del keep
        # At the series limit the library still hands out the family's overflow handle: writes
        # through it raise LimitError (and are counted as dropped), as by-name calls past the limit do.
        if rc and rc != _raw.VT_E_LIMIT:
            raise_last_error(rc)
        self._hc = out
        self.name = name if isinstance(name, str) else bytes(name).decode("utf-8", "replace")
        #: True when the family was at its series limit: every write raises LimitError.
        self.overflow = rc == _raw.VT_E_LIMIT

    @property
    def handle(self) -> int:
        """The ``vt_metric`` handle (for the raw layer)."""
        return int(self._hc.value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, handle={self.handle:#x})"


def _bad_value(value: object) -> InvalidArgumentError:
    return invalid(f"value must be a number, not {type(value).__name__}")


class Counter(_Metric):
    """A counter series (``VT_METRIC_COUNTER``): ``Counter(name, help, labels).add(v)``.

    The name must end in ``_total``; ``help`` is required on the family's first use. Labels not
    registered for the family are dropped (and counted once, here).
    """

    __slots__ = ()
    _kind = _raw.VT_METRIC_COUNTER

    def add(self, value: float = 1.0) -> None:
        """Add ``value`` (``vt_metric_add``); negative values are ignored (counters only go up)."""
        try:
            rc = _metric_add(self._hc, value)
        except ctypes.ArgumentError:
            raise _bad_value(value) from None
        if rc:
            raise_last_error(rc)


class Gauge(_Metric):
    """A gauge series (``VT_METRIC_GAUGE``): :meth:`set` and :meth:`add`."""

    __slots__ = ()
    _kind = _raw.VT_METRIC_GAUGE

    def set(self, value: float) -> None:
        """Set the gauge to ``value`` (``vt_metric_set``)."""
        try:
            rc = _metric_set(self._hc, value)
        except ctypes.ArgumentError:
            raise _bad_value(value) from None
        if rc:
            raise_last_error(rc)

    def add(self, value: float) -> None:
        """Add ``value`` (may be negative) to the gauge (``vt_metric_add``)."""
        try:
            rc = _metric_add(self._hc, value)
        except ctypes.ArgumentError:
            raise _bad_value(value) from None
        if rc:
            raise_last_error(rc)


class Histogram(_Metric):
    """A latency series (``VT_METRIC_HISTOGRAM``): a histogram ``name`` and a ``name_quantiles``
    summary, as :func:`observe` writes them."""

    __slots__ = ()
    _kind = _raw.VT_METRIC_HISTOGRAM

    def observe(self, value: float) -> None:
        """Record one sample (``vt_metric_observe``): >= 0, in base units (seconds, bytes)."""
        try:
            rc = _metric_observe(self._hc, value)
        except ctypes.ArgumentError:
            raise _bad_value(value) from None
        if rc:
            raise_last_error(rc)


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


class ExpositionFormat(IntEnum):
    """``enum vt_exposition_format`` (since 1.2): the text formats of :func:`prom_text_as`."""

    #: Prometheus text format 0.0.4: exactly :func:`prom_text`'s text.
    PROMETHEUS = _raw.VT_FORMAT_PROMETHEUS
    #: OpenMetrics 1.0.0: counter families named without ``_total``, ``# UNIT`` lines, exemplars
    #: ``{session_id,turn_id,trace_id}`` on the turn latency histogram buckets, ``# EOF`` at the end.
    OPENMETRICS = _raw.VT_FORMAT_OPENMETRICS


FORMAT_PROMETHEUS = ExpositionFormat.PROMETHEUS
FORMAT_OPENMETRICS = ExpositionFormat.OPENMETRICS

#: Content-Type for serving :func:`prom_text_as` with :data:`FORMAT_OPENMETRICS`.
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def content_type(format: int) -> str:
    """The Content-Type to serve :func:`prom_text_as` ``(format)`` with."""
    return OPENMETRICS_CONTENT_TYPE if _check_format(format) == FORMAT_OPENMETRICS else PROM_CONTENT_TYPE


def _check_format(format: int) -> ExpositionFormat:
    try:
        return ExpositionFormat(format)
    except ValueError:
        raise invalid(f"format must be FORMAT_PROMETHEUS (0) or FORMAT_OPENMETRICS (1), "
                      f"got {format!r}") from None


def prom_text_as(format: int) -> str:
    """Every metric of the process in exposition format ``format`` (``vt_prom_text_as``, since 1.2).

    :data:`FORMAT_PROMETHEUS` gives :func:`prom_text`'s text; :data:`FORMAT_OPENMETRICS` the same
    families, series and values as OpenMetrics 1.0.0 (serve it with
    :data:`OPENMETRICS_CONTENT_TYPE`). An unknown format is an InvalidArgumentError; against a
    library older than 1.2, NotFoundError.
    """
    fmt = _check_format(format)
    if _raw.vt_prom_text_as is None:
        raise error_for_status(_raw.VT_E_NOT_FOUND,
                               f"vt_prom_text_as needs libvoicetelemetry 1.2 or later; the loaded "
                               f"library is {version()}")
    return text_call(_raw.vt_prom_text_as, int(fmt)).decode("utf-8")


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
