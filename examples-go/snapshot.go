package voicetelemetry

// Header section "Session snapshot".

/*
#include "vtgo.h"

static inline vtgo_result vtgo_snapshot_json_at(vt_session s, uint64_t now_t_ns, char *buf,
                                                size_t cap) {
    size_t len = 0;
    vt_status st = vt_snapshot_json_at(s, now_t_ns, buf, cap, &len);
    return vtgo_result_of(st, (uint64_t)len);
}
*/
import "C"

import (
	"encoding/json"
	"errors"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Snapshot is a session's statistics (snapshot schema version 1). Durations are in milliseconds;
// nil means "does not exist yet" (JSON null). Raw is the JSON text itself, which may hold fields
// added after this binding was written (readers ignore keys they do not know).
type Snapshot struct {
	SchemaVersion int               `json:"schema_version"`
	SessionID     string            `json:"session_id"`
	Labels        map[string]string `json:"labels"`

	// The rs-adk-compatible top-level fields.
	UptimeSecs            *float64 `json:"uptime_secs"`
	AudioChunksOut        uint64   `json:"audio_chunks_out"`
	AudioBytesOut         uint64   `json:"audio_bytes_out"`
	AudioThroughputKbps   *float64 `json:"audio_throughput_kbps"`
	Interruptions         uint64   `json:"interruptions"`
	LastResponseLatencyMs *float64 `json:"last_response_latency_ms"`
	AvgResponseLatencyMs  *float64 `json:"avg_response_latency_ms"`
	MinResponseLatencyMs  *float64 `json:"min_response_latency_ms"`
	MaxResponseLatencyMs  *float64 `json:"max_response_latency_ms"`
	ResponseCount         uint64   `json:"response_count"`
	AvgTurnDurationMs     *float64 `json:"avg_turn_duration_ms"`
	// Latest reported token counts (JSON numbers as the library prints them; nil: never reported).
	TotalTokenCount         *float64 `json:"total_token_count"`
	PromptTokenCount        *float64 `json:"prompt_token_count"`
	ResponseTokenCount      *float64 `json:"response_token_count"`
	CachedContentTokenCount *float64 `json:"cached_content_token_count"`
	ThoughtsTokenCount      *float64 `json:"thoughts_token_count"`

	// Added in schema 1.
	ResponseLatencyMs     LatencyStats `json:"response_latency_ms"`
	TextResponseLatencyMs LatencyStats `json:"text_response_latency_ms"`
	TurnDurationMs        LatencyStats `json:"turn_duration_ms"`
	TurnsCompleted        uint64       `json:"turns_completed"`
	TurnOpen              bool         `json:"turn_open"`
	VADStarts             uint64       `json:"vad_starts"`
	VADEnds               uint64       `json:"vad_ends"`
	TextSends             uint64       `json:"text_sends"`
	UsageReports          uint64       `json:"usage_reports"`
	TokenTotals           TokenTotals  `json:"token_totals"`
	// TokenTotalsSaturated: a running total reached its ceiling (2^63 - 1) and stays there.
	TokenTotalsSaturated bool   `json:"token_totals_saturated"`
	OutOfOrderEvents     uint64 `json:"out_of_order_events"`
	// The turn collector's section (see docs/turn-schema.md).
	Turns SnapshotTurns `json:"turns"`

	// Added in 1.1: the session's start on its clock (StartNs) and the same moment on the wall
	// clock (StartUnixNs, ns since the Unix epoch): an event at tNs on the session's clock is at
	// StartUnixNs + tNs - StartNs (its envelope's timestamp_unix_us, in us). TraceID: 32 hex
	// digits, from WithTraceparent or random.
	StartNs     uint64 `json:"start_ns"`
	StartUnixNs uint64 `json:"start_unix_ns"`
	TraceID     string `json:"trace_id"`

	// Added in 1.2 (prices.go): the session's cost (nil while there is no price table and nothing
	// was charged), its usage by stage, provider and model, and the charges past its 8 rows.
	Cost                 *SessionCost `json:"cost"`
	UsageByModel         []ModelUsage `json:"usage_by_model"`
	UsageByModelOverflow uint64       `json:"usage_by_model_overflow"`

	Raw json.RawMessage `json:"-"`
}

// SnapshotTurns is the snapshot's view of the session's turns: counts by outcome, the last
// completed turn's end-to-end breakdown, and per-stage p50/p95 over the turns kept in the ring.
type SnapshotTurns struct {
	Completed   uint64                `json:"completed"`
	Interrupted uint64                `json:"interrupted"`
	Discarded   uint64                `json:"discarded"`
	Open        bool                  `json:"open"`
	Last        *SnapshotLastTurn     `json:"last"`
	WindowTurns uint64                `json:"window_turns"`
	Stages      map[string]StageStats `json:"stages"`
}

// SnapshotLastTurn is the last completed turn's end-to-end latency and its breakdown, in ns.
type SnapshotLastTurn struct {
	TurnID         uint64            `json:"turn_id"`
	E2ELatencyNs   *uint64           `json:"e2e_latency_ns"`
	E2EBreakdownNs map[string]uint64 `json:"e2e_breakdown_ns"`
	QualityFlags   TurnQuality       `json:"quality_flags"`
}

// StageStats is one stage latency over the turns in the ring (nanoseconds; nil: no turn had it).
type StageStats struct {
	Count uint64  `json:"count"`
	P50   *uint64 `json:"p50"`
	P95   *uint64 `json:"p95"`
}

// LatencyStats summarises one latency of a session, in milliseconds. Quantiles have at most
// 6.25% relative error (for values of at least 1 us).
type LatencyStats struct {
	Count uint64   `json:"count"`
	Sum   float64  `json:"sum"`
	Min   *float64 `json:"min"`
	Max   *float64 `json:"max"`
	Last  *float64 `json:"last"`
	Avg   *float64 `json:"avg"`
	P50   *float64 `json:"p50"`
	P90   *float64 `json:"p90"`
	P95   *float64 `json:"p95"`
	P99   *float64 `json:"p99"`
}

// TokenTotals are the running totals of the reported token counts.
type TokenTotals struct {
	Total         int64 `json:"total"`
	Prompt        int64 `json:"prompt"`
	Response      int64 `json:"response"`
	CachedContent int64 `json:"cached_content"`
	Thoughts      int64 `json:"thoughts"`
}

// snapshotHint is the buffer size the next snapshot starts with (the largest seen so far).
var snapshotHint atomic.Int64

func init() { snapshotHint.Store(2048) }

// Snapshot returns the session's statistics as of nowNs (0 = now). nowNs only sets the uptime and
// the throughput derived from it, so scripted sessions give exact snapshots.
func (s *Session) Snapshot(nowNs uint64) (*Snapshot, error) {
	raw, err := s.SnapshotJSON(nowNs)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Raw: raw}
	if err := json.Unmarshal(raw, snap); err != nil {
		return nil, &Error{Code: StatusInternal, Message: "snapshot JSON does not parse: " + err.Error()}
	}
	return snap, nil
}

// SnapshotJSON returns the session's statistics as the library's JSON text (see Snapshot).
func (s *Session) SnapshotJSON(nowNs uint64) ([]byte, error) {
	size := int(snapshotHint.Load())
	for {
		buf := make([]byte, size)
		n, err := s.snapshotInto(nowNs, buf)
		if err == nil {
			return buf[:n:n], nil
		}
		if !errors.Is(err, ErrBufferTooSmall) {
			return nil, err
		}
		// Grow to what it needs (plus room: the text may grow in between) and try again.
		size = n + 1 + n/8
		growHint(&snapshotHint, size)
	}
}

// growHint raises *hint to size unless it is already larger.
func growHint(hint *atomic.Int64, size int) {
	for {
		old := hint.Load()
		if int64(size) <= old || hint.CompareAndSwap(old, int64(size)) {
			return
		}
	}
}

// snapshotInto writes the snapshot into buf and returns its length without the NUL; if it does not
// fit, the error is ErrBufferTooSmall and the length is what it needs (without the NUL).
func (s *Session) snapshotInto(nowNs uint64, buf []byte) (int, error) {
	var p *C.char
	if len(buf) > 0 {
		p = (*C.char)(unsafe.Pointer(&buf[0]))
	}
	r := C.vtgo_snapshot_json_at(C.vt_session(s.h), C.uint64_t(nowNs), p, C.size_t(len(buf)))
	runtime.KeepAlive(s)
	if r.err != nil {
		return int(r.value), errorOf(r.err)
	}
	return int(r.value), nil
}
