package voicetelemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// nameTable maps the scenario names (the enum's String, checked against the header by
// header_drift_test.go) to their values: 1 up to the first value without a name.
func nameTable(name func(uint32) string) map[string]uint32 {
	m := map[string]uint32{}
	for v := uint32(1); lowerName.MatchString(name(v)); v++ {
		m[name(v)] = v
	}
	return m
}

var (
	scenarioStages   = nameTable(func(v uint32) string { return Stage(v).String() })
	scenarioMarks    = nameTable(func(v uint32) string { return Mark(v).String() })
	scenarioValues   = nameTable(func(v uint32) string { return TurnValueKey(v).String() })
	scenarioTexts    = nameTable(func(v uint32) string { return TextKind(v).String() })
	scenarioRuns     sync.Map // file -> *atomic.Int32: how often this process replayed it
	turnScenarioGlob = "../tests/scenarios/turns/*.txt"
)

// A scenario run fails the test for every step that does not return nil and every expectation
// whose text lacks its substring, naming the file and line, as tests/c/test_turns.c does.
type turnScenario struct {
	t      *testing.T
	path   string
	s      *Session
	suffix string // "" on the first replay in this process; otherwise appended to the transport
}

func (r *turnScenario) lookup(table map[string]uint32, what, name string, where string) uint32 {
	v, ok := table[name]
	if !ok {
		r.t.Fatalf("%s: unknown %s %q", where, what, name)
	}
	return v
}

func (r *turnScenario) u64(s, where string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		r.t.Fatalf("%s: %v", where, err)
	}
	return v
}

// textOf is what an `expect` line searches: the turn JSON, the history, the snapshot or the whole
// Prometheus text.
func (r *turnScenario) textOf(what, where string) string {
	var b []byte
	var err error
	switch what {
	case "last":
		b, err = r.s.LastTurnJSON()
		if err == nil {
			r.checkTyped(b, where)
		}
	case "history":
		b, err = r.s.TurnHistoryJSON(0)
		if err == nil {
			r.checkTypedHistory(b, where)
		}
	case "snapshot":
		b, err = r.s.SnapshotJSON(0)
	case "prom":
		var text string
		text, err = PromText()
		b = []byte(text)
	default:
		r.t.Fatalf("%s: unknown expectation source %q", where, what)
	}
	if err != nil {
		r.t.Fatalf("%s: reading %s: %v", where, what, err)
	}
	return string(b)
}

// checkTyped: LastTurn decodes the same record, and the typed Turn re-encodes to exactly the
// JSON the library wrote (same keys, same values): the Go struct covers every field of schema 1.
func (r *turnScenario) checkTyped(raw []byte, where string) {
	turn, err := r.s.LastTurn()
	if err != nil {
		r.t.Fatalf("%s: LastTurn: %v", where, err)
	}
	if string(raw) == "null" {
		if turn != nil {
			r.t.Errorf("%s: LastTurn is %+v for JSON null", where, turn)
		}
		return
	}
	if turn == nil {
		r.t.Fatalf("%s: LastTurn is nil for %s", where, raw)
	}
	sameJSON(r.t, where, turn, raw)
	if !bytes.Equal(turn.Raw, raw) {
		r.t.Errorf("%s: Turn.Raw differs from LastTurnJSON", where)
	}
	if turn.E2EBreakdownNs != nil && turn.E2ELatencyNs != nil && turn.E2EBreakdownNs.Sum() != *turn.E2ELatencyNs {
		r.t.Errorf("%s: breakdown sums to %d, e2e is %d", where, turn.E2EBreakdownNs.Sum(), *turn.E2ELatencyNs)
	}
	if got, want := turn.QualityFlags.Names(), turn.Quality; !reflect.DeepEqual(got, want) {
		r.t.Errorf("%s: QualityFlags(%d).Names() = %q, record says %q", where, turn.QualityFlags, got, want)
	}
}

func (r *turnScenario) checkTypedHistory(raw []byte, where string) {
	turns, err := r.s.TurnHistory(0)
	if err != nil {
		r.t.Fatalf("%s: TurnHistory: %v", where, err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		r.t.Fatalf("%s: history JSON: %v", where, err)
	}
	if len(turns) != len(items) {
		r.t.Fatalf("%s: TurnHistory has %d turns, the JSON %d", where, len(turns), len(items))
	}
	for i := range turns {
		sameJSON(r.t, fmt.Sprintf("%s: history[%d]", where, i), &turns[i], items[i])
	}
}

// sameJSON fails unless v encodes to the same JSON value as raw.
func sameJSON(t *testing.T, where string, v any, raw []byte) {
	t.Helper()
	enc, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: marshal: %v", where, err)
	}
	var a, b any
	if err := json.Unmarshal(enc, &a); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("%s: library JSON: %v", where, err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%s: the typed record does not round-trip:\n  typed:   %s\n  library: %s", where, enc, raw)
	}
}

// arg is the k-th argument of a command line's fields f (k = 0: the one after the command).
func (r *turnScenario) arg(f []string, k int, where string) string {
	if k+1 >= len(f) {
		r.t.Fatalf("%s: missing argument %d", where, k+1)
	}
	return f[k+1]
}

func (r *turnScenario) run() {
	lines, numbers := readLines(r.t, r.path)
	name := filepath.Base(r.path)
	for i, line := range lines {
		where := fmt.Sprintf("%s:%d: %s", name, numbers[i], line)
		f := strings.Fields(line)
		var err error
		switch {
		case f[0] == "expect":
			r.expect(f, line, where)
		case f[0] == "config":
			r.s, err = r.config(f, where)
		case r.s == nil:
			r.t.Fatalf("%s: no session (config must come first)", where)
		default:
			err = r.step(f, line, where)
		}
		if err != nil {
			r.t.Errorf("%s -> %v", where, err)
		}
	}
	if r.s == nil {
		r.t.Fatalf("%s: no config line", name)
	}
	if err := r.s.Close(); err != nil {
		r.t.Errorf("%s: Close: %v", name, err)
	}
}

// expect: the substring is the rest of the line after "expect <source> ", as in the C runner.
func (r *turnScenario) expect(f []string, line, where string) {
	source := r.arg(f, 0, where)
	needle := line[len("expect ")+len(source)+1:]
	if r.suffix != "" && source == "prom" {
		needle = strings.Replace(needle, `transport="`, `transport="`+r.suffix, 1)
	}
	if text := r.textOf(source, where); !strings.Contains(text, needle) {
		r.t.Errorf("%s\n    got: %.2000s", where, text)
	}
}

func (r *turnScenario) config(f []string, where string) (*Session, error) {
	policy := TextRedact
	if r.arg(f, 2, where) == "include" {
		policy = TextInclude
	}
	maxChars, history := r.u64(r.arg(f, 3, where), where), r.u64(r.arg(f, 4, where), where)
	return NewSession(WithSessionID(r.arg(f, 0, where)), WithLabelPairs("transport", r.suffix+r.arg(f, 1, where)),
		WithStartTime(1000), WithTextPolicy(policy), WithMaxTextChars(uint32(maxChars)),
		WithTurnHistory(uint32(history)))
}

// step applies one call line of tests/scenarios/turns/README.txt (not config or expect) to r.s;
// the cost scenarios use it too.
func (r *turnScenario) step(f []string, line, where string) error {
	arg := func(k int) string { return r.arg(f, k, where) }
	t := func(k int) uint64 { return r.u64(arg(k), where) }
	stage := func(k int) Stage { return Stage(r.lookup(scenarioStages, "stage", arg(k), where)) }
	switch f[0] {
	case "mark":
		return r.s.TurnMark(stage(0), Mark(r.lookup(scenarioMarks, "mark", arg(1), where)), t(2))
	case "value":
		v, err := strconv.ParseFloat(arg(1), 64)
		if err != nil {
			r.t.Fatalf("%s: %v", where, err)
		}
		return r.s.TurnValue(TurnValueKey(r.lookup(scenarioValues, "value key", arg(0), where)), v, t(2))
	case "text":
		// The text is everything after the third space (it may contain spaces).
		parts := strings.SplitN(line, " ", 4)
		text := ""
		if len(parts) == 4 {
			text = parts[3]
		}
		return r.s.TurnText(TextKind(r.lookup(scenarioTexts, "text kind", arg(0), where)), text, t(1))
	case "usage":
		return r.usage(f, where)
	case "error":
		return r.s.TurnError(stage(0), t(1))
	case "provider":
		return r.s.TurnProvider(stage(0), arg(1), dashEmpty(arg(2)), t(3))
	case "fallback":
		kind := FallbackSwitch
		if arg(1) == "recovery" {
			kind = FallbackRecovery
		}
		return r.s.TurnFallback(stage(0), kind, arg(2), arg(3), dashEmpty(arg(4)), t(5))
	case "tool":
		kind := ToolFunction
		if arg(0) == "mcp" {
			kind = ToolMCP
		}
		return r.s.TurnToolCall(kind, arg(1), t(2), t(3), arg(4) == "1")
	}
	return r.recordStep(f, where)
}

// recordStep: the core record calls of the format.
func (r *turnScenario) recordStep(f []string, where string) error {
	t := func(k int) uint64 { return r.u64(r.arg(f, k, where), where) }
	switch f[0] {
	case "vad_start":
		return r.s.RecordVADStart(t(0))
	case "vad_end":
		return r.s.RecordVADEnd(t(0))
	case "interruption":
		return r.s.RecordInterruption(t(0))
	case "turn_complete":
		return r.s.RecordTurnComplete(t(0))
	case "audio_out":
		return r.s.RecordAudioOut(int(t(0)), t(1))
	}
	r.t.Fatalf("%s: unknown command", where)
	return nil
}

// usage <stage> <9 fields of vt_token_usage in order, -1 = not reported> <t_ns>
func (r *turnScenario) usage(f []string, where string) error {
	if len(f) != 12 {
		r.t.Fatalf("%s: usage needs a stage, 9 fields and a time", where)
	}
	var v [9]*int64
	for k := range v {
		n, err := strconv.ParseInt(f[2+k], 10, 64)
		if err != nil {
			r.t.Fatalf("%s: %v", where, err)
		}
		v[k] = usageArg(n)
	}
	return r.s.TurnUsage(Stage(r.lookup(scenarioStages, "stage", f[1], where)), TokenUsage{
		Input: v[0], Output: v[1], CachedInput: v[2], Reasoning: v[3], InputText: v[4],
		InputAudio: v[5], InputImage: v[6], OutputText: v[7], OutputAudio: v[8],
	}, r.u64(f[11], where))
}

// dashEmpty: "-" in a scenario stands for an absent (empty) name.
func dashEmpty(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// Every scenario of tests/scenarios/turns, replayed through the Go API with every expectation
// checked as the C runner checks it; in addition every `expect last` / `expect history` checks
// that the typed Turn round-trips to the library's JSON.
func TestTurnScenarios(t *testing.T) {
	all, err := filepath.Glob(turnScenarioGlob)
	mustOK(t, "glob", err)
	var files []string
	for _, f := range all {
		if filepath.Base(f) != "README.txt" { // the format's description
			files = append(files, f)
		}
	}
	if len(files) < 10 {
		t.Fatalf("found %d scenario files in %s, want at least 10", len(files), turnScenarioGlob)
	}
	for _, path := range files {
		path := path
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			// Prometheus counters are process-wide: a second replay in this process (go test
			// -count=2) uses a transport label of its own, with the same expected numbers.
			n, _ := scenarioRuns.LoadOrStore(path, new(atomic.Int32))
			suffix := ""
			if run := n.(*atomic.Int32).Add(1); run > 1 {
				suffix = fmt.Sprintf("r%d_", run)
			}
			r := &turnScenario{t: t, path: path, suffix: suffix}
			defer func() {
				if r.s != nil {
					_ = r.s.Close()
				}
			}()
			r.run()
		})
	}
}

// A minimal turn: e2e = 100 ms + extra ns.
func simpleTurn(t testing.TB, s *Session, t0, extra uint64) {
	t.Helper()
	mustOK(t, "user speech start", s.TurnMark(StageUserSpeech, MarkStart, t0))
	mustOK(t, "user speech end", s.TurnMark(StageUserSpeech, MarkEnd, t0+1_000_000))
	mustOK(t, "agent speech start", s.TurnMark(StageAgentSpeech, MarkStart, t0+101_000_000+extra))
	mustOK(t, "agent speech end", s.TurnMark(StageAgentSpeech, MarkEnd, t0+200_000_000+extra))
}

func wantCode(t *testing.T, what string, err error, sentinel *Error, msgPart string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("%s: got %v, want %v", what, err, sentinel.Code)
		return
	}
	if msgPart != "" && !strings.Contains(err.Error(), msgPart) {
		t.Errorf("%s: message %q lacks %q", what, err.Error(), msgPart)
	}
}

func TestTurnErrorPaths(t *testing.T) {
	s := mustSession(t)
	u := TokenUsage{Input: Tokens(1)}

	// Invalid stages, marks, pairs, keys, kinds and values: the library's answer and message.
	wantCode(t, "mark stage 0", s.TurnMark(0, MarkStart, 1), ErrInvalidArgument, "")
	wantCode(t, "mark stage 99", s.TurnMark(99, MarkStart, 1), ErrInvalidArgument, "")
	wantCode(t, "user speech FIRST", s.TurnMark(StageUserSpeech, MarkFirst, 1), ErrInvalidArgument, "")
	wantCode(t, "stt END", s.TurnMark(StageSTT, MarkEnd, 1), ErrInvalidArgument, "")
	wantCode(t, "tool START", s.TurnMark(StageTool, MarkStart, 1), ErrInvalidArgument, "")
	wantCode(t, "mark 0", s.TurnMark(StageLLM, 0, 1), ErrInvalidArgument, "")
	wantCode(t, "value key 0", s.TurnValue(0, 1, 1), ErrInvalidArgument, "")
	wantCode(t, "value key 10", s.TurnValue(10, 1, 1), ErrInvalidArgument, "")
	wantCode(t, "confidence 1.5", s.TurnValue(ValueSTTConfidence, 1.5, 1), ErrInvalidArgument, "")
	wantCode(t, "confidence -0.1", s.TurnValue(ValueSTTConfidence, -0.1, 1), ErrInvalidArgument, "")
	wantCode(t, "wait 1e7 s", s.TurnValue(ValueEOUWaitSeconds, 1e7, 1), ErrInvalidArgument, "")
	wantCode(t, "1.5 characters", s.TurnValue(ValueTTSCharacters, 1.5, 1), ErrInvalidArgument, "")
	wantCode(t, "NaN characters", s.TurnValue(ValueTTSCharacters, math.NaN(), 1), ErrInvalidArgument, "")
	wantCode(t, "+Inf characters", s.TurnValue(ValueTTSCharacters, math.Inf(1), 1), ErrInvalidArgument, "")
	wantCode(t, "text kind 0", s.TurnText(0, "x", 1), ErrInvalidArgument, "")
	wantCode(t, "invalid UTF-8", s.TurnText(TextUserTranscript, "bad \xC3\x28 utf8", 1), ErrInvalidArgument, "")
	wantCode(t, "surrogate", s.TurnText(TextUserTranscript, "\xED\xA0\x80", 1), ErrInvalidArgument, "")
	wantCode(t, "NUL in text", s.TurnText(TextUserTranscript, "a\x00b", 1), ErrInvalidArgument, "NUL")
	wantCode(t, "text over 1 MiB", s.TurnText(TextAgentResponse, strings.Repeat("a", 1<<20+1), 1), ErrInvalidArgument, "")
	wantCode(t, "usage stage EOU", s.TurnUsage(StageEOU, u, 1), ErrInvalidArgument, "")
	wantCode(t, "usage 2^41", s.TurnUsage(StageLLM, TokenUsage{Input: Tokens(1 << 41)}, 1), ErrInvalidArgument, "")
	wantCode(t, "error source 0", s.TurnError(0, 1), ErrInvalidArgument, "")
	firstUnknown := Stage(len(stageNames)) // stageNames: every stage from 0 on
	wantCode(t, fmt.Sprintf("error source %d", firstUnknown), s.TurnError(firstUnknown, 1), ErrInvalidArgument, "")
	wantCode(t, "provider of agent speech", s.TurnProvider(StageAgentSpeech, "p", "", 1), ErrInvalidArgument, "")
	wantCode(t, "empty provider", s.TurnProvider(StageLLM, "", "", 1), ErrInvalidArgument, "")
	wantCode(t, "model not UTF-8", s.TurnProvider(StageLLM, "p", "\xff", 1), ErrInvalidArgument, "")
	wantCode(t, "long provider", s.TurnProvider(StageLLM, strings.Repeat("a", MaxTurnNameBytes+1), "", 1), ErrInvalidArgument, "")
	wantCode(t, "NUL in model", s.TurnProvider(StageLLM, "p", "m\x00", 1), ErrInvalidArgument, "NUL")
	wantCode(t, "fallback kind 3", s.TurnFallback(StageLLM, 3, "a", "b", "", 1), ErrInvalidArgument, "")
	wantCode(t, "fallback stage 0", s.TurnFallback(0, FallbackSwitch, "a", "b", "", 1), ErrInvalidArgument, "")
	wantCode(t, "fallback from empty", s.TurnFallback(StageLLM, FallbackSwitch, "", "b", "", 1), ErrInvalidArgument, "")
	wantCode(t, "fallback to empty", s.TurnFallback(StageLLM, FallbackSwitch, "a", "", "", 1), ErrInvalidArgument, "")
	wantCode(t, "NUL in reason", s.TurnFallback(StageLLM, FallbackSwitch, "a", "b", "x\x00", 1), ErrInvalidArgument, "NUL")
	wantCode(t, "tool kind 0", s.TurnToolCall(0, "t", 1, 2, true), ErrInvalidArgument, "")
	wantCode(t, "empty tool name", s.TurnToolCall(ToolMCP, "", 1, 2, true), ErrInvalidArgument, "")
	wantCode(t, "NUL in tool name", s.TurnToolCall(ToolMCP, "t\x00", 1, 2, true), ErrInvalidArgument, "NUL")
	_, err := s.TurnHistoryJSON(-1)
	wantCode(t, "history -1", err, ErrInvalidArgument, "")

	// Nothing yet: null and [] (nil Turn, empty slice).
	raw, err := s.LastTurnJSON()
	mustOK(t, "LastTurnJSON", err)
	if string(raw) != "null" {
		t.Errorf("LastTurnJSON before any turn = %s", raw)
	}
	if turn, err := s.LastTurn(); err != nil || turn != nil {
		t.Errorf("LastTurn before any turn = %v, %v", turn, err)
	}
	raw, err = s.TurnHistoryJSON(0)
	mustOK(t, "TurnHistoryJSON", err)
	if string(raw) != "[]" {
		t.Errorf("TurnHistoryJSON before any turn = %s", raw)
	}
	if turns, err := s.TurnHistory(0); err != nil || turns == nil || len(turns) != 0 {
		t.Errorf("TurnHistory before any turn = %v, %v", turns, err)
	}

	// After Close every function is ErrBadHandle.
	mustOK(t, "Close", s.Close())
	bad := map[string]error{
		"TurnMark":     s.TurnMark(StageLLM, MarkStart, 1),
		"TurnValue":    s.TurnValue(ValueTTSCharacters, 1, 1),
		"TurnText":     s.TurnText(TextUserTranscript, "x", 1),
		"TurnUsage":    s.TurnUsage(StageLLM, u, 1),
		"TurnError":    s.TurnError(StageLLM, 1),
		"TurnProvider": s.TurnProvider(StageLLM, "p", "", 1),
		"TurnFallback": s.TurnFallback(StageLLM, FallbackSwitch, "a", "b", "", 1),
		"TurnToolCall": s.TurnToolCall(ToolFunction, "t", 1, 2, true),
	}
	_, bad["LastTurnJSON"] = s.LastTurnJSON()
	_, bad["LastTurn"] = s.LastTurn()
	_, bad["TurnHistoryJSON"] = s.TurnHistoryJSON(0)
	_, bad["TurnHistory"] = s.TurnHistory(2)
	for name, err := range bad {
		wantCode(t, name+" after Close", err, ErrBadHandle, "")
	}
}

// The buffer contract: a record far larger than the starting buffer is read whole (grow and retry).
func TestTurnJSONGrowsTheBuffer(t *testing.T) {
	s := mustSession(t, WithTextPolicy(TextInclude), WithMaxTextChars(4096), WithTurnHistory(64))
	long := strings.Repeat("é", 4000) // 8000 bytes, > the 4096-byte starting buffer
	for i := uint64(0); i < 40; i++ {
		mustOK(t, "text", s.TurnText(TextAgentResponse, long, 0))
		mustOK(t, "text", s.TurnText(TextUserTranscript, long, 0))
		simpleTurn(t, s, (i+1)*1_000_000_000, i)
	}
	turn, err := s.LastTurn()
	mustOK(t, "LastTurn", err)
	if turn == nil || turn.TurnID != 40 || turn.Texts.AgentResponse == nil || turn.Texts.AgentResponse.Text == nil ||
		*turn.Texts.AgentResponse.Text != long || turn.Texts.AgentResponse.Chars != 4000 {
		t.Fatalf("LastTurn = %+v", turn)
	}
	if len(turn.Raw) < 16000 {
		t.Errorf("the record is only %d bytes", len(turn.Raw))
	}
	turns, err := s.TurnHistory(0)
	mustOK(t, "TurnHistory", err)
	if len(turns) != 40 || turns[0].TurnID != 1 || turns[39].TurnID != 40 {
		t.Fatalf("TurnHistory: %d turns", len(turns))
	}
	raw, err := s.TurnHistoryJSON(0)
	mustOK(t, "TurnHistoryJSON", err)
	if len(raw) < 40*16000 || !json.Valid(raw) {
		t.Errorf("history: %d bytes, valid %v", len(raw), json.Valid(raw))
	}
}

func TestTurnHistoryRing(t *testing.T) {
	s := mustSession(t, WithTurnHistory(4))
	for i := uint64(0); i < 10; i++ {
		simpleTurn(t, s, 1_000_000_000*(i+1), i)
	}
	turns, err := s.TurnHistory(0)
	mustOK(t, "TurnHistory", err)
	var ids []uint64
	for _, tr := range turns {
		ids = append(ids, tr.TurnID)
	}
	if !reflect.DeepEqual(ids, []uint64{7, 8, 9, 10}) {
		t.Errorf("history ids = %v", ids)
	}
	turns, err = s.TurnHistory(2)
	mustOK(t, "TurnHistory(2)", err)
	if len(turns) != 2 || turns[0].TurnID != 9 || turns[1].TurnID != 10 {
		t.Errorf("TurnHistory(2) = %+v", turns)
	}
	last, err := s.LastTurn()
	mustOK(t, "LastTurn", err)
	if last.TurnID != 10 || *last.E2ELatencyNs != 100_000_009 || last.E2EBreakdownNs.RemainderNs != 100_000_009 ||
		last.Outcome != "completed" || last.CompletedBy != "agent_speech_end" || last.SessionID != s.ID() {
		t.Errorf("LastTurn = %s", last.Raw)
	}
}

func TestTurnTextPolicy(t *testing.T) {
	s := mustSession(t)
	mustOK(t, "text", s.TurnText(TextUserTranscript, "secret words", 1_000_000_000))
	simpleTurn(t, s, 1_000_000_000, 0)
	turn, err := s.LastTurn()
	mustOK(t, "LastTurn", err)
	if ut := turn.Texts.UserTranscript; ut == nil || ut.Chars != 12 || !ut.Redacted || ut.Text != nil {
		t.Errorf("redacted transcript = %+v", ut)
	}
	if bytes.Contains(turn.Raw, []byte("secret")) {
		t.Errorf("redacted text leaked: %s", turn.Raw)
	}

	s2 := mustSession(t, WithTextPolicy(TextInclude), WithMaxTextChars(5))
	mustOK(t, "text", s2.TurnText(TextAgentResponse, "héllo \"world\"\n", 1_000_000_000))
	mustOK(t, "text", s2.TurnText(TextSTTPreflight, `a"b\c`, 1_000_000_000))
	simpleTurn(t, s2, 1_000_000_000, 0)
	turn, err = s2.LastTurn()
	mustOK(t, "LastTurn", err)
	if ar := turn.Texts.AgentResponse; ar == nil || ar.Chars != 14 || ar.Redacted || !ar.Truncated || ar.Text == nil || *ar.Text != "héllo" {
		t.Errorf("agent response = %+v", ar)
	}
	if sp := turn.Texts.STTPreflight; sp == nil || sp.Text == nil || *sp.Text != `a"b\c` || sp.Truncated {
		t.Errorf("preflight = %+v", sp)
	}
}

// Every typed field is filled from a turn that reports a bit of everything.
func TestTurnTypedFields(t *testing.T) {
	s := mustSession(t, WithSessionID(fmt.Sprintf("typed-%d", nameSerial.Add(1))), WithTextPolicy(TextInclude))
	const ms = uint64(1_000_000)
	must := func(what string, err error) { t.Helper(); mustOK(t, what, err) }
	must("provider", s.TurnProvider(StageLLM, "openai", "gpt-4o", 1))
	must("provider", s.TurnProvider(StageSTT, "deepgram", "", 1))
	must("us start", s.TurnMark(StageUserSpeech, MarkStart, 1000*ms))
	must("stt start", s.TurnMark(StageSTT, MarkStart, 1000*ms))
	must("stt preflight", s.TurnMark(StageSTT, MarkPreflight, 1900*ms))
	must("us end", s.TurnMark(StageUserSpeech, MarkEnd, 2000*ms))
	must("stt final", s.TurnMark(StageSTT, MarkFinal, 2100*ms))
	must("stt audio", s.TurnValue(ValueSTTAudioSeconds, 1.5, 2100*ms))
	must("eou wait", s.TurnValue(ValueEOUWaitSeconds, 0.25, 2100*ms))
	must("llm start", s.TurnMark(StageLLM, MarkStart, 2100*ms))
	must("kb start", s.TurnMark(StageKnowledgeBase, MarkStart, 2110*ms))
	must("kb end", s.TurnMark(StageKnowledgeBase, MarkEnd, 2150*ms))
	must("thinking", s.TurnMark(StageThinkingAudio, MarkStart, 2150*ms))
	must("tool", s.TurnToolCall(ToolFunction, "lookup", 2160*ms, 2200*ms, true))
	must("tool", s.TurnToolCall(ToolMCP, "late", 2300*ms, 2250*ms, false))
	must("error", s.TurnError(StageTool, 2300*ms))
	must("fallback", s.TurnFallback(StageLLM, FallbackSwitch, "openai", "backup", "", 2300*ms))
	must("llm first", s.TurnMark(StageLLM, MarkFirst, 2400*ms))
	must("thinking end", s.TurnMark(StageThinkingAudio, MarkEnd, 2400*ms))
	must("usage", s.TurnUsage(StageLLM, TokenUsage{Input: Tokens(7), Reasoning: Tokens(3)}, 2400*ms))
	must("usage", s.TurnUsage(StageLLM, TokenUsage{Input: Tokens(5), Output: Tokens(-1)}, 2400*ms))
	must("tts start", s.TurnMark(StageTTS, MarkStart, 2400*ms))
	must("tts bytes", s.TurnValue(ValueTTSAudioBytes, 9600, 2450*ms))
	must("tts first", s.TurnMark(StageTTS, MarkFirst, 2450*ms))
	must("bg", s.TurnMark(StageBackgroundAudio, MarkStart, 2450*ms))
	must("agent start", s.TurnMark(StageAgentSpeech, MarkStart, 2500*ms))
	must("audio", s.RecordAudioOut(320, 2600*ms))
	must("agent end", s.TurnMark(StageAgentSpeech, MarkEnd, 3000*ms))
	turn, err := s.LastTurn()
	mustOK(t, "LastTurn", err)
	sameJSON(t, "typed", turn, turn.Raw)
	check := func(what string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("%s: record %s", what, turn.Raw)
		}
	}
	check("ids", turn.SchemaVersion == 1 && turn.TurnID == 1 && turn.SessionID == s.ID())
	check("anchor", turn.Anchor != nil && *turn.Anchor == "user_speech_end" && *turn.AnchorNs == 2000*ms)
	check("e2e", *turn.E2ELatencyNs == int64(500*ms) && turn.E2EBreakdownNs.Sum() == int64(500*ms))
	check("stt", *turn.STT.Provider == "deepgram" && turn.STT.Model == nil && *turn.STT.PreflightNs == 1900*ms &&
		*turn.STT.LatencyNs == int64(100*ms) && *turn.STT.AudioDurationNs == int64(1500*ms))
	check("eou", *turn.EOU.WaitForSpeechNs == int64(250*ms))
	check("llm", *turn.LLM.Provider == "backup" && turn.LLM.Model == nil && *turn.LLM.TTFTNs == int64(300*ms))
	check("kb", *turn.KnowledgeBase.DurationNs == int64(40*ms))
	check("thinking", *turn.ThinkingAudio.DurationNs == int64(250*ms))
	check("background", *turn.BackgroundAudio.StartNs == 2450*ms && turn.BackgroundAudio.EndNs == nil)
	check("tools", len(turn.ToolCalls) == 2 && turn.ToolCallsTotal == 2 && turn.ToolCalls[0].OK &&
		turn.ToolCalls[0].Kind == "function" && !turn.ToolCalls[1].OK && turn.ToolCalls[1].Kind == "mcp" &&
		turn.ToolCalls[1].DurationNs == nil)
	check("quality", turn.QualityFlags&QualityOutOfOrder != 0)
	check("fallbacks", len(turn.Fallbacks) == 1 && turn.Fallbacks[0].Reason == nil && turn.Fallbacks[0].To == "backup")
	check("errors", reflect.DeepEqual(turn.Errors, map[string]int64{"tool": 1}))
	check("tokens", *turn.Tokens.Input == 12 && *turn.Tokens.Reasoning == 3 && turn.Tokens.Output == nil)
	check("playback", *turn.Playback.AudioBytesGenerated == 9600 && turn.Playback.AudioBytesSent == 320)
}

func TestEnumNames(t *testing.T) {
	if StageFalseInterruption.String() != "false_interruption" || Stage(0).String() != "stage(0)" ||
		Stage(99).String() != "stage(99)" || MarkEscalated.String() != "escalated" ||
		ValueFalseInterruptionWords.String() != "false_interruption_words" || TextSTTPreflight.String() != "stt_preflight" ||
		FallbackRecovery.String() != "recovery" || ToolMCP.String() != "mcp" {
		t.Error("enum names")
	}
	if q := QualityNoVAD | QualityOverlap | 1<<10; q.String() != "no_vad|overlap|bit10" {
		t.Errorf("TurnQuality.String = %q", q.String())
	}
	if TurnQuality(0).String() != "" || len(TurnQuality(0).Names()) != 0 {
		t.Error("no flags")
	}
}

// Many goroutines, one session each, exact numbers per session (run under -race by make test-go).
func TestTurnsConcurrentSessions(t *testing.T) {
	const workers, perWorker = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := 0; k < perWorker; k++ {
				s, err := NewSession()
				if err != nil {
					errs <- err
					continue
				}
				extra := uint64(w*1000 + k)
				for i := uint64(1); i <= 3; i++ {
					t0 := i * 1_000_000_000
					for _, e := range []error{
						s.TurnMark(StageUserSpeech, MarkStart, t0), s.TurnMark(StageUserSpeech, MarkEnd, t0+1_000_000),
						s.TurnMark(StageAgentSpeech, MarkStart, t0+101_000_000+extra),
						s.TurnMark(StageAgentSpeech, MarkEnd, t0+200_000_000+extra),
					} {
						if e != nil {
							errs <- e
						}
					}
				}
				turn, err := s.LastTurn()
				if err != nil || turn == nil || turn.TurnID != 3 || *turn.E2ELatencyNs != int64(100_000_000+extra) {
					errs <- fmt.Errorf("worker %d session %d: %v %+v", w, k, err, turn)
				}
				if err := s.Close(); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// One session, writers and readers at once: every read parses.
func TestTurnsOneSessionManyGoroutines(t *testing.T) {
	s := mustSession(t, WithTurnHistory(8))
	var wg sync.WaitGroup
	var stop atomic.Bool
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint64(0); i < 300; i++ {
				t0 := (i + 1) * 1_000_000_000
				_ = s.TurnMark(StageUserSpeech, MarkStart, t0)
				_ = s.TurnMark(StageUserSpeech, MarkEnd, t0+1_000_000)
				_ = s.TurnMark(StageAgentSpeech, MarkStart, t0+101_000_000)
				_ = s.TurnMark(StageAgentSpeech, MarkEnd, t0+200_000_000)
			}
		}()
	}
	reads := 0
	for !stop.Load() && reads < 200 {
		if _, err := s.TurnHistory(0); err != nil {
			t.Fatalf("TurnHistory: %v", err)
		}
		if _, err := s.LastTurn(); err != nil {
			t.Fatalf("LastTurn: %v", err)
		}
		reads++
	}
	wg.Wait()
	if turns, err := s.TurnHistory(0); err != nil || len(turns) != 8 {
		t.Errorf("history after: %d turns, %v", len(turns), err)
	}
}
