package voicetelemetry

import (
	"testing"
	"time"

	"github.com/voicetelemetry/voicetelemetry-go/internal/cgobaseline"
)

// Run by bench/parts/30-go.sh; the ratios it prints are what matter (absolute ns vary by machine).

// BenchmarkCgoNoop: one cgo call of a no-op C function with vt_record_audio_out's types.
func BenchmarkCgoNoop(b *testing.B) {
	s := mustSession(b)
	h := s.Handle()
	var sink int32
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sink |= cgobaseline.Noop(h, 640, 1)
	}
	if sink != 0 {
		b.Fatal("the no-op returned non-zero")
	}
}

// BenchmarkRecordAudioOut: Session.RecordAudioOut, the per-chunk call (no latency to close).
func BenchmarkRecordAudioOut(b *testing.B) {
	s := mustSession(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.RecordAudioOut(640, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordAudioOutParallel: the same from GOMAXPROCS goroutines on one session.
func BenchmarkRecordAudioOutParallel(b *testing.B) {
	s := mustSession(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.RecordAudioOut(640, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRecordBatch50: 50 audio frames (1 s of 20 ms frames) per RecordBatch; ns/event is the
// cost per frame.
func BenchmarkRecordBatch50(b *testing.B) {
	const n = 50
	s := mustSession(b)
	var batch Batch
	for i := 0; i < n; i++ {
		batch.AudioOut(640, 1)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := s.RecordBatch(batch.Events); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N)/n, "ns/event")
}
