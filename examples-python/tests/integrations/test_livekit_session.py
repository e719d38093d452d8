"""``instrument()`` on a real LiveKit AgentSession that RUNS offline.

LiveKit's own test path: ``AgentSession(llm=...)`` started with an ``Agent`` and driven with
``session.run(user_input=...)`` (typed input, text output: no room, no audio). The LLM is a fake
built on LiveKit's ``llm.LLM`` / ``llm.LLMStream`` base classes (the base class times it and emits
its ``LLMMetrics``); the agent has a real ``@function_tool``. The first request answers with a tool
call, the second with text. Nothing of LiveKit's is mocked; the run is in real time (~0.3 s), so the
record is asserted against LiveKit's own stamps of that run (its ``LLMMetrics``, ``FunctionCall`` /
``FunctionCallOutput`` and ``ChatMessage.metrics``), each converted through the session's one anchor:
equal to the nanosecond, no tolerance.
"""
from __future__ import annotations

import asyncio
import time

from _frameworks import require

require("livekit.agents", "livekit")

from livekit.agents import Agent, AgentSession, function_tool, llm  # noqa: E402
from livekit.agents.llm import ChatChunk, ChoiceDelta, CompletionUsage, FunctionToolCall  # noqa: E402
from livekit.agents.metrics import LLMMetrics  # noqa: E402
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS  # noqa: E402

from voicetelemetry.integrations.livekit import ANCHOR_T_NS, instrument  # noqa: E402


class ScriptedStream(llm.LLMStream):
    async def _run(self):
        answered = any(getattr(i, "type", "") == "function_call_output" for i in self._chat_ctx.items)
        await asyncio.sleep(0.05)
        delta = (ChoiceDelta(role="assistant", content="Sunny in Paris.") if answered else
                 ChoiceDelta(role="assistant", tool_calls=[FunctionToolCall(
                     name="get_weather", arguments='{"city": "Paris"}', call_id="c1")]))
        self._event_ch.send_nowait(ChatChunk(id="a", delta=delta))
        await asyncio.sleep(0.02)
        self._event_ch.send_nowait(ChatChunk(id="b", usage=CompletionUsage(
            completion_tokens=7, prompt_tokens=50, total_tokens=57)))


class ScriptedLLM(llm.LLM):
    @property
    def model(self):
        return "scripted-1"

    @property
    def provider(self):
        return "scripted"

    def chat(self, *, chat_ctx, tools=None, conn_options=DEFAULT_API_CONNECT_OPTIONS, **kwargs):
        return ScriptedStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class WeatherAgent(Agent):
    def __init__(self):
        super().__init__(instructions="Answer about the weather.")

    @function_tool
    async def get_weather(self, city: str) -> str:
        """The weather in a city."""
        await asyncio.sleep(0.1)
        return "sunny"


def test_real_agent_session_run():
    anchor = time.time()

    def T(wall):
        return ANCHOR_T_NS + round((wall - anchor) * 1e6) * 1000

    seen = {"llm": [], "items": [], "tools": []}

    async def main():
        async with AgentSession(llm=ScriptedLLM()) as session:
            vs = instrument(session, session_id="livekit-real", wall_anchor=anchor)
            session.on("metrics_collected", lambda ev: isinstance(ev.metrics, LLMMetrics)
                       and seen["llm"].append(ev.metrics))
            session.on("conversation_item_added", lambda ev: seen["items"].append(ev))
            session.on("function_tools_executed", lambda ev: seen["tools"].append(ev))
            await session.start(WeatherAgent())
            await session.run(user_input="What's the weather in Paris?")
        return vs

    vs = asyncio.run(asyncio.wait_for(main(), 30))
    assert vs.ended and vs.refused == {}
    (turn,) = vs.turn_history()
    req1, req2 = seen["llm"]
    user = next(e for e in seen["items"] if getattr(e.item, "role", None) == "user")
    reply = next(e.item for e in seen["items"] if getattr(e.item, "role", None) == "assistant")
    call, out = seen["tools"][0].function_calls[0], seen["tools"][0].function_call_outputs[0]

    assert (turn["outcome"], turn["completed_by"]) == ("completed", "agent_speech_end")
    # typed input: the user's turn ends at LiveKit's commit of it (anchor eou_end), no speech, no STT
    assert turn["anchor"] == "eou_end" and turn["anchor_ns"] == T(user.created_at)
    assert turn["user_speech"]["end_ns"] is None and turn["stt"]["final_ns"] is None
    # the LLM stage from LiveKit's own LLMMetrics: start of the first request, first token of the
    # request that was spoken (the reply after the tool), end of the last
    first = T(req2.timestamp - req2.duration) + round(req2.ttft * 1e6) * 1000
    assert turn["llm"]["start_ns"] == T(req1.timestamp - req1.duration)
    assert turn["llm"]["first_token_ns"] == first
    assert turn["llm"]["end_ns"] == T(req2.timestamp)
    assert (turn["llm"]["provider"], turn["llm"]["model"]) == ("scripted", "scripted-1")
    assert (turn["tokens"]["input"], turn["tokens"]["output"]) == (100, 14)
    # the tool call from LiveKit's FunctionCall / FunctionCallOutput
    (tool,) = turn["tool_calls"]
    assert (tool["name"], tool["ok"]) == ("get_weather", True)
    assert (tool["start_ns"], tool["end_ns"]) == (T(call.created_at), T(out.created_at))
    # agent speech (text output) from the reply's ChatMessage.metrics; e2e from the commit
    assert turn["agent_speech"]["start_ns"] == T(reply.metrics["started_speaking_at"])
    assert turn["agent_speech"]["end_ns"] == T(reply.metrics["stopped_speaking_at"])
    assert turn["e2e_latency_ns"] == T(reply.metrics["started_speaking_at"]) - T(user.created_at)
    assert sum(turn["e2e_breakdown_ns"].values()) == turn["e2e_latency_ns"]
    # LiveKit's own figure beside ours: its llm_node_ttft is the reply request's alone
    lk = vs.framework_turns[0]
    assert lk["turn_id"] == 1 and lk["livekit_llm_node_ttft_s"] == reply.metrics["llm_node_ttft"]
    assert vs.final_snapshot["turns"]["completed"] == 1
