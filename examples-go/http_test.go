package voicetelemetry

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
)

const (
	traceA  = "0af7651916cd43dd8448eb211c80319c"
	traceB  = "4bf92f3577b34da6a3ce929d0e0e4736"
	e2eName = "voicetelemetry_turn_e2e_latency_seconds"
	// What Prometheus 2.42 sends when it scrapes.
	prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;" +
		"version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)

// The default bucket bounds (README "Prometheus metrics"), as the exposition prints them.
var defaultBounds = strings.Fields("0.005 0.01 0.025 0.05 0.075 0.1 0.15 0.2 0.25 0.3 0.4 0.5 0.6 0.75 1 " +
	"1.25 1.5 2 2.5 3 4 5 7.5 10 +Inf")

// playTurn records one turn: the user speaks 1 s from startNs, the agent's first audio comes e2eNs
// after the end of speech and plays 500 ms. Returns the turn's end (agent speech end).
func playTurn(t *testing.T, s *Session, startNs, e2eNs uint64) uint64 {
	t.Helper()
	end := startNs + sec + e2eNs + 500*msec
	for _, m := range []struct {
		stage Stage
		mark  Mark
		at    uint64
	}{{StageUserSpeech, MarkStart, startNs}, {StageUserSpeech, MarkEnd, startNs + sec},
		{StageAgentSpeech, MarkStart, startNs + sec + e2eNs}, {StageAgentSpeech, MarkEnd, end}} {
		mustOK(t, "TurnMark", s.TurnMark(m.stage, m.mark, m.at))
	}
	return end
}

// scripted is the Python suite's scenario: two sessions of their own transport label, A's turns of
// 750 ms (on the 0.75 bound: buckets are upper-inclusive) and 1.2 s, then B's of 700 ms (the newer
// turn in the 0.75 bucket, so its exemplar there). Both start at t0 = now; the turns come after.
type scripted struct {
	transport string
	t0        uint64
	a, b      *Session
	endA2     uint64
	endB1     uint64
}

func newScripted(t *testing.T) *scripted {
	sc := &scripted{transport: uniqueName(t, ""), t0: NowNs()}
	open := func(suffix, trace string) *Session {
		return mustSession(t, WithSessionID(sc.transport+suffix), WithStartTime(sc.t0),
			WithLabels(map[string]string{"transport": sc.transport}),
			WithTraceparent("00-"+trace+"-b7ad6b7169203331-01"))
	}
	sc.a, sc.b = open("-a", traceA), open("-b", traceB)
	playTurn(t, sc.a, sc.t0+sec, 750*msec)
	sc.endA2 = playTurn(t, sc.a, sc.t0+10*sec, 1200*msec)
	sc.endB1 = playTurn(t, sc.b, sc.t0+2*sec, 700*msec)
	return sc
}

// wallMs is the exemplar time of session-clock time tNs: seconds since the epoch with the
// milliseconds (truncated).
func wallMs(t *testing.T, s *Session, tNs uint64) string {
	snap, err := s.Snapshot(0)
	mustOK(t, "Snapshot", err)
	unix := snap.StartUnixNs + tNs - snap.StartNs
	return fmt.Sprintf("%d.%03d", unix/sec, unix/msec%1000)
}

func seriesLines(text, sample, transport string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, sample+"{") && strings.Contains(l, `transport="`+transport+`"`) {
			out = append(out, l)
		}
	}
	return out
}

func TestPromTextAsPrometheusIsPromText(t *testing.T) {
	newScripted(t)
	a, err := PromTextAs(FormatPrometheus)
	mustOK(t, "PromTextAs", err)
	b, err := PromText()
	mustOK(t, "PromText", err)
	if a != b {
		t.Errorf("PromTextAs(FormatPrometheus) differs from PromText (%d vs %d bytes)", len(a), len(b))
	}
	if _, err := PromTextAs(2); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("format 2: %v, want ErrInvalidArgument", err)
	}
	if FormatPrometheus.ContentType() != PromContentType || FormatOpenMetrics.ContentType() != OpenMetricsContentType {
		t.Errorf("content types %q %q", FormatPrometheus.ContentType(), FormatOpenMetrics.ContentType())
	}
}

func TestOpenMetricsExemplarsNameTheScriptedTurns(t *testing.T) {
	sc := newScripted(t)
	text, err := PromTextAs(FormatOpenMetrics)
	mustOK(t, "PromTextAs", err)
	exemplars := map[string]string{
		"0.75": fmt.Sprintf(` # {session_id="%s-b",turn_id="1",trace_id="%s"} 0.7 %s`, sc.transport, traceB,
			wallMs(t, sc.b, sc.endB1)),
		"1.25": fmt.Sprintf(` # {session_id="%s-a",turn_id="2",trace_id="%s"} 1.2 %s`, sc.transport, traceA,
			wallMs(t, sc.a, sc.endA2)),
	}
	var want []string
	for i, le := range defaultBounds {
		n := 3
		if i < 13 {
			n = 0
		} else if i < 15 {
			n = 2
		}
		want = append(want, fmt.Sprintf(`%s_bucket{le="%s",transport="%s"} %d%s`, e2eName, le, sc.transport, n, exemplars[le]))
	}
	want = append(want, fmt.Sprintf(`%s_sum{transport="%s"} 2.65`, e2eName, sc.transport),
		fmt.Sprintf(`%s_count{transport="%s"} 3`, e2eName, sc.transport))
	var got []string
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		got = append(got, seriesLines(text, e2eName+suffix, sc.transport)...)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the scripted series:\n got %q\nwant %q", got, want)
	}
	for _, part := range []string{"# TYPE " + e2eName + " histogram\n# UNIT " + e2eName + " seconds\n",
		"# TYPE voicetelemetry_turn_outcomes counter\n",
		fmt.Sprintf("voicetelemetry_turn_outcomes_total{outcome=\"completed\",transport=\"%s\"} 3\n", sc.transport)} {
		if !strings.Contains(text, part) {
			t.Errorf("OpenMetrics text lacks %q", part)
		}
	}
	if !strings.HasSuffix(text, "\n# EOF\n") {
		t.Errorf("OpenMetrics text does not end with # EOF")
	}
}

// The negotiation cases shared with the Python tests (and the rules of http_exporter.so).
type negotiationCases struct {
	Format [][2]*string     `json:"format"`
	Gzip   [][2]interface{} `json:"gzip"`
}

func loadNegotiationCases(t *testing.T) negotiationCases {
	raw, err := os.ReadFile("../tests/http/negotiation_cases.json")
	mustOK(t, "read the cases", err)
	var c negotiationCases
	mustOK(t, "parse the cases", json.Unmarshal(raw, &c))
	if len(c.Format) < 20 || len(c.Gzip) < 10 {
		t.Fatalf("too few cases: %d, %d", len(c.Format), len(c.Gzip))
	}
	return c
}

func TestNegotiationCases(t *testing.T) {
	c := loadNegotiationCases(t)
	names := map[ExpositionFormat]string{FormatPrometheus: "prometheus", FormatOpenMetrics: "openmetrics"}
	for _, fc := range c.Format {
		accept := ""
		if fc[0] != nil {
			accept = *fc[0]
		}
		if got := names[NegotiateFormat(accept)]; got != *fc[1] {
			t.Errorf("Accept %q: %s, want %s", accept, got, *fc[1])
		}
	}
	for _, gc := range c.Gzip {
		header, _ := gc[0].(string)
		if got := AcceptsGzip(header); got != gc[1].(bool) {
			t.Errorf("Accept-Encoding %q: %v, want %v", header, got, gc[1])
		}
	}
}

// serve runs one request through MetricsHandler.
func serve(method string, headers map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/metrics", nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	MetricsHandler().ServeHTTP(rec, req)
	return rec
}

func TestMetricsHandlerOpenMetricsWithGzip(t *testing.T) {
	sc := newScripted(t)
	rec := serve(http.MethodGet, map[string]string{"Accept": prometheusAccept, "Accept-Encoding": "gzip"})
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	mustOK(t, "gzip", err)
	body, err := io.ReadAll(zr)
	mustOK(t, "gunzip", err)
	want, err := PromTextAs(FormatOpenMetrics)
	mustOK(t, "PromTextAs", err)
	if rec.Code != http.StatusOK || string(body) != want {
		t.Errorf("status %d; the gunzipped body (%d bytes) is not PromTextAs(FormatOpenMetrics) (%d bytes)",
			rec.Code, len(body), len(want))
	}
	wantHeaders := http.Header{"Content-Type": {OpenMetricsContentType}, "Content-Encoding": {"gzip"},
		"Content-Length": {fmt.Sprint(rec.Body.Len())}, "Vary": {"Accept-Encoding, Accept"},
		"Cache-Control": {"no-store"}, "X-Content-Type-Options": {"nosniff"}}
	if !reflect.DeepEqual(rec.Header(), wantHeaders) {
		t.Errorf("headers %v, want %v", rec.Header(), wantHeaders)
	}
	if !strings.Contains(string(body), `session_id="`+sc.transport+`-b",turn_id="1"`) {
		t.Errorf("no exemplar of the scripted turn")
	}
}

func TestMetricsHandlerTextHeadAnd405(t *testing.T) {
	newScripted(t)
	get := serve(http.MethodGet, nil)
	want, err := PromText()
	mustOK(t, "PromText", err)
	if get.Code != http.StatusOK || get.Body.String() != want || get.Header().Get("Content-Type") != PromContentType {
		t.Errorf("GET: %d %q, body equal to PromText: %v", get.Code, get.Header().Get("Content-Type"), get.Body.String() == want)
	}
	head := serve(http.MethodHead, nil)
	if head.Code != http.StatusOK || head.Body.Len() != 0 || !reflect.DeepEqual(head.Header(), get.Header()) {
		t.Errorf("HEAD: %d, %d body bytes, headers %v (GET's: %v)", head.Code, head.Body.Len(), head.Header(), get.Header())
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, "BREW"} {
		rec := serve(m, nil)
		wantHeaders := http.Header{"Allow": {"GET, HEAD"}, "Content-Type": {"application/json"},
			"Content-Length": {"40"}, "X-Content-Type-Options": {"nosniff"}}
		if rec.Code != http.StatusMethodNotAllowed || rec.Body.String() != `{"error":"only GET and HEAD are served"}` ||
			!reflect.DeepEqual(rec.Header(), wantHeaders) {
			t.Errorf("%s: %d %q %v", m, rec.Code, rec.Body.String(), rec.Header())
		}
	}
}

// Over a real connection, as Prometheus scrapes: net/http's client asks for gzip itself and
// unpacks it transparently; asked explicitly, the body stays compressed.
func TestMetricsHandlerOverHTTP(t *testing.T) {
	name := uniqueName(t, "_total")
	mustOK(t, "CounterAdd", CounterAdd(name, "Scraped over HTTP.", nil, 3))
	srv := httptest.NewServer(MetricsHandler())
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	mustOK(t, "NewRequest", err)
	req.Header.Set("Accept", prometheusAccept)
	resp, err := http.DefaultClient.Do(req)
	mustOK(t, "GET", err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	mustOK(t, "read", err)
	if resp.StatusCode != http.StatusOK || !resp.Uncompressed || resp.Header.Get("Content-Type") != OpenMetricsContentType {
		t.Fatalf("status %d, uncompressed by the client %v, %q", resp.StatusCode, resp.Uncompressed,
			resp.Header.Get("Content-Type"))
	}
	wantLine(t, string(body), name+" 3")
	wantLine(t, string(body), "# TYPE "+strings.TrimSuffix(name, "_total")+" counter")
}
