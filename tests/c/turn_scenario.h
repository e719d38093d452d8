/*
 * turn_scenario.h -- the call lines of the turn scenario format (tests/scenarios/turns/README.txt)
 * for every C scenario runner (test_turns.c, test_costs.c), and the names the files use for the turn
 * collector's enums (stage, mark, value key, text kind): the C enum names in lower case without their
 * prefix, at their enum values. stage_names is the C tests' one list of stages: TURN_STAGE_COUNT
 * follows it (test_turns.c, test_robustness.c and fuzz/fuzz_turn.c take their stage ranges from it).
 */
#ifndef VT_TEST_TURN_SCENARIO_H
#define VT_TEST_TURN_SCENARIO_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voicetelemetry.h"

static const char *const stage_names[] = {"", "user_speech", "stt", "eou", "llm", "tts", "agent_speech",
                                          "knowledge_base", "realtime", "interruption", "false_interruption",
                                          "background_audio", "thinking_audio", "tool"};
/* The stages with the invalid 0: the first stage value past the last. */
#define TURN_STAGE_COUNT ((uint32_t)(sizeof stage_names / sizeof stage_names[0]))
static const char *const mark_names[] = {"", "start", "end", "first", "interim", "preflight", "final",
                                         "resumed", "escalated"};
static const char *const value_names[] = {"", "stt_confidence", "stt_audio_seconds", "eou_probability",
                                          "eou_wait_seconds", "tts_characters", "tts_characters_played",
                                          "tts_audio_bytes", "false_interruption_pause_seconds",
                                          "false_interruption_words"};
static const char *const text_names[] = {"", "user_transcript", "stt_preflight", "agent_response"};

/* The enum value of `name` in a table above, 0 (invalid everywhere) when it is not there. */
static inline uint32_t lookup(const char *const *names, size_t n, const char *name) {
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i], name) == 0) return (uint32_t)i;
    return 0;
}
#define LOOKUP(table, name) lookup(table, sizeof table / sizeof table[0], name)

/* "-" in a scenario line stands for an absent name. */
static inline const char *scenario_name(const char *field) { return strcmp(field, "-") == 0 ? NULL : field; }

/* usage <stage> <9 int64 fields of vt_token_usage in order, -1 = not reported> <t_ns> */
static inline vt_status scenario_usage(vt_session s, const char *line) {
    long long v[10];
    char stage[32];
    if (sscanf(line, "usage %31s %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld", stage, &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) != 11)
        return VT_E_INVALID_ARG;
    vt_token_usage u;
    memset(&u, 0, sizeof u);
    u.struct_size = sizeof u;
    u.input = v[0]; u.output = v[1]; u.cached_input = v[2]; u.reasoning = v[3]; u.input_text = v[4];
    u.input_audio = v[5]; u.input_image = v[6]; u.output_text = v[7]; u.output_audio = v[8];
    return vt_turn_usage(s, LOOKUP(stage_names, stage), &u, (uint64_t)v[9]);
}

/* vad_start|vad_end|interruption|turn_complete <t_ns>, audio_out <bytes> <t_ns>: 1 with the status
   in *st, 0 when cmd is none of them. */
static inline int scenario_record_call(vt_session s, const char *cmd, const char *a, const char *b, vt_status *st) {
    uint64_t t = strtoull(a, NULL, 10);
    if (strcmp(cmd, "vad_start") == 0) *st = vt_record_vad_start(s, t);
    else if (strcmp(cmd, "vad_end") == 0) *st = vt_record_vad_end(s, t);
    else if (strcmp(cmd, "interruption") == 0) *st = vt_record_interruption(s, t);
    else if (strcmp(cmd, "turn_complete") == 0) *st = vt_record_turn_complete(s, t);
    else if (strcmp(cmd, "audio_out") == 0) *st = vt_record_audio_out(s, (size_t)t, strtoull(b, NULL, 10));
    else return 0;
    return 1;
}

/* One call line other than config and expect, applied to s: 1 with the status in *st, 0 when the
   line is no call of the format. */
static inline int scenario_call(vt_session s, const char *line, vt_status *st) {
    char cmd[32] = "", a[256] = "", b[256] = "", c[256] = "", d[256] = "", e[256] = "", f[32] = "";
    sscanf(line, "%31s %255s %255s %255s %255s %255s %31s", cmd, a, b, c, d, e, f);
    if (strcmp(cmd, "mark") == 0)
        *st = vt_turn_mark(s, LOOKUP(stage_names, a), LOOKUP(mark_names, b), strtoull(c, NULL, 10));
    else if (strcmp(cmd, "value") == 0)
        *st = vt_turn_value(s, LOOKUP(value_names, a), strtod(b, NULL), strtoull(c, NULL, 10));
    else if (strcmp(cmd, "text") == 0) {   /* the text runs to the end of the line, spaces included */
        const char *text = line;
        for (int skip = 0; skip < 3 && text; skip++) { text = strchr(text, ' '); if (text) text++; }
        *st = vt_turn_text(s, LOOKUP(text_names, a), text ? text : "", strtoull(b, NULL, 10));
    } else if (strcmp(cmd, "usage") == 0) *st = scenario_usage(s, line);
    else if (strcmp(cmd, "error") == 0) *st = vt_turn_error(s, LOOKUP(stage_names, a), strtoull(b, NULL, 10));
    else if (strcmp(cmd, "provider") == 0)
        *st = vt_turn_provider(s, LOOKUP(stage_names, a), b, scenario_name(c), strtoull(d, NULL, 10));
    else if (strcmp(cmd, "fallback") == 0)
        *st = vt_turn_fallback(s, LOOKUP(stage_names, a), strcmp(b, "recovery") == 0 ? VT_FALLBACK_RECOVERY : VT_FALLBACK_SWITCH,
                               c, d, scenario_name(e), strtoull(f, NULL, 10));
    else if (strcmp(cmd, "tool") == 0)
        *st = vt_turn_tool_call(s, strcmp(a, "mcp") == 0 ? VT_TOOL_MCP : VT_TOOL_FUNCTION, b, strtoull(c, NULL, 10),
                                strtoull(d, NULL, 10), (int32_t)atoi(e));
    else return scenario_record_call(s, cmd, a, b, st);
    return 1;
}

#endif /* VT_TEST_TURN_SCENARIO_H */
