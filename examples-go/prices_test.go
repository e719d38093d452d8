package voicetelemetry

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The cost scenario of ../tests/scenarios/costs (the file tests/c/test_costs.c and
// examples-python/tests/test_costs.py replay), through the Go API; every `expect last` also checks
// that the typed Turn (its Cost included) round-trips to the library's JSON, and every `expect
// snapshot` that the typed Snapshot's cost fields do.
func TestCostScenario(t *testing.T) {
	defer func() { mustOK(t, "SetPrices(nil)", SetPrices(nil)) }()
	path := "../tests/scenarios/costs/scripted_call.txt"
	lines, numbers := readLines(t, path)
	var s *Session
	for i, line := range lines {
		where := fmt.Sprintf("scripted_call.txt:%d: %s", numbers[i], line)
		f := strings.Fields(line)
		if f[0] == "expect" || f[0] == "reject" {
			text, needle := costText(t, s, f[1], line[len(f[0])+len(f[1])+2:], where)
			if strings.Contains(text, needle) != (f[0] == "expect") {
				t.Errorf("%s\n    got: %.2000s", where, text)
			}
			continue
		}
		var err error
		if f[0] == "config" {
			s, err = NewSession(WithSessionID(f[1]), WithLabelPairs("transport", f[2]), WithStartTime(costU64(t, f[3])))
		} else {
			err = costStep(t, s, f, line, where)
		}
		if err != nil {
			t.Errorf("%s -> %v", where, err)
		}
	}
}

func costU64(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, 64)
	mustOK(t, "number "+s, err)
	return v
}

// costStep applies one call line other than config: prices and end here, the rest as in the
// turn scenarios.
func costStep(t *testing.T, s *Session, f []string, line, where string) error {
	switch f[0] {
	case "prices":
		text, err := os.ReadFile(filepath.Join("..", f[1]))
		mustOK(t, "read "+f[1], err)
		return SetPricesJSON(text)
	case "end":
		return s.EndAt(costU64(t, f[1]))
	}
	r := turnScenario{t: t, s: s}
	return r.step(f, line, where)
}

// costText is the text an expectation names (checking the typed form on the way), and its needle.
func costText(t *testing.T, s *Session, target, rest, where string) (string, string) {
	switch target {
	case "last":
		turn, err := s.LastTurn()
		mustOK(t, where, err)
		sameJSON(t, where, turn, turn.Raw)
		return string(turn.Raw), rest
	case "prom":
		text, err := PromText()
		mustOK(t, where, err)
		return text, rest
	}
	at, needle, _ := strings.Cut(rest, " ")
	snap, err := s.Snapshot(costU64(t, at))
	mustOK(t, where, err)
	var raw struct {
		Cost     json.RawMessage `json:"cost"`
		Usage    json.RawMessage `json:"usage_by_model"`
		Overflow json.RawMessage `json:"usage_by_model_overflow"`
	}
	mustOK(t, where, json.Unmarshal(snap.Raw, &raw))
	sameJSON(t, where+" (cost)", snap.Cost, raw.Cost)
	sameJSON(t, where+" (usage_by_model)", snap.UsageByModel, raw.Usage)
	sameJSON(t, where+" (overflow)", snap.UsageByModelOverflow, raw.Overflow)
	return string(snap.Raw), needle
}

func TestSetPricesErrorsAndRoundTrip(t *testing.T) {
	defer func() { mustOK(t, "SetPrices(nil)", SetPrices(nil)) }()
	table := &PriceTable{Currency: "USD", Description: "EXAMPLE", Prices: []PriceEntry{
		{Stage: "stt", Provider: "go-a", Model: "x", PerSecond: "1234567.123456789012"},
		{Stage: "llm", Provider: "go-b", Input: "0.000000000001", Output: Price(1e-5), Reasoning: Price(0)},
	}}
	mustOK(t, "SetPrices", SetPrices(table))
	got, err := Prices()
	mustOK(t, "Prices", err)
	want := &PriceTable{Currency: "USD", Description: "EXAMPLE", Prices: []PriceEntry{
		{Stage: "llm", Provider: "go-b", Model: "*", Input: "0.000000000001", Output: "0.00001", Reasoning: "0"},
		{Stage: "stt", Provider: "go-a", Model: "x", PerSecond: "1234567.123456789012"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Prices() = %+v, want %+v", got, want)
	}

	bad := &PriceTable{Currency: "USD", Prices: []PriceEntry{{Stage: "tts", Provider: "go-t", PerMillionCharacters: "-1"}}}
	wantCode(t, "negative price", SetPrices(bad), ErrInvalidArgument,
		"price table: $.prices[0].per_million_characters is -1: a price must not be negative")
	wantCode(t, "duplicate key", SetPricesJSON([]byte(`{"currency":"USD","currency":"USD","prices":[]}`)),
		ErrInvalidArgument, `duplicate key "currency" at byte 18 (in $)`)
	wantCode(t, "NaN", SetPricesJSON([]byte(`{"currency":"USD","prices":[{"stage":"llm","provider":"a","input":NaN,"output":1}]}`)),
		ErrInvalidArgument, "unexpected character 'N'")
	wantCode(t, "NUL", SetPricesJSON([]byte("{\x00}")), ErrInvalidArgument, "NUL")
	wantCode(t, "not a number", SetPrices(&PriceTable{Currency: "USD", Prices: []PriceEntry{{Stage: "llm", Provider: "a", Input: "x"}}}),
		ErrInvalidArgument, "price table")
	s := mustSession(t)
	wantCode(t, "EUR while open", SetPrices(&PriceTable{Currency: "EUR", Prices: []PriceEntry{}}), ErrOrder,
		"its currency EUR differs from USD")
	mustOK(t, "Close", s.Close())
	again, err := Prices()
	mustOK(t, "Prices", err)
	if !reflect.DeepEqual(again, want) {
		t.Errorf("a refused table changed the active one: %+v", again)
	}
	mustOK(t, "SetPrices(nil)", SetPrices(nil))
	none, err := Prices()
	if err != nil || none != nil {
		t.Errorf("Prices() after clearing = %v, %v; want nil, nil", none, err)
	}
	raw, err := PricesJSON()
	if err != nil || string(raw) != "null" {
		t.Errorf("PricesJSON() after clearing = %q, %v", raw, err)
	}
}
