"""Exceptions: one class per ``vt_status`` code, and the one place that turns a status into one."""
from __future__ import annotations

from typing import Dict, NoReturn, Optional, Type

from . import _raw

__all__ = [
    "VoiceTelemetryError",
    "InvalidArgumentError",
    "BadHandleError",
    "BufferTooSmallError",
    "LimitError",
    "OrderError",
    "InternalError",
    "NotFoundError",
    "PluginError",
    "PermissionRefusedError",
    "error_for_status",
    "raise_last_error",
]


class VoiceTelemetryError(Exception):
    """A libvoicetelemetry call failed.

    ``code`` is the ``vt_status`` (a negative int), ``status`` its static text
    (``vt_status_str``), ``message`` the library's detail message (``vt_last_error``, read on the
    failing thread right after the call) or a message from the binding's own argument checks.
    """

    #: The status code this class stands for (None for the base class: any unknown code).
    CODE: Optional[int] = None

    def __init__(self, code: int, message: str):
        self.code = int(code)
        self.status = _raw.string(_raw.vt_status_str(self.code))
        self.message = message
        super().__init__(f"{message} [{self.status}, {self.code}]" if message else
                         f"{self.status} [{self.code}]")


class InvalidArgumentError(VoiceTelemetryError):
    """VT_E_INVALID_ARG: an argument is missing, malformed, out of range or not valid UTF-8."""

    CODE = _raw.VT_E_INVALID_ARG


class BadHandleError(VoiceTelemetryError):
    """VT_E_BAD_HANDLE: the session handle is 0, made up, or its session has ended."""

    CODE = _raw.VT_E_BAD_HANDLE


class BufferTooSmallError(VoiceTelemetryError):
    """VT_E_BUFFER_TOO_SMALL: an output buffer was too small (handled inside the binding)."""

    CODE = _raw.VT_E_BUFFER_TOO_SMALL


class LimitError(VoiceTelemetryError):
    """VT_E_LIMIT: a documented limit is reached (open sessions, series, families)."""

    CODE = _raw.VT_E_LIMIT


class OrderError(VoiceTelemetryError):
    """VT_E_ORDER: the call is valid but not at this point (e.g. buckets after observations)."""

    CODE = _raw.VT_E_ORDER


class InternalError(VoiceTelemetryError):
    """VT_E_INTERNAL: a bug in the library; the message says where."""

    CODE = _raw.VT_E_INTERNAL


class NotFoundError(VoiceTelemetryError):
    """VT_E_NOT_FOUND: a named thing does not exist (plugin file or symbol, plugin id)."""

    CODE = _raw.VT_E_NOT_FOUND


class PluginError(VoiceTelemetryError):
    """VT_E_PLUGIN: a plugin was refused or failed (ABI mismatch, init failure)."""

    CODE = _raw.VT_E_PLUGIN


class PermissionRefusedError(VoiceTelemetryError):
    """VT_E_PERMISSION: refused for safety (e.g. a world-writable plugin file)."""

    CODE = _raw.VT_E_PERMISSION


_BY_CODE: Dict[int, Type[VoiceTelemetryError]] = {
    cls.CODE: cls
    for cls in (
        InvalidArgumentError,
        BadHandleError,
        BufferTooSmallError,
        LimitError,
        OrderError,
        InternalError,
        NotFoundError,
        PluginError,
        PermissionRefusedError,
    )
    if cls.CODE is not None
}


def error_for_status(code: int, message: str) -> VoiceTelemetryError:
    """The exception for ``code``: its subclass, or the base class for an unknown code."""
    return _BY_CODE.get(int(code), VoiceTelemetryError)(code, message)


def raise_last_error(code: int) -> NoReturn:
    """Raise the exception for a failed call's ``code`` with the thread's ``vt_last_error``.

    Call it right after the failing call, on the same thread, before any other library call.
    """
    raise error_for_status(code, _raw.string(_raw.vt_last_error()))
