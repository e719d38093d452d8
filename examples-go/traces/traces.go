package traces

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" database/sql driver (cgo, system libsqlite3)
)

// SchemaVersion is the newest schema this package reads (PRAGMA user_version of the file).
const SchemaVersion = 3

// ApplicationID is PRAGMA application_id of a trace store ("vtTr").
const ApplicationID = 0x76745472

// BreakdownParts are the parts of a turn's end-to-end latency, in the order they happen
// (columns e2e_<part>_ns).
var BreakdownParts = []string{"stt", "eou", "llm_ttft", "tts_ttfb", "realtime", "remainder"}

// TurnCostParts are the stages of a turn's cost (columns cost_<part>_micros, keys of Turn.CostMicros).
var TurnCostParts = []string{"stt", "llm", "tts", "realtime"}

// SessionCostParts are the parts of a session's cost (columns cost_<part>_micros, keys of
// SessionInfo.CostMicros).
var SessionCostParts = append(append([]string{}, TurnCostParts...), "transport")

// sessionTables hold rows of a session: DeleteSession empties each of them.
var sessionTables = []string{"events", "messages", "tool_calls", "outcome_rewards", "event_rewards", "turns",
	"steps", "sessions"}

// Store is an open trace store. Its methods may be called from several goroutines.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens an existing trace store for reading and deleting. It fails when the file is missing,
// is not a trace store, or has a newer schema than this package knows.
func Open(path string) (*Store, error) {
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("traces: no trace store at %q", path)
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=rw&_busy_timeout=5000&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("traces: %q: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.check(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) check() error {
	var app, version int64
	if err := s.db.QueryRow("PRAGMA application_id").Scan(&app); err != nil {
		return fmt.Errorf("traces: %q is not an SQLite database (%v)", s.path, err)
	}
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("traces: %q: %v", s.path, err)
	}
	if app != ApplicationID {
		return fmt.Errorf("traces: %q is not a voicetelemetry trace store (application_id %d)", s.path, app)
	}
	if version > SchemaVersion {
		return fmt.Errorf("traces: %q has trace schema version %d, newer than this package's %d", s.path, version,
			SchemaVersion)
	}
	if version < SchemaVersion {
		return fmt.Errorf("traces: %q has trace schema version %d: load sqlite_sink.so on it once to migrate it to %d",
			s.path, version, SchemaVersion)
	}
	return nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Path is the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Query runs one SQL statement; its rows as maps from column name to value (int64, float64,
// string, []byte or nil).
func (s *Store) Query(query string, args ...any) ([]map[string]any, error) {
	rows, err := s.db.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		m, err := scanMap(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func scanMap(rows *sql.Rows) (map[string]any, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	m := make(map[string]any, len(cols))
	for i, c := range cols {
		if b, ok := vals[i].([]byte); ok {
			vals[i] = string(b)
		}
		m[c] = vals[i]
	}
	return m, nil
}

// Filter selects sessions: every label must have its value; Since/Until bound the start on the
// wall clock ([Since, Until); sessions whose start is unknown are left out by either); Limit > 0
// keeps the most recent that many.
type Filter struct {
	Labels       map[string]string
	Since, Until time.Time
	Limit        int
}

var sessionColumns = "session_id, labels, metadata, text_policy, clock, trace_id, start_us, start_unix_us, end_us, end_unix_us," +
	" uptime_secs, turn_count, turns_interrupted, interruptions, tokens_total, cost_currency, cost_total_micros," +
	" cost_unpriced_charges" + costColumns(SessionCostParts)

// costColumns lists the columns cost_<part>_micros, each after a comma.
func costColumns(parts []string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(", cost_" + p + "_micros")
	}
	return b.String()
}

// Sessions lists sessions, most recent first.
func (s *Store) Sessions(f Filter) ([]*SessionInfo, error) {
	var where []string
	var args []any
	for k, v := range f.Labels {
		where = append(where, "json_extract(labels, ?) = ?")
		args = append(args, `$."`+strings.ReplaceAll(k, `"`, `\"`)+`"`, v)
	}
	if !f.Since.IsZero() {
		where = append(where, "start_unix_us >= ?")
		args = append(args, f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		where = append(where, "start_unix_us < ?")
		args = append(args, f.Until.UnixMicro())
	}
	q := "SELECT " + sessionColumns + " FROM sessions"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY start_unix_us IS NULL, start_unix_us DESC, rowid DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*SessionInfo
	for rows.Next() {
		info, _, err := scanSession(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, rows.Err()
}

// DeleteSession deletes every row of the session from every table, in one transaction. It
// reports whether there was any.
func (s *Store) DeleteSession(id string) (bool, error) {
	tx, err := s.db.Begin()
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var n int64
	for _, t := range sessionTables {
		r, err := tx.Exec("DELETE FROM "+t+" WHERE session_id = ?", id)
		if err != nil {
			return false, err
		}
		k, _ := r.RowsAffected()
		n += k
	}
	return n > 0, tx.Commit()
}
