package voicetelemetry

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

func promMust(t *testing.T) string {
	t.Helper()
	text, err := PromText()
	mustOK(t, "PromText", err)
	return text
}

func wantLine(t *testing.T, text, line string) {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return
		}
	}
	t.Errorf("exposition lacks the line %q", line)
}

func TestCountersAndGauges(t *testing.T) {
	c := uniqueName(t, "_total")
	mustOK(t, "CounterAdd", CounterAdd(c, "A test counter.", Labels{"route": "a"}, 2))
	mustOK(t, "CounterAdd", CounterAdd(c, "", Labels{"route": "a"}, 3.5))
	mustOK(t, "CounterAdd negative (ignored)", CounterAdd(c, "", Labels{"route": "a"}, -10))
	mustOK(t, "CounterAdd absent label", CounterAdd(c, "", Labels{"route": ""}, 1))
	g := uniqueName(t, "_gauge")
	mustOK(t, "GaugeSet", GaugeSet(g, "A test gauge.", nil, 10))
	mustOK(t, "GaugeAdd", GaugeAdd(g, "", nil, -2.5))
	text := promMust(t)
	wantLine(t, text, "# HELP "+c+" A test counter.")
	wantLine(t, text, "# TYPE "+c+" counter")
	wantLine(t, text, c+`{route="a"} 5.5`)
	wantLine(t, text, c+" 1")
	wantLine(t, text, "# TYPE "+g+" gauge")
	wantLine(t, text, g+" 7.5")
}

func TestObserveSetBucketsRegisterLabels(t *testing.T) {
	h := uniqueName(t, "_seconds")
	mustOK(t, "RegisterLabels", RegisterLabels(h, "model"))
	mustOK(t, "SetBuckets", SetBuckets(h, []float64{0.1, 0.5, 1}))
	mustOK(t, "Observe", Observe(h, "A test latency.", Labels{"model": "m", "dropped": "x"}, 0.3))
	mustOK(t, "Observe", Observe(h, "", Labels{"model": "m"}, 2))
	text := promMust(t)
	wantLine(t, text, "# TYPE "+h+" histogram")
	wantLine(t, text, h+`_bucket{le="0.1",model="m"} 0`)
	wantLine(t, text, h+`_bucket{le="0.5",model="m"} 1`)
	wantLine(t, text, h+`_bucket{le="+Inf",model="m"} 2`)
	wantLine(t, text, h+`_count{model="m"} 2`)
	wantLine(t, text, h+`_sum{model="m"} 2.3`)
	wantLine(t, text, "# TYPE "+h+"_quantiles summary")
	wantLine(t, text, fmt.Sprintf(`voicetelemetry_metrics_unknown_label_total{metric="%s"} 1`, h))
	if err := SetBuckets(h, []float64{1, 2}); !errors.Is(err, ErrOrder) {
		t.Errorf("SetBuckets after an observation: %v, want ErrOrder", err)
	}
}

func TestMetricErrors(t *testing.T) {
	counter := uniqueName(t, "_total")
	mustOK(t, "CounterAdd", CounterAdd(counter, "help", nil, 1))
	tooMany := Labels{}
	for i := 0; i <= MaxLabels; i++ {
		tooMany[fmt.Sprintf("k%d", i)] = "v"
	}
	invalid := map[string]error{
		"bad name":               CounterAdd("1bad_total", "h", nil, 1),
		"name with NUL":          CounterAdd("a\x00_total", "h", nil, 1),
		"counter without _total": CounterAdd(uniqueName(t, "_things"), "h", nil, 1),
		"gauge ending in _total": GaugeSet(uniqueName(t, "_total"), "h", nil, 1),
		"missing help":           GaugeSet(uniqueName(t, "_g"), "", nil, 1),
		"NaN":                    CounterAdd(counter, "", nil, math.NaN()),
		"Inf":                    GaugeSet(uniqueName(t, "_g"), "h", nil, math.Inf(1)),
		"type conflict":          GaugeSet(counter, "", nil, 1),
		"bad label key":          CounterAdd(counter, "", Labels{"le": "1"}, 1),
		"label value with NUL":   CounterAdd(counter, "", Labels{"a": "\x00"}, 1),
		"too many labels":        CounterAdd(counter, "", tooMany, 1),
		"negative observation":   Observe(uniqueName(t, "_seconds"), "h", nil, -1),
		"library-owned name":     CounterAdd("voicetelemetry_sessions_total", "", nil, 1),
		"register bad key":       RegisterLabels(uniqueName(t, "_x"), "1bad"),
		"register duplicate key": RegisterLabels(uniqueName(t, "_x"), "a", "a"),
		"register too many keys": RegisterLabels(uniqueName(t, "_x"), strings.Split("a b c d e f g h i j k l m n o p q", " ")...),
		"register bad name":      RegisterLabels("bad name"),
		"buckets empty":          SetBuckets(uniqueName(t, "_seconds"), nil),
		"buckets not increasing": SetBuckets(uniqueName(t, "_seconds"), []float64{1, 1}),
		"buckets infinite":       SetBuckets(uniqueName(t, "_seconds"), []float64{math.Inf(1)}),
		"buckets on a counter":   SetBuckets(counter, []float64{1}),
		"buckets name with NUL":  SetBuckets("x\x00", []float64{1}),
		"help with NUL":          CounterAdd(counter, "h\x00", nil, 1),
		"register name with NUL": RegisterLabels("x\x00_total", "a"),
		"register key with NUL":  RegisterLabels(uniqueName(t, "_x"), "a\x00"),
	}
	for what, err := range invalid {
		var e *Error
		if !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &e) || e.Message == "" {
			t.Errorf("%s: %v, want ErrInvalidArgument with a message", what, err)
		}
	}
}

func TestSeriesLimit(t *testing.T) {
	name := uniqueName(t, "_total")
	for i := 0; i < MaxSeriesPerFamily; i++ {
		mustOK(t, "CounterAdd", CounterAdd(name, "Many series.", Labels{"i": fmt.Sprint(i)}, 1))
	}
	err := CounterAdd(name, "", Labels{"i": "one-too-many"}, 1)
	var e *Error
	if !errors.Is(err, ErrLimit) || !errors.As(err, &e) || e.Message == "" {
		t.Fatalf("series %d: %v, want ErrLimit with a message", MaxSeriesPerFamily+1, err)
	}
	wantLine(t, promMust(t), fmt.Sprintf(`voicetelemetry_metrics_series_dropped_total{metric="%s"} 1`, name))
}

// The library's buffer protocol: too small gives ErrBufferTooSmall and the needed length, which
// then fits; PromText and SnapshotJSON grow on their own.
func TestBufferTooSmall(t *testing.T) {
	n, err := promTextInto(nil)
	if !errors.Is(err, ErrBufferTooSmall) || n <= 0 {
		t.Fatalf("promTextInto(nil) = %d, %v", n, err)
	}
	buf := make([]byte, n+1)
	m, err := promTextInto(buf)
	mustOK(t, "promTextInto", err)
	if m != n {
		t.Errorf("length %d then %d", n, m)
	}
	if _, err := promTextInto(buf[:10]); !errors.Is(err, ErrBufferTooSmall) {
		t.Errorf("10 bytes: %v", err)
	}

	s := mustSession(t, WithSessionID(strings.Repeat("long-id-", 16)))
	n, err = s.snapshotInto(0, make([]byte, 16))
	if !errors.Is(err, ErrBufferTooSmall) || n <= 16 {
		t.Fatalf("snapshotInto(16 bytes) = %d, %v", n, err)
	}
	old := snapshotHint.Load()
	snapshotHint.Store(8) // force the grow path
	raw, err := s.SnapshotJSON(0)
	mustOK(t, "SnapshotJSON", err)
	if len(raw) < n-8 || raw[len(raw)-1] != '}' || snapshotHint.Load() <= 8 {
		t.Errorf("grown snapshot: %d bytes, hint %d", len(raw), snapshotHint.Load())
	}
	snapshotHint.Store(old)

	oldProm := promHint.Load()
	promHint.Store(1)
	text := promMust(t)
	if !strings.Contains(text, "voicetelemetry_sessions_active") {
		t.Errorf("grown exposition lacks the built-ins")
	}
	promHint.Store(oldProm)
}

func TestVersionAndClock(t *testing.T) {
	mustOK(t, "CheckVersion", CheckVersion())
	v := VersionNumber()
	if want := fmt.Sprintf("%d.%d.%d", v/1000000, v/1000%1000, v%1000); Version() != want {
		t.Errorf("Version() = %q, VersionNumber() = %d", Version(), v)
	}
	a := NowNs()
	b := NowNs()
	if a == 0 || b < a {
		t.Errorf("NowNs went %d -> %d", a, b)
	}
}
