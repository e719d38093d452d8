// Command gateway is a small voice-gateway simulation on the Go binding: it opens a few sessions
// (calls), plays scripted turns on them with realistic timing (the user speaks, the agent answers
// with 20 ms audio frames recorded in batches, sometimes the user barges in), serves every metric
// of the process on /metrics, and stops by itself after -duration.
//
//	go run ./cmd/gateway -addr 127.0.0.1:9464 -duration 30s
//	curl -s http://127.0.0.1:9464/metrics | grep voicetelemetry_response_latency
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	vt "github.com/voicetelemetry/voicetelemetry-go"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gateway:", err)
		}
		os.Exit(2)
	}
}

const (
	frameBytes    = 640 // 20 ms of 16 kHz 16-bit mono
	frameInterval = 20 * time.Millisecond
	framesPerCall = 5 // one RecordBatch per 100 ms of audio
)

// run is the whole program; ready (if not nil) gets the /metrics URL once it is served.
func run(ctx context.Context, args []string, out io.Writer, ready func(url string)) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:0", "listen address of /metrics (port 0: an ephemeral port)")
	duration := fs.Duration("duration", 5*time.Second, "stop after this long")
	calls := fs.Int("calls", 3, "number of simultaneous calls (sessions)")
	seed := fs.Int64("seed", time.Now().UnixNano(), "seed of the simulated timings")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *calls < 1 {
		return fmt.Errorf("-calls %d: need at least one", *calls)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", vt.MetricsHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String() + "/metrics"
	fmt.Fprintf(out, "voicetelemetry %s: serving %s for %s\n", vt.Version(), url, *duration)

	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()

	transports := []string{"sip", "webrtc", "websocket"}
	sessions := make([]*vt.Session, *calls)
	for i := range sessions {
		s, err := vt.NewSession(
			vt.WithSessionID(fmt.Sprintf("gateway-call-%d", i+1)),
			vt.WithLabels(map[string]string{"transport": transports[i%len(transports)], "provider": "simulated"}),
		)
		if err != nil {
			return err
		}
		defer s.Close()
		sessions[i] = s
	}
	if err := vt.GaugeSet("gateway_calls_active", "Calls the gateway is handling.", nil, float64(*calls)); err != nil {
		return err
	}
	if ready != nil {
		ready(url)
	}

	var wg sync.WaitGroup
	errs := make(chan error, len(sessions))
	for i, s := range sessions {
		wg.Add(1)
		go func(s *vt.Session, transport string, rng *rand.Rand) {
			defer wg.Done()
			if err := simulateCall(ctx, s, transport, rng); err != nil {
				errs <- fmt.Errorf("%s: %w", s.ID(), err)
			}
		}(s, transports[i%len(transports)], rand.New(rand.NewSource(*seed+int64(i))))
	}
	wg.Wait()
	close(errs)

	shutdownCtx, done := context.WithTimeout(context.Background(), 2*time.Second)
	defer done()
	_ = srv.Shutdown(shutdownCtx)
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	for err := range errs {
		return err
	}

	for _, s := range sessions {
		snap, err := s.Snapshot(0)
		if err != nil {
			return err
		}
		avg := "-"
		if snap.AvgResponseLatencyMs != nil {
			avg = fmt.Sprintf("%.0f ms", *snap.AvgResponseLatencyMs)
		}
		fmt.Fprintf(out, "%s: %d turns, %d responses (avg %s), %d interruptions, %d audio chunks\n",
			snap.SessionID, snap.TurnsCompleted, snap.ResponseCount, avg, snap.Interruptions, snap.AudioChunksOut)
		if err := s.Close(); err != nil {
			return err
		}
	}
	return vt.GaugeSet("gateway_calls_active", "", nil, 0)
}

// sleep waits d, or less if ctx ends; it reports whether ctx is still running.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int63n(int64(hi-lo)))
}

// simulateCall plays turns until ctx ends: timestamps are the real clock (vt.NowNs).
func simulateCall(ctx context.Context, s *vt.Session, transport string, rng *rand.Rand) error {
	var batch vt.Batch
	for turn := 1; ; turn++ {
		// The user speaks.
		if err := s.RecordVADStart(vt.NowNs()); err != nil {
			return err
		}
		if !sleep(ctx, between(rng, 400*time.Millisecond, 900*time.Millisecond)) {
			return nil
		}
		end := vt.NowNs()
		if err := firstErr(s.RecordVADEnd(end), s.RecordTurnStart(end)); err != nil {
			return err
		}
		// The model thinks, then the agent speaks in 20 ms frames, recorded 100 ms at a time.
		if !sleep(ctx, between(rng, 250*time.Millisecond, 650*time.Millisecond)) {
			return nil
		}
		frames := int(between(rng, 600*time.Millisecond, 1500*time.Millisecond) / frameInterval)
		bargeIn := rng.Intn(4) == 0
		if bargeIn {
			frames /= 2
		}
		for f := 0; f < frames; f++ {
			batch.AudioOut(frameBytes, vt.NowNs())
			if batch.Len() == framesPerCall || f == frames-1 {
				if err := batch.Flush(s); err != nil {
					return err
				}
			}
			if !sleep(ctx, frameInterval) {
				return batch.Flush(s)
			}
		}
		if bargeIn {
			if err := s.RecordInterruption(vt.NowNs()); err != nil {
				return err
			}
		}
		prompt, response := 60+rng.Int63n(200), 20+rng.Int63n(120)
		err := firstErr(
			s.RecordUsage(vt.Usage{Total: vt.Tokens(prompt + response), Prompt: vt.Tokens(prompt), Response: vt.Tokens(response)}),
			s.RecordTurnComplete(vt.NowNs()),
			vt.CounterAdd("gateway_turns_total", "Turns completed by the gateway.", vt.Labels{"transport": transport}, 1),
		)
		if err != nil {
			return err
		}
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
