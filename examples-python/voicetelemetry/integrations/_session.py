"""The Session an integration hands back: readable after it ended."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from .. import Session

__all__ = ["IntegrationSession"]


class IntegrationSession(Session):
    """A :class:`~voicetelemetry.Session` that keeps its turn records and final snapshot when it
    ends (the core's readers refuse an ended handle), so an app can read them after the
    framework's session closed. ``refused`` counts the core calls it refused (by call),
    ``framework_turns`` holds the framework's own per-turn figures beside ours (LiveKit),
    ``framework_usage`` the framework's own latest usage by model (LiveKit)."""

    __slots__ = ("refused", "framework_turns", "framework_usage", "final_snapshot", "_final_turns")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.refused: Dict[str, int] = {}
        self.framework_turns: List[Dict[str, Any]] = []
        self.framework_usage: List[Dict[str, Any]] = []
        self.final_snapshot: Optional[Dict[str, Any]] = None
        self._final_turns: Optional[List[Dict[str, Any]]] = None
        super().__init__(*args, **kwargs)

    def end(self, t_ns: int = 0) -> None:
        if not self.ended:
            try:
                if t_ns:  # the open turn completes at the end's time, before it is read
                    self.record_turn_complete(t_ns)
                self._final_turns = super().turn_history()
                self.final_snapshot = self.snapshot(t_ns)
            except Exception:  # pragma: no cover - keep ending whatever happens
                pass
        super().end(t_ns)

    close = end

    def turn_history(self, max_turns: int = 0) -> List[Dict[str, Any]]:
        if self._final_turns is not None and self.ended:
            return self._final_turns[-max_turns:] if max_turns else list(self._final_turns)
        return super().turn_history(max_turns)

    def last_turn(self) -> Optional[Dict[str, Any]]:
        if self._final_turns is not None and self.ended:
            return self._final_turns[-1] if self._final_turns else None
        return super().last_turn()
