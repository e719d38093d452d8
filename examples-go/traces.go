package voicetelemetry

// Header section "Traces: steps, messages and rewards" (since 1.1). The trace store reader is the
// separate package ./traces.
//
// What a trace store keeps of a session besides its turns. Steps divide a session: every recorded
// turn is a step of its own ("turn-N"); an engine that thinks in other steps opens and closes its
// own (StepStart, StepEnd; they may nest). Messages are what was said or passed (RecordMessage; the
// turn collector's transcripts become messages of their turn's step by themselves). Rewards are
// scores: of the whole session (RecordOutcomeReward) or of one moment (RecordEventReward), also
// after the session ended, when a grader runs later (RecordOutcomeRewardFor, RecordEventRewardFor).
// Each call reaches the loaded sink plugins as one event (step.start, step.end, message,
// reward.outcome, reward.event; ../docs/event-schema.md) and nothing else: no metric, no snapshot
// field.
//
// The "current step" a message or an event reward lands in is the session's innermost open engine
// step, else "turn-N" for the turn being assembled, else none (null). Ids and keys: UTF-8, at most
// MaxEventIDBytes bytes. JSON arguments (metadata, annotation): a JSON object, nil or empty for
// none; the library checks them. Timestamps: on the session's clock, 0 = now.
//
// These calls take the library's short internal lock: they are not hot-path calls. Strings travel
// packed in one Go []byte (pack.go): one cgo call, nothing allocated in C, nothing to free.

/*
#include "vtgo.h"

// packed: step id, metadata (NULL unless has_metadata).
static inline vtgo_err *vtgo_step_start(vt_session s, const char *packed, int has_metadata, uint64_t t_ns) {
    return vtgo_check(vt_step_start(s, packed, has_metadata ? vtgo_next(packed) : NULL, t_ns));
}
static inline vtgo_err *vtgo_step_end(vt_session s, const char *step_id, uint64_t t_ns) {
    return vtgo_check(vt_step_end(s, step_id, t_ns));
}
// packed: role, content, metadata (NULL unless has_metadata).
static inline vtgo_err *vtgo_record_message(vt_session s, const char *packed, int has_metadata,
                                            uint64_t t_ns) {
    const char *content = vtgo_next(packed);
    const char *metadata = vtgo_next(content);
    return vtgo_check(vt_record_message(s, packed, content, has_metadata ? metadata : NULL, t_ns));
}
// packed: objective key, annotation (NULL unless has_annotation).
static inline vtgo_err *vtgo_record_outcome_reward(vt_session s, const char *packed, double total_reward,
                                                   uint32_t achievements_count, int has_annotation,
                                                   uint64_t t_ns) {
    const char *annotation = vtgo_next(packed);
    return vtgo_check(vt_record_outcome_reward(s, packed, total_reward, achievements_count,
                                               has_annotation ? annotation : NULL, t_ns));
}
// packed: objective key, reward type, source, annotation; has_* = 0 passes NULL.
static inline vtgo_err *vtgo_record_event_reward(vt_session s, const char *packed, double value,
                                                 int has_type, int has_source, int has_annotation,
                                                 uint64_t t_ns) {
    const char *type = vtgo_next(packed);
    const char *source = vtgo_next(type);
    const char *annotation = vtgo_next(source);
    return vtgo_check(vt_record_event_reward(s, packed, value, has_type ? type : NULL,
                                             has_source ? source : NULL,
                                             has_annotation ? annotation : NULL, t_ns));
}
// packed: session id, objective key, annotation (NULL unless has_annotation).
static inline vtgo_err *vtgo_record_outcome_reward_for(const char *packed, double total_reward,
                                                       uint32_t achievements_count, int has_annotation,
                                                       uint64_t t_ns) {
    const char *key = vtgo_next(packed);
    const char *annotation = vtgo_next(key);
    return vtgo_check(vt_record_outcome_reward_for(packed, key, total_reward, achievements_count,
                                                   has_annotation ? annotation : NULL, t_ns));
}
// packed: session id, step id, objective key, reward type, source, annotation; has_* = 0: NULL.
static inline vtgo_err *vtgo_record_event_reward_for(const char *packed, int has_step, double value,
                                                     int has_type, int has_source, int has_annotation,
                                                     uint64_t t_ns) {
    const char *step = vtgo_next(packed);
    const char *key = vtgo_next(step);
    const char *type = vtgo_next(key);
    const char *source = vtgo_next(type);
    const char *annotation = vtgo_next(source);
    return vtgo_check(vt_record_event_reward_for(packed, has_step ? step : NULL, key, value,
                                                 has_type ? type : NULL, has_source ? source : NULL,
                                                 has_annotation ? annotation : NULL, t_ns));
}
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// MaxOpenSteps is how many engine steps one session may have open at once. Since 1.1.
const MaxOpenSteps = int(C.VT_MAX_OPEN_STEPS)

// Roles of RecordMessage.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleSystem    = "system"
	RoleTool      = "tool"
)

// StepStart begins an engine-defined step of the session (event step.start). stepID: 1 to
// MaxEventIDBytes bytes, not of the form "turn-N" (those are the turns' steps), not open already;
// steps may nest, at most MaxOpenSteps open. metadataJSON: a JSON object, nil for none.
// Errors: ErrInvalidArgument (bad id, open already, bad JSON), ErrLimit (MaxOpenSteps open, or the
// event too long), ErrBadHandle (s closed). Since 1.1.
func (s *Session) StepStart(stepID string, metadataJSON []byte, tNs uint64) error {
	var p packed
	p.buf = make([]byte, 0, len(stepID)+len(metadataJSON)+2)
	p.str("step id", stepID)
	p.bytes("metadata", metadataJSON)
	if p.err != nil {
		return p.err
	}
	r := C.vtgo_step_start(C.vt_session(s.h), (*C.char)(unsafe.Pointer(p.ptr())), flag(len(metadataJSON) > 0),
		C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// StepEnd ends the open engine step stepID, with any steps opened inside it (a step.end event for
// each, innermost first). Errors: ErrNotFound (no open step has that id), ErrInvalidArgument,
// ErrBadHandle. Since 1.1.
func (s *Session) StepEnd(stepID string, tNs uint64) error {
	var p packed
	p.str("step id", stepID)
	if p.err != nil {
		return p.err
	}
	r := C.vtgo_step_end(C.vt_session(s.h), (*C.char)(unsafe.Pointer(p.ptr())), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// RecordMessage records a message of the conversation in the current step (event message).
// role: RoleUser, RoleAssistant, RoleSystem or RoleTool. content: text; content that is itself a
// JSON object (e.g. a tool result) is kept as JSON. It follows the session's TextPolicy: under
// TextRedact only its length is kept; under TextInclude it is truncated to the max text chars (JSON
// that would be cut is kept as text). metadataJSON: a JSON object, nil for none.
// Errors: ErrInvalidArgument (unknown role, content longer than 1 MiB or not UTF-8, bad JSON),
// ErrLimit (the event would not fit MaxEventBytes), ErrBadHandle. Since 1.1.
func (s *Session) RecordMessage(role, content string, metadataJSON []byte, tNs uint64) error {
	var p packed
	p.buf = make([]byte, 0, len(role)+len(content)+len(metadataJSON)+3)
	p.str("role", role)
	p.str("content", content)
	p.bytes("metadata", metadataJSON)
	if p.err != nil {
		return p.err
	}
	r := C.vtgo_record_message(C.vt_session(s.h), (*C.char)(unsafe.Pointer(p.ptr())),
		flag(len(metadataJSON) > 0), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// RecordOutcomeReward records the score of the whole session on one objective (event
// reward.outcome, at tNs on the session's clock, 0 = now): totalReward (finite), achievementsCount,
// and the session's step count so far (turns recorded plus engine steps started) as total_steps.
// annotationJSON: a JSON object (e.g. the grader's reasons), nil for none. Errors:
// ErrInvalidArgument (bad key, non-finite reward, bad JSON), ErrLimit (the event would not fit),
// ErrBadHandle. Since 1.1.
func (s *Session) RecordOutcomeReward(objectiveKey string, totalReward float64, achievementsCount uint32,
	annotationJSON []byte, tNs uint64) error {
	var p packed
	p.str("objective key", objectiveKey)
	p.bytes("annotation", annotationJSON)
	if p.err != nil {
		return p.err
	}
	r := C.vtgo_record_outcome_reward(C.vt_session(s.h), (*C.char)(unsafe.Pointer(p.ptr())),
		C.double(totalReward), C.uint32_t(achievementsCount), flag(len(annotationJSON) > 0), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// RecordEventReward records the score of one moment on one objective, in the current step (event
// reward.event). rewardType, source: free text ("sparse", "human", "llm_judge", ...), "" for none.
// annotationJSON: a JSON object, nil for none. Errors: as RecordOutcomeReward. Since 1.1.
func (s *Session) RecordEventReward(objectiveKey string, value float64, rewardType, source string,
	annotationJSON []byte, tNs uint64) error {
	var p packed
	p.str("objective key", objectiveKey)
	p.str("reward type", rewardType)
	p.str("source", source)
	p.bytes("annotation", annotationJSON)
	if p.err != nil {
		return p.err
	}
	r := C.vtgo_record_event_reward(C.vt_session(s.h), (*C.char)(unsafe.Pointer(p.ptr())), C.double(value),
		flag(rewardType != ""), flag(source != ""), flag(len(annotationJSON) > 0), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// RecordOutcomeRewardFor is RecordOutcomeReward for a session known by its id, typically one that
// has ended (a grader that runs later). The event carries that session id; its time is tNs on
// CLOCK_MONOTONIC (NowNs; 0 = now; the wall clock through the process's anchor); its total_steps
// is null. ErrInvalidArgument also for a bad session id (no handle is involved). Since 1.1.
func RecordOutcomeRewardFor(sessionID, objectiveKey string, totalReward float64, achievementsCount uint32,
	annotationJSON []byte, tNs uint64) error {
	var p packed
	p.str("session id", sessionID)
	p.str("objective key", objectiveKey)
	p.bytes("annotation", annotationJSON)
	if p.err != nil {
		return p.err
	}
	return done(C.vtgo_record_outcome_reward_for((*C.char)(unsafe.Pointer(p.ptr())), C.double(totalReward),
		C.uint32_t(achievementsCount), flag(len(annotationJSON) > 0), C.uint64_t(tNs)))
}

// RecordEventRewardFor is RecordEventReward for a session known by its id: the step is given
// (stepID, "" for none) and tNs is on CLOCK_MONOTONIC (NowNs; 0 = now), whatever the session's
// clock was. ErrInvalidArgument also for a bad session id. Since 1.1.
func RecordEventRewardFor(sessionID, stepID, objectiveKey string, value float64, rewardType, source string,
	annotationJSON []byte, tNs uint64) error {
	var p packed
	p.str("session id", sessionID)
	p.str("step id", stepID)
	p.str("objective key", objectiveKey)
	p.str("reward type", rewardType)
	p.str("source", source)
	p.bytes("annotation", annotationJSON)
	if p.err != nil {
		return p.err
	}
	return done(C.vtgo_record_event_reward_for((*C.char)(unsafe.Pointer(p.ptr())), flag(stepID != ""),
		C.double(value), flag(rewardType != ""), flag(source != ""), flag(len(annotationJSON) > 0),
		C.uint64_t(tNs)))
}
