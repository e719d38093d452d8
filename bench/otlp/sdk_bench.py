"""The baseline of bench part 60: the OpenTelemetry Python SDK (opentelemetry-sdk with
opentelemetry-exporter-otlp-proto-http) building and exporting the span tree otlp_sink.so makes of
the benchmark's calls (per session: a root, 10 turns of 10 spans with the same attributes, explicit
start/end times) to the same loopback receiver. Timed from the first span to force_flush's return.

    python3 sdk_bench.py <port> <protobuf|protobuf-gzip> <turns>
Prints: protocol spans seconds spans/s
"""
import sys
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

MS = 1_000_000


def main() -> None:
    port, mode, turns = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces",
                                compression=Compression.Gzip if mode == "protobuf-gzip" else Compression.NoCompression)
    provider = TracerProvider(resource=Resource.create({"service.name": "voicetelemetry"}))
    total = turns // 10 * 101
    # a queue that holds every span: nothing dropped, the export cost is all measured
    provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=total + 1, max_export_batch_size=4096,
                                                   schedule_delay_millis=50))
    tracer = provider.get_tracer("voicetelemetry.otlp_sink", "1.0.0")
    base = time.time_ns()
    t0 = time.perf_counter()
    for sess in range(turns // 10):
        root = tracer.start_span("voice_session", start_time=base, attributes={
            "gen_ai.conversation.id": f"bench-{sess}", "voicetelemetry.label.transport": "sip",
            "voicetelemetry.session.text_policy": "redact", "voicetelemetry.session.interruptions": 0,
            "voicetelemetry.session.audio_bytes_out": 800000, "voicetelemetry.session.turns.completed": 10})
        ctx = trace.set_span_in_context(root)
        for k in range(1, 11):
            t = base + (k - 1) * 6000 * MS
            us = t + 2116 * MS
            turn = tracer.start_span("invoke_agent", context=ctx, start_time=t, attributes={
                "gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": f"bench-{sess}",
                "voicetelemetry.turn.id": k, "voicetelemetry.turn.outcome": "completed",
                "voicetelemetry.turn.completed_by": "agent_speech_end", "voicetelemetry.turn.anchor": "user_speech_end",
                "voicetelemetry.turn.e2e_latency_ns": 536000000, "voicetelemetry.turn.quality_flags": 0,
                "voicetelemetry.turn.tool_calls_total": 1, "voicetelemetry.turn.fallbacks_total": 0,
                "voicetelemetry.turn.breakdown.stt_ns": 98000000, "voicetelemetry.turn.breakdown.eou_ns": 144000000,
                "voicetelemetry.turn.breakdown.llm_ttft_ns": 165000000,
                "voicetelemetry.turn.breakdown.tts_ttfb_ns": 111000000, "voicetelemetry.turn.breakdown.realtime_ns": 0,
                "voicetelemetry.turn.breakdown.remainder_ns": 18000000,
                "voicetelemetry.playback.tts_characters_generated": 120,
                "voicetelemetry.playback.audio_bytes_sent": 80000, "voicetelemetry.turn.interrupted": False,
                "voicetelemetry.turn.user_transcript_chars": 30})
            tctx = trace.set_span_in_context(turn)

            def child(name, a, b, attrs=None, parent=tctx, kind=trace.SpanKind.INTERNAL, events=()):
                s = tracer.start_span(name, context=parent, start_time=a, attributes=attrs or {}, kind=kind)
                for ev, at in events:
                    s.add_event(ev, timestamp=at)
                s.end(end_time=b)
                return s

            child("user_speech", t, us, {"voicetelemetry.user_speech.duration_ns": 2116000000,
                                         "voicetelemetry.user_speech.start_carried_over": False,
                                         "voicetelemetry.user_speech.from_interrupting_speech": False})
            child("speech_to_text nova-3", t, us + 98 * MS, {
                "gen_ai.provider.name": "deepgram", "gen_ai.request.model": "nova-3",
                "voicetelemetry.stt.interim_count": 0, "voicetelemetry.stt.latency_ns": 98000000,
                "voicetelemetry.stt.duration_ns": 2214000000, "voicetelemetry.stt.confidence": 0.93},
                kind=trace.SpanKind.CLIENT, events=[("final", us + 98 * MS)])
            child("end_of_utterance", us, us + 242 * MS, {"voicetelemetry.eou.delay_ns": 242000000})
            llm = child("chat gpt-4o-mini", us + 242 * MS, us + 1142 * MS, {
                "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
                "voicetelemetry.llm.ttft_ns": 165000000, "voicetelemetry.llm.duration_ns": 900000000,
                "gen_ai.operation.name": "chat", "gen_ai.response.time_to_first_chunk": 0.165,
                "gen_ai.usage.input_tokens": 952, "gen_ai.usage.output_tokens": 75,
                "gen_ai.usage.cache_read.input_tokens": 182, "voicetelemetry.tokens.input": 952,
                "voicetelemetry.tokens.output": 75, "voicetelemetry.tokens.cached_input": 182},
                kind=trace.SpanKind.CLIENT, events=[("first_token", us + 407 * MS)])
            child("time_to_first_token", us + 242 * MS, us + 407 * MS, parent=trace.set_span_in_context(llm))
            tts = child("text_to_speech sonic-2", us + 412 * MS, us + 1412 * MS, {
                "gen_ai.provider.name": "cartesia", "gen_ai.request.model": "sonic-2",
                "voicetelemetry.tts.ttfb_ns": 106000000, "voicetelemetry.tts.duration_ns": 1000000000,
                "voicetelemetry.tts.characters": 120}, kind=trace.SpanKind.CLIENT, events=[("first_byte", us + 518 * MS)])
            child("time_to_first_byte", us + 412 * MS, us + 518 * MS, parent=trace.set_span_in_context(tts))
            child("agent_speech", us + 536 * MS, t + 5000 * MS, {"voicetelemetry.agent_speech.duration_ns": 2500000000})
            child("execute_tool get_weather", us + 450 * MS, us + 550 * MS, {
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
                "gen_ai.tool.type": "function"})
            turn.end(end_time=t + 5000 * MS)
        root.end(end_time=base + 61000 * MS)
    provider.force_flush(timeout_millis=600_000)
    secs = time.perf_counter() - t0
    provider.shutdown()
    print(f"{mode} {total} {secs:.3f} {total / secs:.0f}")


if __name__ == "__main__":
    main()
