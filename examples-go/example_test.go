package voicetelemetry_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"

	vt "github.com/voicetelemetry/voicetelemetry-go"
)

// The README's quick start (TestReadmeQuickStartIsTheExample keeps the two identical).
func Example() {
	// One session per call. Timestamps are CLOCK_MONOTONIC ns (vt.NowNs(), or 0 for "now");
	// scripted ones, as here, give exact numbers.
	s, err := vt.NewSession(
		vt.WithSessionID("call-42"),
		vt.WithLabels(map[string]string{"transport": "sip", "provider": "acme"}),
		vt.WithStartTime(1_000_000_000),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// The user speaks from 1.5 s to 2.0 s; the agent's first audio goes out at 2.45 s.
	_ = s.RecordVADStart(1_500_000_000)
	_ = s.RecordVADEnd(2_000_000_000)
	_ = s.RecordTurnStart(2_000_000_000)

	// Per-frame audio: collect 20 ms frames and record them in one cgo call.
	var b vt.Batch
	for i := uint64(0); i < 50; i++ {
		b.AudioOut(640, 2_450_000_000+i*20_000_000)
	}
	if err := b.Flush(s); err != nil {
		log.Fatal(err)
	}
	_ = s.RecordUsage(vt.Usage{Total: vt.Tokens(120), Prompt: vt.Tokens(80), Response: vt.Tokens(40)})
	_ = s.RecordTurnComplete(3_500_000_000)

	snap, err := s.Snapshot(4_000_000_000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("response latency %.0f ms, turn %.0f ms, %d chunks, %d bytes, %.0f tokens\n",
		*snap.LastResponseLatencyMs, *snap.TurnDurationMs.Last, snap.AudioChunksOut,
		snap.AudioBytesOut, *snap.TotalTokenCount)

	// Your own metrics live in the same registry as the built-in ones.
	_ = vt.CounterAdd("quickstart_calls_total", "Calls handled.", vt.Labels{"route": "support"}, 1)

	// Serve every metric of the process to Prometheus.
	mux := http.NewServeMux()
	mux.Handle("/metrics", vt.MetricsHandler())
	// log.Fatal(http.ListenAndServe("127.0.0.1:9464", mux))

	// Errors carry the library's status and message; compare them with errors.Is.
	s.Close()
	err = s.RecordAudioOut(640, 0)
	fmt.Println("recording after Close is ErrBadHandle:", errors.Is(err, vt.ErrBadHandle))
	// Output:
	// response latency 450 ms, turn 1500 ms, 50 chunks, 32000 bytes, 120 tokens
	// recording after Close is ErrBadHandle: true
}
