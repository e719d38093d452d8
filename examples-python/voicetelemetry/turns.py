"""Turn collector: the header's ``vt_turn_*`` enums as Python enums and the :class:`Session` methods.

A turn is one user utterance and the agent's answer to it. The library assembles turns from stage
events (``Session.turn_mark`` and friends, plus the core record calls) and keeps the last
``turn_history`` completed turns as JSON records (schema: ``docs/turn-schema.md``), read back with
:meth:`TurnCollectorMixin.last_turn` and :meth:`TurnCollectorMixin.turn_history`::

    import voicetelemetry as vt
    from voicetelemetry import TurnMark as M, TurnStage as S

    with vt.Session(text_policy=vt.TextPolicy.INCLUDE) as s:
        s.turn_mark(S.USER_SPEECH, M.START, t0)
        s.turn_mark(S.USER_SPEECH, M.END, t0 + 1_000_000_000)
        s.turn_text(vt.TurnTextKind.USER_TRANSCRIPT, "What is the weather?")
        ...
        s.turn_mark(S.AGENT_SPEECH, M.END)
        print(s.last_turn()["e2e_latency_ns"])

The methods live in :class:`TurnCollectorMixin`, which :class:`~voicetelemetry.Session` inherits.
Errors are the same :class:`~voicetelemetry.VoiceTelemetryError` subclasses as everywhere else:
the library's own answer (``InvalidArgumentError`` for an unknown stage, a pair the stage does not
have, invalid UTF-8 ...; ``BadHandleError`` after :meth:`Session.end`), or an
``InvalidArgumentError`` from the binding's checks for what C cannot even receive (a negative or
over-wide integer, a non-number, a text with an embedded NUL).
"""
from __future__ import annotations

import ctypes
import json
from ctypes import byref, sizeof
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from . import _raw
from ._util import StrLike, as_u64, cstr, invalid, text_call
from .errors import raise_last_error

__all__ = [
    "TextPolicy",
    "TurnStage",
    "TurnMark",
    "TurnValueKey",
    "TurnTextKind",
    "FallbackKind",
    "ToolKind",
    "TurnQuality",
    "TurnCollectorMixin",
]


class TextPolicy(IntEnum):
    """``enum vt_text_policy``: what happens to texts (transcripts) of a session's turns."""

    REDACT = _raw.VT_TEXT_REDACT  #: only the text's length is kept (the default)
    INCLUDE = _raw.VT_TEXT_INCLUDE  #: texts are kept, truncated to max_text_chars


class TurnStage(IntEnum):
    """``enum vt_turn_stage``: the stages of a turn (the marks each accepts are listed)."""

    USER_SPEECH = _raw.VT_STAGE_USER_SPEECH  #: VAD: START, END
    STT = _raw.VT_STAGE_STT  #: START, INTERIM, PREFLIGHT, FINAL
    EOU = _raw.VT_STAGE_EOU  #: end-of-utterance detection: START, END
    LLM = _raw.VT_STAGE_LLM  #: START, FIRST (first token), END
    TTS = _raw.VT_STAGE_TTS  #: START, FIRST (first audio byte), END
    AGENT_SPEECH = _raw.VT_STAGE_AGENT_SPEECH  #: START (first audio played), END
    KNOWLEDGE_BASE = _raw.VT_STAGE_KNOWLEDGE_BASE  #: retrieval: START, END
    REALTIME = _raw.VT_STAGE_REALTIME  #: speech-to-speech model: START, FIRST, END
    INTERRUPTION = _raw.VT_STAGE_INTERRUPTION  #: barge-in: START
    FALSE_INTERRUPTION = _raw.VT_STAGE_FALSE_INTERRUPTION  #: START, RESUMED, ESCALATED
    BACKGROUND_AUDIO = _raw.VT_STAGE_BACKGROUND_AUDIO  #: START, END
    THINKING_AUDIO = _raw.VT_STAGE_THINKING_AUDIO  #: START, END
    TOOL = _raw.VT_STAGE_TOOL  #: only as an error source or fallback stage


class TurnMark(IntEnum):
    """``enum vt_turn_mark``: the marks a stage reaches."""

    START = _raw.VT_MARK_START
    END = _raw.VT_MARK_END
    FIRST = _raw.VT_MARK_FIRST  #: first token / first byte / first audio
    INTERIM = _raw.VT_MARK_INTERIM  #: STT interim result
    PREFLIGHT = _raw.VT_MARK_PREFLIGHT  #: STT preflight (early final) transcript
    FINAL = _raw.VT_MARK_FINAL  #: STT final transcript
    RESUMED = _raw.VT_MARK_RESUMED  #: false interruption: the agent resumed
    ESCALATED = _raw.VT_MARK_ESCALATED  #: false interruption: it became a real interruption


class TurnValueKey(IntEnum):
    """``enum vt_turn_value_key``: numeric facts of a turn (whether a value sets or adds)."""

    STT_CONFIDENCE = _raw.VT_TV_STT_CONFIDENCE  #: 0..1 (sets)
    STT_AUDIO_SECONDS = _raw.VT_TV_STT_AUDIO_SECONDS  #: audio the STT processed (sets)
    EOU_PROBABILITY = _raw.VT_TV_EOU_PROBABILITY  #: 0..1 (sets)
    EOU_WAIT_SECONDS = _raw.VT_TV_EOU_WAIT_SECONDS  #: time waited for more speech (adds)
    TTS_CHARACTERS = _raw.VT_TV_TTS_CHARACTERS  #: characters sent to TTS (adds)
    TTS_CHARACTERS_PLAYED = _raw.VT_TV_TTS_CHARACTERS_PLAYED  #: played before the end (sets)
    TTS_AUDIO_BYTES = _raw.VT_TV_TTS_AUDIO_BYTES  #: audio bytes the TTS produced (adds)
    FALSE_INTERRUPTION_PAUSE_SECONDS = _raw.VT_TV_FALSE_INTERRUPTION_PAUSE_SECONDS  #: (sets)
    FALSE_INTERRUPTION_WORDS = _raw.VT_TV_FALSE_INTERRUPTION_WORDS  #: (sets)


class TurnTextKind(IntEnum):
    """``enum vt_turn_text_kind``: the texts of a turn (each call replaces the previous one)."""

    USER_TRANSCRIPT = _raw.VT_TT_USER_TRANSCRIPT
    STT_PREFLIGHT = _raw.VT_TT_STT_PREFLIGHT
    AGENT_RESPONSE = _raw.VT_TT_AGENT_RESPONSE


class FallbackKind(IntEnum):
    """``enum vt_fallback_kind``."""

    SWITCH = _raw.VT_FALLBACK_SWITCH  #: moved from a failing provider to another
    RECOVERY = _raw.VT_FALLBACK_RECOVERY  #: moved back to the recovered provider


class ToolKind(IntEnum):
    """``enum vt_tool_kind``."""

    FUNCTION = _raw.VT_TOOL_FUNCTION  #: a function tool
    MCP = _raw.VT_TOOL_MCP  #: an MCP server tool


class TurnQuality(IntFlag):
    """``enum vt_turn_quality``: bits of a record's ``quality_flags``.

    ``TurnQuality(record["quality_flags"])`` gives the flags of a record from :meth:`last_turn`.
    """

    NO_VAD = _raw.VT_TQ_NO_VAD  #: no user speech end: the anchor fell back to STT/EOU
    NO_ANCHOR = _raw.VT_TQ_NO_ANCHOR  #: no anchor at all: no e2e latency
    NO_AGENT_AUDIO = _raw.VT_TQ_NO_AGENT_AUDIO  #: no first agent audio: no e2e latency
    OUT_OF_ORDER = _raw.VT_TQ_OUT_OF_ORDER  #: an end before its start (that latency is null)
    IMPLAUSIBLE = _raw.VT_TQ_IMPLAUSIBLE  #: a latency above 120 s
    MISSING_START = _raw.VT_TQ_MISSING_START  #: an end/first mark without its start
    OVERLAP = _raw.VT_TQ_OVERLAP  #: a stage ran in parallel with the one before it


#: Field names of ``vt_token_usage`` after struct_size, in order.
TOKEN_FIELDS = tuple(name for name, _ in _raw.vt_token_usage._fields_[1:])

_U32 = (1 << 32) - 1
_U64 = (1 << 64) - 1
_I32_MIN, _I32_MAX = -(1 << 31), (1 << 31) - 1
_CONVERSION_ERRORS = (TypeError, ctypes.ArgumentError, OverflowError)

# Lock-free calls (PyDLL: keep the GIL), looked up once; the others go through the CDLL handle.
_mark = _raw.vt_turn_mark
_value = _raw.vt_turn_value
_text = _raw.vt_turn_text
_usage = _raw.vt_turn_usage
_error = _raw.vt_turn_error
_USAGE_SIZE = sizeof(_raw.vt_token_usage)


def _bad_ints(what: str, *values: Any) -> Exception:
    return invalid(f"{what} must be ints (uint32 enum values, t_ns in [0, 2**64)), got "
                   + ", ".join(repr(v) for v in values))


def _u32(value: Any, what: str) -> int:
    v = as_u64(value, what)
    if v > _U32:
        raise invalid(f"{what} must fit in 32 bits, got {v}")
    return v


class TurnCollectorMixin:
    """The turn-collector calls of a :class:`~voicetelemetry.Session` (``vt_turn_*``).

    Timestamps are as for the record calls: nanoseconds on the session's clock, 0 = "now".
    Stage events (mark, value, text, usage, error) are lock-free and keep the GIL; provider,
    fallback and tool-call reports take the library's short lock and release the GIL, as do the
    JSON readers. Like the record calls, each method first flushes the session's pending
    :class:`~voicetelemetry.AudioBatch` events so that the library sees events in call order.
    """

    __slots__ = ()

    if TYPE_CHECKING:  # provided by Session
        _hc: ctypes.c_uint64
        _batches: List[Any]

        def _flush_batches(self) -> None: ...

    # -- lock-free stage events ---------------------------------------------------------------

    def turn_mark(self, stage: int, mark: int, t_ns: int = 0) -> None:
        """A ``stage`` of the current turn reached ``mark`` at ``t_ns`` (``vt_turn_mark``).

        stage, mark: a :class:`TurnStage` and a :class:`TurnMark` the stage has (listed with
        :class:`TurnStage`). START, FIRST, INTERIM and PREFLIGHT keep the turn's first time, END
        and FINAL the last. ``AGENT_SPEECH END`` completes the turn.
        Raises InvalidArgumentError for an unknown stage or mark or a pair the stage lacks.
        """
        if self._batches:
            self._flush_batches()
        try:
            if not (0 <= stage <= _U32 and 0 <= mark <= _U32 and 0 <= t_ns <= _U64):
                raise _bad_ints("stage, mark and t_ns", stage, mark, t_ns)
            rc = _mark(self._hc, stage, mark, t_ns)
        except _CONVERSION_ERRORS:
            raise _bad_ints("stage, mark and t_ns", stage, mark, t_ns) from None
        if rc:
            raise_last_error(rc)

    def turn_value(self, key: int, value: float, t_ns: int = 0) -> None:
        """A numeric fact of the current turn (``vt_turn_value``); see :class:`TurnValueKey`.

        value: finite and >= 0; probabilities and confidences at most 1; seconds at most 1e6;
        counts (characters, bytes, words) whole numbers below 2**40 (checked by the library).
        """
        if self._batches:
            self._flush_batches()
        try:
            if not (0 <= key <= _U32 and 0 <= t_ns <= _U64):
                raise _bad_ints("key and t_ns", key, t_ns)
            if isinstance(value, (str, bytes)):
                raise TypeError
            rc = _value(self._hc, key, value, t_ns)
        except _CONVERSION_ERRORS:
            raise invalid(f"turn_value(key, value, t_ns) takes ints and a number, got {key!r}, "
                          f"{value!r}, {t_ns!r}") from None
        if rc:
            raise_last_error(rc)

    def turn_text(self, kind: int, text: StrLike, t_ns: int = 0) -> None:
        """A text of the current turn (``vt_turn_text``), subject to the session's text policy.

        kind: a :class:`TurnTextKind`. text: str (or UTF-8 bytes) of at most 1 MiB. With
        ``TextPolicy.REDACT`` (the default) only its length in characters is kept; with
        ``TextPolicy.INCLUDE`` the text is kept, truncated to ``max_text_chars``.
        Raises InvalidArgumentError for an embedded NUL (binding), invalid UTF-8 (library:
        lone surrogates of a str are passed through for it to reject), an unknown kind.
        """
        data = cstr(text, "text")
        if self._batches:
            self._flush_batches()
        try:
            if not (0 <= kind <= _U32 and 0 <= t_ns <= _U64):
                raise _bad_ints("kind and t_ns", kind, t_ns)
            rc = _text(self._hc, kind, data, t_ns)
        except _CONVERSION_ERRORS:
            raise _bad_ints("kind and t_ns", kind, t_ns) from None
        if rc:
            raise_last_error(rc)

    def turn_usage(
        self,
        stage: int,
        *,
        input: Optional[int] = None,
        output: Optional[int] = None,
        cached_input: Optional[int] = None,
        reasoning: Optional[int] = None,
        input_text: Optional[int] = None,
        input_audio: Optional[int] = None,
        input_image: Optional[int] = None,
        output_text: Optional[int] = None,
        output_audio: Optional[int] = None,
        t_ns: int = 0,
    ) -> None:
        """Token usage of one model call in the current turn (``vt_turn_usage``).

        stage: ``TurnStage.LLM``, ``REALTIME``, ``STT`` or ``TTS`` (who used the tokens).
        Token counts are keyword arguments named as the ``vt_token_usage`` fields
        (:data:`TOKEN_FIELDS`); None (the default) = not reported. Reported counts must be below
        2**40. They add to the turn's totals and the process counters
        ``voicetelemetry_turn_tokens_total`` / ``voicetelemetry_turn_modality_tokens_total``.
        """
        u = _raw.vt_token_usage()
        u.struct_size = _USAGE_SIZE
        for field, v in zip(TOKEN_FIELDS, (input, output, cached_input, reasoning, input_text,
                                           input_audio, input_image, output_text, output_audio)):
            if v is None:
                setattr(u, field, -1)
            elif isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 63:
                setattr(u, field, v)
            else:
                raise invalid(f"usage {field} must be None or an int in [0, 2**63), got {v!r}")
        st = _u32(stage, "stage")
        t = as_u64(t_ns, "t_ns")
        if self._batches:
            self._flush_batches()
        rc = _usage(self._hc, st, byref(u), t)
        if rc:
            raise_last_error(rc)

    def turn_error(self, source: int, t_ns: int = 0) -> None:
        """An error of ``source`` (a :class:`TurnStage`) in the current turn (``vt_turn_error``).

        Counted in the turn and in ``voicetelemetry_turn_errors_total{source}``. There is no
        message argument on purpose: error texts may hold user data.
        """
        if self._batches:
            self._flush_batches()
        try:
            if not (0 <= source <= _U32 and 0 <= t_ns <= _U64):
                raise _bad_ints("source and t_ns", source, t_ns)
            rc = _error(self._hc, source, t_ns)
        except _CONVERSION_ERRORS:
            raise _bad_ints("source and t_ns", source, t_ns) from None
        if rc:
            raise_last_error(rc)

    # -- named reports (take the library's short lock) ----------------------------------------

    def turn_provider(self, stage: int, provider: StrLike, model: Optional[StrLike] = None,
                      t_ns: int = 0) -> None:
        """The provider and model serving ``stage`` from now on (``vt_turn_provider``).

        stage: STT, EOU, LLM, TTS or REALTIME. provider: non-empty; model: None or "" for none;
        each at most ``VT_TURN_MAX_NAME_BYTES`` bytes of UTF-8.
        """
        st = _u32(stage, "stage")
        p = cstr(provider, "provider")
        m = cstr(model, "model")
        t = as_u64(t_ns, "t_ns")
        if self._batches:
            self._flush_batches()
        rc = _raw.vt_turn_provider(self._hc, st, p, m, t)
        if rc:
            raise_last_error(rc)

    def turn_fallback(self, stage: int, kind: int, from_provider: StrLike, to_provider: StrLike,
                      reason: Optional[StrLike] = None, t_ns: int = 0) -> None:
        """``stage`` switched provider from ``from_provider`` to ``to_provider`` (``vt_turn_fallback``).

        kind: a :class:`FallbackKind`. reason: None or "" for none (kept in the turn only). The
        stage's provider becomes ``to_provider`` (model none). Raises LimitError when the process
        counter's series limit is reached (the turn still records the fallback).
        """
        st = _u32(stage, "stage")
        k = _u32(kind, "kind")
        f = cstr(from_provider, "from_provider")
        to = cstr(to_provider, "to_provider")
        r = cstr(reason, "reason")
        t = as_u64(t_ns, "t_ns")
        if self._batches:
            self._flush_batches()
        rc = _raw.vt_turn_fallback(self._hc, st, k, f, to, r, t)
        if rc:
            raise_last_error(rc)

    def turn_tool_call(self, kind: int, name: StrLike, start_t_ns: int = 0, end_t_ns: int = 0,
                       ok: Union[bool, int] = True) -> None:
        """A finished tool call of the current turn (``vt_turn_tool_call``).

        kind: a :class:`ToolKind`; name: non-empty, at most ``VT_TURN_MAX_NAME_BYTES`` bytes;
        start_t_ns/end_t_ns: 0 = now (an end before the start flags the turn out-of-order);
        ok: True/1 success, False/0 error. Raises LimitError when the process counter's series
        limit is reached (the turn still records the call).
        """
        k = _u32(kind, "kind")
        n = cstr(name, "name")
        start = as_u64(start_t_ns, "start_t_ns")
        end = as_u64(end_t_ns, "end_t_ns")
        if not isinstance(ok, int) or not _I32_MIN <= ok <= _I32_MAX:
            raise invalid(f"ok must be a bool (or 0/1), got {ok!r}")
        if self._batches:
            self._flush_batches()
        rc = _raw.vt_turn_tool_call(self._hc, k, n, start, end, int(ok))
        if rc:
            raise_last_error(rc)

    # -- reading turns back -------------------------------------------------------------------

    def last_turn_json(self) -> str:
        """The last completed turn as JSON text, ``"null"`` if none yet (``vt_turn_last_json``)."""
        if self._batches:
            self._flush_batches()
        return text_call(_raw.vt_turn_last_json, self._hc).decode("utf-8")

    def last_turn(self) -> Optional[Dict[str, Any]]:
        """The last completed (not discarded) turn as a dict, or None when there is none yet.

        Schema: ``docs/turn-schema.md`` (schema_version 1); values not reported are None.
        """
        doc: Optional[Dict[str, Any]] = json.loads(self.last_turn_json())
        return doc

    def turn_history_json(self, max_turns: int = 0) -> str:
        """The last ``max_turns`` completed turns (0 = all kept) as a JSON array, oldest first."""
        n = as_u64(max_turns, "max_turns")
        if self._batches:
            self._flush_batches()
        return text_call(_raw.vt_turn_history_json, self._hc, n).decode("utf-8")

    def turn_history(self, max_turns: int = 0) -> List[Dict[str, Any]]:
        """The last ``max_turns`` completed turns (0 = all kept, at most the session's
        ``turn_history``) as a list of dicts, oldest first (``vt_turn_history_json``).

        The output buffer grows and the call is retried while the library answers
        VT_E_BUFFER_TOO_SMALL, so any history size is read whole.
        """
        return list(json.loads(self.turn_history_json(max_turns)))
