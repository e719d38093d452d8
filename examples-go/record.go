package voicetelemetry

// Header section "Record calls (the hot path)".
//
// Each record method is exactly one cgo call: the vtgo helper calls the library and, only if the
// status is not VT_OK, copies vt_last_error() on the same OS thread before returning. No
// LockOSThread, no allocation on the success path.

/*
#include "vtgo.h"

static inline vtgo_err * vtgo_record_audio_out(vt_session s, size_t bytes, uint64_t t_ns) {
    return vtgo_check(vt_record_audio_out(s, bytes, t_ns));
}
static inline vtgo_err * vtgo_record_vad_start(vt_session s, uint64_t t_ns) {
    return vtgo_check(vt_record_vad_start(s, t_ns));
}
static inline vtgo_err * vtgo_record_vad_end(vt_session s, uint64_t t_ns) {
    return vtgo_check(vt_record_vad_end(s, t_ns));
}
static inline vtgo_err * vtgo_record_text_send(vt_session s, uint64_t t_ns) {
    return vtgo_check(vt_record_text_send(s, t_ns));
}
static inline vtgo_err * vtgo_record_text_out(vt_session s, uint64_t t_ns) {
    return vtgo_check(vt_record_text_out(s, t_ns));
}
static inline vtgo_err * vtgo_record_interruption(vt_session s, uint64_t t_ns) {
    return vtgo_check(vt_record_interruption(s, t_ns));
}
static inline vtgo_err * vtgo_record_turn_start(vt_session s, uint64_t t_ns) {
    return vtgo_check(vt_record_turn_start(s, t_ns));
}
static inline vtgo_err * vtgo_record_turn_complete(vt_session s, uint64_t t_ns) {
    return vtgo_check(vt_record_turn_complete(s, t_ns));
}
static inline vtgo_err * vtgo_record_usage(vt_session s, int64_t total, int64_t prompt,
                                            int64_t response, int64_t cached, int64_t thoughts,
                                            uint64_t t_ns) {
    vt_usage u;
    memset(&u, 0, sizeof u);
    u.struct_size = (uint32_t)sizeof u;
    u.total = total;
    u.prompt = prompt;
    u.response = response;
    u.cached = cached;
    u.thoughts = thoughts;
    return vtgo_check(t_ns == 0 ? vt_record_usage(s, &u) : vt_record_usage_at(s, &u, t_ns));
}
static inline vtgo_result vtgo_record_batch(vt_session s, const vt_event *events, size_t n) {
    size_t done = 0;
    vt_status st = vt_record_batch(s, events, n, sizeof(vt_event), &done);
    return vtgo_result_of(st, (uint64_t)done);
}
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Timestamps: every record call takes tNs, nanoseconds on the session's clock of when the thing
// happened: CLOCK_MONOTONIC (NowNs reads it) unless the session was opened WithClock(ClockMedia);
// 0 means "now" on that clock. Durations come from these timestamps only, so scripted timestamps
// give exact, repeatable numbers.
//
// A call the semantics ignore (a second TurnStart, a second TextOut, audio with no response
// awaited) returns nil. Every record method returns ErrBadHandle after Close.

// done turns a helper's result into the method's. Inlined: on success it is one compare.
func done(e *C.vtgo_err) error {
	if e == nil {
		return nil
	}
	return errorOf(e)
}

// RecordAudioOut records one chunk of agent audio of the given size. The first chunk after a
// VAD end closes one response latency (VAD end -> this chunk).
func (s *Session) RecordAudioOut(bytes int, tNs uint64) error {
	if bytes < 0 {
		return invalidf("bytes is %d: a chunk cannot be negative", bytes)
	}
	r := C.vtgo_record_audio_out(C.vt_session(s.h), C.size_t(bytes), C.uint64_t(tNs))
	runtime.KeepAlive(s) // the finalizer must not end the session while the call runs
	return done(r)
}

// RecordVADStart records that the user started speaking (cancels an awaited response latency).
func (s *Session) RecordVADStart(tNs uint64) error {
	r := C.vtgo_record_vad_start(C.vt_session(s.h), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// RecordVADEnd records that the user stopped speaking: a response is awaited from tNs.
func (s *Session) RecordVADEnd(tNs uint64) error {
	r := C.vtgo_record_vad_end(C.vt_session(s.h), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// RecordTextSend records that the user sent a text message: a text response is awaited from tNs.
func (s *Session) RecordTextSend(tNs uint64) error {
	r := C.vtgo_record_text_send(C.vt_session(s.h), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// RecordTextOut records model text; the first after a text send closes a text-response latency.
func (s *Session) RecordTextOut(tNs uint64) error {
	r := C.vtgo_record_text_out(C.vt_session(s.h), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// RecordInterruption records that the user interrupted the agent (barge-in).
func (s *Session) RecordInterruption(tNs uint64) error {
	r := C.vtgo_record_interruption(C.vt_session(s.h), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// RecordTurnStart records that a turn began; the first call of a turn wins.
func (s *Session) RecordTurnStart(tNs uint64) error {
	r := C.vtgo_record_turn_start(C.vt_session(s.h), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// RecordTurnComplete completes the open turn (its duration is turn start -> tNs); without an open
// turn it is ignored.
func (s *Session) RecordTurnComplete(tNs uint64) error {
	r := C.vtgo_record_turn_complete(C.vt_session(s.h), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// Usage is token usage as the model reported it. A nil field (or a negative value) means "not
// reported": that field keeps its latest value. Build fields with Tokens:
//
//	s.RecordUsage(voicetelemetry.Usage{Total: voicetelemetry.Tokens(120), Prompt: voicetelemetry.Tokens(80)})
type Usage struct {
	Total    *int64
	Prompt   *int64
	Response *int64
	Cached   *int64
	Thoughts *int64
}

// Tokens returns a pointer to n, for the fields of Usage.
func Tokens(n int64) *int64 { return &n }

func usageField(p *int64) C.int64_t {
	if p == nil {
		return -1
	}
	return C.int64_t(*p)
}

// RecordUsage records token usage: each reported field replaces the session's latest value of it
// and is added to the session's running total of it. Its usage event is stamped now.
func (s *Session) RecordUsage(u Usage) error {
	return s.RecordUsageAt(u, 0)
}

// RecordUsageAt is RecordUsage reported at tNs on the session's clock (0 = now): the time of its
// usage event. Since 1.1.
func (s *Session) RecordUsageAt(u Usage, tNs uint64) error {
	r := C.vtgo_record_usage(C.vt_session(s.h), usageField(u.Total), usageField(u.Prompt),
		usageField(u.Response), usageField(u.Cached), usageField(u.Thoughts), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// EventKind is the kind of a batch Event (vt_event_kind).
type EventKind uint32

// Values of EventKind.
const (
	EventAudioOut     EventKind = C.VT_EV_AUDIO_OUT // Value = bytes
	EventVADStart     EventKind = C.VT_EV_VAD_START
	EventVADEnd       EventKind = C.VT_EV_VAD_END
	EventTextSend     EventKind = C.VT_EV_TEXT_SEND
	EventTextOut      EventKind = C.VT_EV_TEXT_OUT
	EventInterruption EventKind = C.VT_EV_INTERRUPTION
	EventTurnStart    EventKind = C.VT_EV_TURN_START
	EventTurnComplete EventKind = C.VT_EV_TURN_COMPLETE
)

// Event is one record call of a batch. Its memory layout is that of the C vt_event, so a []Event
// is handed to vt_record_batch as it is, without copying.
type Event struct {
	Kind  EventKind
	_     uint32 // reserved: always 0
	Value uint64 // EventAudioOut: bytes; other kinds: 0
	TNs   uint64 // as for the record calls; 0 = now
}

// Compile-time checks that Event matches vt_event (vtgo.h checks the C side's offsets).
var (
	_ = [1]struct{}{}[unsafe.Sizeof(Event{})-C.sizeof_vt_event]
	_ = [1]struct{}{}[unsafe.Offsetof(Event{}.Value)-8]
	_ = [1]struct{}{}[unsafe.Offsetof(Event{}.TNs)-16]
)

// AudioOutEvent is the batch form of RecordAudioOut.
func AudioOutEvent(bytes int, tNs uint64) Event {
	return Event{Kind: EventAudioOut, Value: uint64(bytes), TNs: tNs}
}

// VADStartEvent is the batch form of RecordVADStart.
func VADStartEvent(tNs uint64) Event { return Event{Kind: EventVADStart, TNs: tNs} }

// VADEndEvent is the batch form of RecordVADEnd.
func VADEndEvent(tNs uint64) Event { return Event{Kind: EventVADEnd, TNs: tNs} }

// TextSendEvent is the batch form of RecordTextSend.
func TextSendEvent(tNs uint64) Event { return Event{Kind: EventTextSend, TNs: tNs} }

// TextOutEvent is the batch form of RecordTextOut.
func TextOutEvent(tNs uint64) Event { return Event{Kind: EventTextOut, TNs: tNs} }

// InterruptionEvent is the batch form of RecordInterruption.
func InterruptionEvent(tNs uint64) Event { return Event{Kind: EventInterruption, TNs: tNs} }

// TurnStartEvent is the batch form of RecordTurnStart.
func TurnStartEvent(tNs uint64) Event { return Event{Kind: EventTurnStart, TNs: tNs} }

// TurnCompleteEvent is the batch form of RecordTurnComplete.
func TurnCompleteEvent(tNs uint64) Event { return Event{Kind: EventTurnComplete, TNs: tNs} }

// RecordBatch applies events in order, with exactly the semantics of the single calls, in one cgo
// call: collect per-frame audio (e.g. every 100 ms) and record it at a fraction of the crossing
// cost per frame. On an error the events before the failing one have been applied (see
// RecordBatchN for how many); the message names the index for an invalid event.
func (s *Session) RecordBatch(events []Event) error {
	_, err := s.RecordBatchN(events)
	return err
}

// RecordBatchN is RecordBatch, also returning how many events were applied (all on success).
func (s *Session) RecordBatchN(events []Event) (int, error) {
	var p *C.vt_event
	if len(events) > 0 {
		p = (*C.vt_event)(unsafe.Pointer(&events[0]))
	}
	r := C.vtgo_record_batch(C.vt_session(s.h), p, C.size_t(len(events)))
	runtime.KeepAlive(s)
	if r.err != nil {
		return int(r.value), errorOf(r.err)
	}
	return int(r.value), nil
}

// Batch collects events for RecordBatch; reuse it (Reset) to record without allocating.
type Batch struct {
	Events []Event
}

// Len is the number of events collected.
func (b *Batch) Len() int { return len(b.Events) }

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() { b.Events = b.Events[:0] }

// Add appends events.
func (b *Batch) Add(events ...Event) { b.Events = append(b.Events, events...) }

// AudioOut appends one audio chunk.
func (b *Batch) AudioOut(bytes int, tNs uint64) {
	b.Events = append(b.Events, AudioOutEvent(bytes, tNs))
}

// Flush records the collected events on s and resets the batch (also when recording fails).
func (b *Batch) Flush(s *Session) error {
	err := s.RecordBatch(b.Events)
	b.Reset()
	return err
}
