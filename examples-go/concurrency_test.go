package voicetelemetry

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// promValue reads one sample of the exposition (series = name{labels} exactly as printed).
func promValue(t *testing.T, series string) float64 {
	t.Helper()
	for _, l := range strings.Split(promMust(t), "\n") {
		if strings.HasPrefix(l, series+" ") {
			v, err := strconv.ParseFloat(l[len(series)+1:], 64)
			mustOK(t, "parse "+l, err)
			return v
		}
	}
	t.Fatalf("no sample %s", series)
	return 0
}

func TestConcurrentRecordingExactTotals(t *testing.T) {
	transport := strings.ReplaceAll(uniqueName(t, ""), "_", "-")
	shared := mustSession(t, WithLabels(map[string]string{"transport": transport}))
	const workers, perWorker, chunk = 8, 2000, 640
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readerErr atomic.Value
	// Readers: snapshots and scrapes while the writers record.
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := shared.Snapshot(0); err != nil {
					readerErr.Store(err)
				}
				if _, err := PromText(); err != nil {
					readerErr.Store(err)
				}
			}
		}()
	}
	own := make([]*Session, workers)
	var writers sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := 0; w < workers; w++ {
		own[w] = mustSession(t, WithLabels(map[string]string{"transport": transport}))
		writers.Add(1)
		go func(w int) {
			defer writers.Done()
			var b Batch
			for i := 0; i < perWorker; i++ {
				if w%2 == 0 {
					if err := shared.RecordAudioOut(chunk, uint64(i+1)); err != nil {
						errs <- err
						return
					}
				} else {
					b.AudioOut(chunk, uint64(i+1))
					if b.Len() == 50 {
						if err := b.Flush(shared); err != nil {
							errs <- err
							return
						}
					}
				}
				if err := own[w].RecordAudioOut(1, uint64(i+1)); err != nil {
					errs <- err
					return
				}
			}
			if err := b.Flush(shared); err != nil {
				errs <- err
			}
		}(w)
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err, _ := readerErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	snap, err := shared.Snapshot(0)
	mustOK(t, "Snapshot", err)
	if snap.AudioChunksOut != workers*perWorker || snap.AudioBytesOut != workers*perWorker*chunk {
		t.Errorf("shared session: %d chunks, %d bytes; want %d, %d", snap.AudioChunksOut, snap.AudioBytesOut,
			workers*perWorker, workers*perWorker*chunk)
	}
	for w, s := range own {
		snap, err := s.Snapshot(0)
		mustOK(t, "Snapshot", err)
		if snap.AudioChunksOut != perWorker || snap.AudioBytesOut != perWorker {
			t.Errorf("worker %d: %d chunks", w, snap.AudioChunksOut)
		}
	}
	// The process counters (live sessions included) are exact too.
	series := fmt.Sprintf(`voicetelemetry_audio_out_chunks_total{transport="%s"}`, transport)
	if got, want := promValue(t, series), float64(2*workers*perWorker); got != want {
		t.Errorf("%s = %v, want %v", series, got, want)
	}
}

// Record calls racing Close: each is either counted (in the process totals) or ErrBadHandle.
func TestRecordRacingClose(t *testing.T) {
	transport := strings.ReplaceAll(uniqueName(t, ""), "_", "-")
	s, err := NewSession(WithLabels(map[string]string{"transport": transport}))
	mustOK(t, "NewSession", err)
	const workers = 4
	var counted atomic.Int64
	var wg sync.WaitGroup
	started := make(chan struct{}, workers)
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			for {
				err := s.RecordAudioOut(10, 1)
				if err == nil {
					counted.Add(1)
					continue
				}
				if !errors.Is(err, ErrBadHandle) {
					errs <- err
				}
				return
			}
		}()
	}
	for w := 0; w < workers; w++ {
		<-started
	}
	for counted.Load() < 1000 { // let them record a while
		runtime.Gosched()
	}
	closers := sync.WaitGroup{}
	for c := 0; c < 3; c++ { // concurrent Close calls: exactly one ends it, all return nil
		closers.Add(1)
		go func() {
			defer closers.Done()
			if err := s.Close(); err != nil {
				errs <- err
			}
		}()
	}
	closers.Wait()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// The header's contract for a record racing the end: VT_OK means the chunk and its bytes were
	// counted; ErrBadHandle means the bytes were not (the chunk, a separate atomic, may have been).
	// Each worker stops at its first ErrBadHandle, so at most `workers` chunks are counted without
	// their bytes.
	bytes := fmt.Sprintf(`voicetelemetry_audio_out_bytes_total{transport="%s"}`, transport)
	if got := promValue(t, bytes); got != float64(10*counted.Load()) {
		t.Errorf("%s = %v, but %d calls of 10 bytes succeeded", bytes, got, counted.Load())
	}
	chunks := fmt.Sprintf(`voicetelemetry_audio_out_chunks_total{transport="%s"}`, transport)
	if got := promValue(t, chunks); got < float64(counted.Load()) || got > float64(counted.Load()+workers) {
		t.Errorf("%s = %v, but %d calls succeeded (at most %d more may count their chunk only)",
			chunks, got, counted.Load(), workers)
	}
}

func TestManySessionsFromGoroutines(t *testing.T) {
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				s, err := NewSession(WithSessionID(fmt.Sprintf("g%d-%d", w, i)), WithStartTime(1))
				if err != nil {
					errs <- err
					return
				}
				err = firstError(s.RecordVADEnd(1_000_000), s.RecordAudioOut(100, 3_000_000))
				snap, serr := s.Snapshot(0)
				if err == nil && serr == nil && (snap.SessionID != fmt.Sprintf("g%d-%d", w, i) || *snap.LastResponseLatencyMs != 2) {
					err = fmt.Errorf("snapshot %s", snap.Raw)
				}
				if err = firstError(err, serr, s.Close()); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
