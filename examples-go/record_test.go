package voicetelemetry

import (
	"errors"
	"strings"
	"testing"
)

func TestRecordCallsAndSemantics(t *testing.T) {
	s := mustSession(t, WithStartTime(1_000))
	const ms = uint64(1_000_000)
	mustOK(t, "VADStart", s.RecordVADStart(10*ms))
	mustOK(t, "VADEnd", s.RecordVADEnd(100*ms))
	mustOK(t, "TurnStart", s.RecordTurnStart(100*ms))
	mustOK(t, "TurnStart again (ignored)", s.RecordTurnStart(150*ms))
	mustOK(t, "AudioOut", s.RecordAudioOut(320, 400*ms)) // closes a 300 ms response latency
	mustOK(t, "AudioOut", s.RecordAudioOut(0, 420*ms))   // an empty chunk still counts as a chunk
	mustOK(t, "TurnComplete", s.RecordTurnComplete(1100*ms))
	mustOK(t, "TurnComplete without a turn (ignored)", s.RecordTurnComplete(1200*ms))
	mustOK(t, "TextSend", s.RecordTextSend(2000*ms))
	mustOK(t, "TextOut", s.RecordTextOut(2120*ms))
	mustOK(t, "TextOut again (ignored)", s.RecordTextOut(2200*ms))
	mustOK(t, "Interruption", s.RecordInterruption(2300*ms))
	mustOK(t, "Usage", s.RecordUsage(Usage{Total: Tokens(10), Prompt: Tokens(6), Response: Tokens(4)}))
	mustOK(t, "Usage", s.RecordUsage(Usage{Total: Tokens(5), Thoughts: Tokens(2), Cached: Tokens(-1)}))
	// Out of order: the end of speech after the audio that answers it.
	mustOK(t, "VADEnd", s.RecordVADEnd(3000*ms))
	mustOK(t, "AudioOut", s.RecordAudioOut(320, 2900*ms))
	mustOK(t, "AudioOut now", s.RecordAudioOut(1, 0))

	snap, err := s.Snapshot(0)
	mustOK(t, "Snapshot", err)
	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("audio_chunks_out", snap.AudioChunksOut, uint64(4))
	check("audio_bytes_out", snap.AudioBytesOut, uint64(641))
	check("response_count", snap.ResponseCount, uint64(1))
	check("last response ms", *snap.LastResponseLatencyMs, 300.0)
	check("turns", snap.TurnsCompleted, uint64(1))
	check("turn ms", *snap.TurnDurationMs.Last, 1000.0)
	check("text ms", *snap.TextResponseLatencyMs.Last, 120.0)
	check("interruptions", snap.Interruptions, uint64(1))
	check("usage_reports", snap.UsageReports, uint64(2))
	check("total latest", *snap.TotalTokenCount, 5.0)
	check("prompt latest (kept)", *snap.PromptTokenCount, 6.0)
	check("cached (never reported)", snap.CachedContentTokenCount == nil, true)
	check("thoughts latest", *snap.ThoughtsTokenCount, 2.0)
	check("total sum", snap.TokenTotals.Total, int64(15))
	check("out_of_order", snap.OutOfOrderEvents, uint64(1))
	check("vad_starts", snap.VADStarts, uint64(1))
	check("vad_ends", snap.VADEnds, uint64(2))
	check("text_sends", snap.TextSends, uint64(1))
}

func TestRecordAudioOutErrors(t *testing.T) {
	s := mustSession(t)
	for _, bytes := range []int{-1, -1 << 40, 1<<40 + 1, 1 << 62} {
		err := s.RecordAudioOut(bytes, 1)
		var e *Error
		if !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &e) || e.Message == "" {
			t.Errorf("RecordAudioOut(%d): %v, want ErrInvalidArgument with a message", bytes, err)
		}
	}
	mustOK(t, "1 TiB chunk (the limit)", s.RecordAudioOut(1<<40, 1))
}

func TestRecordBatch(t *testing.T) {
	s := mustSession(t, WithStartTime(1))
	mustOK(t, "empty batch", s.RecordBatch(nil))
	var b Batch
	b.Add(VADEndEvent(1_000_000_000), TurnStartEvent(1_000_000_000))
	for i := uint64(0); i < 50; i++ {
		b.AudioOut(640, 1_200_000_000+i*20_000_000)
	}
	b.Add(InterruptionEvent(2_300_000_000), VADStartEvent(2_300_000_000), TextSendEvent(3_000_000_000),
		TextOutEvent(3_100_000_000), TurnCompleteEvent(3_500_000_000))
	n, err := s.RecordBatchN(b.Events)
	if err != nil || n != b.Len() {
		t.Fatalf("RecordBatchN = %d, %v; want %d, nil", n, err, b.Len())
	}
	mustOK(t, "Flush", b.Flush(s))
	if b.Len() != 0 {
		t.Errorf("Flush left %d events", b.Len())
	}
	snap, err := s.Snapshot(0)
	mustOK(t, "Snapshot", err)
	// The batch was applied twice (RecordBatchN, then Flush): 100 chunks and two 200 ms responses,
	// each pass closing the latency its own vad_end opened.
	if snap.AudioChunksOut != 100 || snap.AudioBytesOut != 64000 || snap.ResponseCount != 2 ||
		*snap.LastResponseLatencyMs != 200 || snap.Interruptions != 2 || snap.TurnsCompleted != 2 ||
		snap.TextResponseLatencyMs.Count != 2 {
		t.Errorf("after two batches: %s", snap.Raw)
	}

	// An unknown kind fails at its index; the events before it are applied.
	bad := []Event{AudioOutEvent(10, 5), AudioOutEvent(10, 6), {Kind: 99, TNs: 7}, AudioOutEvent(10, 8)}
	n, err = s.RecordBatchN(bad)
	var e *Error
	if n != 2 || !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &e) || !strings.Contains(e.Message, "2") {
		t.Errorf("bad kind: n=%d err=%v; want 2 and ErrInvalidArgument naming index 2", n, err)
	}
	// A negative size wraps to a huge chunk: refused with the index, as the single call refuses it.
	n, err = s.RecordBatchN([]Event{AudioOutEvent(1, 9), AudioOutEvent(-1, 10)})
	if n != 1 || !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("negative bytes in a batch: n=%d err=%v", n, err)
	}
	snap, err = s.Snapshot(0)
	mustOK(t, "Snapshot", err)
	if snap.AudioChunksOut != 103 {
		t.Errorf("chunks %d, want 103 (100 + 2 before the bad kind + 1 before the bad size)", snap.AudioChunksOut)
	}
}
