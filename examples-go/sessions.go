package voicetelemetry

// Header section "Sessions": the process's open sessions (vt_sessions_json, vt_session_find).

/*
#include "vtgo.h"

static inline vtgo_result vtgo_sessions_json(char *buf, size_t cap) {
    size_t len = 0;
    vt_status st = vt_sessions_json(buf, cap, &len);
    return vtgo_result_of(st, (uint64_t)len);
}

// packed: the session id.
static inline vtgo_result vtgo_session_find(const char *packed) {
    vt_session s = 0;
    vt_status st = vt_session_find(packed, &s);
    return vtgo_result_of(st, s);
}
*/
import "C"

import (
	"encoding/json"
	"errors"
	"math"
	"sync/atomic"
	"unsafe"
)

// SessionSummary is one open session as Sessions lists it. Since 1.2.
type SessionSummary struct {
	SessionID   string            `json:"session_id"`
	Labels      map[string]string `json:"labels"`
	StartUnixNs uint64            `json:"start_unix_ns"` // the session's start, ns since the Unix epoch
	UptimeNs    uint64            `json:"uptime_ns"`     // now on the session's clock minus its start
	// Turns of the turn collector (Snapshot.Turns), by outcome.
	TurnsCompleted   uint64 `json:"turns_completed"`
	TurnsInterrupted uint64 `json:"turns_interrupted"`
	// LastE2ENs is the latest completed turn's end-to-end latency; nil until there is one.
	LastE2ENs *int64 `json:"last_e2e_ns"`
	TraceID   string `json:"trace_id"` // 32 hex digits
}

var sessionsHint atomic.Int64

func init() { sessionsHint.Store(4096) }

// SessionsJSON returns the open sessions as the library's JSON array, oldest first ([] when none):
// see SessionSummary. Each element is one session's state at one moment. Since 1.2.
func SessionsJSON() ([]byte, error) {
	return textCall(&sessionsHint, "sessions JSON", func(p *C.char, cap int) C.vtgo_result {
		return C.vtgo_sessions_json(p, C.size_t(cap))
	})
}

// Sessions returns the open sessions, oldest first (SessionsJSON decoded). Since 1.2.
func Sessions() ([]SessionSummary, error) {
	raw, err := SessionsJSON()
	if err != nil {
		return nil, err
	}
	var out []SessionSummary
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, &Error{Code: StatusInternal, Message: "sessions JSON does not parse: " + err.Error()}
	}
	return out, nil
}

// FindSession returns the open session whose id is id (the newest, if several open sessions share
// it). Errors: ErrNotFound (no open session has that id), ErrInvalidArgument (an empty, over-long or
// non-UTF-8 id). Since 1.2.
//
// The Session it returns borrows the session: it has no finalizer, so dropping it never ends the
// session (the Session NewSession returned owns it). Its methods record and read like the owner's;
// its Close ends the session for every holder, as vt_end_session on the handle would -- leave that
// to the owner. Once the owner ends it, its calls return ErrBadHandle (handles are never reused).
func FindSession(id string) (*Session, error) {
	var p packed
	p.str("session id", id)
	if p.err != nil {
		return nil, p.err
	}
	r := C.vtgo_session_find((*C.char)(unsafe.Pointer(p.ptr())))
	if r.err != nil {
		return nil, errorOf(r.err)
	}
	return &Session{h: uint64(r.value), id: id}, nil
}

// textCall runs the BUFFERS protocol of a text the library writes: start at *hint, grow to what
// the library asks for (plus room: the text may grow in between) and call again.
func textCall(hint *atomic.Int64, what string, call func(p *C.char, cap int) C.vtgo_result) ([]byte, error) {
	size := int(hint.Load())
	for {
		buf := make([]byte, size)
		r := call((*C.char)(unsafe.Pointer(&buf[0])), len(buf))
		if r.err == nil {
			n := int(r.value)
			return buf[:n:n], nil
		}
		err := errorOf(r.err)
		if !errors.Is(err, ErrBufferTooSmall) {
			return nil, err
		}
		n := int(r.value)
		size = n + 1 + n/8
		if size < 0 || size > math.MaxInt32 {
			return nil, &Error{Code: StatusInternal, Message: what + " larger than 2 GiB"}
		}
		growHint(hint, size)
	}
}
