package voicetelemetry

// Header section "Prices and costs" (../docs/cost.md): the process's price table, and the types of
// the cost fields of turn records (Turn.Cost) and snapshots (Snapshot.Cost, Snapshot.UsageByModel).

/*
#include "vtgo.h"

static inline vtgo_err *vtgo_set_prices(const char *json) { return vtgo_check(vt_set_prices(json)); }

static inline vtgo_result vtgo_prices_json(char *buf, size_t cap) {
    size_t len = 0;
    vt_status st = vt_prices_json(buf, cap, &len);
    return vtgo_result_of(st, (uint64_t)len);
}
*/
import "C"

import (
	"encoding/json"
	"errors"
	"strconv"
	"unsafe"
)

// MaxPriceEntries is VT_MAX_PRICE_ENTRIES; MaxPricesJSONBytes is VT_MAX_PRICES_JSON_BYTES.
const (
	MaxPriceEntries    = C.VT_MAX_PRICE_ENTRIES
	MaxPricesJSONBytes = C.VT_MAX_PRICES_JSON_BYTES
)

// PriceTable is a price table: the currency of every amount, and prices by stage, provider and
// model. Prices are json.Number so that their decimal digits reach the library as written (it
// reads "0.15" exactly; write them with Price or as json.Number("0.15")).
type PriceTable struct {
	Currency    string       `json:"currency"`
	Description string       `json:"description,omitempty"`
	Prices      []PriceEntry `json:"prices"`
}

// PriceEntry prices one stage ("llm", "realtime", "stt", "tts" or "transport") of one provider
// (as TurnProvider names it; for transport, the session's transport label) and model ("*", or ""
// when writing: any model of the provider). Token prices are per million tokens (any stage but
// transport; Input and Output go together); PerMinute / PerSecond of audio (stt) or PerMinute of
// session (transport); PerMillionCharacters (tts). An empty price is no price.
type PriceEntry struct {
	Stage                string      `json:"stage"`
	Provider             string      `json:"provider"`
	Model                string      `json:"model,omitempty"`
	Input                json.Number `json:"input,omitempty"`
	CachedInput          json.Number `json:"cached_input,omitempty"`
	Output               json.Number `json:"output,omitempty"`
	Reasoning            json.Number `json:"reasoning,omitempty"`
	InputAudio           json.Number `json:"input_audio,omitempty"`
	InputImage           json.Number `json:"input_image,omitempty"`
	OutputAudio          json.Number `json:"output_audio,omitempty"`
	PerMinute            json.Number `json:"per_minute,omitempty"`
	PerSecond            json.Number `json:"per_second,omitempty"`
	PerMillionCharacters json.Number `json:"per_million_characters,omitempty"`
}

// Price is v's shortest decimal text as a price (Price(0.15) is "0.15").
func Price(v float64) json.Number { return json.Number(strconv.FormatFloat(v, 'f', -1, 64)) }

// SetPrices replaces the process's price table (nil clears it). The library validates it:
// ErrInvalidArgument names the path of the bad value ("$.prices[2].input"); ErrOrder: another
// currency while sessions are open; ErrLimit: no room for a new provider or model name. On error
// the active table is unchanged.
func SetPrices(t *PriceTable) error {
	if t == nil {
		return SetPricesJSON(nil)
	}
	text, err := json.Marshal(t)
	if err != nil {
		return invalidf("price table: %v", err)
	}
	return SetPricesJSON(text)
}

// SetPricesJSON is SetPrices with the table as JSON text (nil or empty: clear).
func SetPricesJSON(text []byte) error {
	var arg *C.char
	if len(text) > 0 {
		var p packed
		p.bytes("price table", text)
		if p.err != nil {
			return p.err
		}
		arg = (*C.char)(unsafe.Pointer(p.ptr()))
	}
	if e := C.vtgo_set_prices(arg); e != nil {
		return errorOf(e)
	}
	return nil
}

// Prices returns the active price table as the library normalised it (entries sorted, every model
// spelled out, prices as exact decimals); nil when no table is active.
func Prices() (*PriceTable, error) {
	text, err := PricesJSON()
	if err != nil {
		return nil, err
	}
	var t *PriceTable
	if err := json.Unmarshal(text, &t); err != nil {
		return nil, &Error{Code: StatusInternal, Message: "price table JSON does not parse: " + err.Error()}
	}
	return t, nil
}

// PricesJSON returns the active price table as the library's JSON text (`null` when none).
func PricesJSON() ([]byte, error) {
	size := 4096
	for {
		buf := make([]byte, size)
		r := C.vtgo_prices_json((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
		if r.err == nil {
			return buf[:int(r.value):int(r.value)], nil
		}
		if err := errorOf(r.err); !errors.Is(err, ErrBufferTooSmall) {
			return nil, err
		}
		size = int(r.value) + 1 // the table changes only through SetPrices: grow to what it needs
	}
}

// TurnCost is a turn record's cost, in integer micro-units (1e-6) of Currency, each rounded half up
// from the exact sum; Unpriced lists up to 4 "stage:provider/model" keys of charges that had no price.
type TurnCost struct {
	Currency        string   `json:"currency"`
	STTMicros       uint64   `json:"stt_micros"`
	LLMMicros       uint64   `json:"llm_micros"`
	TTSMicros       uint64   `json:"tts_micros"`
	RealtimeMicros  uint64   `json:"realtime_micros"`
	TotalMicros     uint64   `json:"total_micros"`
	UnpricedCharges uint64   `json:"unpriced_charges"`
	Unpriced        []string `json:"unpriced"`
}

// SessionCost is a snapshot's cost (TransportMicros is a live estimate until the session ends).
type SessionCost struct {
	Currency        string `json:"currency"`
	STTMicros       uint64 `json:"stt_micros"`
	LLMMicros       uint64 `json:"llm_micros"`
	TTSMicros       uint64 `json:"tts_micros"`
	RealtimeMicros  uint64 `json:"realtime_micros"`
	TransportMicros uint64 `json:"transport_micros"`
	TotalMicros     uint64 `json:"total_micros"`
	UnpricedCharges uint64 `json:"unpriced_charges"`
}

// ModelUsage is one row of a snapshot's usage_by_model: the usage and cost of one stage, provider
// and model (nil: not reported; "other" for the row of charges past the session's 8 rows). Tokens
// holds the token types with a non-zero count, keyed as TokenUsage's JSON names them.
type ModelUsage struct {
	Stage           string            `json:"stage"`
	Provider        *string           `json:"provider"`
	Model           *string           `json:"model"`
	Reports         uint64            `json:"reports"`
	Turns           uint64            `json:"turns"`
	Tokens          map[string]uint64 `json:"tokens"`
	AudioDurationNs uint64            `json:"audio_duration_ns"`
	Characters      uint64            `json:"characters"`
	CostMicros      uint64            `json:"cost_micros"`
	UnpricedCharges uint64            `json:"unpriced_charges"`
}
