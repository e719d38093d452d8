package voicetelemetry

// Header section "Sessions".

/*
#include "vtgo.h"

// packed: session id, n_labels (key, value) pairs, metadata JSON, traceparent; has_* = 0 passes NULL.
static vtgo_result vtgo_create_session(const char *packed, int has_id, size_t n_labels,
                                       uint64_t start_t_ns, uint32_t text_policy,
                                       uint32_t max_text_chars, uint32_t turn_history,
                                       uint32_t clock_kind, int has_metadata, int has_traceparent) {
    vt_session_config cfg;
    vt_label labels[VT_MAX_LABELS];
    vt_session s = 0;
    vt_status st;
    const char *p = packed;
    if (n_labels > VT_MAX_LABELS) return vtgo_fail(VT_E_INVALID_ARG, "too many labels");
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = (uint32_t)sizeof cfg;
    if (has_id) cfg.session_id = p;
    p = vtgo_next(p);
    p = vtgo_unpack_labels(p, n_labels, labels);
    cfg.labels = n_labels > 0 ? labels : NULL;
    cfg.n_labels = n_labels;
    cfg.start_t_ns = start_t_ns;
    cfg.text_policy = text_policy;
    cfg.max_text_chars = max_text_chars;
    cfg.turn_history = turn_history;
    cfg.clock = clock_kind;
    if (has_metadata) cfg.metadata_json = p;
    p = vtgo_next(p);
    if (has_traceparent) cfg.traceparent = p;
    st = vt_create_session(&cfg, &s); // before reading s: argument order is unspecified
    return vtgo_result_of(st, s);
}

static inline vtgo_err *vtgo_end_session(vt_session s) {
    return vtgo_check(vt_end_session(s));
}

static inline vtgo_err *vtgo_end_session_at(vt_session s, uint64_t t_ns) {
    return vtgo_check(vt_end_session_at(s, t_ns));
}

static inline vtgo_err *vtgo_session_now_ns(vt_session s, uint64_t *now) {
    return vtgo_check(vt_session_now_ns(s, now));
}
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Session is one conversation (call, room, connection). All methods are safe for concurrent use.
// Close it when the conversation ends; a garbage-collected Session that was never closed is ended
// by a finalizer, but only as a safety net (it runs late, or not at all before the process exits).
type Session struct {
	h      uint64 // the vt_session handle; never changes (an ended handle gives ErrBadHandle)
	id     string
	closed atomic.Bool
}

// TextPolicy says what happens to texts (transcripts) kept by a session (vt_text_policy).
type TextPolicy uint32

// Values of TextPolicy.
const (
	TextRedact  TextPolicy = C.VT_TEXT_REDACT  // texts are replaced by their length (the default)
	TextInclude TextPolicy = C.VT_TEXT_INCLUDE // texts are kept, truncated to the max text chars
)

// Clock says which clock a session's timestamps are on (vt_clock). Since 1.1.
type Clock uint32

// Values of Clock.
const (
	// ClockMonotonic: CLOCK_MONOTONIC, as NowNs (the default).
	ClockMonotonic Clock = C.VT_CLOCK_MONOTONIC
	// ClockMedia: the engine's own clock (e.g. a media clock), which reads the start time
	// (WithStartTime) when the session is created; "now" (tNs = 0) is that start advanced by the
	// CLOCK_MONOTONIC time since NewSession.
	ClockMedia Clock = C.VT_CLOCK_MEDIA
)

type sessionConfig struct {
	id           *string
	labels       []string // key, value, key, value, ...
	startNs      uint64
	textPolicy   TextPolicy
	maxTextChars uint32
	turnHistory  uint32
	clock        Clock
	metadata     []byte // nil: none
	traceparent  string // "": none
	err          error
}

// Option configures NewSession.
type Option func(*sessionConfig)

// WithSessionID sets the session id (at most MaxSessionIDBytes bytes of UTF-8, not empty).
// Without it the library generates a unique id ("vt-" + 16 hex digits); see Session.ID.
func WithSessionID(id string) Option { return func(c *sessionConfig) { c.id = &id } }

// WithLabels adds session labels (e.g. transport=sip, provider=..., model=...), in key order.
// An empty value means the label is absent. At most MaxLabels labels in all.
func WithLabels(labels map[string]string) Option {
	kv := labelPairs(labels)
	return func(c *sessionConfig) { c.labels = append(c.labels, kv...) }
}

// WithLabelPairs adds session labels given as key, value, key, value, ... in that order.
// An odd number of strings makes NewSession fail with ErrInvalidArgument.
func WithLabelPairs(kv ...string) Option {
	kv = append([]string(nil), kv...)
	return func(c *sessionConfig) {
		if len(kv)%2 != 0 && c.err == nil {
			c.err = invalidf("WithLabelPairs: %d strings: keys and values must come in pairs", len(kv))
			return
		}
		c.labels = append(c.labels, kv...)
	}
}

// WithStartTime sets when the session started, on the clock of the record calls (0 = now).
func WithStartTime(tNs uint64) Option { return func(c *sessionConfig) { c.startNs = tNs } }

// WithTextPolicy sets what happens to texts kept by the session (default TextRedact).
func WithTextPolicy(p TextPolicy) Option { return func(c *sessionConfig) { c.textPolicy = p } }

// WithMaxTextChars sets the longest text kept, in characters (0 = the library default).
func WithMaxTextChars(n uint32) Option { return func(c *sessionConfig) { c.maxTextChars = n } }

// WithTurnHistory sets how many completed turns are kept for reading back (0 = the default).
func WithTurnHistory(n uint32) Option { return func(c *sessionConfig) { c.turnHistory = n } }

// WithClock sets the clock of the session's timestamps (default ClockMonotonic). With ClockMedia
// the session's clock reads WithStartTime's value (0: NowNs) at NewSession. Since 1.1.
func WithClock(clock Clock) Option { return func(c *sessionConfig) { c.clock = clock } }

// WithMetadata describes the session (e.g. the agent's version, the caller's locale) with a JSON
// object, at most MaxMetadataBytes bytes once compact (nil or empty: none). It is sent with the
// session.start event. Since 1.1.
func WithMetadata(metadataJSON []byte) Option {
	metadataJSON = append([]byte(nil), metadataJSON...)
	return func(c *sessionConfig) { c.metadata = metadataJSON }
}

// WithTraceparent joins the caller's trace: a W3C traceparent ("00-<32 hex trace id>-<16 hex span
// id>-<2 hex flags>", lowercase), e.g. the SIP gateway's request. Without it ("") the session gets
// a random trace id. Either way Snapshot.TraceID shows it. Since 1.1.
func WithTraceparent(traceparent string) Option {
	return func(c *sessionConfig) { c.traceparent = traceparent }
}

// NewSession opens a session. Errors: ErrInvalidArgument (bad id, labels or option values -- an
// unknown clock, metadata that is not a JSON object or too long, a malformed traceparent; the
// library's message says which), ErrLimit (MaxSessions sessions are already open).
func NewSession(opts ...Option) (*Session, error) {
	var cfg sessionConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	var p packed
	hasID := C.int(0)
	if cfg.id != nil {
		hasID = 1
		p.str("session id", *cfg.id)
	} else {
		p.str("", "")
	}
	n := p.pairs(cfg.labels)
	p.bytes("metadata", cfg.metadata)
	p.str("traceparent", cfg.traceparent)
	if p.err != nil {
		return nil, p.err
	}
	r := C.vtgo_create_session((*C.char)(unsafe.Pointer(p.ptr())), hasID, C.size_t(n),
		C.uint64_t(cfg.startNs), C.uint32_t(cfg.textPolicy), C.uint32_t(cfg.maxTextChars),
		C.uint32_t(cfg.turnHistory), C.uint32_t(cfg.clock), flag(len(cfg.metadata) > 0),
		flag(cfg.traceparent != ""))
	if r.err != nil {
		return nil, errorOf(r.err)
	}
	s := &Session{h: uint64(r.value)}
	if cfg.id != nil {
		s.id = *cfg.id
	} else if raw, err := s.SnapshotJSON(0); err == nil {
		var head struct {
			SessionID string `json:"session_id"`
		}
		if json.Unmarshal(raw, &head) == nil {
			s.id = head.SessionID
		}
	}
	runtime.SetFinalizer(s, (*Session).finalize)
	return s, nil
}

// ID is the session id: the one given with WithSessionID, or the one the library generated.
func (s *Session) ID() string { return s.id }

// Handle is the raw vt_session handle, for passing to C code that records on the same session.
// It stays valid until Close.
func (s *Session) Handle() uint64 { return s.h }

// Close ends the session now: its counters fold into the process totals and every later call on
// it returns ErrBadHandle. Close is idempotent: calls after the first (and after EndAt) return nil.
func (s *Session) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	runtime.SetFinalizer(s, nil)
	if e := C.vtgo_end_session(C.vt_session(s.h)); e != nil {
		return errorOf(e)
	}
	return nil
}

// EndAt is Close at tNs on the session's clock (0 = now): the time of its session.end event and of
// its final snapshot (uptime, throughput). Like Close it is idempotent. Since 1.1.
func (s *Session) EndAt(tNs uint64) error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	runtime.SetFinalizer(s, nil)
	if e := C.vtgo_end_session_at(C.vt_session(s.h), C.uint64_t(tNs)); e != nil {
		return errorOf(e)
	}
	return nil
}

// NowNs is now on the session's clock (vt_session_now_ns): what tNs = 0 stands for in its calls
// (NowNs() for a monotonic session; for a ClockMedia one, its start advanced by the monotonic time
// since it was created). Errors: ErrBadHandle. Since 1.1.
func (s *Session) NowNs() (uint64, error) {
	var now C.uint64_t
	e := C.vtgo_session_now_ns(C.vt_session(s.h), &now)
	runtime.KeepAlive(s)
	if e != nil {
		return 0, errorOf(e)
	}
	return uint64(now), nil
}

// finalize is the safety net for a Session dropped without Close.
func (s *Session) finalize() {
	if s.closed.CompareAndSwap(false, true) {
		C.vt_end_session(C.vt_session(s.h))
	}
}
