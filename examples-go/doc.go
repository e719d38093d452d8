// Package voicetelemetry is the Go binding (cgo) of libvoicetelemetry, the telemetry core for
// real-time voice agents: per-session latencies, turns, audio and token counts, and a process-wide
// Prometheus registry.
//
// Open a Session per conversation, record what happens on it (each record method is one cgo call;
// per-frame audio can go through RecordBatch at a fraction of that), read it back with
// Session.Snapshot, and serve every metric of the process with MetricsHandler. Errors are *Error
// values carrying the library's status and message; compare them with errors.Is against
// ErrInvalidArgument, ErrBadHandle, ... Every function is safe for concurrent use.
//
// The library's state is process-global (one metric registry, one session table).
package voicetelemetry
