"""Argument conversion shared by the idiomatic layer, and the text-buffer contract."""
from __future__ import annotations

import ctypes
import threading
from typing import Any, Callable, Iterable, List, Mapping, Optional, Tuple, Union

from . import _raw
from .errors import (
    InternalError,
    InvalidArgumentError,
    VoiceTelemetryError,
    error_for_status,
    raise_last_error,
)

StrLike = Union[str, bytes]
Labels = Union[Mapping[str, Optional[str]], Iterable[Tuple[str, Optional[str]]]]

#: Initial size of the per-thread output buffers (grown on demand, then reused).
INITIAL_BUFFER_BYTES = 16384
_MAX_RETRIES = 16


def invalid(message: str) -> InvalidArgumentError:
    """An :class:`InvalidArgumentError` raised by the binding's own checks (code VT_E_INVALID_ARG)."""
    return InvalidArgumentError(_raw.VT_E_INVALID_ARG, message)


def too_old(what: str) -> VoiceTelemetryError:
    """The error for a feature the loaded library predates (code VT_E_NOT_FOUND: the symbol or the
    field is not there), e.g. ``too_old("vt_step_start")`` against a 1.0 library."""
    return error_for_status(
        _raw.VT_E_NOT_FOUND,
        f"{what} needs libvoicetelemetry 1.1 or later; the loaded library is "
        f"{_raw.string(_raw.vt_version_string())}")


def cstr(value: Optional[StrLike], what: str) -> Optional[bytes]:
    """Encode a str for the C ABI: UTF-8 bytes, or None (NULL) for None.

    Lone surrogates are passed through (``surrogatepass``) so that the library's own UTF-8 check
    rejects them with its message. An embedded NUL would silently truncate the C string, so it is
    refused here.
    """
    if value is None:
        return None
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    else:
        raise invalid(f"{what} must be a str, not {type(value).__name__}")
    if b"\x00" in data:
        raise invalid(f"{what} contains a NUL character")
    return data


def label_array(labels: Optional[Labels], what: str = "label") -> Tuple[Any, int, List[Any]]:
    """Build a ``vt_label`` array from a mapping or (key, value) pairs.

    Returns ``(array_or_None, n, keepalive)``; keep ``keepalive`` referenced during the call.
    A None value means "absent" (NULL), as in the header.
    """
    if not labels:
        return None, 0, []
    items = list(labels.items()) if isinstance(labels, Mapping) else list(labels)
    arr = (_raw.vt_label * len(items))()
    keep: List[Any] = [arr]
    for i, item in enumerate(items):
        try:
            key, value = item
        except (TypeError, ValueError):
            raise invalid(f"{what} #{i} must be a (key, value) pair, got {item!r}") from None
        k = cstr(key, f"{what} key")
        v = cstr(value, f"{what} value {key!r}")
        keep.append(k)
        keep.append(v)
        arr[i].key = k
        arr[i].value = v
    return arr, len(items), keep


def as_float(value: Any, what: str) -> float:
    """``float(value)``, as an InvalidArgumentError when it is not a number."""
    if isinstance(value, (str, bytes)):
        raise invalid(f"{what} must be a number, not {type(value).__name__}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise invalid(f"{what} must be a number, not {type(value).__name__}") from None


def as_u64(value: Any, what: str) -> int:
    """A non-negative int below 2**64 (what a C ``uint64_t``/``size_t`` can hold)."""
    if not isinstance(value, int) or isinstance(value, bool):
        try:
            value = value.__index__()
        except AttributeError:
            raise invalid(f"{what} must be an int, not {type(value).__name__}") from None
    if value < 0 or value >= 1 << 64:
        raise invalid(f"{what} must be in [0, 2**64), got {value}")
    return value


_local = threading.local()


def text_call(fn: Callable[..., int], *args: Any) -> bytes:
    """Run a text-producing function under the BUFFERS contract of the header.

    ``fn(*args, buf, cap, len_out)`` is called with this thread's reusable buffer; on
    VT_E_BUFFER_TOO_SMALL the buffer grows to ``*len_out + 1`` and the call is repeated (the text
    may grow in between, so it loops). Returns the text's bytes (without the NUL).
    """
    buf = getattr(_local, "buf", None)
    if buf is None:
        buf = ctypes.create_string_buffer(INITIAL_BUFFER_BYTES)
        _local.buf = buf
    n = ctypes.c_size_t(0)
    for _ in range(_MAX_RETRIES):
        rc = fn(*args, buf, len(buf), ctypes.byref(n))
        if rc == 0:
            return ctypes.string_at(buf, n.value)
        if rc != _raw.VT_E_BUFFER_TOO_SMALL:
            raise_last_error(rc)
        buf = ctypes.create_string_buffer(n.value + 1)
        _local.buf = buf
    raise InternalError(_raw.VT_E_INTERNAL,
                        f"output kept growing across {_MAX_RETRIES} attempts (last size {n.value})")


def set_buffer_size(nbytes: int) -> None:
    """Replace this thread's output buffer (tests use it to exercise the grow-and-retry path)."""
    _local.buf = ctypes.create_string_buffer(max(1, nbytes))
