// Package traces reads back the trace store that the SQLite sink plugin (sqlite_sink.so) writes:
// sessions, steps, turns, messages, tool calls, events and rewards in one SQLite file (schema:
// docs/trace-schema.md). It uses database/sql with github.com/mattn/go-sqlite3 and does not need
// the native voicetelemetry library.
//
//	store, err := traces.Open("calls.db")
//	if err != nil { ... }
//	defer store.Close()
//	list, _ := store.Sessions(traces.Filter{Labels: map[string]string{"transport": "sip"}, Limit: 10})
//	trace, _ := store.GetSession("call-42") // nil when the store has no such session
//	rows, _ := store.Query("SELECT llm_provider, count(*) AS n FROM turns GROUP BY 1")
//
// The plugin may write while you read (WAL mode): a reader sees whole batches only.
package traces
