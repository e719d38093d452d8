"""Drop-in integrations for voice-agent frameworks (optional extras; the core package needs none).

* :mod:`voicetelemetry.integrations.pipecat` -- ``VoiceTelemetryObserver`` for
  ``PipelineTask(observers=[...])`` (``pip install "voicetelemetry[pipecat]"``).
* :mod:`voicetelemetry.integrations.livekit` -- ``instrument(agent_session)`` for LiveKit Agents'
  ``AgentSession`` (``pip install "voicetelemetry[livekit]"``).
* :func:`serve_metrics` -- a ready ``/metrics`` endpoint (Prometheus text of the whole process).

Importing this package imports neither framework; each submodule imports its own.
"""
from __future__ import annotations

from ._common import MetricsServer, serve_metrics
from ._session import IntegrationSession

__all__ = ["IntegrationSession", "MetricsServer", "serve_metrics"]
