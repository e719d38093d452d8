package voicetelemetry

// Header section "Turn collector".
//
// A turn is one user utterance and the agent's answer to it. The library assembles turns from
// stage events (TurnMark and the other Turn* methods, plus the core record calls: RecordVADStart /
// RecordVADEnd = user speech START / END, RecordInterruption = barge-in, the first RecordAudioOut
// after a VAD end = agent speech START, RecordTurnComplete completes the turn) and keeps the last
// WithTurnHistory completed turns as JSON records (schema: ../docs/turn-schema.md), read back with
// LastTurn and TurnHistory.
//
// Like the record calls, each Turn* method is one cgo call on the success path (strings travel
// packed in one Go []byte, see pack.go) and the error message is copied on the failing call's own
// OS thread.

/*
#include "vtgo.h"

static inline vtgo_err *vtgo_turn_mark(vt_session s, uint32_t stage, uint32_t mark, uint64_t t_ns) {
    return vtgo_check(vt_turn_mark(s, stage, mark, t_ns));
}
static inline vtgo_err *vtgo_turn_value(vt_session s, uint32_t key, double value, uint64_t t_ns) {
    return vtgo_check(vt_turn_value(s, key, value, t_ns));
}
static inline vtgo_err *vtgo_turn_text(vt_session s, uint32_t kind, const char *text, uint64_t t_ns) {
    return vtgo_check(vt_turn_text(s, kind, text, t_ns));
}
static inline vtgo_err *vtgo_turn_usage(vt_session s, uint32_t stage, uint64_t t_ns, int64_t input,
                                        int64_t output, int64_t cached_input, int64_t reasoning,
                                        int64_t input_text, int64_t input_audio, int64_t input_image,
                                        int64_t output_text, int64_t output_audio) {
    vt_token_usage u;
    memset(&u, 0, sizeof u);
    u.struct_size = (uint32_t)sizeof u;
    u.input = input;
    u.output = output;
    u.cached_input = cached_input;
    u.reasoning = reasoning;
    u.input_text = input_text;
    u.input_audio = input_audio;
    u.input_image = input_image;
    u.output_text = output_text;
    u.output_audio = output_audio;
    return vtgo_check(vt_turn_usage(s, stage, &u, t_ns));
}
static inline vtgo_err *vtgo_turn_error(vt_session s, uint32_t source, uint64_t t_ns) {
    return vtgo_check(vt_turn_error(s, source, t_ns));
}
// packed: provider, model (NULL unless has_model).
static inline vtgo_err *vtgo_turn_provider(vt_session s, uint32_t stage, const char *packed,
                                           int has_model, uint64_t t_ns) {
    const char *model = vtgo_next(packed);
    return vtgo_check(vt_turn_provider(s, stage, packed, has_model ? model : NULL, t_ns));
}
// packed: from, to, reason (NULL unless has_reason).
static inline vtgo_err *vtgo_turn_fallback(vt_session s, uint32_t stage, uint32_t kind,
                                           const char *packed, int has_reason, uint64_t t_ns) {
    const char *to = vtgo_next(packed);
    const char *reason = vtgo_next(to);
    return vtgo_check(vt_turn_fallback(s, stage, kind, packed, to, has_reason ? reason : NULL, t_ns));
}
static inline vtgo_err *vtgo_turn_tool_call(vt_session s, uint32_t kind, const char *name,
                                            uint64_t start_t_ns, uint64_t end_t_ns, int32_t ok) {
    return vtgo_check(vt_turn_tool_call(s, kind, name, start_t_ns, end_t_ns, ok));
}
static inline vtgo_result vtgo_turn_last_json(vt_session s, char *buf, size_t cap) {
    size_t len = 0;
    vt_status st = vt_turn_last_json(s, buf, cap, &len);
    return vtgo_result_of(st, (uint64_t)len);
}
static inline vtgo_result vtgo_turn_history_json(vt_session s, size_t max_turns, char *buf,
                                                 size_t cap) {
    size_t len = 0;
    vt_status st = vt_turn_history_json(s, max_turns, buf, cap, &len);
    return vtgo_result_of(st, (uint64_t)len);
}
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"strings"
	"sync/atomic"
	"unsafe"
)

// Limits of the turn collector.
const (
	MaxTurnTextChars = int(C.VT_TURN_MAX_TEXT_CHARS) // longer texts are truncated whatever WithMaxTextChars says
	MaxTurnToolCalls = int(C.VT_TURN_MAX_TOOL_CALLS) // tool calls kept per turn (more are counted)
	MaxTurnFallbacks = int(C.VT_TURN_MAX_FALLBACKS)  // fallbacks kept per turn (more are counted)
	MaxTurnNameBytes = int(C.VT_TURN_MAX_NAME_BYTES) // longest provider, model, tool name or reason
)

// Stage is a stage of a turn (enum vt_turn_stage). The marks each stage accepts are listed.
type Stage uint32

// Values of Stage.
const (
	StageUserSpeech        Stage = C.VT_STAGE_USER_SPEECH        // VAD: MarkStart, MarkEnd
	StageSTT               Stage = C.VT_STAGE_STT                // MarkStart, MarkInterim, MarkPreflight, MarkFinal
	StageEOU               Stage = C.VT_STAGE_EOU                // end-of-utterance detection: MarkStart, MarkEnd
	StageLLM               Stage = C.VT_STAGE_LLM                // MarkStart, MarkFirst (first token), MarkEnd
	StageTTS               Stage = C.VT_STAGE_TTS                // MarkStart, MarkFirst (first audio byte), MarkEnd
	StageAgentSpeech       Stage = C.VT_STAGE_AGENT_SPEECH       // MarkStart (first audio played), MarkEnd (completes the turn)
	StageKnowledgeBase     Stage = C.VT_STAGE_KNOWLEDGE_BASE     // retrieval: MarkStart, MarkEnd
	StageRealtime          Stage = C.VT_STAGE_REALTIME           // speech-to-speech model: MarkStart, MarkFirst, MarkEnd
	StageInterruption      Stage = C.VT_STAGE_INTERRUPTION       // barge-in: MarkStart (as RecordInterruption)
	StageFalseInterruption Stage = C.VT_STAGE_FALSE_INTERRUPTION // MarkStart (agent paused), MarkResumed, MarkEscalated
	StageBackgroundAudio   Stage = C.VT_STAGE_BACKGROUND_AUDIO   // MarkStart, MarkEnd
	StageThinkingAudio     Stage = C.VT_STAGE_THINKING_AUDIO     // MarkStart, MarkEnd
	StageTool              Stage = C.VT_STAGE_TOOL               // only as an error source or fallback stage
)

var stageNames = [...]string{"", "user_speech", "stt", "eou", "llm", "tts", "agent_speech",
	"knowledge_base", "realtime", "interruption", "false_interruption", "background_audio",
	"thinking_audio", "tool"}

// String is the stage's name as turn records and metrics spell it ("user_speech", "llm", ...).
func (s Stage) String() string { return enumName(stageNames[:], uint32(s), "stage") }

// Mark is a point a stage reaches (enum vt_turn_mark).
type Mark uint32

// Values of Mark.
const (
	MarkStart     Mark = C.VT_MARK_START
	MarkEnd       Mark = C.VT_MARK_END
	MarkFirst     Mark = C.VT_MARK_FIRST     // first token / first byte / first audio
	MarkInterim   Mark = C.VT_MARK_INTERIM   // STT interim result
	MarkPreflight Mark = C.VT_MARK_PREFLIGHT // STT preflight (early final) transcript
	MarkFinal     Mark = C.VT_MARK_FINAL     // STT final transcript
	MarkResumed   Mark = C.VT_MARK_RESUMED   // false interruption: the agent resumed
	MarkEscalated Mark = C.VT_MARK_ESCALATED // false interruption: it became a real interruption
)

var markNames = [...]string{"", "start", "end", "first", "interim", "preflight", "final", "resumed",
	"escalated"}

// String is the mark's name ("start", "first", ...).
func (m Mark) String() string { return enumName(markNames[:], uint32(m), "mark") }

// TurnValueKey names a numeric fact of a turn (enum vt_turn_value_key).
type TurnValueKey uint32

// Values of TurnValueKey. "Sets" keys keep the latest value, "adds" keys sum over the turn.
const (
	ValueSTTConfidence                 TurnValueKey = C.VT_TV_STT_CONFIDENCE                   // 0..1, of the final transcript (sets)
	ValueSTTAudioSeconds               TurnValueKey = C.VT_TV_STT_AUDIO_SECONDS                // audio the STT processed (sets)
	ValueEOUProbability                TurnValueKey = C.VT_TV_EOU_PROBABILITY                  // 0..1 (sets)
	ValueEOUWaitSeconds                TurnValueKey = C.VT_TV_EOU_WAIT_SECONDS                 // time waited for more speech (adds)
	ValueTTSCharacters                 TurnValueKey = C.VT_TV_TTS_CHARACTERS                   // characters sent to TTS (adds)
	ValueTTSCharactersPlayed           TurnValueKey = C.VT_TV_TTS_CHARACTERS_PLAYED            // of those, played before the end (sets)
	ValueTTSAudioBytes                 TurnValueKey = C.VT_TV_TTS_AUDIO_BYTES                  // audio bytes the TTS produced (adds)
	ValueFalseInterruptionPauseSeconds TurnValueKey = C.VT_TV_FALSE_INTERRUPTION_PAUSE_SECONDS // how long the agent paused (sets)
	ValueFalseInterruptionWords        TurnValueKey = C.VT_TV_FALSE_INTERRUPTION_WORDS         // words the user said in it (sets)
)

var valueNames = [...]string{"", "stt_confidence", "stt_audio_seconds", "eou_probability",
	"eou_wait_seconds", "tts_characters", "tts_characters_played", "tts_audio_bytes",
	"false_interruption_pause_seconds", "false_interruption_words"}

// String is the key's name ("stt_confidence", ...).
func (k TurnValueKey) String() string { return enumName(valueNames[:], uint32(k), "value key") }

// TextKind says which text of a turn TurnText reports (enum vt_turn_text_kind).
type TextKind uint32

// Values of TextKind. Each replaces the turn's previous text of its kind.
const (
	TextUserTranscript TextKind = C.VT_TT_USER_TRANSCRIPT // the final transcript of the user's speech
	TextSTTPreflight   TextKind = C.VT_TT_STT_PREFLIGHT   // a preflight transcript
	TextAgentResponse  TextKind = C.VT_TT_AGENT_RESPONSE  // the agent's response text
)

var textNames = [...]string{"", "user_transcript", "stt_preflight", "agent_response"}

// String is the kind's name ("user_transcript", ...), the key of the record's "texts" object.
func (k TextKind) String() string { return enumName(textNames[:], uint32(k), "text kind") }

// FallbackKind is the kind of a provider switch (enum vt_fallback_kind).
type FallbackKind uint32

// Values of FallbackKind.
const (
	FallbackSwitch   FallbackKind = C.VT_FALLBACK_SWITCH   // moved from a failing provider to another
	FallbackRecovery FallbackKind = C.VT_FALLBACK_RECOVERY // moved back to the recovered provider
)

var fallbackNames = [...]string{"", "switch", "recovery"}

// String is the kind's name ("switch", "recovery").
func (k FallbackKind) String() string { return enumName(fallbackNames[:], uint32(k), "fallback kind") }

// ToolKind is the kind of a tool call (enum vt_tool_kind).
type ToolKind uint32

// Values of ToolKind.
const (
	ToolFunction ToolKind = C.VT_TOOL_FUNCTION // a function tool
	ToolMCP      ToolKind = C.VT_TOOL_MCP      // an MCP server tool
)

var toolNames = [...]string{"", "function", "mcp"}

// String is the kind's name ("function", "mcp").
func (k ToolKind) String() string { return enumName(toolNames[:], uint32(k), "tool kind") }

// TurnQuality is the bit mask of a turn record's quality flags (enum vt_turn_quality). A flagged
// latency is never clamped: it is null in the record.
type TurnQuality uint32

// Bits of TurnQuality.
const (
	QualityNoVAD        TurnQuality = C.VT_TQ_NO_VAD         // no user speech end: the anchor fell back to STT/EOU
	QualityNoAnchor     TurnQuality = C.VT_TQ_NO_ANCHOR      // no anchor at all: no e2e latency
	QualityNoAgentAudio TurnQuality = C.VT_TQ_NO_AGENT_AUDIO // no first agent audio: no e2e latency
	QualityOutOfOrder   TurnQuality = C.VT_TQ_OUT_OF_ORDER   // an end before its start (that latency is null)
	QualityImplausible  TurnQuality = C.VT_TQ_IMPLAUSIBLE    // a latency above 120 s (kept, not fed to histograms)
	QualityMissingStart TurnQuality = C.VT_TQ_MISSING_START  // a stage has an end/first mark without its start
	QualityOverlap      TurnQuality = C.VT_TQ_OVERLAP        // a stage point before the previous one (parallel work)
)

var qualityNames = [...]string{"no_vad", "no_anchor", "no_agent_audio", "out_of_order", "implausible",
	"missing_start", "overlap"}

// Names lists the set flags by name, lowest bit first, as the record's "quality" array does
// (an unknown bit shows as "bit<N>").
func (q TurnQuality) Names() []string {
	names := []string{}
	for i := 0; i < 32; i++ {
		if q&(1<<i) == 0 {
			continue
		}
		if i < len(qualityNames) {
			names = append(names, qualityNames[i])
		} else {
			names = append(names, "bit"+itoa(i))
		}
	}
	return names
}

// String joins Names with "|" ("" for no flag).
func (q TurnQuality) String() string { return strings.Join(q.Names(), "|") }

func enumName(names []string, v uint32, what string) string {
	if v > 0 && int(v) < len(names) {
		return names[v]
	}
	return what + "(" + itoa(int(v)) + ")"
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	neg := i < 0
	if neg {
		i = -i
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

// TurnMark records that a stage of the current turn reached a mark at tNs (0 = now). START,
// FIRST, INTERIM and PREFLIGHT keep the first time of the turn; END and FINAL keep the last;
// StageAgentSpeech MarkEnd completes the turn. ErrInvalidArgument: an unknown stage or mark, or a
// pair the stage does not have.
func (s *Session) TurnMark(stage Stage, mark Mark, tNs uint64) error {
	r := C.vtgo_turn_mark(C.vt_session(s.h), C.uint32_t(stage), C.uint32_t(mark), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// TurnValue records a numeric fact of the current turn: finite and >= 0; probabilities and
// confidences at most 1; seconds at most 1e6; counts (characters, bytes, words) whole numbers
// below 2^40. Otherwise ErrInvalidArgument (also for an unknown key).
func (s *Session) TurnValue(key TurnValueKey, value float64, tNs uint64) error {
	r := C.vtgo_turn_value(C.vt_session(s.h), C.uint32_t(key), C.double(value), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// TurnText records a text of the current turn (at most 1 MiB of UTF-8), subject to the session's
// TextPolicy: with TextRedact (the default) only its length in characters is kept; with
// TextInclude it is kept, truncated to the max text chars on a character boundary.
// ErrInvalidArgument: an unknown kind, invalid UTF-8, a NUL byte, too long.
func (s *Session) TurnText(kind TextKind, text string, tNs uint64) error {
	var p packed
	p.buf = make([]byte, 0, len(text)+1)
	p.str("text", text)
	if p.err != nil {
		return p.err
	}
	r := C.vtgo_turn_text(C.vt_session(s.h), C.uint32_t(kind), (*C.char)(unsafe.Pointer(p.ptr())),
		C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// TokenUsage is the token usage of one model call, by type and modality (vt_token_usage). A nil
// field (or a negative value) means "not reported". Build fields with Tokens:
//
//	s.TurnUsage(vt.StageLLM, vt.TokenUsage{Input: vt.Tokens(100), Output: vt.Tokens(20)}, 0)
type TokenUsage struct {
	Input       *int64 // prompt / input tokens
	Output      *int64 // completion / output tokens
	CachedInput *int64 // input tokens served from a cache
	Reasoning   *int64 // reasoning / thoughts tokens
	InputText   *int64 // modality breakdown (realtime models)
	InputAudio  *int64
	InputImage  *int64
	OutputText  *int64
	OutputAudio *int64
}

// TurnUsage records the token usage of a model call in the current turn: it adds to the turn's
// totals and to the process counters voicetelemetry_turn_tokens_total and
// voicetelemetry_turn_modality_tokens_total. stage: who used the tokens (StageLLM, StageRealtime,
// StageSTT or StageTTS). ErrInvalidArgument: another stage, a field of 2^40 or more.
func (s *Session) TurnUsage(stage Stage, u TokenUsage, tNs uint64) error {
	r := C.vtgo_turn_usage(C.vt_session(s.h), C.uint32_t(stage), C.uint64_t(tNs),
		usageField(u.Input), usageField(u.Output), usageField(u.CachedInput),
		usageField(u.Reasoning), usageField(u.InputText), usageField(u.InputAudio),
		usageField(u.InputImage), usageField(u.OutputText), usageField(u.OutputAudio))
	runtime.KeepAlive(s)
	return done(r)
}

// TurnError records an error of source (a Stage, e.g. StageLLM or StageTool) in the current turn,
// counted in the turn and in voicetelemetry_turn_errors_total{source}. No message is taken: it may
// hold user data.
func (s *Session) TurnError(source Stage, tNs uint64) error {
	r := C.vtgo_turn_error(C.vt_session(s.h), C.uint32_t(source), C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// TurnProvider sets the provider and model serving stage (StageSTT, StageEOU, StageLLM, StageTTS,
// StageRealtime) from now on in this session; each turn shows them on its stage. provider must not
// be empty; model "" means none; each at most MaxTurnNameBytes bytes of UTF-8.
func (s *Session) TurnProvider(stage Stage, provider, model string, tNs uint64) error {
	var p packed
	p.str("provider", provider)
	p.str("model", model)
	if p.err != nil {
		return p.err
	}
	hasModel := C.int(0)
	if model != "" {
		hasModel = 1
	}
	r := C.vtgo_turn_provider(C.vt_session(s.h), C.uint32_t(stage), (*C.char)(unsafe.Pointer(p.ptr())),
		hasModel, C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// TurnFallback records that stage switched provider from `from` to `to` because of reason ("" for
// none). The turn keeps up to MaxTurnFallbacks of them; the process counts all in
// voicetelemetry_turn_fallbacks_total{stage,kind,from,to}. The stage's provider becomes `to`.
// ErrLimit: that counter's series limit is reached (the turn still records the fallback).
func (s *Session) TurnFallback(stage Stage, kind FallbackKind, from, to, reason string, tNs uint64) error {
	var p packed
	p.str("from", from)
	p.str("to", to)
	p.str("reason", reason)
	if p.err != nil {
		return p.err
	}
	hasReason := C.int(0)
	if reason != "" {
		hasReason = 1
	}
	r := C.vtgo_turn_fallback(C.vt_session(s.h), C.uint32_t(stage), C.uint32_t(kind),
		(*C.char)(unsafe.Pointer(p.ptr())), hasReason, C.uint64_t(tNs))
	runtime.KeepAlive(s)
	return done(r)
}

// TurnToolCall records a finished tool call of the current turn: its name (not empty, at most
// MaxTurnNameBytes), start and end (0 = now; an end before the start flags the turn out of order
// and leaves the duration null) and whether it succeeded. Counted in
// voicetelemetry_turn_tool_calls_total{tool,kind,outcome}; ErrLimit as for TurnFallback.
func (s *Session) TurnToolCall(kind ToolKind, name string, startNs, endNs uint64, ok bool) error {
	var p packed
	p.str("tool name", name)
	if p.err != nil {
		return p.err
	}
	okC := C.int32_t(0)
	if ok {
		okC = 1
	}
	r := C.vtgo_turn_tool_call(C.vt_session(s.h), C.uint32_t(kind), (*C.char)(unsafe.Pointer(p.ptr())),
		C.uint64_t(startNs), C.uint64_t(endNs), okC)
	runtime.KeepAlive(s)
	return done(r)
}

// Buffer sizes the next LastTurnJSON / TurnHistoryJSON start with (the largest seen so far).
var lastTurnHint, turnHistoryHint atomic.Int64

func init() {
	lastTurnHint.Store(4096)
	turnHistoryHint.Store(16 << 10)
}

// LastTurnJSON returns the last completed (not discarded) turn as the library's JSON object, or
// the JSON text null when there is none yet.
func (s *Session) LastTurnJSON() ([]byte, error) {
	return s.turnJSON(&lastTurnHint, func(p *C.char, cap int) C.vtgo_result {
		return C.vtgo_turn_last_json(C.vt_session(s.h), p, C.size_t(cap))
	})
}

// TurnHistoryJSON returns the last maxTurns completed turns (0 = all kept, at most the session's
// turn history) as a JSON array, oldest first, of the objects LastTurnJSON gives.
func (s *Session) TurnHistoryJSON(maxTurns int) ([]byte, error) {
	if maxTurns < 0 {
		return nil, invalidf("maxTurns is %d: use 0 for all", maxTurns)
	}
	return s.turnJSON(&turnHistoryHint, func(p *C.char, cap int) C.vtgo_result {
		return C.vtgo_turn_history_json(C.vt_session(s.h), C.size_t(maxTurns), p, C.size_t(cap))
	})
}

// turnJSON runs the BUFFERS protocol (textCall) on one of the session's turn texts; the session stays
// alive until the last call has returned.
func (s *Session) turnJSON(hint *atomic.Int64, call func(p *C.char, cap int) C.vtgo_result) ([]byte, error) {
	b, err := textCall(hint, "turn JSON", call)
	runtime.KeepAlive(s)
	return b, err
}

// LastTurn returns the last completed (not discarded) turn, decoded, or nil (and no error) when
// there is none yet.
func (s *Session) LastTurn() (*Turn, error) {
	raw, err := s.LastTurnJSON()
	if err != nil {
		return nil, err
	}
	if string(raw) == "null" {
		return nil, nil
	}
	t := &Turn{Raw: raw}
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, &Error{Code: StatusInternal, Message: "turn JSON does not parse: " + err.Error()}
	}
	return t, nil
}

// TurnHistory returns the last maxTurns completed turns (0 = all kept), oldest first, decoded;
// an empty (non-nil) slice when there is none.
func (s *Session) TurnHistory(maxTurns int) ([]Turn, error) {
	raw, err := s.TurnHistoryJSON(maxTurns)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, &Error{Code: StatusInternal, Message: "turn history JSON does not parse: " + err.Error()}
	}
	turns := make([]Turn, len(items))
	for i, item := range items {
		turns[i].Raw = item
		if err := json.Unmarshal(item, &turns[i]); err != nil {
			return nil, &Error{Code: StatusInternal, Message: "turn JSON does not parse: " + err.Error()}
		}
	}
	return turns, nil
}

// Turn is one turn record (schema version 1, ../docs/turn-schema.md). Times are integer
// nanoseconds on the session clock; nil means null (not reported, or not computable honestly).
// Raw is the JSON text itself, which may hold keys added after this binding was written.
type Turn struct {
	SchemaVersion   int              `json:"schema_version"`
	SessionID       string           `json:"session_id"`
	TurnID          uint64           `json:"turn_id"`
	Outcome         string           `json:"outcome"`      // "completed" or "interrupted"
	CompletedBy     string           `json:"completed_by"` // agent_speech_end, turn_complete, next_user_turn, session_end
	StartNs         uint64           `json:"start_ns"`
	EndNs           uint64           `json:"end_ns"`
	Anchor          *string          `json:"anchor"` // user_speech_end, stt_final, eou_end
	AnchorNs        *uint64          `json:"anchor_ns"`
	E2ELatencyNs    *int64           `json:"e2e_latency_ns"`
	E2EBreakdownNs  *E2EBreakdown    `json:"e2e_breakdown_ns"`
	QualityFlags    TurnQuality      `json:"quality_flags"`
	Quality         []string         `json:"quality"`
	UserSpeech      TurnUserSpeech   `json:"user_speech"`
	STT             TurnSTT          `json:"stt"`
	EOU             TurnEOU          `json:"eou"`
	LLM             TurnLLM          `json:"llm"`
	TTS             TurnTTS          `json:"tts"`
	Realtime        TurnRealtime     `json:"realtime"`
	AgentSpeech     TurnSpan         `json:"agent_speech"`
	KnowledgeBase   TurnSpan         `json:"knowledge_base"`
	BackgroundAudio TurnSpan         `json:"background_audio"`
	ThinkingAudio   TurnSpan         `json:"thinking_audio"`
	Interruption    TurnInterruption `json:"interruption"`
	Playback        TurnPlayback     `json:"playback"`
	Tokens          TurnTokens       `json:"tokens"`
	Cost            *TurnCost        `json:"cost"` // since 1.2; nil: no price table at its charges
	ToolCalls       []TurnToolCall   `json:"tool_calls"`
	ToolCallsTotal  uint64           `json:"tool_calls_total"`
	Fallbacks       []TurnFallback   `json:"fallbacks"`
	FallbacksTotal  uint64           `json:"fallbacks_total"`
	Errors          map[string]int64 `json:"errors"` // error count by source stage name
	Texts           TurnTexts        `json:"texts"`

	Raw json.RawMessage `json:"-"`
}

// E2EBreakdown splits the end-to-end latency along the critical path; the parts add up to it
// exactly.
type E2EBreakdown struct {
	STTNs       int64 `json:"stt_ns"`
	EOUNs       int64 `json:"eou_ns"`
	LLMTTFTNs   int64 `json:"llm_ttft_ns"`
	TTSTTFBNs   int64 `json:"tts_ttfb_ns"`
	RealtimeNs  int64 `json:"realtime_ns"`
	RemainderNs int64 `json:"remainder_ns"`
}

// Sum is the total of the parts (equal to the turn's E2ELatencyNs).
func (b E2EBreakdown) Sum() int64 {
	return b.STTNs + b.EOUNs + b.LLMTTFTNs + b.TTSTTFBNs + b.RealtimeNs + b.RemainderNs
}

// TurnSpan is a stage with a start and an end.
type TurnSpan struct {
	StartNs    *uint64 `json:"start_ns"`
	EndNs      *uint64 `json:"end_ns"`
	DurationNs *int64  `json:"duration_ns"`
}

// TurnUserSpeech is the user's speech of a turn.
type TurnUserSpeech struct {
	StartNs                *uint64 `json:"start_ns"`
	EndNs                  *uint64 `json:"end_ns"`
	DurationNs             *int64  `json:"duration_ns"`
	StartCarriedOver       bool    `json:"start_carried_over"`       // from a discarded turn
	FromInterruptingSpeech bool    `json:"from_interrupting_speech"` // began while the agent spoke
}

// TurnSTT is the speech-to-text stage of a turn.
type TurnSTT struct {
	Provider        *string  `json:"provider"`
	Model           *string  `json:"model"`
	StartNs         *uint64  `json:"start_ns"`
	FirstInterimNs  *uint64  `json:"first_interim_ns"`
	InterimCount    uint64   `json:"interim_count"`
	PreflightNs     *uint64  `json:"preflight_ns"`
	FinalNs         *uint64  `json:"final_ns"`
	LatencyNs       *int64   `json:"latency_ns"` // speech end -> final
	DurationNs      *int64   `json:"duration_ns"`
	Confidence      *float64 `json:"confidence"`
	AudioDurationNs *int64   `json:"audio_duration_ns"`
}

// TurnEOU is the end-of-utterance detection stage of a turn.
type TurnEOU struct {
	Provider        *string  `json:"provider"`
	Model           *string  `json:"model"`
	StartNs         *uint64  `json:"start_ns"`
	EndNs           *uint64  `json:"end_ns"`
	DelayNs         *int64   `json:"delay_ns"`
	Probability     *float64 `json:"probability"`
	WaitForSpeechNs *int64   `json:"wait_for_speech_ns"`
}

// TurnLLM is the language model stage of a turn.
type TurnLLM struct {
	Provider     *string `json:"provider"`
	Model        *string `json:"model"`
	StartNs      *uint64 `json:"start_ns"`
	FirstTokenNs *uint64 `json:"first_token_ns"`
	EndNs        *uint64 `json:"end_ns"`
	TTFTNs       *int64  `json:"ttft_ns"`
	DurationNs   *int64  `json:"duration_ns"`
}

// TurnTTS is the text-to-speech stage of a turn.
type TurnTTS struct {
	Provider    *string `json:"provider"`
	Model       *string `json:"model"`
	StartNs     *uint64 `json:"start_ns"`
	FirstByteNs *uint64 `json:"first_byte_ns"`
	EndNs       *uint64 `json:"end_ns"`
	TTFBNs      *int64  `json:"ttfb_ns"`
	DurationNs  *int64  `json:"duration_ns"`
}

// TurnRealtime is the speech-to-speech model stage of a turn.
type TurnRealtime struct {
	Provider     *string `json:"provider"`
	Model        *string `json:"model"`
	StartNs      *uint64 `json:"start_ns"`
	FirstAudioNs *uint64 `json:"first_audio_ns"`
	EndNs        *uint64 `json:"end_ns"`
	TTFANs       *int64  `json:"ttfa_ns"`
	DurationNs   *int64  `json:"duration_ns"`
}

// TurnInterruption says whether and how the agent was interrupted.
type TurnInterruption struct {
	Interrupted       bool                   `json:"interrupted"`
	BargeInNs         *uint64                `json:"barge_in_ns"`
	OverlapStartNs    *uint64                `json:"overlap_start_ns"`
	BargeInLatencyNs  *int64                 `json:"barge_in_latency_ns"`
	FalseInterruption *TurnFalseInterruption `json:"false_interruption"`
}

// TurnFalseInterruption is a false interruption (the agent paused for speech that may be noise).
type TurnFalseInterruption struct {
	StartNs    *uint64 `json:"start_ns"`
	Outcome    *string `json:"outcome"` // "resumed", "escalated" or nil
	DurationNs *int64  `json:"duration_ns"`
	PauseNs    *int64  `json:"pause_ns"`
	Words      *uint64 `json:"words"`
}

// TurnPlayback is what was generated and played.
type TurnPlayback struct {
	TTSCharactersGenerated *uint64 `json:"tts_characters_generated"`
	TTSCharactersPlayed    *uint64 `json:"tts_characters_played"`
	AudioBytesGenerated    *uint64 `json:"audio_bytes_generated"`
	AudioBytesSent         uint64  `json:"audio_bytes_sent"`
}

// TurnTokens sums the turn's TurnUsage calls (nil: never reported).
type TurnTokens struct {
	Input       *int64 `json:"input"`
	Output      *int64 `json:"output"`
	CachedInput *int64 `json:"cached_input"`
	Reasoning   *int64 `json:"reasoning"`
	InputText   *int64 `json:"input_text"`
	InputAudio  *int64 `json:"input_audio"`
	InputImage  *int64 `json:"input_image"`
	OutputText  *int64 `json:"output_text"`
	OutputAudio *int64 `json:"output_audio"`
}

// TurnToolCall is one tool call of a turn.
type TurnToolCall struct {
	Name       string  `json:"name"`
	Kind       string  `json:"kind"` // "function" or "mcp"
	OK         bool    `json:"ok"`
	StartNs    *uint64 `json:"start_ns"`
	EndNs      *uint64 `json:"end_ns"`
	DurationNs *int64  `json:"duration_ns"`
}

// TurnFallback is one provider switch of a turn.
type TurnFallback struct {
	Stage  string  `json:"stage"`
	Kind   string  `json:"kind"` // "switch" or "recovery"
	From   string  `json:"from"`
	To     string  `json:"to"`
	Reason *string `json:"reason"`
	TNs    uint64  `json:"t_ns"`
}

// TurnTexts are the turn's texts (nil: not reported).
type TurnTexts struct {
	UserTranscript *TurnText `json:"user_transcript"`
	STTPreflight   *TurnText `json:"stt_preflight"`
	AgentResponse  *TurnText `json:"agent_response"`
}

// TurnText is one text of a turn: its full length, and the text itself only with TextInclude.
type TurnText struct {
	Chars     uint64  `json:"chars"`
	Redacted  bool    `json:"redacted"`
	Truncated bool    `json:"truncated"`
	Text      *string `json:"text,omitempty"` // absent when redacted
}
