package voicetelemetry

import "testing"

// The snapshot's turns section decodes into typed fields with the exact values of a scripted turn.
func TestSnapshotTurnsSection(t *testing.T) {
	s, err := NewSession(WithStartTime(1_000_000_000))
	mustOK(t, "NewSession", err)
	defer s.Close()
	mustOK(t, "vad start", s.RecordVADStart(1_000_000_000))
	mustOK(t, "vad end", s.RecordVADEnd(2_000_000_000))
	mustOK(t, "stt final", s.TurnMark(StageSTT, MarkFinal, 2_100_000_000))
	mustOK(t, "llm first", s.TurnMark(StageLLM, MarkFirst, 2_300_000_000))
	mustOK(t, "audio", s.RecordAudioOut(640, 2_450_000_000))
	mustOK(t, "agent end", s.TurnMark(StageAgentSpeech, MarkEnd, 4_000_000_000))
	snap, err := s.Snapshot(5_000_000_000)
	mustOK(t, "Snapshot", err)
	turns := snap.Turns
	if turns.Completed != 1 || turns.Interrupted != 0 || turns.Discarded != 0 || turns.Open || turns.WindowTurns != 1 {
		t.Fatalf("turn counts: %+v", turns)
	}
	if turns.Last == nil || turns.Last.TurnID != 1 || turns.Last.E2ELatencyNs == nil || *turns.Last.E2ELatencyNs != 450_000_000 {
		t.Fatalf("last turn: %+v", turns.Last)
	}
	want := map[string]uint64{"stt_ns": 100_000_000, "eou_ns": 0, "llm_ttft_ns": 200_000_000, "tts_ttfb_ns": 0,
		"realtime_ns": 0, "remainder_ns": 150_000_000}
	for k, v := range want {
		if got, ok := turns.Last.E2EBreakdownNs[k]; !ok || got != v {
			t.Errorf("breakdown %s = %d (present %v), want %d", k, got, ok, v)
		}
	}
	e2e := turns.Stages["e2e_latency_ns"]
	if e2e.Count != 1 || e2e.P50 == nil || *e2e.P50 != 450_000_000 || e2e.P95 == nil || *e2e.P95 != 450_000_000 {
		t.Errorf("e2e stage stats: %+v", e2e)
	}
}
