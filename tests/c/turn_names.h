/*
 * turn_names.h -- the names the scenario files use for the turn collector's enums (stage, mark, value
 * key, text kind): the C enum names in lower case without their prefix, at their enum values. One
 * table for every C scenario runner (test_turns.c, test_costs.c).
 */
#ifndef VT_TEST_TURN_NAMES_H
#define VT_TEST_TURN_NAMES_H

#include <stdint.h>
#include <string.h>

static const char *const stage_names[] = {"", "user_speech", "stt", "eou", "llm", "tts", "agent_speech",
                                          "knowledge_base", "realtime", "interruption", "false_interruption",
                                          "background_audio", "thinking_audio", "tool"};
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

#endif /* VT_TEST_TURN_NAMES_H */
