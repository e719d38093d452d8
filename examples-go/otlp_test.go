package voicetelemetry

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// otlpSinkPath is the OTLP exporter plugin (make otlp-sink, or make lib). See docs/otlp.md.
const otlpSinkPath = "../build/plugins/otlp_sink.so"

type otlpSpan struct {
	TraceID           string `json:"traceId"`
	SpanID            string `json:"spanId"`
	ParentSpanID      string `json:"parentSpanId"`
	Name              string `json:"name"`
	StartTimeUnixNano string `json:"startTimeUnixNano"`
	EndTimeUnixNano   string `json:"endTimeUnixNano"`
}

type otlpTraces struct {
	ResourceSpans []struct {
		ScopeSpans []struct {
			Spans []otlpSpan `json:"spans"`
		} `json:"scopeSpans"`
	} `json:"resourceSpans"`
}

// otlpReceiver: a loopback OTLP/HTTP (JSON) receiver keeping the spans it is sent.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []otlpSpan
	errs  []string
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || req.Header.Get("Content-Type") != "application/json" {
		r.errs = append(r.errs, fmt.Sprintf("%s: %v %q", req.URL.Path, err, req.Header.Get("Content-Type")))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if req.URL.Path == "/v1/traces" {
		var t otlpTraces
		if err := json.Unmarshal(body, &t); err != nil {
			r.errs = append(r.errs, err.Error())
		}
		for _, rs := range t.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				r.spans = append(r.spans, ss.Spans...)
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}"))
}

// TestOTLPSinkTrace loads otlp_sink.so, plays one turn on a scripted clock and checks the trace the
// receiver got: one trace, the session root, the turn below it, the stages below the turn, times on
// the session's clock shifted by one anchor.
func TestOTLPSinkTrace(t *testing.T) {
	if _, err := os.Stat(otlpSinkPath); err != nil {
		t.Skipf("%s not built (make otlp-sink)", otlpSinkPath)
	}
	t.Setenv("NO_PROXY", "127.0.0.1") // libcurl in the plugin: the receiver is on loopback
	t.Setenv("no_proxy", "127.0.0.1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rcv := &otlpReceiver{}
	srv := &http.Server{Handler: rcv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	cfg := fmt.Sprintf(`{"endpoint":"http://%s","protocol":"http/json","compression":"none","metrics":false}`, ln.Addr())
	id := loadPlugin(t, otlpSinkPath, cfg)
	const ms = uint64(1_000_000)
	s, err := NewSession(WithSessionID("go-otlp-1"), WithStartTime(1000*ms), WithLabelPairs("transport", "go"))
	if err != nil {
		t.Fatal(err)
	}
	steps := []error{
		s.TurnProvider(StageLLM, "openai", "gpt-4o", 1000*ms),
		s.TurnMark(StageUserSpeech, MarkStart, 1000*ms),
		s.TurnMark(StageUserSpeech, MarkEnd, 2000*ms),
		s.TurnMark(StageLLM, MarkStart, 2000*ms),
		s.TurnMark(StageLLM, MarkFirst, 2300*ms),
		s.TurnMark(StageLLM, MarkEnd, 2700*ms),
		s.TurnMark(StageAgentSpeech, MarkStart, 2500*ms),
		s.TurnMark(StageAgentSpeech, MarkEnd, 4000*ms),
		s.Close(),
		FlushEvents(10 * time.Second),
		UnloadPlugin(id),
	}
	for i, e := range steps {
		if e != nil {
			t.Fatalf("step %d: %v", i, e)
		}
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.errs) > 0 {
		t.Fatalf("receiver: %v", rcv.errs)
	}
	byName := map[string]otlpSpan{}
	for _, sp := range rcv.spans {
		byName[sp.Name] = sp
		if sp.TraceID != rcv.spans[0].TraceID {
			t.Errorf("span %s is in another trace", sp.Name)
		}
	}
	var names []string
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	want := []string{"agent_speech", "chat gpt-4o", "invoke_agent", "time_to_first_token", "user_speech", "voice_session"}
	if fmt.Sprint(names) != fmt.Sprint(want) || len(rcv.spans) != len(want) {
		t.Fatalf("spans %v, want %v", names, want)
	}
	parents := map[string]string{"invoke_agent": "voice_session", "user_speech": "invoke_agent",
		"chat gpt-4o": "invoke_agent", "agent_speech": "invoke_agent", "time_to_first_token": "chat gpt-4o"}
	for child, parent := range parents {
		if byName[child].ParentSpanID != byName[parent].SpanID {
			t.Errorf("%s: parent %s, want %s's %s", child, byName[child].ParentSpanID, parent, byName[parent].SpanID)
		}
	}
	if byName["voice_session"].ParentSpanID != "" {
		t.Errorf("the session span has a parent")
	}
	ns := func(v string) uint64 { n, _ := strconv.ParseUint(v, 10, 64); return n }
	anchor := ns(byName["voice_session"].StartTimeUnixNano) - 1000*ms
	times := map[string][2]uint64{"invoke_agent": {1000 * ms, 4000 * ms}, "user_speech": {1000 * ms, 2000 * ms},
		"chat gpt-4o": {2000 * ms, 2700 * ms}, "time_to_first_token": {2000 * ms, 2300 * ms},
		"agent_speech": {2500 * ms, 4000 * ms}}
	for name, w := range times {
		sp := byName[name]
		if got := [2]uint64{ns(sp.StartTimeUnixNano) - anchor, ns(sp.EndTimeUnixNano) - anchor}; got != w {
			t.Errorf("%s: %v, want %v", name, got, w)
		}
	}
}
