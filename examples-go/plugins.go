package voicetelemetry

// Header section "Events and sink plugins".
//
// Events are JSON objects delivered to sink plugins (shared objects written against
// ../include/voicetelemetry_plugin.h, e.g. ../build/plugins/jsonl_sink.so, which appends every
// event to a JSON Lines file). Each event is wrapped in the envelope
//
//	{"type_id":"core::telemetry/event@1","session_id":"..."|null,"event_type":"...",
//	 "correlation_id":"..."|null,"turn_id":"..."|null,"timestamp_us":N,"timestamp_unix_us":N,
//	 "data":{...}}
//
// timestamp_us is the event's tNs / 1000 on its session's clock; timestamp_unix_us (since 1.1) the
// same moment on the wall clock, in microseconds since the Unix epoch, through the session's anchor
// ((Snapshot.StartUnixNs + tNs - Snapshot.StartNs) / 1000), or for an event of no session through
// the process's anchor. While a plugin is loaded the library also emits its own events
// (session.start, session.end, interruption, usage, turn.complete, message, step.start, step.end,
// reward.outcome, reward.event, telemetry.health). Plugin state is process-global, like the
// registry.

/*
#include "vtgo.h"

// packed: event type, payload, correlation id, turn id; has_* = 0 passes NULL.
static inline vtgo_err *vtgo_emit(vt_session s, const char *packed, int has_payload, int has_corr,
                                  int has_turn, uint64_t t_ns) {
    const char *payload = vtgo_next(packed);
    const char *corr = vtgo_next(payload);
    const char *turn = vtgo_next(corr);
    return vtgo_check(vt_emit(s, packed, has_payload ? payload : NULL, has_corr ? corr : NULL,
                              has_turn ? turn : NULL, t_ns));
}
static inline vtgo_err *vtgo_set_event_rate_limit(uint32_t per_second) {
    return vtgo_check(vt_set_event_rate_limit(per_second));
}
static inline vtgo_err *vtgo_set_plugin_dir(const char *dir) {
    return vtgo_check(vt_set_plugin_dir(dir));
}
// packed: path, config (NULL unless has_config).
static inline vtgo_result vtgo_load_plugin(const char *packed, int has_config) {
    vt_plugin_id id = 0;
    vt_status st = vt_load_plugin(packed, has_config ? vtgo_next(packed) : NULL, &id);
    return vtgo_result_of(st, (uint64_t)id);
}
static inline vtgo_err *vtgo_unload_plugin(vt_plugin_id id) {
    return vtgo_check(vt_unload_plugin(id));
}
static inline vtgo_result vtgo_list_plugins(vt_plugin_id *ids, size_t cap) {
    size_t n = 0;
    vt_status st = vt_list_plugins(ids, cap, &n);
    return vtgo_result_of(st, (uint64_t)n);
}
static inline vtgo_err *vtgo_plugin_stats(vt_plugin_id id, vt_plugin_statistics *out) {
    memset(out, 0, sizeof *out);
    out->struct_size = (uint32_t)sizeof *out;
    return vtgo_check(vt_plugin_stats(id, out));
}
static inline vtgo_err *vtgo_flush_events(uint32_t timeout_ms) {
    return vtgo_check(vt_flush_events(timeout_ms));
}
*/
import "C"

import (
	"errors"
	"math"
	"runtime"
	"time"
	"unsafe"
)

// Limits and defaults of events and plugins.
const (
	MaxEventBytes         = int(C.VT_MAX_EVENT_BYTES)          // longest event, envelope and newline included
	MaxEventPayloadBytes  = int(C.VT_MAX_EVENT_PAYLOAD_BYTES)  // longest payload Emit reads (compacted, it must fit MaxEventBytes)
	MaxEventTypeBytes     = int(C.VT_MAX_EVENT_TYPE_BYTES)     // longest event type ([A-Za-z0-9_.:/-])
	MaxEventIDBytes       = int(C.VT_MAX_EVENT_ID_BYTES)       // longest correlation or turn id
	DefaultEventRateLimit = int(C.VT_DEFAULT_EVENT_RATE_LIMIT) // events per second per event type
	MaxPlugins            = int(C.VT_MAX_PLUGINS)              // plugins loaded at the same time
	DefaultPluginQueue    = int(C.VT_DEFAULT_PLUGIN_QUEUE)     // slots of a plugin's queue by default (an event takes one per 256 bytes)
	MaxPluginQueue        = int(C.VT_MAX_PLUGIN_QUEUE)         // largest "queue_capacity"
	PluginQueueSlotBytes  = int(C.VT_PLUGIN_QUEUE_SLOT_BYTES)  // bytes of an event's parts one queue slot holds
)

// Emit sends one event to every loaded plugin (best effort: it never blocks and never calls a
// plugin). s is the session the event belongs to (its id goes into the envelope and its
// TextPolicy rewrites transcript fields of the payload), or nil for an event of no session.
// eventType: 1..MaxEventTypeBytes of [A-Za-z0-9_.:/-], e.g. "llm.response". payloadJSON: a JSON
// object (nil or empty means {}). correlationID, turnID: "" for null. tNs: when it happened (0 = now).
//
// nil also when the event was dropped by the rate limit or a full queue (counted in
// PluginStats). Errors: ErrInvalidArgument (bad event type, payload not a JSON object, bad id,
// NUL byte; nothing is forwarded; checked even with no plugin loaded), ErrBadHandle (s closed),
// ErrLimit (longer than MaxEventBytes: counted as dropped "too_large").
func Emit(s *Session, eventType string, payloadJSON []byte, correlationID, turnID string, tNs uint64) error {
	var p packed
	p.buf = make([]byte, 0, len(eventType)+len(payloadJSON)+len(correlationID)+len(turnID)+4)
	p.str("event type", eventType)
	p.bytes("payload", payloadJSON)
	p.str("correlation id", correlationID)
	p.str("turn id", turnID)
	if p.err != nil {
		return p.err
	}
	h := C.vt_session(0)
	if s != nil {
		h = C.vt_session(s.h)
	}
	r := C.vtgo_emit(h, (*C.char)(unsafe.Pointer(p.ptr())), flag(len(payloadJSON) > 0),
		flag(correlationID != ""), flag(turnID != ""), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// Emit is Emit(s, ...): an event of this session.
func (s *Session) Emit(eventType string, payloadJSON []byte, correlationID, turnID string, tNs uint64) error {
	return Emit(s, eventType, payloadJSON, correlationID, turnID, tNs)
}

func flag(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// SetEventRateLimit sets how many events per second of event time each event type may be emitted
// (0 = unlimited; default DefaultEventRateLimit; at most 1000000). The excess is dropped
// ("rate_limited"). The library's own events are not limited.
func SetEventRateLimit(perSecond uint32) error {
	return done(C.vtgo_set_event_rate_limit(C.uint32_t(perSecond)))
}

// SetPluginDir allows plugins only from inside dir (resolved, so ".." and symbolic links do not get
// around it); "" allows them from anywhere again. Plugins already loaded stay loaded.
// Errors: ErrNotFound (no such directory), ErrInvalidArgument.
func SetPluginDir(dir string) error {
	if dir == "" {
		return done(C.vtgo_set_plugin_dir(nil))
	}
	var p packed
	p.str("plugin directory", dir)
	if p.err != nil {
		return p.err
	}
	return done(C.vtgo_set_plugin_dir((*C.char)(unsafe.Pointer(p.ptr()))))
}

// PluginID identifies a loaded plugin; 0 is never valid, and an id is not reused after unload.
type PluginID uint64

// LoadPlugin loads a sink plugin (a .so file that exists, is a regular file, is not
// world-writable and belongs to this user or root; inside the SetPluginDir directory if one is
// set), initialises it with configJSON ("" means {}) and starts its thread. The host reads its own
// optional keys from the config: "queue_capacity", "drain_timeout_ms", "health_interval_ms",
// "max_batch_events"; the plugin reads the rest (jsonl_sink: {"path": "/file.jsonl"}).
//
// Errors (the message always says why): ErrNotFound (no such file, no entry symbol),
// ErrPermission (world-writable, another user's, outside the plugin directory), ErrPlugin (not a
// loadable shared object, ABI mismatch, duplicate name, the plugin's init failed: its own message
// included), ErrInvalidArgument (config not a JSON object, bad host key), ErrLimit (MaxPlugins
// loaded). Unload what you load: plugins are process-global.
func LoadPlugin(path string, configJSON string) (PluginID, error) {
	var p packed
	p.str("plugin path", path)
	p.str("plugin config", configJSON)
	if p.err != nil {
		return 0, p.err
	}
	r := C.vtgo_load_plugin((*C.char)(unsafe.Pointer(p.ptr())), flag(configJSON != ""))
	if r.err != nil {
		return 0, errorOf(r.err)
	}
	return PluginID(r.value), nil
}

// UnloadPlugin stops a plugin: no new events reach it, its queue is drained and flushed (until its
// "drain_timeout_ms"; what is left then is dropped as "disabled"), its shutdown runs and the shared
// object is closed. May block up to the drain deadline. Id 0 is a no-op. Errors: ErrNotFound (no
// such loaded plugin), ErrPlugin (its thread did not stop in time; the id is gone all the same).
func UnloadPlugin(id PluginID) error {
	return done(C.vtgo_unload_plugin(C.vt_plugin_id(id)))
}

// ListPlugins returns the ids of the loaded plugins, oldest first.
func ListPlugins() ([]PluginID, error) {
	n := MaxPlugins
	for {
		ids := make([]PluginID, n)
		r := C.vtgo_list_plugins((*C.vt_plugin_id)(unsafe.Pointer(&ids[0])), C.size_t(len(ids)))
		if r.err == nil {
			return ids[:int(r.value):int(r.value)], nil
		}
		if err := errorOf(r.err); !errors.Is(err, ErrBufferTooSmall) {
			return nil, err
		}
		n = int(r.value) + 4 // loaded in between: room for a few more
	}
}

// PluginStatistics mirrors vt_plugin_statistics. The accounting identity
// Emitted == Delivered + Dropped() + Queued holds exactly whenever no emit is in progress (e.g.
// after FlushEvents).
type PluginStatistics struct {
	ID                  PluginID
	Name                string // the plugin's name, e.g. "jsonl_sink"
	Version             string // its version text, "" if none
	Disabled            bool   // the plugin answered FATAL
	Emitted             uint64 // events offered to this plugin
	Delivered           uint64 // events in batches the plugin accepted
	DroppedQueueFull    uint64 // oldest events pushed out of a full queue
	DroppedRateLimited  uint64 // events over their type's rate limit
	DroppedTooLarge     uint64 // events longer than MaxEventBytes
	DroppedPlugin       uint64 // events in batches the plugin answered DROP
	DroppedDisabled     uint64 // events after (and in the batch of) a FATAL, or left at unload
	Queued              uint64 // events in the queue or in the batch being delivered
	Retries             uint64 // RETRY answers
	Batches             uint64 // write() calls that returned OK
	HealthEvents        uint64 // telemetry.health events sent (not counted in Emitted)
	PluginReportedDrops uint64 // counted by the plugin itself
	QueueCapacity       uint32 // slots of the queue (an event takes one per 256 bytes, typically one)
	LastError           string // the latest error logged for this plugin, "" if none
}

// Dropped is the sum of the drops for every reason.
func (s PluginStatistics) Dropped() uint64 {
	return s.DroppedQueueFull + s.DroppedRateLimited + s.DroppedTooLarge + s.DroppedPlugin + s.DroppedDisabled
}

// PluginStats reads a loaded plugin's statistics (counters read one by one). ErrNotFound: no
// such loaded plugin.
func PluginStats(id PluginID) (PluginStatistics, error) {
	var st C.vt_plugin_statistics
	if e := C.vtgo_plugin_stats(C.vt_plugin_id(id), &st); e != nil {
		return PluginStatistics{}, errorOf(e)
	}
	return PluginStatistics{
		ID:                  PluginID(st.id),
		Name:                C.GoString(&st.name[0]),
		Version:             C.GoString(&st.version[0]),
		Disabled:            st.disabled != 0,
		Emitted:             uint64(st.emitted),
		Delivered:           uint64(st.delivered),
		DroppedQueueFull:    uint64(st.dropped_queue_full),
		DroppedRateLimited:  uint64(st.dropped_rate_limited),
		DroppedTooLarge:     uint64(st.dropped_too_large),
		DroppedPlugin:       uint64(st.dropped_plugin),
		DroppedDisabled:     uint64(st.dropped_disabled),
		Queued:              uint64(st.queued),
		Retries:             uint64(st.retries),
		Batches:             uint64(st.batches),
		HealthEvents:        uint64(st.health_events),
		PluginReportedDrops: uint64(st.plugin_reported_drops),
		QueueCapacity:       uint32(st.queue_capacity),
		LastError:           C.GoString(&st.last_error[0]),
	}, nil
}

// FlushEvents delivers every event emitted before the call and flushes every plugin, waiting at
// most timeout (rounded up to whole milliseconds; at most about 49 days). ErrLimit: the timeout
// passed first (the message names the plugin). ErrInvalidArgument: a negative timeout.
func FlushEvents(timeout time.Duration) error {
	if timeout < 0 {
		return invalidf("timeout is %v: it cannot be negative", timeout)
	}
	ms := timeout / time.Millisecond
	if ms >= math.MaxUint32 {
		ms = math.MaxUint32
	} else if timeout%time.Millisecond != 0 {
		ms++
	}
	return done(C.vtgo_flush_events(C.uint32_t(ms)))
}
