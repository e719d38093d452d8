#define _GNU_SOURCE
/*
 * spans.c -- a turn record (the data of a turn.complete event) becomes a turn span with a child per
 * stage present in the record; session.end closes the session's root span. Names per span_names
 * ("otel" or "videosdk"); the tree is the same either way (docs/otlp.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp.h"

enum { KIND_INTERNAL = 1, KIND_CLIENT = 3 };
enum { STATUS_UNSET = 0, STATUS_ERROR = 2 };

/* ---- request framing ------------------------------------------------------------------------------ */

void spans_resource(otlp *o, enc *e) {
    enc_msg_begin(e, 1, "resource");
    enc_arr_begin(e, 1, "attributes");
    attrs_encode(e, 1, &o->cfg.resource);
    enc_arr_end(e);
    enc_msg_end(e);
}

void spans_open_request(otlp *o) {
    enc *e = &o->te;
    o->tb.len = 0;
    o->tb.oom = 0;
    o->tb_spans = o->tb_events = 0;
    enc_init(e, &o->tb, o->cfg.json);
    enc_arr_begin(e, 1, "resourceSpans");
    enc_msg_begin(e, 0, NULL);
    spans_resource(o, e);
    enc_arr_begin(e, 2, "scopeSpans");
    enc_msg_begin(e, 0, NULL);
    enc_msg_begin(e, 1, "scope");
    enc_cstr(e, 1, "name", "voicetelemetry.otlp_sink");
    enc_cstr(e, 2, "version", "1.0.0");
    enc_msg_end(e);
    enc_arr_begin(e, 2, "spans");
}

/* ---- one span -------------------------------------------------------------------------------------- */

static uint64_t ux(const session_state *s, int64_t t) { return (uint64_t)(t + s->offset_ns); }

static void span_head(enc *e, const session_state *s, const uint8_t *id, const uint8_t *parent, const char *name,
                      int kind, int64_t t0, int64_t t1) {
    enc_msg_begin(e, 2, NULL);
    enc_id(e, 1, "traceId", s->trace_id, 16);
    enc_id(e, 2, "spanId", id, 8);
    if (parent) enc_id(e, 4, "parentSpanId", parent, 8);
    enc_cstr(e, 5, "name", name);
    enc_uint32(e, 6, "kind", (uint32_t)kind);
    enc_fixed64(e, 7, "startTimeUnixNano", ux(s, t0));
    enc_fixed64(e, 8, "endTimeUnixNano", ux(s, t1));
    enc_arr_begin(e, 9, "attributes");
}

/* Attributes written: events follow. */
static void span_mid(enc *e) {
    enc_arr_end(e);
    enc_arr_begin(e, 11, "events");
}

static void span_end_dropped(enc *e, int code, const char *message, uint32_t dropped_events) {
    enc_arr_end(e);
    if (dropped_events) enc_uint32(e, 12, "droppedEventsCount", dropped_events);
    if (code) {
        enc_msg_begin(e, 15, "status");
        if (message && *message) enc_cstr(e, 2, "message", message);
        enc_uint32(e, 3, "code", (uint32_t)code);
        enc_msg_end(e);
    }
    enc_msg_end(e);
}

static void span_end(enc *e, int code, const char *message) { span_end_dropped(e, code, message, 0); }

static void event_begin(enc *e, const session_state *s, const char *name, int64_t t) {
    enc_msg_begin(e, 11, NULL);
    enc_fixed64(e, 1, "timeUnixNano", ux(s, t));
    enc_cstr(e, 2, "name", name);
    enc_arr_begin(e, 3, "attributes");
}

static void event_end(enc *e) {
    enc_arr_end(e);
    enc_msg_end(e);
}

/* ---- the turn ---------------------------------------------------------------------------------------- */

typedef struct tctx {
    otlp *o;
    enc *e;
    session_state *s;
    const jdoc *d;
    uint32_t rec, errors, tokens;
    uint8_t turn_id[8];
    int64_t t0, t1;
    uint32_t errors_used; /* bit i: the i-th member of `errors` went on a stage span */
    int tokens_done;
    uint64_t spans;
} tctx;

/* Absolute times in a stage object (session clock): span bounds or span events. */
static const char *const POINTS[] = {"start_ns", "end_ns", "first_interim_ns", "preflight_ns", "final_ns",
                                     "first_token_ns", "first_byte_ns", "first_audio_ns", "barge_in_ns",
                                     "overlap_start_ns", "t_ns", NULL};

static int is_point(const jnode *k) {
    if (k->len < 4 || memcmp(k->p + k->len - 3, "_ns", 3) != 0) return 0;
    for (int i = 0; POINTS[i]; i++)
        if (strncmp(POINTS[i], k->p, k->len) == 0 && POINTS[i][k->len] == 0) return 1;
    return 0;
}

typedef struct stage_spec {
    const char *key, *otel, *vsdk;
    int kind, provider_prefix;
    const char *op;                                /* gen_ai.operation.name */
    const char *end_point;                         /* the end when the object has no end_ns key */
    const char *child_point, *child_otel, *child_vsdk; /* a start -> point child span */
} stage_spec;

static const stage_spec STAGES[] = {
    {"user_speech", "user_speech", "User Input Speech", KIND_INTERNAL, 0, NULL, NULL, NULL, NULL, NULL},
    {"stt", "speech_to_text", "Speech to Text Processing", KIND_CLIENT, 1, NULL, "final_ns", NULL, NULL, NULL},
    {"eou", "end_of_utterance", "End-Of-Utterance Detection", KIND_INTERNAL, 1, NULL, NULL, NULL, NULL, NULL},
    {"llm", "chat", "LLM Processing", KIND_CLIENT, 1, "chat", NULL, "first_token_ns", "time_to_first_token",
     "Time to First Token"},
    {"tts", "text_to_speech", "Text to Speech Processing", KIND_CLIENT, 1, NULL, NULL, "first_byte_ns",
     "time_to_first_byte", "Time to First Byte"},
    {"realtime", "realtime", "Realtime Processing", KIND_CLIENT, 1, "realtime", NULL, "first_audio_ns",
     "time_to_first_audio", "Time to First Word"},
    {"agent_speech", "agent_speech", "Agent Output Speech", KIND_INTERNAL, 0, NULL, NULL, NULL, NULL, NULL},
    {"knowledge_base", "knowledge_base", "Knowledge Base: Retrieval", KIND_CLIENT, 0, NULL, NULL, NULL, NULL, NULL},
    {"background_audio", "background_audio", "Background Audio", KIND_INTERNAL, 0, NULL, NULL, NULL, NULL, NULL},
    {"thinking_audio", "thinking_audio", "Thinking Audio", KIND_INTERNAL, 0, NULL, NULL, NULL, NULL, NULL},
};

static int get_int(const jdoc *d, uint32_t obj, const char *key, int64_t *out) {
    return json_i64(d, json_get(d, obj, key), out) == 0;
}

static void get_text(const jdoc *d, uint32_t obj, const char *key, char *out, size_t cap) {
    out[0] = 0;
    if (json_str(d, json_get(d, obj, key), out, cap) < 0) out[0] = 0;
}

/* Errors recorded for `source`: their count (0 if none); marks the member as used. */
static int64_t take_errors(tctx *t, const char *source) {
    uint32_t i = 0;
    for (uint32_t k = json_first(t->d, t->errors); k; k = t->d->n[k].next, i++) {
        char name[64];
        int64_t n;
        if (json_str(t->d, k, name, sizeof name) < 0 || strcmp(name, source) != 0) continue;
        if (json_i64(t->d, json_value(t->d, k), &n) != 0 || n <= 0) return 0;
        if (i < 32) t->errors_used |= 1u << i;
        return n;
    }
    return 0;
}

static void error_event(tctx *t, const char *source, int64_t n, int64_t at, char *msg, size_t cap) {
    event_begin(t->e, t->s, "error", at);
    kv_cstr(t->e, 3, "error.type", source);
    kv_int(t->e, 3, "voicetelemetry.error.count", n);
    event_end(t->e);
    snprintf(msg, cap, "%lld %s error%s", (long long)n, source, n == 1 ? "" : "s");
}

static void token_attrs(tctx *t) {
    static const char *const MAP[][2] = {
        {"input", "gen_ai.usage.input_tokens"},
        {"output", "gen_ai.usage.output_tokens"},
        {"cached_input", "gen_ai.usage.cache_read.input_tokens"},
        {"reasoning", "gen_ai.usage.reasoning.output_tokens"},
    };
    if (t->tokens_done || !json_is(t->d, t->tokens, JT_OBJ)) return;
    t->tokens_done = 1;
    for (size_t i = 0; i < sizeof MAP / sizeof MAP[0]; i++) {
        int64_t v;
        if (get_int(t->d, t->tokens, MAP[i][0], &v)) kv_int(t->e, 9, MAP[i][1], v);
    }
    for (uint32_t k = json_first(t->d, t->tokens); k; k = t->d->n[k].next) {
        char name[64], key[96];
        int64_t v;
        if (json_str(t->d, k, name, sizeof name) < 0 || json_i64(t->d, json_value(t->d, k), &v) != 0) continue;
        snprintf(key, sizeof key, "voicetelemetry.tokens.%s", name);
        kv_int(t->e, 9, key, v);
    }
}

/* The stage's bounds: start (start_ns, else its earliest point), end (end_ns, else end_point, else its
 * latest point). Returns 0 when the stage has no time at all. */
static int stage_bounds(const jdoc *d, uint32_t obj, const stage_spec *sp, int64_t *t0, int64_t *t1) {
    int any = 0;
    int64_t lo = 0, hi = 0;
    for (uint32_t k = json_first(d, obj); k; k = d->n[k].next) {
        int64_t v;
        if (!is_point(&d->n[k]) || json_i64(d, json_value(d, k), &v) != 0) continue;
        if (!any || v < lo) lo = v;
        if (!any || v > hi) hi = v;
        any = 1;
    }
    if (!any) return 0;
    if (!get_int(d, obj, "start_ns", t0)) *t0 = lo;
    if (!get_int(d, obj, "end_ns", t1) && !(sp->end_point && get_int(d, obj, sp->end_point, t1))) *t1 = hi;
    return 1;
}

static void stage_name(const tctx *t, const stage_spec *sp, uint32_t obj, char *name, size_t cap) {
    char provider[128], model[128];
    get_text(t->d, obj, "provider", provider, sizeof provider);
    get_text(t->d, obj, "model", model, sizeof model);
    if (t->o->cfg.videosdk && sp->provider_prefix)
        snprintf(name, cap, "%s: %s", provider[0] ? provider : "unknown", sp->vsdk);
    else if (t->o->cfg.videosdk)
        snprintf(name, cap, "%s", sp->vsdk);
    else if (model[0])
        snprintf(name, cap, "%s %s", sp->otel, model);
    else
        snprintf(name, cap, "%s", sp->otel);
}

/* Members of a stage object that are not times: provider/model as GenAI keys, the rest under
 * voicetelemetry.<stage>.<key>. */
static void stage_attrs(tctx *t, const stage_spec *sp, uint32_t obj) {
    const jdoc *d = t->d;
    for (uint32_t k = json_first(d, obj); k; k = d->n[k].next) {
        char name[64], key[128];
        if (is_point(&d->n[k]) || json_str(d, k, name, sizeof name) < 0) continue;
        uint32_t v = json_value(d, k);
        if (strcmp(name, "provider") == 0) snprintf(key, sizeof key, "gen_ai.provider.name");
        else if (strcmp(name, "model") == 0) snprintf(key, sizeof key, "gen_ai.request.model");
        else snprintf(key, sizeof key, "voicetelemetry.%s.%s", sp->key, name);
        kv_json(t->e, 9, key, d, v);
    }
    if (sp->op) kv_cstr(t->e, 9, "gen_ai.operation.name", sp->op);
    if (json_get(d, obj, "end_ns") && !json_is(d, json_get(d, obj, "end_ns"), JT_NUM))
        kv_bool(t->e, 9, "voicetelemetry.span.end_missing", 1);
}

static void stage_extras(tctx *t, const stage_spec *sp, uint32_t obj) {
    int64_t v;
    if (strcmp(sp->key, "llm") == 0 && get_int(t->d, obj, "ttft_ns", &v))
        kv_double(t->e, 9, "gen_ai.response.time_to_first_chunk", (double)v / 1e9);
    if (strcmp(sp->key, "realtime") == 0 && get_int(t->d, obj, "ttfa_ns", &v))
        kv_double(t->e, 9, "gen_ai.response.time_to_first_chunk", (double)v / 1e9);
    if (strcmp(sp->key, "tts") == 0) {
        uint32_t pb = json_get(t->d, t->rec, "playback");
        if (get_int(t->d, pb, "tts_characters_generated", &v)) kv_int(t->e, 9, "voicetelemetry.tts.characters", v);
    }
    if (strcmp(sp->key, "llm") == 0 || strcmp(sp->key, "realtime") == 0) token_attrs(t);
}

static void child_span(tctx *t, const stage_spec *sp, uint32_t obj, const uint8_t *parent, int64_t t0) {
    int64_t at;
    if (!sp->child_point || !get_int(t->d, obj, sp->child_point, &at) || !get_int(t->d, obj, "start_ns", &t0)) return;
    uint8_t id[8];
    rand_bytes(t->o, id, 8);
    span_head(t->e, t->s, id, parent, t->o->cfg.videosdk ? sp->child_vsdk : sp->child_otel, KIND_INTERNAL, t0, at);
    span_mid(t->e);
    span_end(t->e, STATUS_UNSET, NULL);
    t->spans++;
}

static void stage_span(tctx *t, const stage_spec *sp) {
    const jdoc *d = t->d;
    uint32_t obj = json_get(d, t->rec, sp->key);
    int64_t t0, t1;
    if (!json_is(d, obj, JT_OBJ) || !stage_bounds(d, obj, sp, &t0, &t1)) return;
    char name[320], msg[128] = "";
    uint8_t id[8];
    stage_name(t, sp, obj, name, sizeof name);
    rand_bytes(t->o, id, 8);
    span_head(t->e, t->s, id, t->turn_id, name, sp->kind, t0, t1);
    stage_attrs(t, sp, obj);
    stage_extras(t, sp, obj);
    span_mid(t->e);
    for (uint32_t k = json_first(d, obj); k; k = d->n[k].next) {
        int64_t at;
        const jnode *kn = &d->n[k];
        if (!is_point(kn) || json_i64(d, json_value(d, k), &at) != 0) continue;
        if ((kn->len == 8 && memcmp(kn->p, "start_ns", 8) == 0) || (kn->len == 6 && memcmp(kn->p, "end_ns", 6) == 0))
            continue;
        char ev[64];
        snprintf(ev, sizeof ev, "%.*s", (int)kn->len - 3, kn->p);
        event_begin(t->e, t->s, ev, at);
        event_end(t->e);
    }
    int64_t nerr = take_errors(t, sp->key);
    if (nerr) error_event(t, sp->key, nerr, t1, msg, sizeof msg);
    span_end(t->e, nerr ? STATUS_ERROR : STATUS_UNSET, msg);
    t->spans++;
    child_span(t, sp, obj, id, t0);
}

static void tool_spans(tctx *t) {
    const jdoc *d = t->d;
    uint32_t arr = json_get(d, t->rec, "tool_calls");
    if (!json_is(d, arr, JT_ARR)) return;
    for (uint32_t c = json_first(d, arr); c; c = d->n[c].next) {
        char tool[128], kind[32], name[320];
        int64_t t0, t1;
        if (!get_int(d, c, "start_ns", &t0)) continue;
        if (!get_int(d, c, "end_ns", &t1)) t1 = t0;
        get_text(d, c, "name", tool, sizeof tool);
        get_text(d, c, "kind", kind, sizeof kind);
        int ok = json_is(d, json_get(d, c, "ok"), JT_TRUE);
        snprintf(name, sizeof name, t->o->cfg.videosdk ? "Invoked Tool: %s" : "execute_tool %s", tool);
        uint8_t id[8];
        rand_bytes(t->o, id, 8);
        span_head(t->e, t->s, id, t->turn_id, name, KIND_INTERNAL, t0, t1);
        kv_cstr(t->e, 9, "gen_ai.operation.name", "execute_tool");
        kv_cstr(t->e, 9, "gen_ai.tool.name", tool);
        kv_cstr(t->e, 9, "gen_ai.tool.type", strcmp(kind, "mcp") == 0 ? "extension" : "function");
        if (!ok) kv_cstr(t->e, 9, "error.type", "tool_error");
        span_mid(t->e);
        span_end(t->e, ok ? STATUS_UNSET : STATUS_ERROR, ok ? NULL : "tool call failed");
        t->spans++;
    }
}

static void interruption_spans(tctx *t) {
    const jdoc *d = t->d;
    uint32_t in = json_get(d, t->rec, "interruption");
    int64_t t0, lat, b;
    uint8_t id[8];
    if (!json_is(d, in, JT_OBJ)) return;
    if (get_int(d, in, "overlap_start_ns", &t0) || get_int(d, in, "barge_in_ns", &t0)) {
        int has_lat = get_int(d, in, "barge_in_latency_ns", &lat);
        rand_bytes(t->o, id, 8);
        span_head(t->e, t->s, id, t->turn_id, t->o->cfg.videosdk ? "Turn Interrupted" : "interruption", KIND_INTERNAL,
                  t0, has_lat ? t0 + lat : t0);
        if (has_lat) kv_int(t->e, 9, "voicetelemetry.interruption.barge_in_latency_ns", lat);
        span_mid(t->e);
        if (get_int(d, in, "barge_in_ns", &b)) event_begin(t->e, t->s, "barge_in", b), event_end(t->e);
        span_end(t->e, STATUS_UNSET, NULL);
        t->spans++;
    }
    uint32_t fi = json_get(d, in, "false_interruption");
    if (!json_is(d, fi, JT_OBJ) || !get_int(d, fi, "start_ns", &t0)) return;
    char outcome[32], name[64];
    int64_t dur;
    get_text(d, fi, "outcome", outcome, sizeof outcome);
    if (t->o->cfg.videosdk && outcome[0])
        snprintf(name, sizeof name, "False Interruption (%c%s)", outcome[0] - 32, outcome + 1);
    else
        snprintf(name, sizeof name, t->o->cfg.videosdk ? "False Interruption" : "false_interruption");
    rand_bytes(t->o, id, 8);
    span_head(t->e, t->s, id, t->turn_id, name, KIND_INTERNAL, t0, get_int(d, fi, "duration_ns", &dur) ? t0 + dur : t0);
    for (uint32_t k = json_first(d, fi); k; k = d->n[k].next) {
        char key[64], full[128];
        if (json_str(d, k, key, sizeof key) < 0 || strcmp(key, "start_ns") == 0) continue;
        snprintf(full, sizeof full, "voicetelemetry.false_interruption.%s", key);
        kv_json(t->e, 9, full, d, json_value(d, k));
    }
    span_mid(t->e);
    span_end(t->e, STATUS_UNSET, NULL);
    t->spans++;
}

static void fallback_spans(tctx *t) {
    const jdoc *d = t->d;
    uint32_t arr = json_get(d, t->rec, "fallbacks");
    if (!json_is(d, arr, JT_ARR)) return;
    for (uint32_t f = json_first(d, arr); f; f = d->n[f].next) {
        char stage[64], kind[32], name[160];
        int64_t at;
        if (!get_int(d, f, "t_ns", &at)) continue;
        get_text(d, f, "stage", stage, sizeof stage);
        get_text(d, f, "kind", kind, sizeof kind);
        int rec = strcmp(kind, "recovery") == 0;
        if (t->o->cfg.videosdk) snprintf(name, sizeof name, "%s: %s", rec ? "Recovery" : "Fallback", stage);
        else snprintf(name, sizeof name, "%s %s", rec ? "recovery" : "fallback", stage);
        uint8_t id[8];
        rand_bytes(t->o, id, 8);
        span_head(t->e, t->s, id, t->turn_id, name, KIND_INTERNAL, at, at);
        for (uint32_t k = json_first(d, f); k; k = d->n[k].next) {
            char key[64], full[128];
            if (json_str(d, k, key, sizeof key) < 0 || strcmp(key, "t_ns") == 0) continue;
            snprintf(full, sizeof full, "voicetelemetry.fallback.%s", key);
            kv_json(t->e, 9, full, d, json_value(d, k));
        }
        span_mid(t->e);
        span_end(t->e, STATUS_UNSET, NULL);
        t->spans++;
    }
}

/* Turn-level attributes: ids, outcome, e2e and its breakdown, quality, playback, texts. */
static void turn_attrs(tctx *t) {
    static const char *const SCALARS[][2] = {
        {"turn_id", "voicetelemetry.turn.id"},           {"outcome", "voicetelemetry.turn.outcome"},
        {"completed_by", "voicetelemetry.turn.completed_by"}, {"anchor", "voicetelemetry.turn.anchor"},
        {"e2e_latency_ns", "voicetelemetry.turn.e2e_latency_ns"},
        {"quality_flags", "voicetelemetry.turn.quality_flags"}, {"quality", "voicetelemetry.turn.quality"},
        {"tool_calls_total", "voicetelemetry.turn.tool_calls_total"},
        {"fallbacks_total", "voicetelemetry.turn.fallbacks_total"},
    };
    const jdoc *d = t->d;
    enc *e = t->e;
    kv_cstr(e, 9, "gen_ai.operation.name", "invoke_agent");
    kv_cstr(e, 9, "gen_ai.conversation.id", t->s->id);
    for (size_t i = 0; i < sizeof SCALARS / sizeof SCALARS[0]; i++) {
        uint32_t v = json_get(d, t->rec, SCALARS[i][0]);
        if (v) kv_json(e, 9, SCALARS[i][1], d, v);
    }
    static const char *const GROUPS[][2] = {{"e2e_breakdown_ns", "voicetelemetry.turn.breakdown."},
                                             {"playback", "voicetelemetry.playback."},
                                             {"cost", "voicetelemetry.cost."}}; /* null without prices */
    for (size_t g = 0; g < sizeof GROUPS / sizeof GROUPS[0]; g++) {
        uint32_t obj = json_get(d, t->rec, GROUPS[g][0]);
        for (uint32_t k = json_first(d, obj); k && json_is(d, obj, JT_OBJ); k = d->n[k].next) {
            char name[64], key[160];
            if (json_str(d, k, name, sizeof name) < 0) continue;
            snprintf(key, sizeof key, "%s%s", GROUPS[g][1], name);
            kv_json(e, 9, key, d, json_value(d, k));
        }
    }
    uint32_t in = json_get(d, t->rec, "interruption");
    uint32_t v = json_get(d, in, "interrupted");
    if (v) kv_json(e, 9, "voicetelemetry.turn.interrupted", d, v);
    if ((v = json_get(d, in, "barge_in_latency_ns"))) kv_json(e, 9, "voicetelemetry.turn.barge_in_latency_ns", d, v);
    uint32_t texts = json_get(d, t->rec, "texts");
    for (uint32_t k = json_first(d, texts); k && json_is(d, texts, JT_OBJ); k = d->n[k].next) {
        char name[64], key[160];
        uint32_t tx = json_value(d, k);
        if (json_str(d, k, name, sizeof name) < 0 || !json_is(d, tx, JT_OBJ)) continue;
        snprintf(key, sizeof key, "voicetelemetry.turn.%s_chars", name);
        if ((v = json_get(d, tx, "chars"))) kv_json(e, 9, key, d, v);
        snprintf(key, sizeof key, "voicetelemetry.pii.%s", name);
        if ((v = json_get(d, tx, "text")) && json_is(d, v, JT_STR)) kv_json(e, 9, key, d, v);
    }
}

/* The turn span itself, written after its children: it carries the errors no stage span took. */
static void turn_span(tctx *t) {
    char name[64], msg[256] = "";
    int64_t n;
    if (t->o->cfg.videosdk && get_int(t->d, t->rec, "turn_id", &n)) snprintf(name, sizeof name, "Turn #%lld", (long long)n);
    else snprintf(name, sizeof name, t->o->cfg.videosdk ? "Turn" : "invoke_agent");
    span_head(t->e, t->s, t->turn_id, t->s->span_id, name, KIND_INTERNAL, t->t0, t->t1);
    turn_attrs(t);
    token_attrs(t);
    span_mid(t->e);
    uint32_t i = 0;
    int errs = 0;
    for (uint32_t k = json_first(t->d, t->errors); k && json_is(t->d, t->errors, JT_OBJ); k = t->d->n[k].next, i++) {
        char source[64], one[96];
        if ((i < 32 && (t->errors_used >> i) & 1) || json_str(t->d, k, source, sizeof source) < 0 ||
            json_i64(t->d, json_value(t->d, k), &n) != 0 || n <= 0)
            continue;
        error_event(t, source, n, t->t1, one, sizeof one);
        if (strlen(msg) + strlen(one) + 3 < sizeof msg) snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "%s%s", errs ? "; " : "", one);
        errs++;
    }
    span_end(t->e, errs ? STATUS_ERROR : STATUS_UNSET, msg);
    t->spans++;
}

uint64_t spans_from_turn(otlp *o, session_state *s, const jdoc *d, uint32_t rec) {
    tctx t;
    memset(&t, 0, sizeof t);
    t.o = o, t.e = &o->te, t.s = s, t.d = d, t.rec = rec;
    if (!get_int(d, rec, "start_ns", &t.t0) || !get_int(d, rec, "end_ns", &t.t1)) return 0;
    t.errors = json_get(d, rec, "errors");
    t.tokens = json_get(d, rec, "tokens");
    rand_bytes(o, t.turn_id, 8);
    for (size_t i = 0; i < sizeof STAGES / sizeof STAGES[0]; i++) stage_span(&t, &STAGES[i]);
    tool_spans(&t);
    interruption_spans(&t);
    fallback_spans(&t);
    turn_span(&t);
    if (t.t1 > s->last_ns) s->last_ns = t.t1;
    return t.spans;
}

/* The session's root span (at session.end, or when the session is evicted from the map). */
void spans_session(otlp *o, session_state *s, int64_t end_ns, const jdoc *d, uint32_t snap, int evicted) {
    static const char *const SNAP[][2] = {
        {"interruptions", "voicetelemetry.session.interruptions"},
        {"audio_bytes_out", "voicetelemetry.session.audio_bytes_out"},
        {"response_count", "voicetelemetry.session.response_count"},
        {"out_of_order_events", "voicetelemetry.session.out_of_order_events"},
    };
    enc *e = &o->te;
    char name[300];
    if (o->cfg.videosdk) snprintf(name, sizeof name, "Agent Session: %s", s->id);
    else snprintf(name, sizeof name, "voice_session");
    span_head(e, s, s->span_id, s->has_parent ? s->parent_id : NULL, name, KIND_INTERNAL, s->start_ns, end_ns);
    kv_cstr(e, 9, "gen_ai.conversation.id", s->id);
    if (s->text_policy[0]) kv_cstr(e, 9, "voicetelemetry.session.text_policy", s->text_policy);
    attrs_encode(e, 9, &s->at);
    for (size_t i = 0; d && i < sizeof SNAP / sizeof SNAP[0]; i++) {
        uint32_t v = json_get(d, snap, SNAP[i][0]);
        if (v) kv_json(e, 9, SNAP[i][1], d, v);
    }
    uint32_t turns = d ? json_get(d, snap, "turns") : 0;
    static const char *const OUTCOMES[] = {"completed", "interrupted", "discarded"};
    for (size_t i = 0; turns && i < 3; i++) {
        char key[96];
        uint32_t v = json_get(d, turns, OUTCOMES[i]);
        snprintf(key, sizeof key, "voicetelemetry.session.turns.%s", OUTCOMES[i]);
        if (v) kv_json(e, 9, key, d, v);
    }
    uint32_t cost = d ? json_get(d, snap, "cost") : 0; /* the session's cost: null without prices */
    for (uint32_t k = json_first(d, cost); k && json_is(d, cost, JT_OBJ); k = d->n[k].next) {
        char name[64], key[128];
        if (json_str(d, k, name, sizeof name) < 0) continue;
        snprintf(key, sizeof key, "voicetelemetry.session.cost.%s", name);
        kv_json(e, 9, key, d, json_value(d, k));
    }
    if (!s->start_seen) kv_bool(e, 9, "voicetelemetry.session.start_seen", 0);
    if (evicted) kv_bool(e, 9, "voicetelemetry.session.incomplete", 1);
    span_mid(e);
    if (s->n_events) {
        buf_put(e->b, s->events.p, s->events.len); /* encoded as array elements, commas included */
        e->first[e->depth] = 0;
    }
    span_end_dropped(e, STATUS_UNSET, NULL, s->dropped_events);
}

/* Keys whose values are texts (transcripts, message contents): as the core treats them, plus a
 * message's content. They go under voicetelemetry.pii.* so a collector can strip them. */
static int is_text_key(const char *k) {
    size_t n = strlen(k);
    static const char *const SUFFIX[] = {"_text", "_transcript", "_content"};
    if (!strcmp(k, "text") || !strcmp(k, "transcript") || !strcmp(k, "content")) return 1;
    for (size_t i = 0; i < 3; i++) {
        size_t m = strlen(SUFFIX[i]);
        if (n > m && strcmp(k + n - m, SUFFIX[i]) == 0) return 1;
    }
    return 0;
}

/* Another event of the session (usage, interruption, custom types): a span event of its root, with the
 * data's scalar members as attributes (at most 32), kept until the session ends. */
void spans_session_event(otlp *o, session_state *s, const char *name, int64_t t, const jdoc *d, uint32_t data) {
    if (s->n_events >= o->cfg.max_session_events) {
        s->dropped_events++;
        return;
    }
    enc e;
    memset(&e, 0, sizeof e);
    e.b = &s->events;
    e.json = o->cfg.json;
    e.in_array[0] = 1;
    e.afield[0] = 11;
    e.first[0] = s->n_events == 0;
    event_begin(&e, s, name, t);
    int n = 0;
    for (uint32_t k = json_first(d, data); k && n < 32; k = d->n[k].next, n++) {
        char key[128], full[160];
        if (json_str(d, k, key, sizeof key) < 0) continue;
        snprintf(full, sizeof full, "%s%s", is_text_key(key) ? "voicetelemetry.pii." : "", key);
        kv_json(&e, 3, full, d, json_value(d, k));
    }
    event_end(&e);
    s->n_events++;
}
