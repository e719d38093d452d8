package voicetelemetry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMetricsHandler(t *testing.T) {
	name := uniqueName(t, "_total")
	mustOK(t, "CounterAdd", CounterAdd(name, "Scraped over HTTP.", nil, 3))
	s := mustSession(t)
	mustOK(t, "RecordAudioOut", s.RecordAudioOut(640, 0))

	srv := httptest.NewServer(MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	mustOK(t, "GET", err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	mustOK(t, "read", err)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	text := string(body)
	wantLine(t, text, name+" 3")
	if !strings.Contains(text, "# TYPE voicetelemetry_sessions_active gauge") {
		t.Errorf("no built-in families in the scrape")
	}

	// HEAD: headers only; other methods: 405.
	rec := httptest.NewRecorder()
	MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/metrics", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d body bytes, headers %v", rec.Code, rec.Body.Len(), rec.Header())
	}
	rec = httptest.NewRecorder()
	MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/metrics", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %v", rec.Code, rec.Header())
	}
}
