package voicetelemetry

import (
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

var nameSerial atomic.Int64

var notNameChar = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// uniqueName is a metric name no other test uses: the registry is process-global. suffix is e.g.
// "_total" for a counter or "_seconds" for a histogram.
func uniqueName(t testing.TB, suffix string) string {
	base := strings.ToLower(notNameChar.ReplaceAllString(t.Name(), "_"))
	return fmt.Sprintf("gotest_%s_%d%s", base, nameSerial.Add(1), suffix)
}

// mustSession opens a session closed at the end of the test.
func mustSession(t testing.TB, opts ...Option) *Session {
	t.Helper()
	s, err := NewSession(opts...)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// mustOK fails the test on an error.
func mustOK(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
