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

// interleaved times f and g alternately in chunks of `chunk` calls until b.N calls of each, and
// reports both per-call costs and their ratio: load on a shared machine hits both alike.
func interleaved(b *testing.B, chunk int, f, g func(n int)) (fNs, gNs float64) {
	var tf, tg time.Duration
	for done := 0; done < b.N; done += chunk {
		n := chunk
		if b.N-done < n {
			n = b.N - done
		}
		t0 := time.Now()
		f(n)
		t1 := time.Now()
		g(n)
		tg += time.Since(t1)
		tf += t1.Sub(t0)
	}
	fNs, gNs = float64(tf.Nanoseconds())/float64(b.N), float64(tg.Nanoseconds())/float64(b.N)
	return fNs, gNs
}

// BenchmarkAudioOutVsNoop: RecordAudioOut and the cgo no-op, interleaved every 10000 calls.
func BenchmarkAudioOutVsNoop(b *testing.B) {
	s := mustSession(b)
	h := s.Handle()
	var sink int32
	b.ResetTimer()
	ours, base := interleaved(b, 10000,
		func(n int) {
			for i := 0; i < n; i++ {
				if err := s.RecordAudioOut(640, 1); err != nil {
					b.Fatal(err)
				}
			}
		},
		func(n int) {
			for i := 0; i < n; i++ {
				sink |= cgobaseline.Noop(h, 640, 1)
			}
		})
	if sink != 0 {
		b.Fatal("the no-op returned non-zero")
	}
	b.ReportMetric(ours, "ours-ns")
	b.ReportMetric(base, "base-ns")
	b.ReportMetric(ours/base, "ratio")
}

// BenchmarkBatchVsSingle: per-frame cost of 50-frame RecordBatch calls and of single
// RecordAudioOut calls, interleaved (b.N counts frames).
func BenchmarkBatchVsSingle(b *testing.B) {
	const n = 50
	s := mustSession(b)
	var batch Batch
	for i := 0; i < n; i++ {
		batch.AudioOut(640, 1)
	}
	b.ResetTimer()
	ours, base := interleaved(b, 10000,
		func(frames int) {
			for i := 0; i < frames; i += n {
				if err := s.RecordBatch(batch.Events); err != nil {
					b.Fatal(err)
				}
			}
		},
		func(frames int) {
			for i := 0; i < frames; i++ {
				if err := s.RecordAudioOut(640, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	b.ReportMetric(ours, "ours-ns")
	b.ReportMetric(base, "base-ns")
	b.ReportMetric(ours/base, "ratio")
}

// BenchmarkCounterAddVsNoop: Counter.Add (a metric handle) and the cgo no-op with its types,
// interleaved every 10000 calls.
func BenchmarkCounterAddVsNoop(b *testing.B) {
	c, err := NewCounter("gobench_handle_total", "Bench.", Labels{"transport": "sip"})
	if err != nil {
		b.Fatal(err)
	}
	metricVsNoop(b, c.Handle(), func() error { return c.Add(1) })
}

// BenchmarkObserveVsNoop: Histogram.Observe and the cgo no-op, interleaved every 10000 calls.
func BenchmarkObserveVsNoop(b *testing.B) {
	h, err := NewHistogram("gobench_handle_seconds", "Bench.", Labels{"transport": "sip"})
	if err != nil {
		b.Fatal(err)
	}
	metricVsNoop(b, h.Handle(), func() error { return h.Observe(0.25) })
}

func metricVsNoop(b *testing.B, handle uint64, write func() error) {
	var sink int32
	b.ResetTimer()
	ours, base := interleaved(b, 10000,
		func(n int) {
			for i := 0; i < n; i++ {
				if err := write(); err != nil {
					b.Fatal(err)
				}
			}
		},
		func(n int) {
			for i := 0; i < n; i++ {
				sink |= cgobaseline.NoopMetric(handle, 0.25)
			}
		})
	if sink != 0 {
		b.Fatal("the no-op returned non-zero")
	}
	b.ReportMetric(ours, "ours-ns")
	b.ReportMetric(base, "base-ns")
	b.ReportMetric(ours/base, "ratio")
}
