package voicetelemetry

import (
	"bufio"
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const (
	scenarioFile = "../tests/scenarios/scripted_call.txt"
	expectedFile = "../tests/scenarios/scripted_call.expected"
)

type scenarioCall struct {
	line int
	name string
	args []string
}

// readLines returns the non-blank, non-comment lines of a scenario file with their line numbers.
func readLines(t *testing.T, path string) (lines []string, numbers []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines = append(lines, line)
		numbers = append(numbers, n)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return lines, numbers
}

func parseScenario(t *testing.T) []scenarioCall {
	lines, numbers := readLines(t, scenarioFile)
	calls := make([]scenarioCall, len(lines))
	for i, line := range lines {
		f := strings.Fields(line)
		calls[i] = scenarioCall{line: numbers[i], name: f[0], args: f[1:]}
	}
	return calls
}

func (c scenarioCall) u64(t *testing.T, i int) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(c.args[i], 10, 64)
	if err != nil {
		t.Fatalf("line %d (%s): argument %d: %v", c.line, c.name, i, err)
	}
	return v
}

func (c scenarioCall) i64(t *testing.T, i int) int64 {
	t.Helper()
	v, err := strconv.ParseInt(c.args[i], 10, 64)
	if err != nil {
		t.Fatalf("line %d (%s): argument %d: %v", c.line, c.name, i, err)
	}
	return v
}

func usageArg(v int64) *int64 {
	if v < 0 {
		return nil // the scenario's -1: not reported
	}
	return Tokens(v)
}

// playScenario plays the scripted call through the Go API and returns the snapshot JSON taken by
// its snapshot_at. With batch, the time-stamped events go through RecordBatch (flushed before
// usage and snapshot calls) instead of the single record calls.
func playScenario(t *testing.T, batch bool) []byte {
	t.Helper()
	var (
		s        *Session
		b        Batch
		snapshot []byte
	)
	flush := func() {
		if s != nil && b.Len() > 0 {
			mustOK(t, "RecordBatch", b.Flush(s))
		}
	}
	event := func(c scenarioCall, single func(uint64) error, ev func(uint64) Event) {
		tNs := c.u64(t, 0)
		if batch {
			b.Add(ev(tNs))
			return
		}
		mustOK(t, c.name, single(tNs))
	}
	for _, c := range parseScenario(t) {
		if s == nil && c.name != "config" {
			t.Fatalf("line %d: %s before config", c.line, c.name)
		}
		switch c.name {
		case "config":
			if len(c.args) < 2 {
				t.Fatalf("line %d: config needs an id and a start time", c.line)
			}
			kv := []string{}
			for _, l := range c.args[1 : len(c.args)-1] {
				k, v, ok := strings.Cut(l, "=")
				if !ok {
					t.Fatalf("line %d: label %q is not key=value", c.line, l)
				}
				kv = append(kv, k, v)
			}
			s = mustSession(t, WithSessionID(c.args[0]), WithLabelPairs(kv...),
				WithStartTime(c.u64(t, len(c.args)-1)))
		case "audio_out":
			bytes, tNs := int(c.u64(t, 0)), c.u64(t, 1)
			if batch {
				b.AudioOut(bytes, tNs)
			} else {
				mustOK(t, c.name, s.RecordAudioOut(bytes, tNs))
			}
		case "vad_start":
			event(c, s.RecordVADStart, VADStartEvent)
		case "vad_end":
			event(c, s.RecordVADEnd, VADEndEvent)
		case "text_send":
			event(c, s.RecordTextSend, TextSendEvent)
		case "text_out":
			event(c, s.RecordTextOut, TextOutEvent)
		case "interruption":
			event(c, s.RecordInterruption, InterruptionEvent)
		case "turn_start":
			event(c, s.RecordTurnStart, TurnStartEvent)
		case "turn_complete":
			event(c, s.RecordTurnComplete, TurnCompleteEvent)
		case "usage":
			flush()
			mustOK(t, c.name, s.RecordUsage(Usage{
				Total: usageArg(c.i64(t, 0)), Prompt: usageArg(c.i64(t, 1)), Response: usageArg(c.i64(t, 2)),
				Cached: usageArg(c.i64(t, 3)), Thoughts: usageArg(c.i64(t, 4)),
			}))
		case "snapshot_at":
			flush()
			raw, err := s.SnapshotJSON(c.u64(t, 0))
			mustOK(t, "SnapshotJSON", err)
			snapshot = raw
		default:
			t.Fatalf("line %d: unknown call %q (scenario grew: teach this test the call)", c.line, c.name)
		}
	}
	if snapshot == nil {
		t.Fatal("the scenario takes no snapshot")
	}
	return snapshot
}

// lookup follows a dotted path through parsed JSON.
func lookup(doc any, path string) (any, bool) {
	cur := doc
	for _, key := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func checkExpected(t *testing.T, snapshot []byte) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(snapshot, &doc); err != nil {
		t.Fatalf("snapshot does not parse: %v\n%s", err, snapshot)
	}
	lines, numbers := readLines(t, expectedFile)
	if len(lines) == 0 {
		t.Fatal("no expectations read")
	}
	for i, line := range lines {
		path, text, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("%s:%d: no value", expectedFile, numbers[i])
		}
		var want any
		if err := json.Unmarshal([]byte(strings.TrimSpace(text)), &want); err != nil {
			t.Fatalf("%s:%d: value %q is not JSON: %v", expectedFile, numbers[i], text, err)
		}
		got, found := lookup(doc, path)
		if !found {
			t.Errorf("%s:%d: %s missing from the snapshot", expectedFile, numbers[i], path)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:%d: %s = %v, want %v", expectedFile, numbers[i], path, got, want)
		}
	}
	if t.Failed() {
		t.Logf("snapshot: %s", snapshot)
	}
}

func TestScriptedScenario(t *testing.T) {
	checkExpected(t, playScenario(t, false))
}

func TestScriptedScenarioBatched(t *testing.T) {
	checkExpected(t, playScenario(t, true))
}

// The typed Snapshot agrees with the JSON it was decoded from.
func TestScriptedScenarioTyped(t *testing.T) {
	raw := playScenario(t, false)
	var snap Snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		t.Fatal(err)
	}
	if snap.SessionID != "scripted-1" || snap.Labels["transport"] != "sip" || snap.ResponseCount != 3 ||
		snap.AudioBytesOut != 3840 || snap.ThoughtsTokenCount != nil || *snap.TotalTokenCount != 300 ||
		snap.TurnDurationMs.Count != 2 || *snap.TurnDurationMs.Last != 2500 || snap.TokenTotals.Total != 420 ||
		snap.TurnOpen || snap.VADStarts != 3 || *snap.UptimeSecs != 10 {
		t.Errorf("typed snapshot disagrees: %+v", snap)
	}
}
