package voicetelemetry

// Header section "Process metrics and Prometheus exposition".
//
// The registry is process-wide: metrics written here appear in PromText / MetricsHandler next to
// the library's built-in voicetelemetry_* families. Names and label keys follow Prometheus;
// counters end in _total; help is required on a family's first use ("" afterwards keeps it).

/*
#include "vtgo.h"

enum { VTGO_COUNTER_ADD = 1, VTGO_GAUGE_SET = 2, VTGO_GAUGE_ADD = 3, VTGO_OBSERVE = 4 };

// packed: name, help (ignored unless has_help), then n_labels (key, value) pairs.
static vtgo_result vtgo_metric(int op, const char *packed, int has_help, size_t n_labels,
                               double v) {
    vt_label labels[VT_MAX_LABELS];
    const char *name = packed;
    const char *help = NULL;
    const char *p = vtgo_next(name);
    const vt_label *lp;
    vt_status st;
    if (n_labels > VT_MAX_LABELS) return vtgo_fail(VT_E_INVALID_ARG, "too many labels");
    if (has_help) help = p;
    p = vtgo_next(p);
    vtgo_unpack_labels(p, n_labels, labels);
    lp = n_labels > 0 ? labels : NULL;
    switch (op) {
    case VTGO_COUNTER_ADD: st = vt_counter_add(name, help, lp, n_labels, v); break;
    case VTGO_GAUGE_SET: st = vt_gauge_set(name, help, lp, n_labels, v); break;
    case VTGO_GAUGE_ADD: st = vt_gauge_add(name, help, lp, n_labels, v); break;
    case VTGO_OBSERVE: st = vt_observe(name, help, lp, n_labels, v); break;
    default: return vtgo_fail(VT_E_INTERNAL, "vtgo_metric: unknown operation");
    }
    return vtgo_result_of(st, 0);
}

// packed as for vtgo_metric. The handle comes back also with VT_E_LIMIT (the family's overflow).
static vtgo_result vtgo_metric_get(uint32_t kind, const char *packed, int has_help, size_t n_labels) {
    vt_label labels[VT_MAX_LABELS];
    const char *name = packed;
    const char *help = NULL;
    const char *p = vtgo_next(name);
    vt_metric m = 0;
    vt_status st;
    if (n_labels > VT_MAX_LABELS) return vtgo_fail(VT_E_INVALID_ARG, "too many labels");
    if (has_help) help = p;
    p = vtgo_next(p);
    vtgo_unpack_labels(p, n_labels, labels);
    st = vt_metric_get(kind, name, help, n_labels > 0 ? labels : NULL, n_labels, &m);
    return vtgo_result_of(st, m);
}

static inline vtgo_err *vtgo_metric_add(vt_metric m, double v) { return vtgo_check(vt_metric_add(m, v)); }
static inline vtgo_err *vtgo_metric_set(vt_metric m, double v) { return vtgo_check(vt_metric_set(m, v)); }
static inline vtgo_err *vtgo_metric_observe(vt_metric m, double v) { return vtgo_check(vt_metric_observe(m, v)); }

// packed: name, then n_keys keys.
static vtgo_result vtgo_register_labels(const char *packed, size_t n_keys) {
    const char *keys[VT_MAX_LABELS];
    const char *name = packed;
    const char *p = vtgo_next(name);
    size_t i;
    if (n_keys > VT_MAX_LABELS) return vtgo_fail(VT_E_INVALID_ARG, "too many keys");
    for (i = 0; i < n_keys; i++) {
        keys[i] = p;
        p = vtgo_next(p);
    }
    return vtgo_result_of(vt_register_labels(name, n_keys > 0 ? keys : NULL, n_keys), 0);
}

static inline vtgo_result vtgo_set_buckets(const char *name, const double *bounds, size_t n) {
    return vtgo_result_of(vt_set_buckets(name, bounds, n), 0);
}

static inline vtgo_result vtgo_prom_text(char *buf, size_t cap) {
    size_t len = 0;
    vt_status st = vt_prom_text(buf, cap, &len);
    return vtgo_result_of(st, (uint64_t)len);
}
*/
import "C"

import (
	"errors"
	"math"
	"sync/atomic"
	"unsafe"
)

// Labels are the labels of one metric call: key -> value. An empty value means the label is
// absent. Keys not registered for the metric (RegisterLabels) are dropped and counted.
type Labels map[string]string

func metricCall(op C.int, name, help string, labels Labels, v float64) error {
	var p packed
	p.str("metric name", name)
	p.str("help", help)
	n := p.pairs(labelPairs(labels))
	if p.err != nil {
		return p.err
	}
	hasHelp := C.int(0)
	if help != "" {
		hasHelp = 1
	}
	r := C.vtgo_metric(op, (*C.char)(unsafe.Pointer(p.ptr())), hasHelp, C.size_t(n), C.double(v))
	if r.err != nil {
		return errorOf(r.err)
	}
	return nil
}

// CounterAdd adds v to a counter series (created at 0 on first use). v < 0 is ignored (counters
// only go up); NaN or infinite v is ErrInvalidArgument. ErrLimit: the series or family limit is
// reached (the value is dropped and counted).
func CounterAdd(name, help string, labels Labels, v float64) error {
	return metricCall(C.VTGO_COUNTER_ADD, name, help, labels, v)
}

// GaugeSet sets a gauge series to v (any finite value).
func GaugeSet(name, help string, labels Labels, v float64) error {
	return metricCall(C.VTGO_GAUGE_SET, name, help, labels, v)
}

// GaugeAdd adds v (may be negative) to a gauge series.
func GaugeAdd(name, help string, labels Labels, v float64) error {
	return metricCall(C.VTGO_GAUGE_ADD, name, help, labels, v)
}

// Observe records one sample of a latency-style family (a histogram plus a <name>_quantiles
// summary). v must be finite and >= 0, in base units (seconds, bytes).
func Observe(name, help string, labels Labels, v float64) error {
	return metricCall(C.VTGO_OBSERVE, name, help, labels, v)
}

// Metric handles: NewCounter, NewGauge and NewHistogram resolve one series once (vt_metric_get,
// which checks name, help and labels and creates family and series as CounterAdd would); their
// Add, Set and Observe are then one cgo call each into a lock-free, allocation-free write.

// Counter is one counter series (VT_METRIC_COUNTER). The zero Counter is no series: its writes
// return ErrBadHandle.
type Counter struct{ h uint64 }

// Gauge is one gauge series (VT_METRIC_GAUGE).
type Gauge struct{ h uint64 }

// Histogram is one latency series (VT_METRIC_HISTOGRAM): a histogram and its <name>_quantiles
// summary, as Observe writes them.
type Histogram struct{ h uint64 }

// metricGet is vt_metric_get. At the family's series limit it returns the overflow handle together
// with ErrLimit: writes through that handle are counted as dropped and return ErrLimit.
func metricGet(kind C.uint32_t, name, help string, labels Labels) (uint64, error) {
	var p packed
	p.str("metric name", name)
	p.str("help", help)
	n := p.pairs(labelPairs(labels))
	if p.err != nil {
		return 0, p.err
	}
	hasHelp := C.int(0)
	if help != "" {
		hasHelp = 1
	}
	r := C.vtgo_metric_get(kind, (*C.char)(unsafe.Pointer(p.ptr())), hasHelp, C.size_t(n))
	if r.err != nil {
		return uint64(r.value), errorOf(r.err)
	}
	return uint64(r.value), nil
}

// NewCounter resolves the counter series name{labels} (the name ends in _total; help is required
// on the family's first use, "" afterwards). Label keys not registered for the metric are dropped
// and counted once, here. At the series limit it returns a usable Counter with an error matching
// ErrLimit: every Add through it is dropped, counted and returns ErrLimit.
func NewCounter(name, help string, labels Labels) (Counter, error) {
	h, err := metricGet(C.VT_METRIC_COUNTER, name, help, labels)
	return Counter{h}, err
}

// NewGauge resolves the gauge series name{labels}, as NewCounter does.
func NewGauge(name, help string, labels Labels) (Gauge, error) {
	h, err := metricGet(C.VT_METRIC_GAUGE, name, help, labels)
	return Gauge{h}, err
}

// NewHistogram resolves the latency series name{labels}, as NewCounter does.
func NewHistogram(name, help string, labels Labels) (Histogram, error) {
	h, err := metricGet(C.VT_METRIC_HISTOGRAM, name, help, labels)
	return Histogram{h}, err
}

// Add adds v to the counter; v < 0 is ignored (counters only go up), NaN or infinite v is
// ErrInvalidArgument.
func (c Counter) Add(v float64) error { return done(C.vtgo_metric_add(C.vt_metric(c.h), C.double(v))) }

// Handle is the vt_metric handle.
func (c Counter) Handle() uint64 { return c.h }

// Set sets the gauge to v (any finite value).
func (g Gauge) Set(v float64) error { return done(C.vtgo_metric_set(C.vt_metric(g.h), C.double(v))) }

// Add adds v (may be negative) to the gauge.
func (g Gauge) Add(v float64) error { return done(C.vtgo_metric_add(C.vt_metric(g.h), C.double(v))) }

// Handle is the vt_metric handle.
func (g Gauge) Handle() uint64 { return g.h }

// Observe records one sample: finite, >= 0, in base units (seconds, bytes).
func (h Histogram) Observe(v float64) error {
	return done(C.vtgo_metric_observe(C.vt_metric(h.h), C.double(v)))
}

// Handle is the vt_metric handle.
func (h Histogram) Handle() uint64 { return h.h }

// RegisterLabels declares the label keys a metric accepts (calling again replaces them). For the
// built-in voicetelemetry_* session metrics the keys choose which session labels label their
// series (default: transport), for sessions created afterwards.
func RegisterLabels(name string, keys ...string) error {
	if len(keys) > MaxLabels {
		return invalidf("%d keys: at most %d are allowed", len(keys), MaxLabels)
	}
	var p packed
	p.str("metric name", name)
	for _, k := range keys {
		p.str("label key", k)
	}
	if p.err != nil {
		return p.err
	}
	r := C.vtgo_register_labels((*C.char)(unsafe.Pointer(p.ptr())), C.size_t(len(keys)))
	if r.err != nil {
		return errorOf(r.err)
	}
	return nil
}

// SetBuckets chooses the histogram bucket upper bounds of a latency family: finite, strictly
// increasing, 1 to MaxBuckets of them (+Inf is implicit). Call it before the family's first
// observation (built-ins: before the first session); afterwards it is ErrOrder.
func SetBuckets(name string, upperBounds []float64) error {
	var p packed
	p.str("metric name", name)
	if p.err != nil {
		return p.err
	}
	var b *C.double
	if len(upperBounds) > 0 {
		b = (*C.double)(unsafe.Pointer(&upperBounds[0]))
	}
	r := C.vtgo_set_buckets((*C.char)(unsafe.Pointer(p.ptr())), b, C.size_t(len(upperBounds)))
	if r.err != nil {
		return errorOf(r.err)
	}
	return nil
}

// promHint is the buffer size the next exposition starts with (the largest seen so far).
var promHint atomic.Int64

func init() { promHint.Store(16 << 10) }

// PromText returns every metric of the process in the Prometheus text exposition format 0.0.4.
func PromText() (string, error) {
	b, err := promText()
	return string(b), err
}

func promText() ([]byte, error) {
	size := int(promHint.Load())
	for {
		buf := make([]byte, size)
		n, err := promTextInto(buf)
		if err == nil {
			return buf[:n:n], nil
		}
		if !errors.Is(err, ErrBufferTooSmall) {
			return nil, err
		}
		size = n + 1 + n/8
		if size < 0 || size > math.MaxInt32 {
			return nil, &Error{Code: StatusInternal, Message: "Prometheus text larger than 2 GiB"}
		}
		growHint(&promHint, size)
	}
}

// promTextInto is vt_prom_text into buf: the length without the NUL, ErrBufferTooSmall (with the
// needed length) when it does not fit.
func promTextInto(buf []byte) (int, error) {
	var p *C.char
	if len(buf) > 0 {
		p = (*C.char)(unsafe.Pointer(&buf[0]))
	}
	r := C.vtgo_prom_text(p, C.size_t(len(buf)))
	if r.err != nil {
		return int(r.value), errorOf(r.err)
	}
	return int(r.value), nil
}
