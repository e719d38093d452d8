package traces_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	vt "github.com/voicetelemetry/voicetelemetry-go"
	"github.com/voicetelemetry/voicetelemetry-go/traces"
)

// The plugin as make builds it (make test-trace-store builds it first).
const sinkPath = "../../build/plugins/sqlite_sink.so"

const (
	ms  = uint64(1_000_000)
	sec = uint64(1_000_000_000)
)

// writeStore loads the sink on a new file, runs calls, flushes and unloads it.
func writeStore(t *testing.T, calls func(t *testing.T)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trace.db")
	if err := vt.SetEventRateLimit(0); err != nil {
		t.Fatal(err)
	}
	defer vt.SetEventRateLimit(uint32(vt.DefaultEventRateLimit)) //nolint:errcheck
	cfg, _ := json.Marshal(map[string]string{"path": path})
	id, err := vt.LoadPlugin(sinkPath, string(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer vt.UnloadPlugin(id) //nolint:errcheck
	calls(t)
	if err := vt.FlushEvents(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := vt.PluginStats(id)
	if err != nil || st.Delivered != st.Emitted || st.PluginReportedDrops != 0 {
		t.Fatalf("stats %+v, %v", st, err)
	}
	return path
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// userTurn: speech, then STT final, EOU end, LLM first token, TTS first byte and the first audio,
// each parts[i] ms after the one before.
func userTurn(t *testing.T, s *vt.Session, start, end uint64, parts [5]uint64) {
	at := end
	must(t, s.RecordVADStart(start))
	must(t, s.TurnMark(vt.StageSTT, vt.MarkStart, start))
	must(t, s.RecordVADEnd(end))
	must(t, s.TurnMark(vt.StageEOU, vt.MarkStart, end))
	at += parts[0] * ms
	must(t, s.TurnMark(vt.StageSTT, vt.MarkFinal, at))
	at += parts[1] * ms
	must(t, s.TurnMark(vt.StageEOU, vt.MarkEnd, at))
	must(t, s.TurnMark(vt.StageLLM, vt.MarkStart, at))
	at += parts[2] * ms
	must(t, s.TurnMark(vt.StageLLM, vt.MarkFirst, at))
	must(t, s.TurnMark(vt.StageTTS, vt.MarkStart, at))
	at += parts[3] * ms
	must(t, s.TurnMark(vt.StageTTS, vt.MarkFirst, at))
	must(t, s.RecordAudioOut(640, at+parts[4]*ms))
}

func emit(t *testing.T, s *vt.Session, typ string, tNs uint64, payload string) {
	must(t, s.Emit(typ, []byte(payload), "", "", tNs))
}

// seedCall is the seed's flow through the library's trace calls: a session with metadata, three
// turns (the second with a tool call inside an engine step, and a barge-in), messages, an event
// reward, an outcome reward, the end at 10 s, and a grader's outcome reward after the end.
func seedCall(t *testing.T) {
	s, err := vt.NewSession(vt.WithSessionID("seed-go"), vt.WithLabels(map[string]string{"transport": "sip"}),
		vt.WithStartTime(sec), vt.WithTextPolicy(vt.TextInclude),
		vt.WithMetadata([]byte(`{"customer":"c-17","experiment":"A"}`)))
	must(t, err)
	must(t, s.TurnProvider(vt.StageLLM, "openai", "gpt-4o-mini", sec))
	must(t, s.RecordMessage("system", "You are a helpful agent.", nil, 1100*ms)) // before any turn: no step
	userTurn(t, s, 1200*ms, 2000*ms, [5]uint64{100, 150, 200, 80, 20})
	must(t, s.RecordMessage("user", "Where is my order?", nil, 2100*ms))
	must(t, s.RecordEventReward("helpfulness", 0.5, "sparse", "grader-v1", nil, 3000*ms))
	must(t, s.TurnMark(vt.StageAgentSpeech, vt.MarkEnd, 4000*ms))
	userTurn(t, s, 4100*ms, 4500*ms, [5]uint64{120, 100, 300, 90, 10})
	must(t, s.StepStart("lookup", []byte(`{"tool":"lookup_order"}`), 4600*ms))
	must(t, s.TurnToolCall(vt.ToolFunction, "lookup_order", 4650*ms, 4950*ms, true))
	must(t, s.RecordMessage("tool", `{"order":"A-1","eta_days":2}`, nil, 4955*ms))
	must(t, s.StepEnd("lookup", 4960*ms))
	must(t, s.RecordInterruption(6000*ms))
	must(t, s.TurnMark(vt.StageAgentSpeech, vt.MarkEnd, 6040*ms))
	userTurn(t, s, 6100*ms, 7000*ms, [5]uint64{90, 110, 250, 70, 30})
	must(t, s.TurnMark(vt.StageAgentSpeech, vt.MarkEnd, 9000*ms))
	must(t, s.RecordOutcomeReward("resolution", 0.75, 2, []byte(`{"grader":"llm"}`), 9500*ms))
	must(t, s.EndAt(10*sec))
	must(t, vt.RecordOutcomeRewardFor("seed-go", "csat", 4, 1, []byte(`{"grader":"human"}`), 0))
}

func open(t *testing.T, path string) *traces.Store {
	t.Helper()
	store, err := traces.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func v(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func sv(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %#v\n want %#v", what, got, want)
	}
}

func TestGetSessionReturnsTheCall(t *testing.T) {
	store := open(t, writeStore(t, seedCall))
	tr, err := store.GetSession("seed-go")
	must(t, err)
	same(t, "session", []any{tr.SessionID, tr.Labels, string(tr.Metadata), sv(tr.TextPolicy), sv(tr.Clock),
		len(*tr.TraceID), v(tr.StartUs), v(tr.EndUs), *tr.UptimeSecs, v(tr.TurnCount), v(tr.TurnsInterrupted),
		v(tr.Interruptions)},
		[]any{"seed-go", map[string]string{"transport": "sip"}, `{"customer":"c-17","experiment":"A"}`, "include",
			"monotonic", 32, int64(1_000_000), int64(10_000_000), 9.0, int64(3), int64(1), int64(1)})
	var steps []string
	for _, s := range tr.Steps {
		steps = append(steps, fmt.Sprintf("%s|%s|%v|%v|%v", s.StepID, s.Kind, v(s.TurnNumber), v(s.StartUs), v(s.EndUs)))
	}
	same(t, "steps", steps, []string{"turn-1|turn|1|1200000|4000000", "turn-2|turn|2|4100000|6040000",
		"lookup|engine|<nil>|4600000|4960000", "turn-3|turn|3|6100000|9000000"})
	same(t, "lookup metadata", string(tr.Step("lookup").Metadata), `{"tool":"lookup_order"}`)
	var turns []string
	for _, u := range tr.Turns {
		b := u.BreakdownNs
		turns = append(turns, fmt.Sprintf("%d|%s|%v|%v|%v,%v,%v,%v,%v,%v|%s|%d", u.TurnNumber, sv(u.Outcome),
			u.Interrupted, v(u.E2ENs), v(b["stt"]), v(b["eou"]), v(b["llm_ttft"]), v(b["tts_ttfb"]), v(b["realtime"]),
			v(b["remainder"]), sv(u.LLMProvider), len(u.ToolCalls)))
	}
	same(t, "turns", turns, []string{
		"1|completed|false|550000000|100000000,150000000,200000000,80000000,0,20000000|openai|0",
		"2|interrupted|true|620000000|120000000,100000000,300000000,90000000,0,10000000|openai|1",
		"3|completed|false|550000000|90000000,110000000,250000000,70000000,0,30000000|openai|0"})
	c := tr.Turns[1].ToolCalls[0]
	same(t, "tool call", []any{sv(c.Name), sv(c.Kind), *c.OK, c.StepID, v(c.DurationNs)},
		[]any{"lookup_order", "function", true, "turn-2", int64(300_000_000)})
	same(t, "turn-2's step has its turn", tr.Step("turn-2").Turn == tr.Turns[1], true)
	var messages []string
	for _, m := range tr.Messages {
		messages = append(messages, fmt.Sprintf("%s|%v|%s|%s|%d|%d", m.Role, sv(m.StepID), sv(m.ContentType),
			sv(m.Content), v(m.Chars), v(m.TUs)))
	}
	same(t, "messages", messages, []string{"system|<nil>|text|You are a helpful agent.|24|1100000",
		"user|turn-1|text|Where is my order?|18|2100000", `tool|lookup|json|{"order":"A-1","eta_days":2}|28|4955000`})
	w := tr.Step("turn-1").EventRewards[0]
	same(t, "event reward", []any{w.ObjectiveKey, *w.Value, sv(w.RewardType), sv(w.Source), v(w.TUs)},
		[]any{"helpfulness", 0.5, "sparse", "grader-v1", int64(3_000_000)})
	var outcomes []string
	for _, o := range tr.OutcomeRewards {
		outcomes = append(outcomes, fmt.Sprintf("%s|%v|%v|%v|%s", o.ObjectiveKey, *o.TotalReward,
			v(o.AchievementsCount), v(o.TotalSteps), o.Annotation))
	}
	same(t, "outcome rewards", outcomes, []string{`resolution|0.75|2|4|{"grader":"llm"}`,
		`csat|4|1|<nil>|{"grader":"human"}`})
	o := tr.OutcomeRewards[0]
	same(t, "the session's outcome reward, dated", []any{v(o.TUs), v(o.UnixUs)},
		[]any{int64(9_500_000), *tr.StartUnixUs + 9_500_000 - *tr.StartUs})
	same(t, "events", len(tr.Events), 14)
	same(t, "turn-2's events", len(tr.Step("turn-2").Events), 1)
	// the wall clock: the session's anchor plus the session-clock time, exactly
	same(t, "wall-clock span", *tr.EndUnixUs-*tr.StartUnixUs, int64(9_000_000))
	for _, s := range tr.Steps {
		same(t, "wall clock of "+s.StepID, []any{v(s.StartUnixUs), v(s.EndUnixUs)},
			[]any{*tr.StartUnixUs + *s.StartUs - *tr.StartUs, *tr.StartUnixUs + *s.EndUs - *tr.StartUs})
	}
	for _, m := range tr.Messages {
		same(t, "wall clock of a "+m.Role+" message", v(m.UnixUs), *tr.StartUnixUs+*m.TUs-*tr.StartUs)
	}
	missing, err := store.GetSession("nobody")
	same(t, "missing session", []any{missing == nil, err}, []any{true, nil})
}

// The 20-session latency set: e2e ms per session; even sessions on openai, odd on anthropic.
var e2eMs = []uint64{410, 530, 620, 380, 720, 450, 900, 610, 505, 470, 1500, 640, 560, 430, 1210, 700, 515, 690, 580, 850}

func twentySessions(t *testing.T) {
	for i, e2e := range e2eMs {
		transport, provider := "sip", "openai"
		if i >= 15 {
			transport = "webrtc"
		}
		if i%2 == 1 {
			provider = "anthropic"
		}
		// 1 ms apart: equal starts get wall-clock anchors a few ns apart, which can straddle a
		// microsecond either way and make "newest first" flaky
		s, err := vt.NewSession(vt.WithSessionID(fmt.Sprintf("p95-%02d", i)),
			vt.WithLabels(map[string]string{"transport": transport}), vt.WithStartTime(sec+uint64(i)*ms))
		must(t, err)
		must(t, s.TurnProvider(vt.StageLLM, provider, "", sec))
		must(t, s.RecordVADStart(1500*ms))
		must(t, s.RecordVADEnd(2*sec))
		must(t, s.RecordAudioOut(640, 2*sec+e2e*ms))
		must(t, s.Close())
	}
}

// p95 by nearest rank (rank = ceil(0.95 n)) per LLM provider, as docs/trace-schema.md writes it.
const p95ByProvider = `
WITH ranked AS (
  SELECT llm_provider, e2e_ns,
         row_number() OVER (PARTITION BY llm_provider ORDER BY e2e_ns) AS rn,
         count(*) OVER (PARTITION BY llm_provider) AS n
  FROM turns WHERE e2e_ns IS NOT NULL)
SELECT llm_provider, e2e_ns / 1000000 AS p95_ms FROM ranked WHERE rn = (n * 95 + 99) / 100
ORDER BY llm_provider`

func TestP95AcrossTwentySessionsAndDelete(t *testing.T) {
	store := open(t, writeStore(t, twentySessions))
	rows, err := store.Query(p95ByProvider)
	must(t, err)
	same(t, "p95 by provider", rows, []map[string]any{{"llm_provider": "anthropic", "p95_ms": int64(850)},
		{"llm_provider": "openai", "p95_ms": int64(1500)}})
	// all 20 sorted: the 19th (ceil(0.95 * 20)) is 1210 ms
	rows, err = store.Query("WITH r AS (SELECT e2e_ns, row_number() OVER (ORDER BY e2e_ns) AS rn, count(*) OVER () AS n" +
		" FROM turns) SELECT e2e_ns / 1000000 AS p95 FROM r WHERE rn = (n * 95 + 99) / 100")
	must(t, err)
	same(t, "p95 of all", rows, []map[string]any{{"p95": int64(1210)}})

	webrtc, err := store.Sessions(traces.Filter{Labels: map[string]string{"transport": "webrtc"}})
	must(t, err)
	var ids []string
	for _, s := range webrtc {
		ids = append(ids, s.SessionID)
	}
	same(t, "webrtc sessions", ids, []string{"p95-19", "p95-18", "p95-17", "p95-16", "p95-15"})
	_, err = store.Query("UPDATE sessions SET start_unix_us = 1764633600000000 + 60000000 *" +
		" CAST(substr(session_id, 5) AS INTEGER)")
	must(t, err)
	since := time.Date(2025, 12, 2, 0, 5, 0, 0, time.UTC)
	window, err := store.Sessions(traces.Filter{Since: since, Until: since.Add(3 * time.Minute), Limit: 2})
	must(t, err)
	started, _ := window[0].Started()
	same(t, "since/until/limit", []any{len(window), window[0].SessionID, window[1].SessionID, started},
		[]any{2, "p95-07", "p95-06", time.Date(2025, 12, 2, 0, 7, 0, 0, time.UTC)})

	deleted, err := store.DeleteSession("p95-03")
	must(t, err)
	same(t, "deleted", deleted, true)
	var left []string
	for _, table := range []string{"sessions", "steps", "turns", "events", "tool_calls", "messages", "outcome_rewards",
		"event_rewards"} {
		rows, err := store.Query("SELECT count(*) AS n FROM "+table+" WHERE session_id = ?", "p95-03")
		must(t, err)
		left = append(left, fmt.Sprint(rows[0]["n"]))
	}
	same(t, "rows left of p95-03", strings.Join(left, ","), "0,0,0,0,0,0,0,0")
	rows, err = store.Query("SELECT count(*) AS n FROM turns")
	must(t, err)
	same(t, "turns left", rows[0]["n"], int64(19))
	deleted, err = store.DeleteSession("p95-03")
	same(t, "deleted again", []any{deleted, err}, []any{false, nil})
}

// ---- costs ----------------------------------------------------------------------------------

var prices = &vt.PriceTable{Currency: "USD", Prices: []vt.PriceEntry{
	{Stage: "llm", Provider: "openai", Model: "gpt-4o-mini", Input: vt.Price(0.15), CachedInput: vt.Price(0.075),
		Output: vt.Price(0.6)},
	{Stage: "stt", Provider: "deepgram", Model: "nova-3", PerMinute: vt.Price(0.0043)},
	{Stage: "tts", Provider: "cartesia", PerMillionCharacters: vt.Price(65)},
	{Stage: "transport", Provider: "sip", PerMinute: vt.Price(0.004)},
}}

func reportUsage(t *testing.T, s *vt.Session, u vt.TokenUsage, sttSeconds, ttsCharacters float64, tNs uint64) {
	must(t, s.TurnUsage(vt.StageLLM, u, tNs))
	must(t, s.TurnValue(vt.ValueSTTAudioSeconds, sttSeconds, tNs))
	must(t, s.TurnValue(vt.ValueTTSCharacters, ttsCharacters, tNs))
}

// pricedCall: three turns on a sip transport: priced token reports, STT seconds and TTS characters,
// an unpriced TTS provider in turn 2, the table cleared for turn 3, loaded again for the end.
func pricedCall(t *testing.T) {
	must(t, vt.SetPrices(prices))
	t.Cleanup(func() { vt.SetPrices(nil) }) //nolint:errcheck
	s, err := vt.NewSession(vt.WithSessionID("priced-go"), vt.WithLabels(map[string]string{"transport": "sip"}),
		vt.WithStartTime(sec))
	must(t, err)
	must(t, s.TurnProvider(vt.StageSTT, "deepgram", "nova-3", sec))
	must(t, s.TurnProvider(vt.StageLLM, "openai", "gpt-4o-mini", sec))
	must(t, s.TurnProvider(vt.StageTTS, "cartesia", "sonic-2", sec))
	userTurn(t, s, 1200*ms, 2000*ms, [5]uint64{100, 150, 200, 80, 20})
	reportUsage(t, s, vt.TokenUsage{Input: vt.Tokens(1000), CachedInput: vt.Tokens(200), Output: vt.Tokens(120)},
		3.0, 250, 2600*ms)
	must(t, s.TurnMark(vt.StageAgentSpeech, vt.MarkEnd, 4000*ms))
	must(t, s.TurnProvider(vt.StageTTS, "elevenlabs", "flash-v2", 4050*ms))
	userTurn(t, s, 4100*ms, 4500*ms, [5]uint64{120, 100, 300, 90, 10})
	reportUsage(t, s, vt.TokenUsage{Input: vt.Tokens(500), Output: vt.Tokens(40)}, 1.25, 80, 5200*ms)
	must(t, s.TurnMark(vt.StageAgentSpeech, vt.MarkEnd, 6000*ms))
	must(t, vt.SetPrices(nil))
	userTurn(t, s, 6100*ms, 7000*ms, [5]uint64{90, 110, 250, 70, 30})
	reportUsage(t, s, vt.TokenUsage{Input: vt.Tokens(300), Output: vt.Tokens(20)}, 2.0, 100, 7600*ms)
	must(t, s.TurnMark(vt.StageAgentSpeech, vt.MarkEnd, 9000*ms))
	must(t, vt.SetPrices(prices))
	must(t, s.EndAt(10*sec))
}

func costMicros(parts []string, m map[string]*int64) string {
	var out []string
	for _, p := range parts {
		out = append(out, fmt.Sprintf("%s=%v", p, v(m[p])))
	}
	return strings.Join(out, ",")
}

// The amounts, worked out by hand from docs/cost.md (1 µ = 1e-6 USD; each rounded half up from its
// exact sum of 1e-12 units):
// turn 1: llm 800 x 0.15/M + 200 x 0.075/M + 120 x 0.6/M = 120 + 15 + 72 = 207 µ; stt 3 s x 0.0043/60
// = 215 µ; tts cartesia 250 x 65/M = 16250 µ; total 16672 µ.
// turn 2: llm 500 x 0.15/M + 40 x 0.6/M = 99 µ; stt 1.25 s: 89.583333 µ -> 90; tts elevenlabs has no
// entry: unpriced, 0; total 188.583333 -> 189 µ. Turn 3: no table, no cost.
// The session: transport 9 s x 0.004/60 = 600 µ; stt 304.583333 -> 305, llm 306, tts 16250; total
// 17460.583333 -> 17461 µ; 1 unpriced charge.
func TestAPricedCallHasItsCostsInColumnsAndFields(t *testing.T) {
	store := open(t, writeStore(t, pricedCall))
	tr, err := store.GetSession("priced-go")
	must(t, err)
	var turns []string
	for _, u := range tr.Turns {
		turns = append(turns, fmt.Sprintf("%d|%v|%v|%s|%v", u.TurnNumber, sv(u.CostCurrency), v(u.CostTotalMicros),
			costMicros(traces.TurnCostParts, u.CostMicros), v(u.CostUnpricedCharges)))
	}
	same(t, "turn costs", turns, []string{
		"1|USD|16672|stt=215,llm=207,tts=16250,realtime=0|0",
		"2|USD|189|stt=90,llm=99,tts=0,realtime=0|1",
		"3|<nil>|<nil>|stt=<nil>,llm=<nil>,tts=<nil>,realtime=<nil>|<nil>"})
	sessionCost := func(s *traces.SessionInfo) string {
		return fmt.Sprintf("%v|%v|%s|%v", sv(s.CostCurrency), v(s.CostTotalMicros),
			costMicros(traces.SessionCostParts, s.CostMicros), v(s.CostUnpricedCharges))
	}
	const want = "USD|17461|stt=305,llm=306,tts=16250,realtime=0,transport=600|1"
	same(t, "session cost", sessionCost(&tr.SessionInfo), want)
	list, err := store.Sessions(traces.Filter{})
	must(t, err)
	same(t, "listed session cost", sessionCost(list[0]), want)
	// the fields are the columns, and the columns what the record says
	same(t, "turn 1's column", tr.Turns[0].Columns["cost_total_micros"], int64(16672))
	var record struct{ Cost *vt.TurnCost }
	must(t, json.Unmarshal(tr.Turns[1].Record, &record))
	same(t, "turn 2's record", record.Cost, &vt.TurnCost{Currency: "USD", STTMicros: 90, LLMMicros: 99,
		TotalMicros: 189, UnpricedCharges: 1, Unpriced: []string{"tts:elevenlabs/flash-v2"}})
	rows, err := store.Query("SELECT count(*) AS n FROM turns WHERE cost_total_micros IS NOT" +
		" json_extract(record, '$.cost.total_micros')")
	must(t, err)
	same(t, "columns unlike their records", rows[0]["n"], int64(0))
}

// A file the v2 sink wrote (built from its DDL, holding the priced call's records and final snapshot
// as that sink stored them) is refused until the sink has opened it once, then reads back with the
// same costs.
func TestAStoreOfSchema2IsMigratedByTheSinkAndKeepsItsCosts(t *testing.T) {
	priced := writeStore(t, pricedCall)
	old := filepath.Join(t.TempDir(), "v2.db")
	ddl, err := os.ReadFile("../../tests/trace_store/schema_v2.sql")
	must(t, err)
	db, err := sql.Open("sqlite3", old)
	must(t, err)
	db.SetMaxOpenConns(1) // one connection: the ATTACH holds for the statements after it
	for _, q := range []string{string(ddl), fmt.Sprintf("PRAGMA application_id = %d", traces.ApplicationID),
		"PRAGMA user_version = 2", "ATTACH DATABASE '" + priced + "' AS new",
		"INSERT INTO sessions (session_id, labels, start_us, end_us, final_snapshot)" +
			" SELECT session_id, labels, start_us, end_us, final_snapshot FROM new.sessions",
		"INSERT INTO turns (session_id, turn_number, step_id, outcome, llm_provider, record)" +
			" SELECT session_id, turn_number, step_id, outcome, llm_provider, record FROM new.turns",
		"DETACH DATABASE new"} {
		_, err := db.Exec(q)
		must(t, err)
	}
	must(t, db.Close())
	_, err = traces.Open(old)
	same(t, "v2 before the sink", fmt.Sprint(err), fmt.Sprintf("traces: %q has trace schema version 2: load"+
		" sqlite_sink.so on it once to migrate it to 3", old))
	cfg, _ := json.Marshal(map[string]string{"path": old})
	id, err := vt.LoadPlugin(sinkPath, string(cfg))
	must(t, err)
	must(t, vt.UnloadPlugin(id))
	tr, err := open(t, old).GetSession("priced-go")
	must(t, err)
	var turns []string
	for _, u := range tr.Turns {
		turns = append(turns, fmt.Sprintf("%d|%v|%s", u.TurnNumber, v(u.CostTotalMicros),
			costMicros(traces.TurnCostParts, u.CostMicros)))
	}
	same(t, "turn costs", turns, []string{"1|16672|stt=215,llm=207,tts=16250,realtime=0",
		"2|189|stt=90,llm=99,tts=0,realtime=0", "3|<nil>|stt=<nil>,llm=<nil>,tts=<nil>,realtime=<nil>"})
	same(t, "session cost", []any{sv(tr.CostCurrency), v(tr.CostTotalMicros), v(tr.CostMicros["transport"])},
		[]any{"USD", int64(17461), int64(600)})
}

func TestOpenRefusesWhatIsNotATraceStore(t *testing.T) {
	dir := t.TempDir()
	_, err := traces.Open(filepath.Join(dir, "missing.db"))
	same(t, "missing", fmt.Sprint(err), fmt.Sprintf("traces: no trace store at %q", filepath.Join(dir, "missing.db")))
	notes := filepath.Join(dir, "notes.txt")
	must(t, os.WriteFile(notes, []byte(strings.Repeat("just some notes, not a database\n", 8)), 0o644))
	_, err = traces.Open(notes)
	if err == nil || !strings.Contains(err.Error(), "is not an SQLite database") {
		t.Errorf("notes.txt: %v", err)
	}
}
