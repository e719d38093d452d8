package voicetelemetry

// Header 1.1 from Go: one clock per session (ClockMedia) and its wall-clock anchor, EndAt and
// RecordUsageAt, and the Traces calls (steps, messages, rewards), read back from the events the real
// jsonl_sink.so received: the flows and exact values of ../tests/c/test_traces.c. Every time is
// checked exactly: an event at tNs on a session's clock has timestamp_us = tNs/1000 and
// timestamp_unix_us = (StartUnixNs + tNs - StartNs)/1000 (../tests/c/check.h, unix_us_of).

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	sec         = uint64(1_000_000_000)
	msec        = uint64(1_000_000)
	traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
)

// unixUsOf is the timestamp_unix_us of an event at tNs on the clock of the session snap is of.
func unixUsOf(snap *Snapshot, tNs uint64) uint64 {
	return (snap.StartUnixNs + tNs - snap.StartNs) / 1000
}

// processAnchorUs is the wall clock minus the monotonic clock, in microseconds: the anchor of
// events of no session (the library takes it once; the wall clock may have been slewed since, by
// far less than 50 ms).
func processAnchorUs() int64 {
	return (time.Now().UnixNano() - int64(NowNs())) / 1000
}

// sessionEvents reads the sink's file (after a flush) and returns the events of one session.
func sessionEvents(t *testing.T, out, sessionID string) []envelope {
	t.Helper()
	flush(t)
	var evs []envelope
	for _, line := range readLinesOf(t, out) {
		if e := parseEnvelope(t, line); sessionIDOf(e) == sessionID {
			evs = append(evs, e)
		}
	}
	return evs
}

// nth is the n-th (0-based) event of a type; it fails the test when there is none.
func nth(t *testing.T, evs []envelope, eventType string, n int) envelope {
	t.Helper()
	for _, e := range evs {
		if e.EventType == eventType {
			if n == 0 {
				return e
			}
			n--
		}
	}
	t.Fatalf("no %s event #%d among %d events", eventType, n, len(evs))
	return envelope{}
}

func eventTypes(evs []envelope) string {
	var types []string
	for _, e := range evs {
		types = append(types, e.EventType)
	}
	return strings.Join(types, " ")
}

func mustSnapshot(t *testing.T, s *Session) *Snapshot {
	t.Helper()
	snap, err := s.Snapshot(0)
	mustOK(t, "Snapshot", err)
	return snap
}

// wantTimes checks an event's two times: tNs on the session's clock, and through its anchor.
func wantTimes(t *testing.T, e envelope, snap *Snapshot, tNs uint64) {
	t.Helper()
	if e.TimestampUs != tNs/1000 || e.TimestampUnixUs != unixUsOf(snap, tNs) {
		t.Errorf("%s at %d ns: timestamp_us %d, timestamp_unix_us %d; want %d, %d", e.EventType, tNs,
			e.TimestampUs, e.TimestampUnixUs, tNs/1000, unixUsOf(snap, tNs))
	}
}

// A media clock that starts at 1 s: every event of the session is on it, and the wall clock of
// each is the session's anchor plus the event's distance from the start.
func TestMediaClockSessionEveryEventOnItsClock(t *testing.T) {
	noRateLimit(t)
	out := filepath.Join(t.TempDir(), "media.jsonl")
	loadJSONL(t, out)
	sid := fmt.Sprintf("go-media-%d", nameSerial.Add(1))
	createdBefore := NowNs()
	s := mustSession(t, WithSessionID(sid), WithStartTime(1*sec), WithClock(ClockMedia))
	createdAfter := NowNs()
	mustOK(t, "RecordVADStart", s.RecordVADStart(2*sec))
	mustOK(t, "RecordVADEnd", s.RecordVADEnd(3*sec))
	mustOK(t, "RecordAudioOut", s.RecordAudioOut(640, 3*sec+400*msec))
	mustOK(t, "RecordInterruption", s.RecordInterruption(4*sec))
	u := Usage{Total: Tokens(30), Prompt: Tokens(20), Response: Tokens(10)}
	mustOK(t, "RecordUsageAt", s.RecordUsageAt(u, 5*sec))
	before := NowNs()
	mustOK(t, "RecordUsage", s.RecordUsage(u)) // now, on the session's clock
	after := NowNs()
	snap := mustSnapshot(t, s)
	if snap.StartNs != 1*sec || len(snap.TraceID) != 32 || snap.TraceID == strings.Repeat("0", 32) {
		t.Errorf("snapshot start_ns %d, trace_id %q", snap.StartNs, snap.TraceID)
	}
	mustOK(t, "EndAt", s.EndAt(40*sec))
	mustOK(t, "EndAt again (idempotent)", s.EndAt(41*sec))
	mustOK(t, "Close after EndAt (idempotent)", s.Close())
	evs := sessionEvents(t, out, sid)

	if got := eventTypes(evs); got != "session.start interruption usage usage turn.complete session.end" {
		t.Fatalf("events: %s", got)
	}
	for _, c := range []struct {
		eventType string
		n         int
		tNs       uint64
	}{
		{"session.start", 0, 1 * sec}, {"interruption", 0, 4 * sec}, {"usage", 0, 5 * sec},
		{"turn.complete", 0, 4 * sec}, {"session.end", 0, 40 * sec},
	} {
		wantTimes(t, nth(t, evs, c.eventType, c.n), snap, c.tNs)
	}
	if d := string(nth(t, evs, "usage", 0).Data); d != `{"total":30,"prompt":20,"response":10,"cached":null,"thoughts":null}` {
		t.Errorf("usage data %s", d)
	}
	// The session ended at 40 s on its clock: its final snapshot says 39 s of uptime.
	var end Snapshot
	mustOK(t, "session.end data", json.Unmarshal(nth(t, evs, "session.end", 0).Data, &end))
	if end.UptimeSecs == nil || *end.UptimeSecs != 39 || end.StartNs != 1*sec ||
		end.StartUnixNs != snap.StartUnixNs || end.TraceID != snap.TraceID {
		t.Errorf("session.end data: %s", nth(t, evs, "session.end", 0).Data)
	}
	// The plain usage call: now on the session's clock (1 s at its creation, which lies between
	// the two reads around it), on the wall clock through the same anchor.
	plain := nth(t, evs, "usage", 1)
	lo, hi := (1*sec+before-createdAfter)/1000, (1*sec+after-createdBefore)/1000+1
	if plain.TimestampUs < lo || plain.TimestampUs > hi {
		t.Errorf("plain usage at %d us, want within [%d, %d]", plain.TimestampUs, lo, hi)
	}
	if off := plain.TimestampUnixUs - plain.TimestampUs; off != (snap.StartUnixNs-1*sec)/1000 &&
		off != (snap.StartUnixNs-1*sec)/1000+1 {
		t.Errorf("plain usage: wall minus session clock %d us, want %d", off, (snap.StartUnixNs-1*sec)/1000)
	}
	want := fmt.Sprintf(`"clock":"media","start_ns":1000000000,"start_unix_ns":%d,`, snap.StartUnixNs)
	if d := string(nth(t, evs, "session.start", 0).Data); !strings.Contains(d, want) {
		t.Errorf("session.start data %s lacks %s", d, want)
	}
}

// The wall-clock anchor of a monotonic session is the wall clock at its creation, mapped back to
// its start.
func TestMonotonicSessionIsAnchoredAtItsCreation(t *testing.T) {
	w0, m0 := time.Now().UnixNano(), NowNs()
	s := mustSession(t)
	m1, w1 := NowNs(), time.Now().UnixNano()
	snap := mustSnapshot(t, s)
	if snap.StartNs < m0 || snap.StartNs > m1 || snap.StartUnixNs < uint64(w0) || snap.StartUnixNs > uint64(w1) {
		t.Errorf("start_ns %d not in [%d, %d] or start_unix_ns %d not in [%d, %d]", snap.StartNs, m0, m1,
			snap.StartUnixNs, w0, w1)
	}
	if snap.TokenTotalsSaturated {
		t.Error("token_totals_saturated on a new session")
	}
}

func TestEndAtAndUsageAtPinTheirEvents(t *testing.T) {
	noRateLimit(t)
	out := filepath.Join(t.TempDir(), "at.jsonl")
	loadJSONL(t, out)
	sid := fmt.Sprintf("go-at-%d", nameSerial.Add(1))
	s := mustSession(t, WithSessionID(sid), WithStartTime(10*sec))
	mustOK(t, "RecordUsageAt", s.RecordUsageAt(Usage{Total: Tokens(7)}, 12*sec))
	snap := mustSnapshot(t, s)
	mustOK(t, "EndAt", s.EndAt(15*sec))
	wantCode(t, "record after EndAt", s.RecordVADStart(0), ErrBadHandle, "")
	evs := sessionEvents(t, out, sid)
	if got := eventTypes(evs); got != "session.start usage session.end" {
		t.Fatalf("events: %s", got)
	}
	wantTimes(t, evs[0], snap, 10*sec)
	wantTimes(t, evs[1], snap, 12*sec)
	wantTimes(t, evs[2], snap, 15*sec)
	if !strings.Contains(string(evs[2].Data), `"uptime_secs":5,`) ||
		!strings.Contains(string(evs[0].Data), `"clock":"monotonic"`) {
		t.Errorf("session.start %s / session.end %s", evs[0].Data, evs[2].Data)
	}
}

// The seed's flow of ../tests/c/test_traces.c: metadata, steps, messages, a tool call's JSON
// result, rewards (one after the session ended), and the transcripts of a turn as messages of its
// step; every data object exactly as the C test has it.
func TestStepsMessagesAndRewardsReachTheSink(t *testing.T) {
	noRateLimit(t)
	out := filepath.Join(t.TempDir(), "tracer.jsonl")
	loadJSONL(t, out)
	sid := fmt.Sprintf("go-trace-%d", nameSerial.Add(1))
	s := mustSession(t, WithSessionID(sid), WithStartTime(1*sec), WithClock(ClockMedia),
		WithTextPolicy(TextInclude), WithMetadata([]byte(`{ "agent": "support-bot", "version": 3 }`)),
		WithTraceparent(traceparent))
	mustOK(t, "StepStart greeting", s.StepStart("greeting", []byte(`{"kind":"scripted"}`), 1100*msec))
	mustOK(t, "RecordMessage system", s.RecordMessage(RoleSystem, "You are a support agent.", nil, 1200*msec))
	mustOK(t, "StepStart lookup", s.StepStart("lookup", nil, 1300*msec))
	mustOK(t, "RecordMessage tool", s.RecordMessage(RoleTool, `{"order": 42, "status": "shipped"}`,
		[]byte(`{"tool":"orders"}`), 1400*msec))
	mustOK(t, "StepEnd greeting", s.StepEnd("greeting", 1500*msec)) // ends "lookup" first
	// A turn: its step is "turn-1" while it is assembled.
	mustOK(t, "mark", s.TurnMark(StageUserSpeech, MarkStart, 2*sec))
	mustOK(t, "mark", s.TurnMark(StageUserSpeech, MarkEnd, 3*sec))
	mustOK(t, "text", s.TurnText(TextUserTranscript, "where is my order", 3*sec))
	mustOK(t, "RecordEventReward", s.RecordEventReward("helpfulness", 0.5, "sparse", "llm_judge", nil, 3100*msec))
	mustOK(t, "mark", s.TurnMark(StageAgentSpeech, MarkStart, 3400*msec))
	mustOK(t, "text", s.TurnText(TextAgentResponse, "it has shipped", 3400*msec))
	mustOK(t, "mark", s.TurnMark(StageAgentSpeech, MarkEnd, 5*sec))
	mustOK(t, "RecordOutcomeReward", s.RecordOutcomeReward("resolved", 1, 2, []byte(`{"why":"order found"}`), 0))
	snap := mustSnapshot(t, s)
	if snap.TraceID != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("trace_id %q", snap.TraceID)
	}
	mustOK(t, "EndAt", s.EndAt(6*sec))
	mustOK(t, "RecordOutcomeRewardFor", RecordOutcomeRewardFor(sid, "csat", 4.5, 0, nil, 0))
	mustOK(t, "RecordEventRewardFor", RecordEventRewardFor(sid, "turn-1", "accuracy", 1, "human", "", nil, 0))
	evs := sessionEvents(t, out, sid)

	exact := func(eventType string, n int, want string) {
		t.Helper()
		if got := string(nth(t, evs, eventType, n).Data); got != want {
			t.Errorf("%s #%d data:\n got %s\nwant %s", eventType, n, got, want)
		}
	}
	exact("session.start", 0, fmt.Sprintf(`{"labels":{},"text_policy":"include","clock":"media","start_ns":1000000000,`+
		`"start_unix_ns":%d,"trace_id":"0af7651916cd43dd8448eb211c80319c","parent_span_id":"b7ad6b7169203331",`+
		`"metadata":{"agent":"support-bot","version":3}}`, snap.StartUnixNs))
	exact("step.start", 0, `{"step_id":"greeting","turn_number":null,"metadata":{"kind":"scripted"}}`)
	exact("step.start", 1, `{"step_id":"lookup","turn_number":null,"metadata":null}`)
	exact("message", 0, `{"role":"system","step_id":"greeting","content_type":"text","content":"You are a support `+
		`agent.","chars":24,"redacted":false,"truncated":false,"metadata":null}`)
	exact("message", 1, `{"role":"tool","step_id":"lookup","content_type":"json","content":{"order":42,"status":`+
		`"shipped"},"chars":34,"redacted":false,"truncated":false,"metadata":{"tool":"orders"}}`)
	exact("step.end", 0, `{"step_id":"lookup"}`)
	exact("step.end", 1, `{"step_id":"greeting"}`)
	exact("reward.event", 0, `{"objective_key":"helpfulness","value":0.5,"reward_type":"sparse","source":"llm_judge",`+
		`"step_id":"turn-1","annotation":null}`)
	exact("reward.outcome", 0, `{"objective_key":"resolved","total_reward":1,"achievements_count":2,"total_steps":3,`+
		`"annotation":{"why":"order found"}}`)
	// The turn's transcripts, after its turn.complete, as messages of "turn-1".
	exact("message", 2, `{"role":"user","step_id":"turn-1","content_type":"text","content":"where is my order",`+
		`"chars":17,"redacted":false,"truncated":false,"metadata":null}`)
	exact("message", 3, `{"role":"assistant","step_id":"turn-1","content_type":"text","content":"it has shipped",`+
		`"chars":14,"redacted":false,"truncated":false,"metadata":null}`)
	// (turn.complete is rendered off the recording thread: where it lands among the other events
	// may vary, but the turn's messages follow it.)
	if types := eventTypes(evs); !strings.Contains(types, " turn.complete message message ") {
		t.Errorf("the turn's messages do not follow its turn.complete: %s", types)
	}
	// After the end: by session id.
	exact("reward.outcome", 1, `{"objective_key":"csat","total_reward":4.5,"achievements_count":0,"total_steps":null,`+
		`"annotation":null}`)
	exact("reward.event", 1, `{"objective_key":"accuracy","value":1,"reward_type":"human","source":null,`+
		`"step_id":"turn-1","annotation":null}`)

	// Every time of the session's own events, exactly, on its clock and on the wall clock.
	for _, c := range []struct {
		eventType string
		n         int
		tNs       uint64
	}{
		{"session.start", 0, 1 * sec}, {"step.start", 0, 1100 * msec}, {"message", 0, 1200 * msec},
		{"step.start", 1, 1300 * msec}, {"message", 1, 1400 * msec}, {"step.end", 0, 1500 * msec},
		{"step.end", 1, 1500 * msec}, {"reward.event", 0, 3100 * msec}, {"message", 2, 3 * sec},
		{"message", 3, 3400 * msec}, {"session.end", 0, 6 * sec},
	} {
		wantTimes(t, nth(t, evs, c.eventType, c.n), snap, c.tNs)
	}
	// The rewards by session id: now on CLOCK_MONOTONIC, on the wall clock through the process's
	// anchor.
	anchor := processAnchorUs()
	for _, e := range []envelope{nth(t, evs, "reward.outcome", 1), nth(t, evs, "reward.event", 1)} {
		if d := int64(e.TimestampUnixUs) - int64(e.TimestampUs) - anchor; d > 50_000 || d < -50_000 {
			t.Errorf("%s by session id: %d us off the process's anchor", e.EventType, d)
		}
	}
}

// Under the default policy a message keeps only its length; TextInclude truncates.
func TestMessagesFollowTheTextPolicy(t *testing.T) {
	noRateLimit(t)
	out := filepath.Join(t.TempDir(), "policy.jsonl")
	loadJSONL(t, out)
	sid := fmt.Sprintf("go-policy-%d", nameSerial.Add(1))
	redacted := mustSession(t, WithSessionID(sid))
	cut := mustSession(t, WithSessionID(sid+"-cut"), WithTextPolicy(TextInclude), WithMaxTextChars(5))
	mustOK(t, "redacted", redacted.RecordMessage(RoleUser, "my card is 4111", nil, 0))
	mustOK(t, "cut", cut.RecordMessage(RoleUser, "héllo world", nil, 0))
	mustOK(t, "cut JSON", cut.RecordMessage(RoleTool, `{"long":"json"}`, nil, 0))
	mustOK(t, "Close", redacted.Close())
	mustOK(t, "Close", cut.Close())
	if d := string(nth(t, sessionEvents(t, out, sid), "message", 0).Data); d != `{"role":"user","step_id":null,`+
		`"content_type":"text","content":null,"chars":15,"redacted":true,"truncated":false,"metadata":null}` {
		t.Errorf("redacted message %s", d)
	}
	evs := sessionEvents(t, out, sid+"-cut")
	if d := string(nth(t, evs, "message", 0).Data); d != `{"role":"user","step_id":null,"content_type":"text",`+
		`"content":"héllo","chars":11,"redacted":false,"truncated":true,"metadata":null}` {
		t.Errorf("cut message %s", d)
	}
	// JSON content that would be cut is kept as (cut) text.
	if d := string(nth(t, evs, "message", 1).Data); d != `{"role":"tool","step_id":null,"content_type":"text",`+
		`"content":"{\"lon","chars":15,"redacted":false,"truncated":true,"metadata":null}` {
		t.Errorf("cut JSON message %s", d)
	}
}

func TestBadSessionConfigIsRefusedWithTheLibraryMessage(t *testing.T) {
	try := func(what, msgPart string, opts ...Option) {
		t.Helper()
		s, err := NewSession(opts...)
		if s != nil {
			s.Close()
		}
		wantCode(t, what, err, ErrInvalidArgument, msgPart)
	}
	try("metadata an array", "metadata_json is not a valid JSON object", WithMetadata([]byte(`[1,2]`)))
	try("metadata not JSON", "metadata_json is not a valid JSON object", WithMetadata([]byte(`not json`)))
	try("metadata too long", "longer than 2048 bytes",
		WithMetadata([]byte(`{"a":"`+strings.Repeat("x", MaxMetadataBytes)+`"}`)))
	try("metadata with NUL", "NUL", WithMetadata([]byte("{\"a\":\"\x00\"}")))
	for _, bad := range []string{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
		"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"00-00000000000000000000000000000000-b7ad6b7169203331-01",
		"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"} {
		try("traceparent "+bad, "traceparent", WithTraceparent(bad))
	}
	try("clock 2", "clock 2", WithClock(2))
	// Empty metadata is none.
	s := mustSession(t, WithMetadata(nil), WithMetadata([]byte{}))
	mustOK(t, "Close", s.Close())
}

func TestBadTraceArgumentsAreRefusedWithTheLibraryMessage(t *testing.T) {
	s := mustSession(t)
	wantCode(t, "turn-3", s.StepStart("turn-3", nil, 0), ErrInvalidArgument, "step_id 'turn-3' has the form of a turn's step")
	wantCode(t, "empty step id", s.StepStart("", nil, 0), ErrInvalidArgument, "")
	wantCode(t, "step id with NUL", s.StepStart("a\x00b", nil, 0), ErrInvalidArgument, "NUL")
	wantCode(t, "bad metadata", s.StepStart("a", []byte("not json"), 0), ErrInvalidArgument, "not a valid JSON object")
	wantCode(t, "end never opened", s.StepEnd("never-opened", 0), ErrNotFound, "")
	for i := 0; i < MaxOpenSteps; i++ {
		mustOK(t, "StepStart", s.StepStart(fmt.Sprintf("s%d", i), nil, 0))
	}
	wantCode(t, "open already", s.StepStart("s0", nil, 0), ErrInvalidArgument, "step 's0' is open already")
	wantCode(t, "too many", s.StepStart("one-more", nil, 0), ErrLimit, "VT_MAX_OPEN_STEPS")
	mustOK(t, "StepEnd s0 (and every step inside it)", s.StepEnd("s0", 0))
	mustOK(t, "StepStart one-more", s.StepStart("one-more", nil, 0))
	wantCode(t, "unknown role", s.RecordMessage("robot", "hi", nil, 0), ErrInvalidArgument, "role 'robot'")
	wantCode(t, "content not UTF-8", s.RecordMessage(RoleUser, "\xff", nil, 0), ErrInvalidArgument, "")
	wantCode(t, "NaN reward", s.RecordOutcomeReward("k", math.NaN(), 0, nil, 0), ErrInvalidArgument, "")
	wantCode(t, "empty key", s.RecordEventReward("", 1, "", "", nil, 0), ErrInvalidArgument, "")
	wantCode(t, "bad annotation", s.RecordEventReward("k", 1, "", "", []byte(`[1]`), 0), ErrInvalidArgument, "")
	wantCode(t, "empty session id", RecordOutcomeRewardFor("", "k", 1, 0, nil, 0), ErrInvalidArgument, "")
	wantCode(t, "long session id", RecordEventRewardFor(strings.Repeat("x", MaxSessionIDBytes+1), "", "k", 1, "", "", nil, 0),
		ErrInvalidArgument, "")
	mustOK(t, "Close", s.Close())
	wantCode(t, "step after Close", s.StepStart("late", nil, 0), ErrBadHandle, "")
	wantCode(t, "message after Close", s.RecordMessage(RoleUser, "late", nil, 0), ErrBadHandle, "")
	wantCode(t, "reward after Close", s.RecordOutcomeReward("late", 1, 0, nil, 0), ErrBadHandle, "")
	wantCode(t, "step end after Close", s.StepEnd("one-more", 0), ErrBadHandle, "")
}

// A message whose event would not fit is refused even with no plugin loaded.
func TestMessageTooLongForAnEventIsRefused(t *testing.T) {
	s := mustSession(t, WithTextPolicy(TextInclude), WithMaxTextChars(4096))
	wantCode(t, "long message", s.RecordMessage(RoleUser, strings.Repeat("a", 4999), nil, 0), ErrLimit, "")
}
