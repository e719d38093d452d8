package voicetelemetry

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestStatusStringsAndSentinels(t *testing.T) {
	cases := []struct {
		code     Status
		sentinel *Error
		value    int32
		text     string
	}{
		{StatusInvalidArgument, ErrInvalidArgument, -1, "invalid argument"},
		{StatusBadHandle, ErrBadHandle, -2, "unknown or ended session handle"},
		{StatusBufferTooSmall, ErrBufferTooSmall, -3, "buffer too small"},
		{StatusLimit, ErrLimit, -4, "limit reached"},
		{StatusOrder, ErrOrder, -5, "call out of order"},
		{StatusInternal, ErrInternal, -6, "internal error"},
		{StatusNotFound, ErrNotFound, -7, "not found"},
		{StatusPlugin, ErrPlugin, -8, "plugin"},
		{StatusPermission, ErrPermission, -9, "permission"},
	}
	all := []*Error{ErrInvalidArgument, ErrBadHandle, ErrBufferTooSmall, ErrLimit, ErrOrder, ErrInternal,
		ErrNotFound, ErrPlugin, ErrPermission}
	for _, c := range cases {
		if int32(c.code) != c.value {
			t.Errorf("%v = %d, want %d", c.code, int32(c.code), c.value)
		}
		if !strings.Contains(c.code.String(), c.text) {
			t.Errorf("Status(%d).String() = %q, want it to contain %q", c.value, c.code.String(), c.text)
		}
		err := error(&Error{Code: c.code, Message: "detail"})
		wrapped := fmt.Errorf("context: %w", err)
		for _, s := range all {
			if got, want := errors.Is(wrapped, s), s == c.sentinel; got != want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", err, s, got, want)
			}
		}
		var e *Error
		if !errors.As(wrapped, &e) || e.Code != c.code || e.Message != "detail" {
			t.Errorf("errors.As: %+v", e)
		}
		if !strings.Contains(err.Error(), "detail") || !strings.HasPrefix(err.Error(), "voicetelemetry: ") {
			t.Errorf("Error() = %q", err.Error())
		}
	}
	if StatusOK.String() != "ok" || Status(-1000).String() != "unknown status" {
		t.Errorf("ok: %q, unknown: %q", StatusOK.String(), Status(-1000).String())
	}
	if ErrLimit.Error() != "voicetelemetry: limit reached" {
		t.Errorf("sentinel text %q", ErrLimit.Error())
	}
	if errors.Is(&Error{Code: -1000}, ErrInternal) || errors.Is(errors.New("x"), ErrInternal) {
		t.Error("an unknown code or a foreign error matches a sentinel")
	}
}

// vt_last_error is per OS thread and goroutines move between threads: every failing call must
// carry its own message, never another goroutine's, however the scheduler interleaves them.
func TestErrorMessagesStayWithTheirCall(t *testing.T) {
	const workers, rounds = 16, 300
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				bad := fmt.Sprintf("bad-name-%d-%d", w, i) // '-' is not allowed in a metric name
				err := CounterAdd(bad, "help", nil, 1)
				var e *Error
				if !errors.As(err, &e) || e.Code != StatusInvalidArgument || !strings.Contains(e.Message, bad) {
					errs <- fmt.Errorf("worker %d round %d: got %v", w, i, err)
					return
				}
				if i%3 == 0 { // interleave a different failure on the same goroutine
					s := &Session{h: uint64(w*1000 + i + 1)}
					if err := s.RecordVADEnd(1); !errors.Is(err, ErrBadHandle) {
						errs <- fmt.Errorf("made-up handle: %v", err)
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
