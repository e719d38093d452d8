package voicetelemetry

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
)

func TestMetricHandlesWriteWhatTheByNameCallsWrite(t *testing.T) {
	c, g, h := uniqueName(t, "_total"), uniqueName(t, "_level"), uniqueName(t, "_seconds")
	counter, err := NewCounter(c, "Requests.", Labels{"route": "a"})
	mustOK(t, "NewCounter", err)
	gauge, err := NewGauge(g, "Level.", nil)
	mustOK(t, "NewGauge", err)
	hist, err := NewHistogram(h, "Latency.", Labels{"route": "a"})
	mustOK(t, "NewHistogram", err)
	mustOK(t, "Add", counter.Add(1))
	mustOK(t, "Add", counter.Add(2.5))
	mustOK(t, "Add negative (ignored)", counter.Add(-7))
	mustOK(t, "CounterAdd", CounterAdd(c, "", Labels{"route": "a"}, 1)) // by name: the same series
	mustOK(t, "Set", gauge.Set(10))
	mustOK(t, "Add", gauge.Add(-2.5))
	for _, v := range []float64{0.01, 0.2, 0.2, 3} {
		mustOK(t, "Observe", hist.Observe(v))
	}
	text := promMust(t)
	wantLine(t, text, c+`{route="a"} 4.5`)
	wantLine(t, text, g+" 7.5")
	wantLine(t, text, h+`_bucket{le="0.01",route="a"} 1`)
	wantLine(t, text, h+`_bucket{le="0.2",route="a"} 3`)
	wantLine(t, text, h+`_count{route="a"} 4`)
	wantLine(t, text, h+`_sum{route="a"} 3.41`)
	again, err := NewCounter(c, "", Labels{"route": "a"})
	mustOK(t, "NewCounter again", err)
	if again != counter || counter.Handle() == 0 {
		t.Errorf("the same arguments gave handle %#x, then %#x", counter.Handle(), again.Handle())
	}
}

func TestMetricHandlesFromEightGoroutinesGiveExactTotals(t *testing.T) {
	c, h := uniqueName(t, "_total"), uniqueName(t, "_seconds")
	counter, err := NewCounter(c, "Calls.", nil)
	mustOK(t, "NewCounter", err)
	hist, err := NewHistogram(h, "Latency.", nil)
	mustOK(t, "NewHistogram", err)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10000; i++ {
				if err := counter.Add(1); err != nil {
					t.Error(err)
					return
				}
				if err := hist.Observe(float64(i%4) * 0.25); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	text := promMust(t)
	wantLine(t, text, c+" 80000")
	wantLine(t, text, h+"_count 80000")
	wantLine(t, text, h+"_sum 30000")
	wantLine(t, text, h+`_bucket{le="0.25"} 40000`)
}

func TestMetricHandleErrors(t *testing.T) {
	g := uniqueName(t, "_level")
	gauge, err := NewGauge(g, "Level.", nil)
	mustOK(t, "NewGauge", err)
	_, conflict := NewCounter(g, "", nil)
	_, noHelp := NewHistogram(uniqueName(t, "_seconds"), "", nil)
	_, reserved := NewHistogram(uniqueName(t, "_seconds"), "h", Labels{"le": "1"})
	_, suffix := NewCounter(uniqueName(t, "_calls"), "h", nil)
	_, nul := NewCounter("a\x00_total", "h", nil)
	counter, err := NewCounter(uniqueName(t, "_total"), "h", nil)
	mustOK(t, "NewCounter", err)
	hist, err := NewHistogram(uniqueName(t, "_seconds"), "h", nil)
	mustOK(t, "NewHistogram", err)
	invalid := map[string]error{
		"kind conflict": conflict, "missing help": noHelp, "reserved label": reserved, "suffix": suffix,
		"NUL": nul, "NaN": counter.Add(math.NaN()), "Inf": gauge.Set(math.Inf(-1)),
		"negative observation": hist.Observe(-1), "NaN observation": hist.Observe(math.NaN()),
	}
	for what, err := range invalid {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", what, err)
		}
	}
	if err := (Counter{}).Add(1); !errors.Is(err, ErrBadHandle) {
		t.Errorf("the zero Counter: %v, want ErrBadHandle", err)
	}
	if err := (Gauge{h: counter.Handle()}).Set(1); !errors.Is(err, ErrInvalidArgument) ||
		!strings.Contains(err.Error(), "is a counter: vt_metric_set does not apply") {
		t.Errorf("a counter handle set as a gauge: %v", err)
	}
	if err := (Histogram{h: counter.Handle() ^ 1}).Observe(1); !errors.Is(err, ErrBadHandle) {
		t.Errorf("a made-up handle: %v, want ErrBadHandle", err)
	}
}

func TestMetricHandleAtTheSeriesLimitCountsDrops(t *testing.T) {
	name := uniqueName(t, "_total")
	for i := 0; i < MaxSeriesPerFamily; i++ {
		mustOK(t, "CounterAdd", CounterAdd(name, "Many.", Labels{"i": fmt.Sprint(i)}, 1))
	}
	over, err := NewCounter(name, "", Labels{"i": "one too many"})
	if !errors.Is(err, ErrLimit) || over.Handle() == 0 {
		t.Fatalf("NewCounter past the limit: %#x, %v; want the overflow handle and ErrLimit", over.Handle(), err)
	}
	for i := 0; i < 3; i++ {
		if err := over.Add(1); !errors.Is(err, ErrLimit) {
			t.Errorf("Add through the overflow: %v, want ErrLimit", err)
		}
	}
	wantLine(t, promMust(t), fmt.Sprintf(`voicetelemetry_metrics_series_dropped_total{metric="%s"} 3`, name))
}
