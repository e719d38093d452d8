package voicetelemetry

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	jsonlSinkPath   = "../build/plugins/jsonl_sink.so" // built by make lib (make plugins)
	jsonlSinkSource = "../examples-c/plugins/jsonl_sink.c"
	scriptedPath    = "../build/tests/plugins/scripted.so" // built for make test-c
	scriptedSource  = "../tests/plugins/scripted.c"
)

// TestMain makes sure the C plugins the tests load exist: make test-go builds the library only, so
// a fresh checkout (or one where only make lib ran) may lack them. They are then built exactly as the
// Makefile's rules do (the C compiler is there: cgo needs it).
func TestMain(m *testing.M) {
	for _, p := range []struct{ path, source, define string }{
		{jsonlSinkPath, jsonlSinkSource, ""},
		{scriptedPath, scriptedSource, "-DSCRIPTED_NAME=\"scripted\""},
	} {
		if err := ensurePlugin(p.path, p.source, p.define); err != nil {
			fmt.Fprintln(os.Stderr, "voicetelemetry tests:", err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

func ensurePlugin(path, source, define string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + fmt.Sprintf(".tmp%d", os.Getpid())
	args := []string{"-std=c99", "-O2", "-fPIC", "-shared", "-fvisibility=hidden", "-I../include", "-o", tmp, source}
	if define != "" {
		args = append(args, define)
	}
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s is missing and building it failed (run make test-c): %v\n%s", path, err, out)
	}
	return os.Rename(tmp, path) // atomic: a concurrent go test sees the whole file or none
}

// loadPlugin loads path with config and unloads it at the end of the test.
func loadPlugin(t *testing.T, path, config string) PluginID {
	t.Helper()
	id, err := LoadPlugin(path, config)
	if err != nil {
		t.Fatalf("LoadPlugin(%s, %s): %v", path, config, err)
	}
	if id == 0 {
		t.Fatal("LoadPlugin returned id 0")
	}
	t.Cleanup(func() {
		if err := UnloadPlugin(id); err != nil && !errors.Is(err, ErrNotFound) {
			t.Errorf("UnloadPlugin(%d): %v", id, err)
		}
	})
	return id
}

// loadJSONL loads the example sink appending to out.
func loadJSONL(t *testing.T, out string) PluginID {
	t.Helper()
	cfg, _ := json.Marshal(map[string]string{"path": out})
	return loadPlugin(t, jsonlSinkPath, string(cfg))
}

// noRateLimit lifts the per-type rate limit for the test and restores the default after it.
func noRateLimit(t *testing.T) {
	mustOK(t, "SetEventRateLimit(0)", SetEventRateLimit(0))
	t.Cleanup(func() { mustOK(t, "SetEventRateLimit", SetEventRateLimit(uint32(DefaultEventRateLimit))) })
}

func mustStats(t *testing.T, id PluginID) PluginStatistics {
	t.Helper()
	st, err := PluginStats(id)
	if err != nil {
		t.Fatalf("PluginStats(%d): %v", id, err)
	}
	return st
}

// checkIdentity: emitted = delivered + dropped (every reason) + queued.
func checkIdentity(t *testing.T, st PluginStatistics) {
	t.Helper()
	if st.Delivered+st.Dropped()+st.Queued != st.Emitted {
		t.Errorf("accounting: delivered %d + dropped %d + queued %d != emitted %d (%+v)",
			st.Delivered, st.Dropped(), st.Queued, st.Emitted, st)
	}
}

func flush(t *testing.T) {
	t.Helper()
	mustOK(t, "FlushEvents", FlushEvents(5*time.Second))
}

func readLinesOf(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	mustOK(t, "read "+path, err)
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("%s does not end in a newline", path)
	}
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

type envelope struct {
	TypeID          string          `json:"type_id"`
	SessionID       *string         `json:"session_id"`
	EventType       string          `json:"event_type"`
	CorrelationID   *string         `json:"correlation_id"`
	TurnID          *string         `json:"turn_id"`
	TimestampUs     uint64          `json:"timestamp_us"`
	TimestampUnixUs uint64          `json:"timestamp_unix_us"`
	Data            json.RawMessage `json:"data"`
}

func parseEnvelope(t *testing.T, line string) envelope {
	t.Helper()
	var e envelope
	dec := json.NewDecoder(strings.NewReader(line))
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("line does not parse: %v\n%s", err, line)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Errorf("more than one JSON value on the line: %s", line)
	}
	if e.TypeID != "core::telemetry/event@1" {
		t.Errorf("type_id %q: %s", e.TypeID, line)
	}
	return e
}

func sessionIDOf(e envelope) string {
	if e.SessionID == nil {
		return ""
	}
	return *e.SessionID
}

// The example sink end to end: our events and the library's core events, exact lines, redaction
// per session policy, too-large and invalid events, and the stats accounting.
func TestPluginJSONLSinkEvents(t *testing.T) {
	noRateLimit(t)
	out := filepath.Join(t.TempDir(), "events.jsonl")
	id := loadJSONL(t, out)

	ids, err := ListPlugins()
	mustOK(t, "ListPlugins", err)
	if len(ids) == 0 || ids[len(ids)-1] != id {
		t.Errorf("ListPlugins = %v, want %d last", ids, id)
	}
	st := mustStats(t, id)
	if st.ID != id || st.Name != "jsonl_sink" || st.Version != "1.0.0" || st.Disabled ||
		st.QueueCapacity != uint32(DefaultPluginQueue) || st.Emitted != 0 || st.LastError != "" {
		t.Errorf("stats after load = %+v", st)
	}

	sid := fmt.Sprintf("go-events-%d", nameSerial.Add(1))
	s := mustSession(t, WithSessionID(sid), WithLabelPairs("transport", "go-events"), WithStartTime(10_000_000_000))
	inc := mustSession(t, WithSessionID(sid+"-inc"), WithTextPolicy(TextInclude), WithMaxTextChars(5),
		WithStartTime(20_000_000_000))
	payload := []byte(`{"text":"héllo world","nested":{"user_transcript":"secret","n":1},"context":"kept","texts":["kept too"]}`)
	mustOK(t, "Session.Emit", s.Emit("stt.result", payload, "corr-1", "turn-1", 1_234_567_890))
	mustOK(t, "Emit included", Emit(inc, "stt.result", payload, "", "", 2_000_000_000))
	mustOK(t, "Emit no session", Emit(nil, "go.ping", nil, "", "", 5000))
	mustOK(t, "RecordInterruption", s.RecordInterruption(11_000_000_000))
	mustOK(t, "RecordUsage", s.RecordUsage(Usage{Total: Tokens(30), Prompt: Tokens(20), Response: Tokens(10)}))

	// Refused: nothing forwarded, nothing counted.
	wantCode(t, "invalid JSON", Emit(nil, "go.bad", []byte(`{"a":01}`), "", "", 0), ErrInvalidArgument, "leading zero")
	wantCode(t, "array payload", Emit(nil, "go.bad", []byte(`[1]`), "", "", 0), ErrInvalidArgument, "")
	wantCode(t, "NUL in payload", Emit(nil, "go.bad", []byte("{\"a\":\"\x00\"}"), "", "", 0), ErrInvalidArgument, "NUL")
	wantCode(t, "bad event type", Emit(nil, "has space", nil, "", "", 0), ErrInvalidArgument, "")
	wantCode(t, "empty event type", Emit(nil, "", nil, "", "", 0), ErrInvalidArgument, "")
	wantCode(t, "long event type", Emit(nil, strings.Repeat("a", MaxEventTypeBytes+1), nil, "", "", 0), ErrInvalidArgument, "")
	wantCode(t, "long correlation id", Emit(nil, "go.bad", nil, strings.Repeat("i", MaxEventIDBytes+1), "", 0), ErrInvalidArgument, "")
	wantCode(t, "turn id not UTF-8", Emit(nil, "go.bad", nil, "", "\xff", 0), ErrInvalidArgument, "")
	// Too large: ErrLimit, counted as dropped "too_large".
	huge := []byte(`{"a":"` + strings.Repeat("x", MaxEventBytes) + `"}`)
	wantCode(t, "too large", Emit(nil, "go.big", huge, "", "", 0), ErrLimit, "")

	snapS, err := s.Snapshot(0)
	mustOK(t, "Snapshot", err)
	snapInc, err := inc.Snapshot(0)
	mustOK(t, "Snapshot included", err)
	mustOK(t, "Close", s.Close())
	mustOK(t, "Close included", inc.Close())
	wantCode(t, "Emit on a closed session", s.Emit("go.late", nil, "", "", 0), ErrBadHandle, "")
	flush(t)

	lines := readLinesOf(t, out)
	st = mustStats(t, id)
	checkIdentity(t, st)
	if st.Queued != 0 || st.DroppedTooLarge != 1 || st.Dropped() != 1 || st.Delivered != uint64(len(lines)) {
		t.Errorf("stats after flush = %+v, %d lines", st, len(lines))
	}

	// An event of no session is on the process's anchor (wall minus monotonic clock, taken once by
	// the library), which the test can only approximate: the line's own value, checked to be
	// within 50 ms of it, goes into the expected line.
	pingUnix := uint64(0)
	for _, line := range lines {
		if e := parseEnvelope(t, line); e.EventType == "go.ping" {
			pingUnix = e.TimestampUnixUs
		}
	}
	if d := int64(pingUnix) - 5 - processAnchorUs(); d > 50_000 || d < -50_000 {
		t.Errorf("go.ping timestamp_unix_us %d is %d us off the process's anchor", pingUnix, d)
	}
	const head = `{"type_id":"core::telemetry/event@1",`
	at := func(snap *Snapshot, tNs uint64) string { // the envelope's two times of an event at tNs
		return fmt.Sprintf(`"timestamp_us":%d,"timestamp_unix_us":%d`, tNs/1000, unixUsOf(snap, tNs))
	}
	started := func(snap *Snapshot, labels, policy string) string {
		return fmt.Sprintf(`"data":{"labels":%s,"text_policy":"%s","clock":"monotonic","start_ns":%d,"start_unix_ns":%d,"trace_id":"%s","parent_span_id":null,"metadata":null}}`,
			labels, policy, snap.StartNs, snap.StartUnixNs, snap.TraceID)
	}
	want := map[string][]string{ // exact lines, per session id ("" = none), in order
		sid: {
			head + `"session_id":"` + sid + `","event_type":"session.start","correlation_id":null,"turn_id":null,` + at(snapS, 10_000_000_000) + `,` + started(snapS, `{"transport":"go-events"}`, "redact"),
			head + `"session_id":"` + sid + `","event_type":"stt.result","correlation_id":"corr-1","turn_id":"turn-1",` + at(snapS, 1_234_567_890) + `,"data":{"text":"[redacted 11 chars]","nested":{"user_transcript":"[redacted 6 chars]","n":1},"context":"kept","texts":["kept too"]}}`,
			head + `"session_id":"` + sid + `","event_type":"interruption","correlation_id":null,"turn_id":null,` + at(snapS, 11_000_000_000) + `,"data":{"interruptions":1}}`,
			"usage", "session.end",
		},
		sid + "-inc": {
			head + `"session_id":"` + sid + `-inc","event_type":"session.start","correlation_id":null,"turn_id":null,` + at(snapInc, 20_000_000_000) + `,` + started(snapInc, `{}`, "include"),
			head + `"session_id":"` + sid + `-inc","event_type":"stt.result","correlation_id":null,"turn_id":null,` + at(snapInc, 2_000_000_000) + `,"data":{"text":"héllo","nested":{"user_transcript":"secre","n":1},"context":"kept","texts":["kept too"]}}`,
			"session.end",
		},
		"": {head + `"session_id":null,"event_type":"go.ping","correlation_id":null,"turn_id":null,"timestamp_us":5,"timestamp_unix_us":` + fmt.Sprint(pingUnix) + `,"data":{}}`},
	}
	got := map[string][]string{}
	for _, line := range lines {
		e := parseEnvelope(t, line)
		key := sessionIDOf(e)
		if _, mine := want[key]; !mine || (key == "" && e.EventType != "go.ping") {
			continue // another test's session ended by its finalizer, say
		}
		if strings.Contains(line, "secret") && key != sid+"-inc" {
			t.Errorf("redacted text leaked: %s", line)
		}
		if strings.HasPrefix(e.EventType, "go.") && e.EventType != "go.ping" {
			t.Errorf("a refused event was forwarded: %s", line)
		}
		switch e.EventType {
		case "usage":
			var d map[string]*int64
			mustOK(t, "usage data", json.Unmarshal(e.Data, &d))
			if *d["total"] != 30 || *d["prompt"] != 20 || *d["response"] != 10 || d["cached"] != nil || d["thoughts"] != nil {
				t.Errorf("usage event: %s", line)
			}
			line = "usage"
		case "session.end":
			var snap Snapshot
			mustOK(t, "session.end data", json.Unmarshal(e.Data, &snap))
			if snap.SchemaVersion != 1 || snap.SessionID != key || (key == sid && snap.Interruptions != 1) {
				t.Errorf("session.end event: %s", line)
			}
			line = "session.end"
		}
		got[key] = append(got[key], line)
	}
	for key, lines := range want {
		if strings.Join(got[key], "\n") != strings.Join(lines, "\n") {
			t.Errorf("events of session %q:\n got: %s\nwant: %s", key, strings.Join(got[key], "\n      "),
				strings.Join(lines, "\n      "))
		}
	}
}

// A completed turn becomes a `turn.complete` event: envelope turn_id is the turn's id, data is the
// turn record (as LastTurnJSON gives it).
func TestPluginTurnCompleteEvent(t *testing.T) {
	noRateLimit(t)
	out := filepath.Join(t.TempDir(), "turns.jsonl")
	loadJSONL(t, out)
	sid := fmt.Sprintf("go-turn-event-%d", nameSerial.Add(1))
	s := mustSession(t, WithSessionID(sid))
	simpleTurn(t, s, 1_000_000_000, 0)
	record, err := s.LastTurnJSON()
	mustOK(t, "LastTurnJSON", err)
	mustOK(t, "Close", s.Close())
	flush(t)
	var types []string
	for _, line := range readLinesOf(t, out) {
		e := parseEnvelope(t, line)
		if sessionIDOf(e) != sid {
			continue
		}
		types = append(types, e.EventType)
		if e.EventType == "turn.complete" {
			if e.TurnID == nil || *e.TurnID != "1" || e.TimestampUs != 1_200_000 {
				t.Errorf("turn.complete envelope: %s", line)
			}
			var a, b any
			mustOK(t, "data", json.Unmarshal(e.Data, &a))
			mustOK(t, "record", json.Unmarshal(record, &b))
			if !reflect.DeepEqual(a, b) {
				t.Errorf("turn.complete data is not the turn record:\n data:   %s\n record: %s", e.Data, record)
			}
		}
	}
	if strings.Join(types, " ") != "session.start turn.complete session.end" {
		t.Errorf("events of a session with one completed turn: %q", types)
	}
}

func TestPluginRateLimit(t *testing.T) {
	noRateLimit(t)
	out := filepath.Join(t.TempDir(), "rate.jsonl")
	id := loadJSONL(t, out)
	mustOK(t, "SetEventRateLimit(5)", SetEventRateLimit(5))
	const sec = uint64(1_000_000_000)
	// Rate windows are process-wide per event type: types of their own for each run (-count=N).
	a, b := fmt.Sprintf("go.rl.a%d", nameSerial.Add(1)), fmt.Sprintf("go.rl.b%d", nameSerial.Add(1))
	for i := uint64(0); i < 12; i++ {
		mustOK(t, "emit", Emit(nil, a, nil, "", "", 100*sec+i))
	}
	for i := 0; i < 3; i++ {
		mustOK(t, "emit", Emit(nil, b, nil, "", "", 100*sec))
	}
	for i := 0; i < 6; i++ {
		mustOK(t, "emit", Emit(nil, a, nil, "", "", 101*sec))
	}
	flush(t)
	st := mustStats(t, id)
	checkIdentity(t, st)
	if st.DroppedRateLimited != 7+1 {
		t.Errorf("rate limited %d, want 8", st.DroppedRateLimited)
	}
	n := map[string]int{}
	for _, line := range readLinesOf(t, out) {
		n[parseEnvelope(t, line).EventType]++
	}
	if n[a] != 10 || n[b] != 3 {
		t.Errorf("delivered per type: %v", n)
	}
	wantCode(t, "rate limit above 1000000", SetEventRateLimit(1_000_001), ErrInvalidArgument, "")
}

// Load refusals, each with its code (errors.Is) and the library's reason. A row's file (if any)
// writes what is at its path first.
func TestPluginLoadErrors(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.jsonl")
	cfg := `{"path":"` + ok + `"}`
	for _, c := range []struct {
		what, path, config string
		file               func(t *testing.T, path string)
		code               *Error
		reason             string
	}{
		{"missing file", filepath.Join(dir, "does_not_exist.so"), cfg, nil, ErrNotFound, "does not exist"},
		{"world-writable copy", filepath.Join(dir, "world_writable.so"), cfg, worldWritableSink, ErrPermission, "world-writable"},
		{"not a shared object", filepath.Join(dir, "not_elf.so"), cfg, textFile, ErrPlugin, "not a loadable shared object"},
		{"a directory", dir, cfg, nil, ErrPlugin, "not a regular file"},
		{"jsonl_sink without path", jsonlSinkPath, "{}", nil, ErrPlugin, `config needs "path"`},
		{"config not JSON", jsonlSinkPath, `{"path":`, nil, ErrInvalidArgument, "not a valid JSON object"},
		{"bad host key", jsonlSinkPath, `{"path":"` + ok + `","queue_capacity":0}`, nil, ErrInvalidArgument, "queue_capacity"},
		{"empty path", "", cfg, nil, ErrInvalidArgument, ""},
		{"NUL in path", "a\x00.so", cfg, nil, ErrInvalidArgument, "NUL"},
	} {
		if c.file != nil {
			c.file(t, c.path)
		}
		id, err := LoadPlugin(c.path, c.config)
		wantCode(t, c.what, err, c.code, c.reason)
		if id != 0 {
			t.Errorf("%s: id %d with the error", c.what, id)
		}
	}
	// A second plugin of the same name.
	loadJSONL(t, ok)
	_, err := LoadPlugin(jsonlSinkPath, `{"path":"`+filepath.Join(dir, "dup.jsonl")+`"}`)
	wantCode(t, "duplicate name", err, ErrPlugin, "already loaded")
}

// A copy of jsonl_sink.so anyone may write to (whatever the umask).
func worldWritableSink(t *testing.T, path string) {
	copyFile(t, jsonlSinkPath, path, 0o666)
	mustOK(t, "chmod", os.Chmod(path, 0o666))
}

func textFile(t *testing.T, path string) {
	mustOK(t, "write", os.WriteFile(path, []byte("not an ELF file\n"), 0o644))
}

// Plugin ids: unknown ones (never given, 0, unloaded) are refused by each call; ids are not reused.
func TestPluginIDErrors(t *testing.T) {
	id := loadJSONL(t, filepath.Join(t.TempDir(), "ids.jsonl"))
	_, err := PluginStats(id + 1000)
	wantCode(t, "PluginStats unknown", err, ErrNotFound, "")
	_, err = PluginStats(0)
	wantCode(t, "PluginStats 0", err, ErrNotFound, "")
	wantCode(t, "UnloadPlugin unknown", UnloadPlugin(id+1000), ErrNotFound, "")
	mustOK(t, "UnloadPlugin(0) is a no-op", UnloadPlugin(0))
	mustOK(t, "UnloadPlugin", UnloadPlugin(id))
	wantCode(t, "UnloadPlugin twice", UnloadPlugin(id), ErrNotFound, "")
	_, err = PluginStats(id)
	wantCode(t, "PluginStats after unload", err, ErrNotFound, "")
	ids, err := ListPlugins()
	mustOK(t, "ListPlugins", err)
	for _, x := range ids {
		if x == id {
			t.Errorf("unloaded plugin %d still listed: %v", id, ids)
		}
	}
	if id2 := loadJSONL(t, filepath.Join(t.TempDir(), "ids2.jsonl")); id2 == id {
		t.Errorf("reload got the same id %d", id)
	}
	wantCode(t, "FlushEvents(-1)", FlushEvents(-time.Millisecond), ErrInvalidArgument, "")
}

func TestPluginDir(t *testing.T) {
	dir := t.TempDir()
	t.Cleanup(func() { mustOK(t, "SetPluginDir(\"\")", SetPluginDir("")) })
	mustOK(t, "SetPluginDir", SetPluginDir(dir))
	out := filepath.Join(dir, "dir.jsonl")
	_, err := LoadPlugin(jsonlSinkPath, `{"path":"`+out+`"}`)
	wantCode(t, "outside the plugin directory", err, ErrPermission, "outside the plugin directory")
	inside := filepath.Join(dir, "inside.so")
	copyFile(t, jsonlSinkPath, inside, 0o644)
	id := loadPlugin(t, inside, `{"path":"`+out+`"}`)
	mustOK(t, "UnloadPlugin", UnloadPlugin(id))
	// ".." does not get around it.
	_, err = LoadPlugin(filepath.Join(dir, "..", filepath.Base(dir), "..", "x.so"), `{"path":"`+out+`"}`)
	if !errors.Is(err, ErrPermission) && !errors.Is(err, ErrNotFound) {
		t.Errorf("a path out of the directory: %v", err)
	}
	wantCode(t, "no such directory", SetPluginDir(filepath.Join(dir, "no_such_dir")), ErrNotFound, "")
	wantCode(t, "NUL in directory", SetPluginDir("a\x00b"), ErrInvalidArgument, "NUL")
	mustOK(t, "SetPluginDir(\"\") allows any directory", SetPluginDir(""))
	loadJSONL(t, out)
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	mustOK(t, "read "+from, err)
	mustOK(t, "write "+to, os.WriteFile(to, data, mode))
}

// Many goroutines emit at once (the race detector watches the binding); afterwards the accounting
// is exact and every delivered event is one whole line.
func TestPluginConcurrentEmit(t *testing.T) {
	noRateLimit(t)
	out := filepath.Join(t.TempDir(), "concurrent.jsonl")
	cfg := `{"path":"` + out + `","queue_capacity":16384}`
	id := loadPlugin(t, jsonlSinkPath, cfg)
	const workers, each = 8, 250
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s, err := NewSession(WithSessionID(fmt.Sprintf("go-conc-%d-%d", nameSerial.Add(1), w)))
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i := 0; i < each; i++ {
				p := []byte(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))
				if err := s.Emit("go.conc", p, "", "", 0); err != nil {
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
	flush(t)
	st := mustStats(t, id)
	checkIdentity(t, st)
	lines := readLinesOf(t, out)
	if st.Queued != 0 || st.Delivered != uint64(len(lines)) {
		t.Errorf("stats %+v, %d lines", st, len(lines))
	}
	seen := map[string]bool{}
	for _, line := range lines {
		if e := parseEnvelope(t, line); e.EventType == "go.conc" {
			seen[string(e.Data)] = true
		}
	}
	if uint64(len(seen))+st.DroppedQueueFull != workers*each {
		t.Errorf("%d distinct go.conc events delivered, %d dropped (queue full), want %d in all",
			len(seen), st.DroppedQueueFull, workers*each)
	}
}

// A plugin held inside write (tests/plugins/scripted.c's gate): the queue fills and drops its
// oldest events, FlushEvents times out with ErrLimit, and the accounting holds while events wait.
func TestPluginQueueFullAndFlushTimeout(t *testing.T) {
	noRateLimit(t)
	dir := t.TempDir()
	out, gate, entered := filepath.Join(dir, "gate.out"), filepath.Join(dir, "gate"), filepath.Join(dir, "entered")
	mustOK(t, "gate", os.WriteFile(gate, nil, 0o644))
	t.Cleanup(func() { _ = os.Remove(gate) }) // never leave the plugin stuck at unload
	cfg, _ := json.Marshal(map[string]any{"out": out, "gate": gate, "entered": entered, "queue_capacity": 16,
		"max_batch_events": 1, "health_interval_ms": 3600000})
	id := loadPlugin(t, scriptedPath, string(cfg))
	if st := mustStats(t, id); st.QueueCapacity != 16 || st.Name != "scripted" {
		t.Fatalf("stats = %+v", st)
	}
	mustOK(t, "emit", Emit(nil, "go.q.first", []byte(`{"i":0}`), "", "", 0))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(entered); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the plugin never entered write")
		}
		time.Sleep(time.Millisecond)
	}
	for i := 1; i <= 100; i++ {
		mustOK(t, "emit", Emit(nil, "go.q.next", []byte(fmt.Sprintf(`{"i":%d}`, i)), "", "", 0))
	}
	st := mustStats(t, id)
	checkIdentity(t, st)
	if st.Emitted != 101 || st.DroppedQueueFull != 100-16 || st.Queued != 17 || st.Delivered != 0 {
		t.Errorf("while held: %+v", st)
	}
	wantCode(t, "FlushEvents while held", FlushEvents(50*time.Millisecond), ErrLimit, "scripted")
	mustOK(t, "open the gate", os.Remove(gate))
	flush(t)
	st = mustStats(t, id)
	checkIdentity(t, st)
	if st.Delivered != 17 || st.Queued != 0 || st.Batches != 17 {
		t.Errorf("after flush: %+v", st)
	}
	data, err := os.ReadFile(out)
	mustOK(t, "read", err)
	if bytes.Contains(data, []byte(`{"i":84}`)) || !bytes.Contains(data, []byte(`{"i":85}`)) ||
		!bytes.Contains(data, []byte(`{"i":100}`)) {
		t.Errorf("the oldest should have been dropped:\n%s", data)
	}
	if !bytes.Contains(data, []byte("seq=2 n=1 dropped_before=84 attempt=1")) {
		t.Errorf("batch 2 should report the 84 drops:\n%.500s", data)
	}
}

// The plugin metrics appear in the Prometheus text.
func TestPluginPromMetrics(t *testing.T) {
	noRateLimit(t)
	out := filepath.Join(t.TempDir(), "prom.jsonl")
	id := loadJSONL(t, out)
	for i := 0; i < 3; i++ {
		mustOK(t, "emit", Emit(nil, "go.prom", nil, "", "", 0))
	}
	flush(t)
	st := mustStats(t, id)
	text, err := PromText()
	mustOK(t, "PromText", err)
	// The counters are per plugin name and survive unload, so compare with this plugin's stats
	// only where they are per instance (queue depth) and check the families exist.
	sc := bufio.NewScanner(strings.NewReader(text))
	found := map[string]bool{}
	for sc.Scan() {
		l := sc.Text()
		for _, fam := range []string{"voicetelemetry_plugin_events_emitted_total{plugin=\"jsonl_sink\"}",
			"voicetelemetry_plugin_events_delivered_total{plugin=\"jsonl_sink\"}",
			"voicetelemetry_plugin_queue_depth{plugin=\"jsonl_sink\"} 0"} {
			if strings.HasPrefix(l, fam) {
				found[fam] = true
			}
		}
	}
	if len(found) != 3 {
		t.Errorf("plugin families in the exposition: %v (stats %+v)", found, st)
	}
}
