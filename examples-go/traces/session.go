package traces

import (
	"database/sql"
	"encoding/json"
)

type scanner interface{ Scan(dest ...any) error }

// scanSession reads sessionColumns (and final_snapshot when withSnapshot).
func scanSession(r scanner, withSnapshot bool) (*SessionInfo, json.RawMessage, error) {
	var info SessionInfo
	var labels, metadata, policy, clock, traceID, snapshot, currency nStr
	var start, startUnix, end, endUnix, turns, interrupted, interruptions, tokens, total, unpriced nInt
	var uptime nReal
	parts := make([]nInt, len(SessionCostParts))
	dest := []any{&info.SessionID, &labels, &metadata, &policy, &clock, &traceID, &start, &startUnix, &end, &endUnix, &uptime,
		&turns, &interrupted, &interruptions, &tokens, &currency, &total, &unpriced}
	for i := range parts {
		dest = append(dest, &parts[i])
	}
	if withSnapshot {
		dest = append(dest, &snapshot)
	}
	if err := r.Scan(dest...); err != nil {
		return nil, nil, err
	}
	info.Labels = map[string]string{}
	if labels.Valid {
		if err := json.Unmarshal([]byte(labels.String), &info.Labels); err != nil {
			return nil, nil, err
		}
	}
	info.Metadata, info.TextPolicy, info.Clock, info.TraceID = metadata.raw(), policy.p(), clock.p(), traceID.p()
	info.StartUs, info.StartUnixUs, info.EndUs, info.EndUnixUs = start.p(), startUnix.p(), end.p(), endUnix.p()
	info.UptimeSecs, info.TurnCount, info.TurnsInterrupted = uptime.p(), turns.p(), interrupted.p()
	info.Interruptions, info.TokensTotal = interruptions.p(), tokens.p()
	info.CostCurrency, info.CostTotalMicros, info.CostUnpricedCharges = currency.p(), total.p(), unpriced.p()
	info.CostMicros = map[string]*int64{}
	for i, p := range SessionCostParts {
		info.CostMicros[p] = parts[i].p()
	}
	return &info, snapshot.raw(), nil
}

// GetSession reads a whole session; nil (and no error) when the store has no row of it.
func (s *Store) GetSession(id string) (*SessionTrace, error) {
	row := s.db.QueryRow("SELECT "+sessionColumns+", final_snapshot FROM sessions WHERE session_id = ?", id)
	info, snapshot, err := scanSession(row, true)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t := &SessionTrace{SessionInfo: *info, FinalSnapshot: snapshot}
	for _, load := range []func(*SessionTrace) error{s.loadEvents, s.loadMessages, s.loadTurns, s.loadRewards,
		s.loadSteps} {
		if err := load(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// each runs a query of the session and calls scan for each row.
func (s *Store) each(query, id string, scan func(scanner) error) error {
	rows, err := s.db.Query(query, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *Store) loadEvents(t *SessionTrace) error {
	return s.each("SELECT id, event_type, step_id, turn_id, correlation_id, t_us, unix_us, data FROM events"+
		" WHERE session_id = ? ORDER BY t_us, id", t.SessionID, func(r scanner) error {
		var e Event
		var step, turn, corr, data nStr
		var tUs, unix nInt
		if err := r.Scan(&e.ID, &e.EventType, &step, &turn, &corr, &tUs, &unix, &data); err != nil {
			return err
		}
		e.StepID, e.TurnID, e.CorrelationID, e.TUs, e.UnixUs, e.Data = step.p(), turn.p(), corr.p(), tUs.p(),
			unix.p(), data.raw()
		t.Events = append(t.Events, &e)
		return nil
	})
}

func (s *Store) loadMessages(t *SessionTrace) error {
	return s.each("SELECT id, event_id, step_id, role, content_type, content, chars, redacted, truncated,"+
		" metadata, t_us, unix_us FROM messages WHERE session_id = ? ORDER BY t_us, id", t.SessionID,
		func(r scanner) error {
			var m Message
			var event, chars, redacted, truncated, tUs, unix nInt
			var step, ctype, content, meta nStr
			if err := r.Scan(&m.ID, &event, &step, &m.Role, &ctype, &content, &chars, &redacted, &truncated, &meta,
				&tUs, &unix); err != nil {
				return err
			}
			m.EventID, m.StepID, m.ContentType, m.Content, m.Chars = event.p(), step.p(), ctype.p(), content.p(),
				chars.p()
			m.Redacted, m.Truncated = redacted.Int64 != 0, truncated.Int64 != 0
			m.Metadata, m.TUs, m.UnixUs = meta.raw(), tUs.p(), unix.p()
			t.Messages = append(t.Messages, &m)
			return nil
		})
}

func (s *Store) loadToolCalls(id string) (map[int64][]*ToolCall, error) {
	calls := map[int64][]*ToolCall{}
	err := s.each("SELECT turn_number, step_id, idx, name, kind, ok, start_ns, end_ns, duration_ns FROM tool_calls"+
		" WHERE session_id = ? ORDER BY turn_number, idx", id, func(r scanner) error {
		var c ToolCall
		var name, kind nStr
		var ok, start, end, dur nInt
		if err := r.Scan(&c.TurnNumber, &c.StepID, &c.Idx, &name, &kind, &ok, &start, &end, &dur); err != nil {
			return err
		}
		c.Name, c.Kind, c.OK, c.StartNs, c.EndNs, c.DurationNs = name.p(), kind.p(), ok.flag(), start.p(), end.p(),
			dur.p()
		calls[c.TurnNumber] = append(calls[c.TurnNumber], &c)
		return nil
	})
	return calls, err
}

func (s *Store) loadTurns(t *SessionTrace) error {
	calls, err := s.loadToolCalls(t.SessionID)
	if err != nil {
		return err
	}
	rows, err := s.db.Query("SELECT * FROM turns WHERE session_id = ? ORDER BY turn_number", t.SessionID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanMap(rows)
		if err != nil {
			return err
		}
		turn := turnOf(c)
		turn.ToolCalls = calls[turn.TurnNumber]
		t.Turns = append(t.Turns, turn)
	}
	return rows.Err()
}

func intOf(v any) *int64 {
	if i, ok := v.(int64); ok {
		return &i
	}
	return nil
}

func strOf(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}

func turnOf(c map[string]any) *Turn {
	t := &Turn{Columns: c, BreakdownNs: map[string]*int64{}, CostMicros: map[string]*int64{}}
	t.SessionID, _ = c["session_id"].(string)
	t.TurnNumber, _ = c["turn_number"].(int64)
	t.StepID, _ = c["step_id"].(string)
	t.Outcome, t.LLMProvider, t.LLMModel = strOf(c["outcome"]), strOf(c["llm_provider"]), strOf(c["llm_model"])
	t.Interrupted = c["interrupted"] == int64(1)
	t.StartNs, t.EndNs, t.E2ENs = intOf(c["start_ns"]), intOf(c["end_ns"]), intOf(c["e2e_ns"])
	t.StartUnixUs, t.EndUnixUs = intOf(c["start_unix_us"]), intOf(c["end_unix_us"])
	for _, p := range BreakdownParts {
		t.BreakdownNs[p] = intOf(c["e2e_"+p+"_ns"])
	}
	t.CostCurrency, t.CostTotalMicros = strOf(c["cost_currency"]), intOf(c["cost_total_micros"])
	t.CostUnpricedCharges = intOf(c["cost_unpriced_charges"])
	for _, p := range TurnCostParts {
		t.CostMicros[p] = intOf(c["cost_"+p+"_micros"])
	}
	if r, ok := c["record"].(string); ok {
		t.Record = json.RawMessage(r)
	}
	delete(c, "record")
	return t
}

func (s *Store) loadRewards(t *SessionTrace) error {
	err := s.each("SELECT id, event_id, objective_key, total_reward, achievements_count, total_steps, annotation,"+
		" t_us, unix_us FROM outcome_rewards WHERE session_id = ? ORDER BY t_us, id", t.SessionID,
		func(r scanner) error {
			var w OutcomeReward
			var event, ach, steps, tUs, unix nInt
			var total nReal
			var ann nStr
			if err := r.Scan(&w.ID, &event, &w.ObjectiveKey, &total, &ach, &steps, &ann, &tUs, &unix); err != nil {
				return err
			}
			w.EventID, w.TotalReward, w.AchievementsCount, w.TotalSteps = event.p(), total.p(), ach.p(), steps.p()
			w.Annotation, w.TUs, w.UnixUs = ann.raw(), tUs.p(), unix.p()
			t.OutcomeRewards = append(t.OutcomeRewards, &w)
			return nil
		})
	if err != nil {
		return err
	}
	return s.each("SELECT id, event_id, step_id, objective_key, value, reward_type, source, annotation, t_us,"+
		" unix_us FROM event_rewards WHERE session_id = ? ORDER BY t_us, id", t.SessionID, func(r scanner) error {
		var w EventReward
		var event, tUs, unix nInt
		var value nReal
		var step, rtype, source, ann nStr
		if err := r.Scan(&w.ID, &event, &step, &w.ObjectiveKey, &value, &rtype, &source, &ann, &tUs, &unix); err != nil {
			return err
		}
		w.EventID, w.StepID, w.Value, w.RewardType, w.Source = event.p(), step.p(), value.p(), rtype.p(), source.p()
		w.Annotation, w.TUs, w.UnixUs = ann.raw(), tUs.p(), unix.p()
		t.EventRewards = append(t.EventRewards, &w)
		return nil
	})
}

func (s *Store) loadSteps(t *SessionTrace) error {
	err := s.each("SELECT step_id, kind, turn_number, metadata, start_us, start_unix_us, end_us, end_unix_us"+
		" FROM steps WHERE session_id = ? ORDER BY start_us IS NULL, start_us, id", t.SessionID,
		func(r scanner) error {
			var st Step
			var turn, start, startUnix, end, endUnix nInt
			var meta nStr
			if err := r.Scan(&st.StepID, &st.Kind, &turn, &meta, &start, &startUnix, &end, &endUnix); err != nil {
				return err
			}
			st.TurnNumber, st.Metadata = turn.p(), meta.raw()
			st.StartUs, st.StartUnixUs, st.EndUs, st.EndUnixUs = start.p(), startUnix.p(), end.p(), endUnix.p()
			t.Steps = append(t.Steps, &st)
			return nil
		})
	if err != nil {
		return err
	}
	attach(t)
	return nil
}

// attach hangs each turn, message, event and event reward on its step.
func attach(t *SessionTrace) {
	for _, u := range t.Turns {
		if st := t.Step(u.StepID); st != nil {
			st.Turn = u
		}
	}
	for _, m := range t.Messages {
		if m.StepID != nil {
			if st := t.Step(*m.StepID); st != nil {
				st.Messages = append(st.Messages, m)
			}
		}
	}
	for _, e := range t.Events {
		if e.StepID != nil {
			if st := t.Step(*e.StepID); st != nil {
				st.Events = append(st.Events, e)
			}
		}
	}
	for _, w := range t.EventRewards {
		if w.StepID != nil {
			if st := t.Step(*w.StepID); st != nil {
				st.EventRewards = append(st.EventRewards, w)
			}
		}
	}
}
