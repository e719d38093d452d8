package voicetelemetry

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestNewSessionOptions(t *testing.T) {
	s := mustSession(t, WithSessionID("opt-1"), WithLabels(map[string]string{"transport": "sip", "model": "m1"}),
		WithLabelPairs("provider", "acme", "absent", ""), WithStartTime(5_000_000_000),
		WithTextPolicy(TextInclude), WithMaxTextChars(50), WithTurnHistory(8))
	if s.ID() != "opt-1" || s.Handle() == 0 {
		t.Fatalf("ID %q handle %d", s.ID(), s.Handle())
	}
	snap, err := s.Snapshot(7_500_000_000)
	mustOK(t, "Snapshot", err)
	want := map[string]string{"transport": "sip", "model": "m1", "provider": "acme"}
	if len(snap.Labels) != len(want) {
		t.Errorf("labels %v, want %v (an empty value is absent)", snap.Labels, want)
	}
	for k, v := range want {
		if snap.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, snap.Labels[k], v)
		}
	}
	if snap.SessionID != "opt-1" || snap.SchemaVersion != 1 || snap.UptimeSecs == nil || *snap.UptimeSecs != 2.5 {
		t.Errorf("snapshot %+v", snap)
	}
	if !strings.Contains(string(snap.Raw), `"session_id":"opt-1"`) {
		t.Errorf("raw %s", snap.Raw)
	}
}

func TestGeneratedSessionID(t *testing.T) {
	a, b := mustSession(t), mustSession(t)
	if !strings.HasPrefix(a.ID(), "vt-") || len(a.ID()) != 19 || a.ID() == b.ID() {
		t.Errorf("generated ids %q %q", a.ID(), b.ID())
	}
	snap, err := a.Snapshot(0)
	mustOK(t, "Snapshot", err)
	if snap.SessionID != a.ID() || snap.UptimeSecs == nil {
		t.Errorf("snapshot id %q, uptime %v", snap.SessionID, snap.UptimeSecs)
	}
}

func TestNewSessionErrors(t *testing.T) {
	tooMany := map[string]string{}
	for i := 0; i < MaxLabels+1; i++ {
		tooMany["k"+string(rune('a'+i))] = "v"
	}
	cases := map[string][]Option{
		"empty id":           {WithSessionID("")},
		"id too long":        {WithSessionID(strings.Repeat("x", MaxSessionIDBytes+1))},
		"id with NUL":        {WithSessionID("a\x00b")},
		"id not UTF-8":       {WithSessionID("\xff\xfe")},
		"bad label key":      {WithLabels(map[string]string{"1bad": "v"})},
		"reserved label key": {WithLabelPairs("le", "v")},
		"duplicate key":      {WithLabelPairs("a", "1", "a", "2")},
		"odd pairs":          {WithLabelPairs("a")},
		"too many labels":    {WithLabels(tooMany)},
		"value too long":     {WithLabelPairs("a", strings.Repeat("v", MaxLabelValueBytes+1))},
		"value with NUL":     {WithLabelPairs("a", "v\x00")},
		"bad text policy":    {WithTextPolicy(7)},
		"turn history":       {WithTurnHistory(1 << 20)},
	}
	for name, opts := range cases {
		s, err := NewSession(opts...)
		var e *Error
		if s != nil || !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &e) || e.Message == "" {
			t.Errorf("%s: got %v, %v; want ErrInvalidArgument with a message", name, s, err)
		}
		if s != nil {
			_ = s.Close()
		}
	}
}

// allCalls are every call on a session, for the after-Close checks.
func allCalls(s *Session) map[string]func() error {
	return map[string]func() error{
		"RecordAudioOut":     func() error { return s.RecordAudioOut(640, 1) },
		"RecordVADStart":     func() error { return s.RecordVADStart(1) },
		"RecordVADEnd":       func() error { return s.RecordVADEnd(1) },
		"RecordTextSend":     func() error { return s.RecordTextSend(1) },
		"RecordTextOut":      func() error { return s.RecordTextOut(1) },
		"RecordInterruption": func() error { return s.RecordInterruption(1) },
		"RecordTurnStart":    func() error { return s.RecordTurnStart(1) },
		"RecordTurnComplete": func() error { return s.RecordTurnComplete(1) },
		"RecordUsage":        func() error { return s.RecordUsage(Usage{Total: Tokens(1)}) },
		"RecordBatch":        func() error { return s.RecordBatch([]Event{AudioOutEvent(640, 1)}) },
		"Snapshot":           func() error { _, err := s.Snapshot(0); return err },
		"SnapshotJSON":       func() error { _, err := s.SnapshotJSON(0); return err },
	}
}

func TestUseAfterClose(t *testing.T) {
	s, err := NewSession()
	mustOK(t, "NewSession", err)
	for name, call := range allCalls(s) {
		mustOK(t, name+" before Close", call())
	}
	mustOK(t, "Close", s.Close())
	mustOK(t, "second Close", s.Close())
	for name, call := range allCalls(s) {
		err := call()
		var e *Error
		if !errors.Is(err, ErrBadHandle) || !errors.As(err, &e) || e.Message == "" {
			t.Errorf("%s after Close: %v, want ErrBadHandle with a message", name, err)
		}
	}
}

func TestMadeUpHandles(t *testing.T) {
	for _, h := range []uint64{0, 1, 12345, ^uint64(0)} {
		s := &Session{h: h}
		for name, call := range allCalls(s) {
			if err := call(); !errors.Is(err, ErrBadHandle) {
				t.Errorf("handle %d: %s: %v, want ErrBadHandle", h, name, err)
			}
		}
	}
	// Closing handle 0 is the library's harmless no-op; a made-up one is a bad handle.
	mustOK(t, "Close of handle 0", (&Session{}).Close())
	if err := (&Session{h: 987654321}).Close(); !errors.Is(err, ErrBadHandle) {
		t.Errorf("Close of a made-up handle: %v", err)
	}
}

// The finalizer is a safety net: a Session dropped without Close is ended by the GC.
func TestFinalizerEndsDroppedSession(t *testing.T) {
	handle := func() uint64 {
		s, err := NewSession()
		mustOK(t, "NewSession", err)
		return s.Handle()
	}()
	probe := &Session{h: handle} // no finalizer: only used to ask whether the handle is alive
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		err := probe.RecordVADStart(1)
		if errors.Is(err, ErrBadHandle) {
			return
		}
		mustOK(t, "probe", err)
		if time.Now().After(deadline) {
			t.Fatal("the dropped session was never ended by its finalizer")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
