package voicetelemetry_test

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	vt "github.com/voicetelemetry/voicetelemetry-go"
)

// The README's turn example (TestReadmeTurnAndPluginExamples keeps the two identical).
func Example_turns() {
	s, err := vt.NewSession(vt.WithSessionID("call-7"), vt.WithTextPolicy(vt.TextInclude))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// Stage events of one turn (timestamps in ns: scripted here; live, vt.NowNs() or 0).
	const ms = 1_000_000
	_ = s.TurnProvider(vt.StageLLM, "openai", "gpt-4o", 0)
	_ = s.TurnMark(vt.StageUserSpeech, vt.MarkStart, 1000*ms)
	_ = s.TurnMark(vt.StageUserSpeech, vt.MarkEnd, 2000*ms)
	_ = s.TurnMark(vt.StageSTT, vt.MarkFinal, 2150*ms)
	_ = s.TurnText(vt.TextUserTranscript, "What is the weather?", 2150*ms)
	_ = s.TurnMark(vt.StageLLM, vt.MarkStart, 2150*ms)
	_ = s.TurnMark(vt.StageLLM, vt.MarkFirst, 2450*ms)
	_ = s.TurnMark(vt.StageTTS, vt.MarkStart, 2450*ms)
	_ = s.TurnMark(vt.StageTTS, vt.MarkFirst, 2600*ms)
	_ = s.TurnUsage(vt.StageLLM, vt.TokenUsage{Input: vt.Tokens(100), Output: vt.Tokens(20)}, 2900*ms)
	_ = s.TurnMark(vt.StageAgentSpeech, vt.MarkStart, 2650*ms)
	_ = s.TurnMark(vt.StageAgentSpeech, vt.MarkEnd, 4000*ms) // completes the turn

	turn, err := s.LastTurn() // nil until a turn completed
	if err != nil || turn == nil {
		log.Fatal(err)
	}
	b := turn.E2EBreakdownNs
	fmt.Printf("turn %d %s: e2e %d ms = stt %d + llm %d + tts %d + rest %d\n", turn.TurnID, turn.Outcome,
		*turn.E2ELatencyNs/ms, b.STTNs/ms, b.LLMTTFTNs/ms, b.TTSTTFBNs/ms, b.RemainderNs/ms)
	fmt.Printf("%s/%s, %d tokens in, user said %q\n", *turn.LLM.Provider, *turn.LLM.Model,
		*turn.Tokens.Input, *turn.Texts.UserTranscript.Text)
	// Output:
	// turn 1 completed: e2e 650 ms = stt 150 + llm 300 + tts 150 + rest 50
	// openai/gpt-4o, 100 tokens in, user said "What is the weather?"
}

// The README's plugin example (TestReadmeTurnAndPluginExamples keeps the two identical).
func Example_plugins() {
	dir, err := os.MkdirTemp("", "vt-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "events.jsonl")

	// The example sink appends every event to a JSON Lines file (plugins are process-wide).
	id, err := vt.LoadPlugin("../build/plugins/jsonl_sink.so", `{"path": "`+out+`"}`)
	if err != nil {
		log.Fatal(err)
	}
	defer vt.UnloadPlugin(id)

	s, err := vt.NewSession(vt.WithSessionID("call-8"))
	if err != nil {
		log.Fatal(err)
	}
	// Texts in payloads follow the session's text policy (redacted by default).
	err = s.Emit("llm.response", []byte(`{"model":"gpt-4o","text":"It is sunny."}`), "req-1", "1", 2_000_000_000)
	if err != nil {
		log.Fatal(err)
	}
	snap, _ := s.Snapshot(0) // StartNs, StartUnixNs: the session's start on its clock and on the wall clock
	s.Close()
	if err := vt.FlushEvents(5 * time.Second); err != nil {
		log.Fatal(err)
	}

	data, _ := os.ReadFile(out)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e struct {
			SessionID       string          `json:"session_id"`
			EventType       string          `json:"event_type"`
			TurnID          string          `json:"turn_id"`
			TimestampUs     uint64          `json:"timestamp_us"`      // on the session's clock
			TimestampUnixUs uint64          `json:"timestamp_unix_us"` // the same moment on the wall clock
			Data            json.RawMessage `json:"data"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.SessionID == "call-8" {
			if e.EventType == "llm.response" {
				fmt.Println(e.EventType, e.TurnID, e.TimestampUs, string(e.Data))
				fmt.Println("wall clock = anchor + offset:", e.TimestampUnixUs == (snap.StartUnixNs+2_000_000_000-snap.StartNs)/1000)
			} else {
				fmt.Println(e.EventType) // the library's own events
			}
		}
	}
	st, _ := vt.PluginStats(id)
	fmt.Println("emitted = delivered + dropped + queued:", st.Emitted == st.Delivered+st.Dropped()+st.Queued)
	// Output:
	// session.start
	// llm.response 1 2000000 {"model":"gpt-4o","text":"[redacted 12 chars]"}
	// wall clock = anchor + offset: true
	// session.end
	// emitted = delivered + dropped + queued: true
}

// The README's steps, messages and rewards example (TestReadmeTurnAndPluginExamples keeps the two
// identical).
func Example_traces() {
	dir, err := os.MkdirTemp("", "vt-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "events.jsonl")
	id, err := vt.LoadPlugin("../build/plugins/jsonl_sink.so", `{"path": "`+out+`"}`)
	if err != nil {
		log.Fatal(err)
	}
	defer vt.UnloadPlugin(id)

	// The engine's media clock reads 1 s when the call starts; every timestamp below is on it.
	const ms = 1_000_000
	s, err := vt.NewSession(vt.WithSessionID("call-9"), vt.WithClock(vt.ClockMedia), vt.WithStartTime(1000*ms),
		vt.WithTextPolicy(vt.TextInclude), vt.WithMetadata([]byte(`{"agent":"support-bot","version":3}`)),
		vt.WithTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
	if err != nil {
		log.Fatal(err)
	}
	_ = s.StepStart("lookup", []byte(`{"tool":"orders"}`), 1100*ms)
	_ = s.RecordMessage(vt.RoleTool, `{"order":42,"status":"shipped"}`, nil, 1200*ms) // a JSON object: kept as JSON
	_ = s.StepEnd("lookup", 1300*ms)
	_ = s.RecordMessage(vt.RoleAssistant, "It has shipped.", nil, 1400*ms)
	_ = s.RecordEventReward("helpfulness", 0.5, "sparse", "llm_judge", nil, 1500*ms)
	_ = s.RecordOutcomeReward("resolved", 1, 1, []byte(`{"why":"order found"}`), 0) // 0: now
	snap, _ := s.Snapshot(0)
	fmt.Println("trace", snap.TraceID)
	_ = s.EndAt(60_000 * ms) // the call ended at 60 s on its clock
	// A grader that runs later scores the call by its id (tNs on CLOCK_MONOTONIC, 0 = now).
	_ = vt.RecordEventRewardFor("call-9", "lookup", "accuracy", 1, "human", "", nil, 0)
	if err := vt.FlushEvents(5 * time.Second); err != nil {
		log.Fatal(err)
	}

	data, _ := os.ReadFile(out)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e struct {
			SessionID   string          `json:"session_id"`
			EventType   string          `json:"event_type"`
			TimestampUs uint64          `json:"timestamp_us"`
			Data        json.RawMessage `json:"data"`
		}
		if json.Unmarshal([]byte(line), &e) != nil || e.SessionID != "call-9" {
			continue
		}
		switch e.EventType {
		case "session.start", "session.end":
			fmt.Println(e.EventType, e.TimestampUs)
		case "reward.outcome", "reward.event":
			fmt.Println(e.EventType, string(e.Data))
		default:
			fmt.Println(e.EventType, e.TimestampUs, string(e.Data))
		}
	}
	// Output:
	// trace 0af7651916cd43dd8448eb211c80319c
	// session.start 1000000
	// step.start 1100000 {"step_id":"lookup","turn_number":null,"metadata":{"tool":"orders"}}
	// message 1200000 {"role":"tool","step_id":"lookup","content_type":"json","content":{"order":42,"status":"shipped"},"chars":31,"redacted":false,"truncated":false,"metadata":null}
	// step.end 1300000 {"step_id":"lookup"}
	// message 1400000 {"role":"assistant","step_id":null,"content_type":"text","content":"It has shipped.","chars":15,"redacted":false,"truncated":false,"metadata":null}
	// reward.event {"objective_key":"helpfulness","value":0.5,"reward_type":"sparse","source":"llm_judge","step_id":null,"annotation":null}
	// reward.outcome {"objective_key":"resolved","total_reward":1,"achievements_count":1,"total_steps":1,"annotation":{"why":"order found"}}
	// session.end 60000000
	// reward.event {"objective_key":"accuracy","value":1,"reward_type":"human","source":null,"step_id":"lookup","annotation":null}
}
