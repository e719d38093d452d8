package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestGatewayServesMetrics(t *testing.T) {
	var out syncBuffer
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"-duration", "2s", "-calls", "3", "-seed", "7"}, &out,
			func(url string) { urls <- url })
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("run ended before serving: %v\n%s", err, out.String())
	case <-time.After(10 * time.Second):
		t.Fatal("run never served /metrics")
	}
	if !strings.Contains(out.String(), url) {
		t.Errorf("the URL %s was not printed: %q", url, out.String())
	}
	time.Sleep(300 * time.Millisecond) // let the calls record a little

	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("scrape: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	text := string(body)
	for _, want := range []string{
		"gateway_calls_active 3",
		`voicetelemetry_sessions_active{transport="sip"} 1`,
		`voicetelemetry_sessions_active{transport="webrtc"} 1`,
		"# TYPE voicetelemetry_response_latency_seconds histogram",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop after -duration")
	}
	for _, id := range []string{"gateway-call-1:", "gateway-call-2:", "gateway-call-3:"} {
		if !strings.Contains(out.String(), id) {
			t.Errorf("no summary of %s in %q", id, out.String())
		}
	}
	t.Logf("output:\n%s", out.String())
}

func TestGatewayBadFlags(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-calls", "0"}, &out, nil); err == nil {
		t.Error("-calls 0 accepted")
	}
	if err := run(context.Background(), []string{"-nope"}, &out, nil); err == nil {
		t.Error("an unknown flag accepted")
	}
}
