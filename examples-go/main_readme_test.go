package voicetelemetry_test

import (
	"fmt"
	"log"
	"os"
	"strings"
	"testing"

	vt "github.com/voicetelemetry/voicetelemetry-go"
)

// Example_mainREADME is the repository README's Go quick start (TestMainReadmeQuickStart keeps the
// two identical), run by go test with its output checked.
func Example_mainREADME() {
	s, err := vt.NewSession(vt.WithSessionID("call-42"), vt.WithLabels(map[string]string{"transport": "sip"}))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	t0 := vt.NowNs()
	_ = s.RecordVADEnd(t0)
	_ = s.RecordAudioOut(640, t0+450_000_000) // 450 ms response latency

	snap, _ := s.Snapshot(0)
	fmt.Println(*snap.LastResponseLatencyMs)
	// Output: 450
}

func TestMainReadmeQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(string(readme), "```go\n", 2)
	if len(parts) != 2 {
		t.Fatal("the main README has no Go block")
	}
	block := strings.SplitN(parts[1], "```", 2)[0]
	source, err := os.ReadFile("main_readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	body := string(source)
	at := 0
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		i := strings.Index(body[at:], strings.TrimSpace(line))
		if i < 0 {
			t.Fatalf("README line %q is not in Example_mainREADME (in order)", line)
		}
		at += i + len(strings.TrimSpace(line))
	}
}
