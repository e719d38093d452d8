package voicetelemetry_test

// Hooks: in-process callbacks on the events (vt_load_plugin_table). Every test synchronises with
// FlushEvents (every event emitted before it has been through the hooks when it returns); nothing
// sleeps.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	vt "github.com/voicetelemetry/voicetelemetry-go"
)

const (
	hooksSec = uint64(1_000_000_000)
	hooksMs  = uint64(1_000_000)
)

func hooksOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func hooksFlush(t *testing.T) {
	t.Helper()
	hooksOK(t, "FlushEvents", vt.FlushEvents(5*time.Second))
}

// loadHooks loads h and unloads it at the end of the test.
func loadHooks(t *testing.T, h *vt.Hooks, config string) {
	t.Helper()
	hooksOK(t, "Load "+h.Name(), h.LoadWithConfig(config))
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close %s: %v", h.Name(), err)
		}
	})
}

// hookLog records what each hook saw, from the plugin's thread.
type hookLog struct {
	mu     sync.Mutex
	calls  []string // "tag event_type"
	events map[string][]vt.HookEvent
}

func (l *hookLog) hook(tag, session string) func(vt.HookEvent) {
	return func(e vt.HookEvent) {
		if e.SessionID != session {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.calls = append(l.calls, tag+" "+e.EventType)
		if l.events == nil {
			l.events = map[string][]vt.HookEvent{}
		}
		l.events[tag] = append(l.events[tag], e)
	}
}

func (l *hookLog) seen(tag string) []vt.HookEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]vt.HookEvent(nil), l.events[tag]...)
}

// The seed's hooks on a scripted call: the order of the calls by priority, exact envelopes and data
// of every event, a panicking hook counted while the others still run, emitted = delivered.
func TestHooksPriorityOrderExactEventsPanicsAndStats(t *testing.T) {
	const session = "go-hooks-1"
	var rec hookLog
	var logged bytes.Buffer
	var loggedMu sync.Mutex
	h := vt.NewHooks("gotest_hooks")
	h.SetLogger(log.New(lockedWriter{&loggedMu, &logged}, "", 0))
	h.On(vt.HookAll, -5, rec.hook("all_low", session))
	h.OnMessage(0, rec.hook("msg_a", session)) // priority 0, registered first
	h.On("message", 5, func(e vt.HookEvent) {
		rec.hook("boom", session)(e)
		panic("hook failed on " + e.EventType)
	})
	h.On(vt.HookAll, 10, rec.hook("all_high", session))
	h.On("message", 0, rec.hook("msg_b", session))   // priority 0, registered second
	h.OnSessionStart(10, rec.hook("start", session)) // ties with all_high: registered later
	h.OnSessionEnd(0, rec.hook("end", session))
	h.OnTurnComplete(0, rec.hook("turn", session))
	h.OnStepStart(0, rec.hook("step", session))
	h.On("reward.event", 0, rec.hook("reward", session))
	loadHooks(t, h, "")
	if !h.Loaded() || h.ID() == 0 {
		t.Fatalf("Loaded %v, ID %d", h.Loaded(), h.ID())
	}

	s, err := vt.NewSession(vt.WithSessionID(session), vt.WithClock(vt.ClockMedia), vt.WithStartTime(1*hooksSec),
		vt.WithTextPolicy(vt.TextInclude), vt.WithLabels(map[string]string{"transport": "sip"}))
	hooksOK(t, "NewSession", err)
	defer s.Close()
	hooksOK(t, "StepStart", s.StepStart("lookup", []byte(`{"tool":"orders"}`), 1100*hooksMs))
	hooksOK(t, "RecordMessage", s.RecordMessage(vt.RoleTool, `{"order":42,"status":"shipped"}`, nil, 1200*hooksMs))
	hooksOK(t, "StepEnd", s.StepEnd("lookup", 1300*hooksMs))
	hooksOK(t, "TurnMark", s.TurnMark(vt.StageUserSpeech, vt.MarkStart, 2*hooksSec))
	hooksOK(t, "TurnMark", s.TurnMark(vt.StageUserSpeech, vt.MarkEnd, 3*hooksSec))
	hooksOK(t, "TurnText", s.TurnText(vt.TextUserTranscript, "where is my order", 3*hooksSec))
	hooksOK(t, "RecordEventReward", s.RecordEventReward("helpfulness", 0.5, "sparse", "llm_judge", nil, 3100*hooksMs))
	hooksOK(t, "TurnMark", s.TurnMark(vt.StageAgentSpeech, vt.MarkStart, 3400*hooksMs))
	hooksOK(t, "TurnText", s.TurnText(vt.TextAgentResponse, "it has shipped", 3400*hooksMs))
	hooksOK(t, "TurnMark", s.TurnMark(vt.StageAgentSpeech, vt.MarkEnd, 5*hooksSec))
	lastTurn, err := s.LastTurnJSON()
	hooksOK(t, "LastTurnJSON", err)
	// A completed turn's events go out when a plugin thread or a flush drains them: flush here, so
	// that they come before the next event.
	hooksFlush(t)
	hooksOK(t, "Emit", s.Emit("llm.response", []byte(`{"model":"gpt-4o-mini", "latency_ms":412}`), "req-7", "1", 5500*hooksMs))
	final, err := s.SnapshotJSON(6 * hooksSec)
	hooksOK(t, "SnapshotJSON", err)
	snap, err := s.Snapshot(6 * hooksSec)
	hooksOK(t, "Snapshot", err)
	hooksOK(t, "EndAt", s.EndAt(6*hooksSec))
	hooksFlush(t)
	st, err := h.Stats()
	hooksOK(t, "Stats", err)

	types := []string{"session.start", "step.start", "message", "step.end", "reward.event", "turn.complete",
		"message", "message", "llm.response", "session.end"}
	own := map[string][]string{"session.start": {"start"}, "message": {"boom", "msg_a", "msg_b"},
		"step.start": {"step"}, "reward.event": {"reward"}, "turn.complete": {"turn"}, "session.end": {"end"}}
	var want []string
	for _, typ := range types {
		for _, tag := range append(append([]string{"all_high"}, own[typ]...), "all_low") {
			want = append(want, tag+" "+typ)
		}
	}
	rec.mu.Lock()
	calls := append([]string(nil), rec.calls...)
	rec.mu.Unlock()
	if strings.Join(calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("call order:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}

	evs := rec.seen("all_low")
	if len(evs) != len(types) {
		t.Fatalf("all_low saw %d events, want %d", len(evs), len(types))
	}
	unixUs := func(tNs uint64) uint64 { return (snap.StartUnixNs + tNs - snap.StartNs) / 1000 }
	exact := func(i int, typ string, tNs uint64, data, turnID, correlationID string) {
		t.Helper()
		e := evs[i]
		if e.TypeID != "core::telemetry/event@1" || e.SessionID != session || e.EventType != typ ||
			e.TurnID != turnID || e.CorrelationID != correlationID {
			t.Errorf("event %d: envelope %+v, want %s turn %q correlation %q", i, e, typ, turnID, correlationID)
		}
		if e.TimestampUs != tNs/1000 || e.TimestampUnixUs != unixUs(tNs) {
			t.Errorf("event %d (%s): times %d %d, want %d %d", i, typ, e.TimestampUs, e.TimestampUnixUs, tNs/1000, unixUs(tNs))
		}
		if string(e.Data) != data {
			t.Errorf("event %d (%s): data\n%s\nwant\n%s", i, typ, e.Data, data)
		}
		if !bytes.HasSuffix(e.Line, []byte(`,"data":`+data+`}`)) || bytes.IndexByte(e.Line, '\n') >= 0 {
			t.Errorf("event %d (%s): line %s", i, typ, e.Line)
		}
	}
	exact(0, "session.start", 1*hooksSec, fmt.Sprintf(`{"labels":{"transport":"sip"},"text_policy":"include","clock":"media",`+
		`"start_ns":1000000000,"start_unix_ns":%d,"trace_id":"%s","parent_span_id":null,"metadata":null}`,
		snap.StartUnixNs, snap.TraceID), "", "")
	exact(1, "step.start", 1100*hooksMs, `{"step_id":"lookup","turn_number":null,"metadata":{"tool":"orders"}}`, "", "")
	exact(2, "message", 1200*hooksMs, `{"role":"tool","step_id":"lookup","content_type":"json","content":{"order":42,"status":"shipped"},`+
		`"chars":31,"redacted":false,"truncated":false,"metadata":null}`, "", "")
	exact(3, "step.end", 1300*hooksMs, `{"step_id":"lookup"}`, "", "")
	exact(4, "reward.event", 3100*hooksMs, `{"objective_key":"helpfulness","value":0.5,"reward_type":"sparse",`+
		`"source":"llm_judge","step_id":"turn-1","annotation":null}`, "", "")
	exact(5, "turn.complete", 5*hooksSec, string(lastTurn), "1", "")
	exact(6, "message", 3*hooksSec, `{"role":"user","step_id":"turn-1","content_type":"text","content":"where is my order",`+
		`"chars":17,"redacted":false,"truncated":false,"metadata":null}`, "1", "")
	exact(7, "message", 3400*hooksMs, `{"role":"assistant","step_id":"turn-1","content_type":"text","content":"it has shipped",`+
		`"chars":14,"redacted":false,"truncated":false,"metadata":null}`, "1", "")
	exact(8, "llm.response", 5500*hooksMs, `{"model":"gpt-4o-mini","latency_ms":412}`, "1", "req-7")
	exact(9, "session.end", 6*hooksSec, string(final), "", "") // the final snapshot, byte for byte
	if !strings.Contains(string(final), `"uptime_secs":5,`) || !strings.Contains(string(lastTurn), `"end_ns":5000000000`) {
		t.Errorf("snapshot %s\nturn %s", final, lastTurn)
	}
	// Every hook of an event saw the same event.
	if a, b := rec.seen("all_high"), evs; fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("all_high and all_low saw different events")
	}

	// The panicking hook: recovered, counted, logged; msg_b (after it) got every message.
	if h.Errors() != 3 || h.LastError() == nil ||
		h.LastError().Error() != `voicetelemetry hooks "gotest_hooks": a hook on message panicked: hook failed on message` {
		t.Errorf("Errors %d, LastError %v", h.Errors(), h.LastError())
	}
	loggedMu.Lock()
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	loggedMu.Unlock()
	if len(lines) != 3 || lines[0] != h.LastError().Error() {
		t.Errorf("logged %q", lines)
	}
	if n := len(rec.seen("msg_b")); n != 3 {
		t.Errorf("msg_b saw %d messages, want 3", n)
	}

	// Statistics: everything offered was delivered (a panicking hook does not make a drop).
	if st.Name != "gotest_hooks" || st.Version != "1.0.0" || st.Emitted != st.Delivered || st.Delivered != h.Events() ||
		st.Emitted < uint64(len(types)) || st.Dropped() != 0 || st.Queued != 0 || st.Disabled {
		t.Errorf("stats %+v, Events %d", st, h.Events())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestHooksUnloadStopsDeliveryAndLoadAgain(t *testing.T) {
	var mu sync.Mutex
	var got []string
	h := vt.NewHooks("gotest_unload")
	h.OnEvent(0, func(e vt.HookEvent) {
		mu.Lock()
		got = append(got, e.EventType)
		mu.Unlock()
	})
	hooksOK(t, "Load", h.Load())
	id := h.ID()
	hooksOK(t, "Emit", vt.Emit(nil, "app.one", nil, "", "", 0))
	hooksFlush(t)
	hooksOK(t, "Close", h.Close())
	hooksOK(t, "Close again", h.Close())
	if h.Loaded() || h.ID() != 0 {
		t.Errorf("after Close: Loaded %v ID %d", h.Loaded(), h.ID())
	}
	if _, err := h.Stats(); !errors.Is(err, vt.ErrNotFound) {
		t.Errorf("Stats after Close: %v", err)
	}
	if _, err := vt.PluginStats(id); !errors.Is(err, vt.ErrNotFound) {
		t.Errorf("PluginStats after Close: %v", err)
	}
	ids, err := vt.ListPlugins()
	hooksOK(t, "ListPlugins", err)
	for _, x := range ids {
		if x == id {
			t.Errorf("unloaded hooks still listed: %v", ids)
		}
	}
	hooksOK(t, "Emit", vt.Emit(nil, "app.two", nil, "", "", 0))
	s, err := vt.NewSession(vt.WithSessionID("after-unload"))
	hooksOK(t, "NewSession", err)
	hooksOK(t, "Close session", s.Close())
	hooksFlush(t)
	mu.Lock()
	if strings.Join(got, " ") != "app.one" {
		t.Errorf("got %v after unload, want only app.one", got)
	}
	mu.Unlock()

	// Loaded again: a new id, the same hooks.
	loadHooks(t, h, `{"queue_capacity":64}`)
	if h.ID() == 0 || h.ID() == id {
		t.Errorf("reload id %d (was %d)", h.ID(), id)
	}
	hooksOK(t, "Emit", vt.Emit(nil, "app.three", nil, "", "", 0))
	hooksFlush(t)
	st, err := h.Stats()
	hooksOK(t, "Stats", err)
	if st.Delivered != 1 || st.QueueCapacity != 64 {
		t.Errorf("stats after reload %+v", st)
	}
	mu.Lock()
	if strings.Join(got, " ") != "app.one app.three" {
		t.Errorf("got %v", got)
	}
	mu.Unlock()
}

// A hook blocked on the plugin's thread does not block Emit (the recording side).
func TestHooksRecordingNeverWaitsForASlowHook(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var got []int
	h := vt.NewHooks("gotest_slow")
	h.On("app.tick", 0, func(e vt.HookEvent) {
		var d struct{ N int }
		_ = json.Unmarshal(e.Data, &d)
		if d.N == 0 {
			close(entered)
			<-release // only returns because the test goroutine went on emitting meanwhile
		}
		mu.Lock()
		got = append(got, d.N)
		mu.Unlock()
	})
	loadHooks(t, h, "")
	hooksOK(t, "Emit", vt.Emit(nil, "app.tick", []byte(`{"n":0}`), "", "", 0))
	<-entered
	for n := 1; n <= 5; n++ { // the plugin's thread is inside the hook: these only queue
		hooksOK(t, "Emit", vt.Emit(nil, "app.tick", []byte(fmt.Sprintf(`{"n":%d}`, n)), "", "", 0))
	}
	close(release)
	hooksFlush(t)
	mu.Lock()
	if fmt.Sprint(got) != "[0 1 2 3 4 5]" {
		t.Errorf("got %v", got)
	}
	mu.Unlock()
	st, err := h.Stats()
	hooksOK(t, "Stats", err)
	if st.Emitted != 6 || st.Delivered != 6 || st.Dropped() != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A hook may read its hooks' state; Close from a hook is refused at once (unload would wait for the
// hook's own thread) and the hooks stay loaded.
func TestHooksCloseFromAHookIsRefused(t *testing.T) {
	h := vt.NewHooks("gotest_self_close")
	var closeErr error
	var id vt.PluginID
	var st vt.PluginStatistics
	var stErr error
	h.On("app.close", 0, func(vt.HookEvent) {
		id = h.ID()
		st, stErr = h.Stats()
		closeErr = h.Close()
	})
	loadHooks(t, h, "")
	hooksOK(t, "Emit", vt.Emit(nil, "app.close", nil, "", "", 0))
	hooksFlush(t)
	if !errors.Is(closeErr, vt.ErrInvalidArgument) || !strings.Contains(closeErr.Error(), "cannot close its own hooks") {
		t.Errorf("Close from a hook: %v", closeErr)
	}
	if id != h.ID() || !h.Loaded() || stErr != nil || st.Name != "gotest_self_close" || st.Emitted != 1 {
		t.Errorf("from the hook: id %d (now %d), stats %+v, %v", id, h.ID(), st, stErr)
	}
}

// Registering, unregistering and emitting from many goroutines while the hooks run (go test -race).
func TestHooksConcurrentRegistrationAndEmit(t *testing.T) {
	h := vt.NewHooks("gotest_concurrent")
	var mu sync.Mutex
	count := map[string]int{}
	h.On("app.c", 0, func(e vt.HookEvent) {
		mu.Lock()
		count["kept"]++
		mu.Unlock()
	})
	loadHooks(t, h, `{"queue_capacity":4096}`)
	hooksOK(t, "SetEventRateLimit", vt.SetEventRateLimit(0))
	t.Cleanup(func() { _ = vt.SetEventRateLimit(uint32(vt.DefaultEventRateLimit)) })
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				remove := h.On("app.c", g, func(vt.HookEvent) {})
				if err := vt.Emit(nil, "app.c", nil, "", "", 0); err != nil {
					t.Error(err)
				}
				remove()
				remove() // a no-op
			}
		}(g)
	}
	wg.Wait()
	hooksFlush(t)
	st, err := h.Stats()
	hooksOK(t, "Stats", err)
	mu.Lock()
	defer mu.Unlock()
	if st.Emitted != 200 || st.Delivered != 200 || count["kept"] != 200 || h.Errors() != 0 {
		t.Errorf("stats %+v, kept %d, errors %d", st, count["kept"], h.Errors())
	}
}

func TestHooksErrors(t *testing.T) {
	a := vt.NewHooks("gotest_dup")
	loadHooks(t, a, "")
	if err := vt.NewHooks("gotest_dup").Load(); !errors.Is(err, vt.ErrPlugin) || !strings.Contains(err.Error(), "already loaded") {
		t.Errorf("duplicate name: %v", err)
	}
	if err := a.Load(); !errors.Is(err, vt.ErrInvalidArgument) || !strings.Contains(err.Error(), "loaded already") {
		t.Errorf("Load twice: %v", err)
	}
	if err := vt.NewHooks("not a valid name!").Load(); !errors.Is(err, vt.ErrPlugin) {
		t.Errorf("bad name: %v", err)
	}
	if err := vt.NewHooks("gotest_cfg").LoadWithConfig(`{"queue_capacity":"many"}`); !errors.Is(err, vt.ErrInvalidArgument) {
		t.Errorf("bad config: %v", err)
	}
	if err := vt.NewHooks("gotest_cfg").LoadWithConfig(`[1]`); !errors.Is(err, vt.ErrInvalidArgument) {
		t.Errorf("config not an object: %v", err)
	}
	if err := vt.NewHooks("gotest\x00nul").Load(); !errors.Is(err, vt.ErrInvalidArgument) {
		t.Errorf("NUL in name: %v", err)
	}
	if _, err := vt.NewHooks("gotest_never").Stats(); !errors.Is(err, vt.ErrNotFound) {
		t.Errorf("Stats before Load: %v", err)
	}
	// Unloaded behind the hooks' back (raw UnloadPlugin): Close still succeeds.
	b := vt.NewHooks("gotest_raw_unload")
	hooksOK(t, "Load", b.Load())
	hooksOK(t, "UnloadPlugin", vt.UnloadPlugin(b.ID()))
	hooksOK(t, "Close after UnloadPlugin", b.Close())
}

// Example_hooks is the README's "Hooks" program (TestReadmeHooksIsExample_hooks keeps them equal).
func Example_hooks() {
	// Hooks see every session's events; these only this call's (a session a program forgot to
	// close ends in its finalizer, at any time).
	call := func(fn func(vt.HookEvent)) func(vt.HookEvent) {
		return func(e vt.HookEvent) {
			if e.SessionID == "call-3" {
				fn(e)
			}
		}
	}
	var seen []string // appended on the hooks' thread, read after FlushEvents
	hooks := vt.NewHooks("app_hooks")
	hooks.SetLogger(log.New(os.Stdout, "log: ", 0)) // where panics of hooks are logged (default: log's)

	hooks.On(vt.HookAll, 10, call(func(e vt.HookEvent) { seen = append(seen, e.EventType) })) // every event, first
	hooks.OnMessage(0, call(func(e vt.HookEvent) { fmt.Println("message", string(e.Data)) }))
	hooks.OnSessionEnd(0, call(func(e vt.HookEvent) { fmt.Println("ended", e.SessionID, e.TimestampUs) }))
	hooks.On("reward.event", 5, func(e vt.HookEvent) { panic("judge offline") }) // recovered, logged, counted
	if err := hooks.Load(); err != nil {
		log.Fatal(err)
	}
	defer hooks.Close()

	const sec = 1_000_000_000
	s, err := vt.NewSession(vt.WithSessionID("call-3"), vt.WithClock(vt.ClockMedia), vt.WithStartTime(1*sec),
		vt.WithTextPolicy(vt.TextInclude))
	if err != nil {
		log.Fatal(err)
	}
	_ = s.RecordMessage(vt.RoleUser, "where is my order", nil, 1*sec)
	_ = s.RecordEventReward("helpfulness", 0.5, "", "", nil, 2*sec)
	_ = s.EndAt(3 * sec)
	if err := vt.FlushEvents(5 * time.Second); err != nil { // every event so far went through the hooks
		log.Fatal(err)
	}
	st, _ := hooks.Stats()
	fmt.Println(seen)
	fmt.Println("errors:", hooks.Errors(), "emitted = delivered:", st.Emitted == st.Delivered)
	// Output:
	// message {"role":"user","step_id":null,"content_type":"text","content":"where is my order","chars":17,"redacted":false,"truncated":false,"metadata":null}
	// log: voicetelemetry hooks "app_hooks": a hook on reward.event panicked: judge offline
	// ended call-3 3000000
	// [session.start message reward.event session.end]
	// errors: 1 emitted = delivered: true
}

// The README's "Hooks" program is the body of Example_hooks, with its output and imports.
func TestReadmeHooksIsExample_hooks(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	hooksOK(t, "read README.md", err)
	src, err := os.ReadFile("hooks_test.go")
	hooksOK(t, "read hooks_test.go", err)
	cut := func(s, from, to string) string {
		t.Helper()
		i := strings.Index(s, from)
		if i < 0 {
			t.Fatalf("no %q", from)
		}
		s = s[i+len(from):]
		j := strings.Index(s, to)
		if j < 0 {
			t.Fatalf("no %q after %q", to, from)
		}
		return s[:j]
	}
	lines := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, strings.Join(strings.Fields(l), " ")) // gofmt aligns comments
			}
		}
		return strings.Join(out, "\n")
	}
	section := cut(string(readme), "\n### Hooks", "\n### ")
	program := cut(section, "```go\n", "\n```")
	body := cut(program, "func main() {\n", "\n}")
	fn := cut(string(src), "func Example_hooks() {\n", "\n}\n")
	if got, want := lines(body), lines(cut(fn+"\n}", "", "// Output:")); got != want {
		t.Errorf("README Hooks program and Example_hooks differ:\nREADME:\n%s\n\nExample:\n%s", got, want)
	}
	for _, l := range strings.Split(strings.TrimSpace(cut(fn+"\n}", "// Output:\n", "\n}")), "\n") {
		if l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "//")); !strings.Contains(section, l) {
			t.Errorf("README Hooks section lacks the output line %q", l)
		}
	}
	for _, imp := range []string{`"fmt"`, `"log"`, `"os"`, `"time"`, `vt "github.com/voicetelemetry/voicetelemetry-go"`} {
		if !strings.Contains(program, imp) {
			t.Errorf("README Hooks program lacks the import %s", imp)
		}
	}
}
