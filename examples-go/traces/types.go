package traces

import (
	"database/sql"
	"encoding/json"
	"time"
)

// SessionInfo is a row of the sessions table. Times: *Us on the session's clock (microseconds),
// *UnixUs on the wall clock (microseconds since the Unix epoch); nil when not known. Cost*: the
// final snapshot's cost (docs/cost.md) in integer micro-units of CostCurrency, CostMicros keyed by
// SessionCostParts; nil when the session was never priced or has not ended.
type SessionInfo struct {
	SessionID        string
	Labels           map[string]string
	Metadata         json.RawMessage
	TextPolicy       *string
	Clock            *string // "monotonic" or "media": the clock of the *Us times
	TraceID          *string // the session's OpenTelemetry trace id
	StartUs          *int64
	StartUnixUs      *int64
	EndUs            *int64
	EndUnixUs        *int64
	UptimeSecs       *float64
	TurnCount        *int64
	TurnsInterrupted *int64
	Interruptions    *int64
	TokensTotal      *int64

	CostCurrency        *string
	CostTotalMicros     *int64
	CostMicros          map[string]*int64
	CostUnpricedCharges *int64
}

// Started is the session's start on the wall clock (UTC), if the store knows it.
func (s *SessionInfo) Started() (time.Time, bool) {
	if s.StartUnixUs == nil {
		return time.Time{}, false
	}
	return time.UnixMicro(*s.StartUnixUs).UTC(), true
}

// SessionTrace is a whole session (the seed's SessionTrace): the steps hold their turn, messages,
// events and event rewards; the flat lists hold every row of the session, ordered by time.
type SessionTrace struct {
	SessionInfo
	FinalSnapshot  json.RawMessage
	Steps          []*Step
	Turns          []*Turn
	Messages       []*Message
	Events         []*Event
	OutcomeRewards []*OutcomeReward
	EventRewards   []*EventReward
}

// Step returns the step with this id, or nil.
func (t *SessionTrace) Step(id string) *Step {
	for _, s := range t.Steps {
		if s.StepID == id {
			return s
		}
	}
	return nil
}

// Step is a step (the seed's timestep): a turn ("turn-N", kind "turn") or an engine-defined step
// (kind "engine").
type Step struct {
	StepID       string
	Kind         string
	TurnNumber   *int64
	Metadata     json.RawMessage
	StartUs      *int64
	StartUnixUs  *int64
	EndUs        *int64
	EndUnixUs    *int64
	Turn         *Turn
	Messages     []*Message
	Events       []*Event
	EventRewards []*EventReward
}

// Turn is a turn record's headline columns; Record is the whole record (docs/turn-schema.md) and
// Columns every column of its row by name. Cost*: the turn's cost (docs/cost.md) in integer
// micro-units of CostCurrency, CostMicros keyed by TurnCostParts; nil when no price table priced it.
type Turn struct {
	SessionID   string
	TurnNumber  int64
	StepID      string
	Outcome     *string
	Interrupted bool
	StartNs     *int64
	EndNs       *int64
	StartUnixUs *int64
	EndUnixUs   *int64
	E2ENs       *int64
	BreakdownNs map[string]*int64 // keyed by BreakdownParts
	LLMProvider *string
	LLMModel    *string
	Columns     map[string]any
	Record      json.RawMessage
	ToolCalls   []*ToolCall

	CostCurrency        *string
	CostTotalMicros     *int64
	CostMicros          map[string]*int64
	CostUnpricedCharges *int64
}

// ToolCall is a tool call of a turn record.
type ToolCall struct {
	TurnNumber int64
	StepID     string
	Idx        int64
	Name       *string
	Kind       *string
	OK         *bool
	StartNs    *int64
	EndNs      *int64
	DurationNs *int64
}

// Message is a message of a step. Content is the text (content_type "text"), the JSON text
// (content_type "json"), or nil when the session's text policy redacted it.
type Message struct {
	ID          int64
	EventID     *int64
	StepID      *string
	Role        string
	ContentType *string
	Content     *string
	Chars       *int64
	Redacted    bool
	Truncated   bool
	Metadata    json.RawMessage
	TUs         *int64
	UnixUs      *int64
}

// Event is a row of the events table: every event the sink received.
type Event struct {
	ID            int64
	EventType     string
	StepID        *string
	TurnID        *string
	CorrelationID *string
	TUs           *int64
	UnixUs        *int64
	Data          json.RawMessage
}

// OutcomeReward is a session-level reward (may arrive after the session ended).
type OutcomeReward struct {
	ID                int64
	EventID           *int64
	ObjectiveKey      string
	TotalReward       *float64
	AchievementsCount *int64
	TotalSteps        *int64
	Annotation        json.RawMessage
	TUs               *int64
	UnixUs            *int64
}

// EventReward is a reward attached to a step.
type EventReward struct {
	ID           int64
	EventID      *int64
	StepID       *string
	ObjectiveKey string
	Value        *float64
	RewardType   *string
	Source       *string
	Annotation   json.RawMessage
	TUs          *int64
	UnixUs       *int64
}

// ---- nullable columns ------------------------------------------------------------------------

type nInt struct{ sql.NullInt64 }
type nStr struct{ sql.NullString }
type nReal struct{ sql.NullFloat64 }

func (n nInt) p() *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func (n nInt) flag() *bool {
	if !n.Valid {
		return nil
	}
	v := n.Int64 != 0
	return &v
}

func (n nStr) p() *string {
	if !n.Valid {
		return nil
	}
	v := n.String
	return &v
}

// raw is a JSON column: nil when NULL.
func (n nStr) raw() json.RawMessage {
	if !n.Valid {
		return nil
	}
	return json.RawMessage(n.String)
}

func (n nReal) p() *float64 {
	if !n.Valid {
		return nil
	}
	v := n.Float64
	return &v
}
