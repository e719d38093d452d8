package voicetelemetry

// Hooks: your own Go functions on the library's events, in this process, off the recording
// goroutines.
//
// A Hooks is a sink plugin given to the library as a table (vt_load_plugin_table): it gets its own
// thread, queue and statistics like any .so plugin. The table's callbacks are C functions (below)
// that call exported Go functions; the plugin's state pointer holds a handle (an integer) that
// finds the Hooks in a map, so C never holds a Go pointer. write() decodes each event (a JSON line)
// and calls, on the plugin's thread, the functions registered for its event type and those
// registered for every event ("*"), higher priority first, equal priorities in registration order.

/*
#include <pthread.h>
#include <stdio.h>
#include "vtgo.h"
#include "voicetelemetry_plugin.h"

// The Go side (exported below). Declared with the C types cgo gives their Go signatures.
extern uintptr_t vtgoHooksInit(void);
extern int32_t vtgoHooksWrite(uintptr_t handle, char* data, size_t n, uintptr_t thread);
extern void vtgoHooksShutdown(uintptr_t handle);

static int32_t vtgo_hooks_init(const vt_host_api *host, void *host_ctx, const char *config_json,
                               void **state_out, char *err, size_t err_cap) {
    (void)host; (void)host_ctx; (void)config_json;
    uintptr_t handle = vtgoHooksInit();
    if (handle == 0) {
        snprintf(err, err_cap, "no Go hooks are being loaded (load them with Hooks.Load)");
        return 1;
    }
    *state_out = (void *)handle;
    return 0;
}

static int32_t vtgo_hooks_write(void *state, const vt_sink_batch *batch) {
    return vtgoHooksWrite((uintptr_t)state, (char *)batch->data, batch->len, (uintptr_t)pthread_self());
}

// The calling thread, as vtgo_hooks_write passes it (a hook runs on the thread that called it).
static inline uintptr_t vtgo_hooks_self(void) { return (uintptr_t)pthread_self(); }

static void vtgo_hooks_shutdown(void *state, uint64_t deadline_ns) {
    (void)deadline_ns;
    vtgoHooksShutdown((uintptr_t)state);
}

// A table named `name` (copied into the same block); free() it after vt_unload_plugin returned.
static vt_plugin_table *vtgo_hooks_table_new(const char *name) {
    size_t n = strlen(name);
    vt_plugin_table *t = (vt_plugin_table *)calloc(1, sizeof *t + n + 1);
    if (t == NULL) return NULL;
    memcpy((char *)(t + 1), name, n + 1);
    t->struct_size = (uint32_t)sizeof *t;
    t->abi_major = VT_PLUGIN_ABI_MAJOR;
    t->abi_minor = VT_PLUGIN_ABI_MINOR;
    t->name = (const char *)(t + 1);
    t->version = "1.0.0";
    t->init = vtgo_hooks_init;
    t->write = vtgo_hooks_write;
    t->flush = NULL;
    t->shutdown = vtgo_hooks_shutdown;
    return t;
}

static inline vtgo_result vtgo_hooks_load(const vt_plugin_table *t, const char *config) {
    vt_plugin_id id = 0;
    vt_status st = vt_load_plugin_table(t, config, &id);
    return vtgo_result_of(st, (uint64_t)id);
}
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"
)

// HookAll is the event type that selects every event.
const HookAll = "*"

// HookEvent is one event as a hook gets it: the envelope (docs/event-schema.md) with its data as
// JSON. Every hook of an event gets the same Data and Line: do not modify them.
type HookEvent struct {
	TypeID          string          `json:"type_id"`           // "core::telemetry/event@1"
	SessionID       string          `json:"session_id"`        // "" for an event of no session
	EventType       string          `json:"event_type"`        // e.g. "session.start", "message"
	CorrelationID   string          `json:"correlation_id"`    // "" when null
	TurnID          string          `json:"turn_id"`           // "" when null
	TimestampUs     uint64          `json:"timestamp_us"`      // on the session's clock
	TimestampUnixUs uint64          `json:"timestamp_unix_us"` // the same moment on the wall clock
	Data            json.RawMessage `json:"data"`              // the event's data, compact JSON
	Line            []byte          `json:"-"`                 // the whole event as delivered (no newline)
}

type hookEntry struct {
	priority  int
	seq       uint64
	eventType string
	fn        func(HookEvent)
}

// Hooks calls Go functions on the library's events. Make one with NewHooks, register with On (or
// the named helpers), then Load; Close unloads. Methods are safe for concurrent use.
//
// Hooks run one at a time on the plugin's own thread: the recording goroutines never wait for
// them (a slow hook fills the hooks' queue, which then drops its oldest events: see Stats). A hook
// that panics is recovered, logged and counted (Errors); the others still run, and the event still
// counts as delivered. A hook may read Stats, ID and the like, but must not call FlushEvents, load
// or unload plugins (they wait for the plugins' threads, the hook's own included, or for a lock an
// unload holds while it waits for them); Close from one of its own hooks returns ErrInvalidArgument.
type Hooks struct {
	name string

	life   sync.Mutex // serialises Load and Close
	mu     sync.Mutex // entries, seq, order
	logger *log.Logger

	entries []hookEntry
	seq     uint64
	order   map[string][]func(HookEvent) // call order per event type, rebuilt after a change

	id     atomic.Uint64 // the PluginID while loaded, else 0 (atomic: a hook may read it during Close)
	handle uintptr
	table  *C.vt_plugin_table
	thread atomic.Uintptr // the plugin's thread (pthread_self), once it delivered a batch

	errors    atomic.Uint64
	events    atomic.Uint64
	lastError atomic.Value // hookError
	stopped   atomic.Bool  // set by shutdown or a failed unload: write ignores everything after
}

// NewHooks makes hooks whose plugin is named name: 1-63 bytes of [A-Za-z0-9_.-], unique among
// loaded plugins (it labels the plugin's statistics and metrics). The library checks it at Load.
func NewHooks(name string) *Hooks {
	return &Hooks{name: name}
}

// On calls fn for every event of eventType (HookAll, "*": every event), on the plugin's thread.
// Higher priority first; equal priorities in registration order (HookAll functions and a type's
// own are ordered together). Registering works at any time, from the next batch of events on.
// The returned function unregisters fn (calling it again does nothing).
func (h *Hooks) On(eventType string, priority int, fn func(HookEvent)) (remove func()) {
	if fn == nil || eventType == "" {
		panic("voicetelemetry: Hooks.On needs an event type and a function")
	}
	h.mu.Lock()
	h.seq++
	seq := h.seq
	h.entries = append(h.entries, hookEntry{priority, seq, eventType, fn})
	h.order = nil
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for i, e := range h.entries {
			if e.seq == seq {
				h.entries = append(h.entries[:i:i], h.entries[i+1:]...)
				h.order = nil
				return
			}
		}
	}
}

// OnSessionStart is On("session.start", ...): data labels, clock, start_ns, start_unix_ns, trace_id, ...
func (h *Hooks) OnSessionStart(priority int, fn func(HookEvent)) func() {
	return h.On("session.start", priority, fn)
}

// OnSessionEnd is On("session.end", ...): data is the session's final snapshot.
func (h *Hooks) OnSessionEnd(priority int, fn func(HookEvent)) func() {
	return h.On("session.end", priority, fn)
}

// OnStepStart is On("step.start", ...): data step_id, turn_number, metadata.
func (h *Hooks) OnStepStart(priority int, fn func(HookEvent)) func() {
	return h.On("step.start", priority, fn)
}

// OnStepEnd is On("step.end", ...): data step_id.
func (h *Hooks) OnStepEnd(priority int, fn func(HookEvent)) func() {
	return h.On("step.end", priority, fn)
}

// OnMessage is On("message", ...): recorded messages and the turns' transcripts.
func (h *Hooks) OnMessage(priority int, fn func(HookEvent)) func() {
	return h.On("message", priority, fn)
}

// OnTurnComplete is On("turn.complete", ...): data is the turn record.
func (h *Hooks) OnTurnComplete(priority int, fn func(HookEvent)) func() {
	return h.On("turn.complete", priority, fn)
}

// OnEvent is On(HookAll, ...): every event, the library's own and Emit's.
func (h *Hooks) OnEvent(priority int, fn func(HookEvent)) func() {
	return h.On(HookAll, priority, fn)
}

// SetLogger sets where panics of hooks are logged (nil: the standard logger).
func (h *Hooks) SetLogger(l *log.Logger) {
	h.mu.Lock()
	h.logger = l
	h.mu.Unlock()
}

// callbacks returns the functions an event of eventType gets, in call order.
func (h *Hooks) callbacks(eventType string) []func(HookEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if fns, ok := h.order[eventType]; ok {
		return fns
	}
	var chosen []hookEntry
	for _, e := range h.entries {
		if e.eventType == eventType || e.eventType == HookAll {
			chosen = append(chosen, e)
		}
	}
	sort.SliceStable(chosen, func(i, j int) bool {
		if chosen[i].priority != chosen[j].priority {
			return chosen[i].priority > chosen[j].priority
		}
		return chosen[i].seq < chosen[j].seq
	})
	fns := make([]func(HookEvent), len(chosen))
	for i, e := range chosen {
		fns[i] = e.fn
	}
	if h.order == nil {
		h.order = make(map[string][]func(HookEvent))
	}
	h.order[eventType] = fns
	return fns
}

// Name is the plugin's name.
func (h *Hooks) Name() string { return h.name }

// ID is the plugin's id while loaded, else 0.
func (h *Hooks) ID() PluginID { return PluginID(h.id.Load()) }

// Loaded reports whether the hooks are loaded (between Load and Close).
func (h *Hooks) Loaded() bool { return h.ID() != 0 }

// Errors is how many hook calls panicked (each recovered and logged; plus lines that could not be
// decoded, which the library never sends), since NewHooks.
func (h *Hooks) Errors() uint64 { return h.errors.Load() }

// LastError is the latest panic of a hook (as an error), or nil.
func (h *Hooks) LastError() error {
	if e, ok := h.lastError.Load().(hookError); ok {
		return e.err
	}
	return nil
}

// Events is how many events went through the hooks, since NewHooks.
func (h *Hooks) Events() uint64 { return h.events.Load() }

// Stats reads the plugin's statistics (PluginStats): after FlushEvents, Emitted == Delivered +
// Dropped() + Queued. ErrNotFound when not loaded.
func (h *Hooks) Stats() (PluginStatistics, error) {
	id := h.ID()
	if id == 0 {
		return PluginStatistics{}, &Error{Code: StatusNotFound, Message: fmt.Sprintf("hooks %q are not loaded", h.name)}
	}
	return PluginStats(id)
}

// Load loads the hooks with the default config (LoadWithConfig("")).
func (h *Hooks) Load() error { return h.LoadWithConfig("") }

// LoadWithConfig loads the hooks as an in-process plugin and starts its thread. configJSON ("":
// {}) takes the host's keys: "queue_capacity", "drain_timeout_ms", "health_interval_ms",
// "max_batch_events". Errors: ErrPlugin (a plugin of this name is loaded, a bad name),
// ErrInvalidArgument (bad config, NUL byte, loaded already), ErrLimit (MaxPlugins loaded).
func (h *Hooks) LoadWithConfig(configJSON string) error {
	var p packed
	p.str("hooks name", h.name)
	p.str("hooks config", configJSON)
	if p.err != nil {
		return p.err
	}
	h.life.Lock()
	defer h.life.Unlock()
	if id := h.id.Load(); id != 0 {
		return invalidf("hooks %q are loaded already (plugin %d)", h.name, id)
	}
	if h.table != nil {
		return &Error{Code: StatusPlugin, Message: fmt.Sprintf("hooks %q could not be unloaded; make new ones", h.name)}
	}
	name := (*C.char)(unsafe.Pointer(p.ptr()))
	table := C.vtgo_hooks_table_new(name)
	if table == nil {
		return &Error{Code: StatusInternal, Message: "no memory for the hooks' plugin table"}
	}
	var config *C.char
	if configJSON != "" {
		config = C.vtgo_next(name)
	}
	handle := hookRegistry.add(h)
	h.stopped.Store(false)
	hookLoading.Lock() // init finds the handle in hookLoading.handle
	hookLoading.handle = handle
	r := C.vtgo_hooks_load(table, config)
	hookLoading.handle = 0
	hookLoading.Unlock()
	if r.err != nil {
		hookRegistry.remove(handle)
		C.free(unsafe.Pointer(table))
		return errorOf(r.err)
	}
	h.handle, h.table = handle, table
	h.id.Store(uint64(r.value))
	return nil
}

// Close unloads the hooks: no new events reach them; those queued are still delivered (up to the
// config's "drain_timeout_ms"), then the thread stops. Calling it again does nothing. ErrPlugin:
// the thread did not stop in time (the hooks are unloaded all the same and ignore anything later).
// ErrInvalidArgument: called from one of these hooks (unload would wait for the hook's own thread).
func (h *Hooks) Close() error {
	if t := h.thread.Load(); t != 0 && uintptr(C.vtgo_hooks_self()) == t {
		return invalidf("a hook cannot close its own hooks %q (unload waits for the thread the hook runs on)", h.name)
	}
	h.life.Lock()
	defer h.life.Unlock()
	id := PluginID(h.id.Swap(0))
	if id == 0 {
		return nil
	}
	err := UnloadPlugin(id)
	h.stopped.Store(true)
	h.thread.Store(0) // that thread has ended: its id may be reused by another
	if errors.Is(err, ErrPlugin) {
		return err // its thread may still call: the table and the handle stay (never freed)
	}
	hookRegistry.remove(h.handle)
	C.free(unsafe.Pointer(h.table))
	h.handle, h.table = 0, nil
	if errors.Is(err, ErrNotFound) {
		return nil // unloaded already (UnloadPlugin(h.ID()), or a forked child)
	}
	return err
}

// ---- the plugin's side --------------------------------------------------------------------------

// hookHandles maps the handles in the plugins' state pointers to their Hooks.
type hookHandles struct {
	sync.RWMutex
	next  uintptr
	hooks map[uintptr]*Hooks
}

var hookRegistry = hookHandles{hooks: map[uintptr]*Hooks{}}

// hookLoading passes the handle of the Hooks being loaded to the table's init, which runs inside
// vt_load_plugin_table (on the loading thread, before it returns).
var hookLoading struct {
	sync.Mutex
	handle uintptr
}

func (r *hookHandles) add(h *Hooks) uintptr {
	r.Lock()
	defer r.Unlock()
	r.next++
	r.hooks[r.next] = h
	return r.next
}

func (r *hookHandles) remove(handle uintptr) {
	r.Lock()
	delete(r.hooks, handle)
	r.Unlock()
}

func hooksOf(handle C.uintptr_t) *Hooks {
	hookRegistry.RLock()
	defer hookRegistry.RUnlock()
	return hookRegistry.hooks[uintptr(handle)]
}

//export vtgoHooksInit
func vtgoHooksInit() C.uintptr_t {
	return C.uintptr_t(hookLoading.handle) // hookLoading is locked by LoadWithConfig, which calls us
}

//export vtgoHooksWrite
func vtgoHooksWrite(handle C.uintptr_t, data *C.char, n C.size_t, thread C.uintptr_t) C.int32_t {
	h := hooksOf(handle)
	if h == nil || h.stopped.Load() || n == 0 {
		return C.int32_t(C.VT_SINK_OK)
	}
	h.thread.Store(uintptr(thread))
	batch := C.GoBytes(unsafe.Pointer(data), C.int(n))
	for len(batch) > 0 {
		line := batch
		if i := bytes.IndexByte(batch, '\n'); i >= 0 {
			line, batch = batch[:i:i], batch[i+1:]
		} else {
			batch = nil
		}
		if len(line) == 0 {
			continue
		}
		var e HookEvent
		if err := json.Unmarshal(line, &e); err != nil {
			h.failed(fmt.Errorf("voicetelemetry hooks %q: an event that is not JSON (%v): %.200s", h.name, err, line))
			continue
		}
		e.Line = line
		h.events.Add(1)
		for _, fn := range h.callbacks(e.EventType) {
			h.call(fn, e)
		}
	}
	return C.int32_t(C.VT_SINK_OK)
}

//export vtgoHooksShutdown
func vtgoHooksShutdown(handle C.uintptr_t) {
	if h := hooksOf(handle); h != nil {
		h.stopped.Store(true)
	}
}

// call runs one hook; a panic is recovered, counted and logged (never unwinds into C).
func (h *Hooks) call(fn func(HookEvent), e HookEvent) {
	defer func() {
		if r := recover(); r != nil {
			h.failed(fmt.Errorf("voicetelemetry hooks %q: a hook on %s panicked: %v", h.name, e.EventType, r))
		}
	}()
	fn(e)
}

// hookError wraps the errors kept in Hooks.lastError (an atomic.Value wants one concrete type).
type hookError struct{ err error }

func (h *Hooks) failed(err error) {
	h.errors.Add(1)
	h.lastError.Store(hookError{err})
	h.mu.Lock()
	l := h.logger
	h.mu.Unlock()
	if l == nil {
		l = log.Default()
	}
	l.Print(err)
}
