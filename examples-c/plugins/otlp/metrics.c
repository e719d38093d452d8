#define _GNU_SOURCE
/*
 * metrics.c -- OTLP metrics: the process's Prometheus text (host->prom_text) converted family by
 * family (counter -> monotonic Sum, gauge/untyped -> Gauge, histogram -> explicit-bucket Histogram
 * with the same bounds, summary -> Summary), plus the GenAI client histograms the plugin aggregates
 * from turn records. Cumulative by default; delta subtracts the previous export's values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp.h"

#define MAX_BUCKETS 64
#define MAX_QUANTILES 16

enum { PT_UNTYPED, PT_COUNTER, PT_GAUGE, PT_HIST, PT_SUMMARY };

typedef struct series {
    char *labels; /* the label pairs as written, without le/quantile */
    double value, sum;
    uint64_t count;
    size_t nb, nq;
    double bounds[MAX_BUCKETS]; /* finite le values */
    uint64_t cum[MAX_BUCKETS + 1]; /* cumulative counts; [nb] = +Inf */
    int has_inf;
    double qs[MAX_QUANTILES], qv[MAX_QUANTILES];
} series;

typedef struct family {
    char name[256];
    char help[1024];
    int type;
    series *s;
    size_t n, cap;
} family;

/* ---- previous values for delta temporality ------------------------------------------------------ */

typedef struct prev {
    char *key; /* family "\n" labels */
    double value, sum;
    uint64_t count;
    uint64_t cum[MAX_BUCKETS + 1];
} prev;

typedef struct genai_series {
    int metric;        /* index into GENAI */
    char attrs[4][128]; /* operation, provider, model, token type (tokens) or error.type (duration) */
    uint64_t counts[20];
    uint64_t count;
    double sum, min, max;
} genai_series;

#define GENAI_MAX_SERIES 256

struct genai {
    genai_series s[GENAI_MAX_SERIES];
    size_t n;
    uint64_t dropped;
    prev *prevs;
    size_t nprev, capprev;
    uint64_t last_export_unix;
};

typedef struct gmetric {
    const char *name, *unit, *desc;
    size_t nb;
    double bounds[19];
} gmetric;

/* Names and buckets of the GenAI semantic conventions (kept together so they can follow the spec). */
static const gmetric GENAI[] = {
    {"gen_ai.client.token.usage", "{token}", "Number of input and output tokens used.", 14,
     {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}},
    {"gen_ai.client.operation.duration", "s", "GenAI operation duration.", 14,
     {0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}},
    {"gen_ai.server.time_to_first_token", "s", "Time to generate first token for successful responses.", 16,
     {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0}},
};
enum { G_TOKENS, G_DURATION, G_TTFT };

struct genai *genai_new(void) { return calloc(1, sizeof(struct genai)); }

void genai_free(struct genai *g) {
    if (!g) return;
    for (size_t i = 0; i < g->nprev; i++) free(g->prevs[i].key);
    free(g->prevs);
    free(g);
}

static prev *prev_find(struct genai *g, const char *fam, const char *labels) {
    size_t fl = strlen(fam), ll = strlen(labels);
    for (size_t i = 0; i < g->nprev; i++) {
        const char *k = g->prevs[i].key;
        if (strncmp(k, fam, fl) == 0 && k[fl] == '\n' && strcmp(k + fl + 1, labels) == 0) return &g->prevs[i];
    }
    if (g->nprev == g->capprev) {
        size_t cap = g->capprev ? g->capprev * 2 : 64;
        prev *p = realloc(g->prevs, cap * sizeof *p);
        if (!p) return NULL;
        g->prevs = p, g->capprev = cap;
    }
    prev *p = &g->prevs[g->nprev];
    memset(p, 0, sizeof *p);
    p->key = malloc(fl + ll + 2);
    if (!p->key) return NULL;
    memcpy(p->key, fam, fl);
    p->key[fl] = '\n';
    memcpy(p->key + fl + 1, labels, ll + 1);
    g->nprev++;
    return p;
}

/* ---- GenAI aggregation from turn records ---------------------------------------------------------- */

static void genai_add(struct genai *g, int metric, const char *op, const char *prov, const char *model,
                      const char *type, double v) {
    const char *at[4] = {op, prov, model, type ? type : ""};
    genai_series *s = NULL;
    for (size_t i = 0; i < g->n && !s; i++) {
        genai_series *c = &g->s[i];
        if (c->metric == metric && !strcmp(c->attrs[0], at[0]) && !strcmp(c->attrs[1], at[1]) &&
            !strcmp(c->attrs[2], at[2]) && !strcmp(c->attrs[3], at[3]))
            s = c;
    }
    if (!s) {
        if (g->n == GENAI_MAX_SERIES) {
            g->dropped++;
            return;
        }
        s = &g->s[g->n++];
        memset(s, 0, sizeof *s);
        s->metric = metric;
        for (int i = 0; i < 4; i++) snprintf(s->attrs[i], sizeof s->attrs[i], "%s", at[i]);
    }
    size_t b = 0;
    while (b < GENAI[metric].nb && v > GENAI[metric].bounds[b]) b++;
    s->counts[b]++;
    if (s->count == 0 || v < s->min) s->min = v;
    if (s->count == 0 || v > s->max) s->max = v;
    s->count++;
    s->sum += v;
}

static void text_of(const jdoc *d, uint32_t obj, const char *key, char *out, size_t cap) {
    out[0] = 0;
    if (json_str(d, json_get(d, obj, key), out, cap) < 0) out[0] = 0;
}

static int stage_present(const jdoc *d, uint32_t st) {
    return json_is(d, json_get(d, st, "start_ns"), JT_NUM) || json_is(d, json_get(d, st, "end_ns"), JT_NUM);
}

void genai_observe_turn(otlp *o, const jdoc *d, uint32_t rec) {
    static const char *const STAGE[2] = {"llm", "realtime"}, *const OP[2] = {"chat", "realtime"};
    char prov[2][128], model[2][128];
    int ok;
    for (int i = 0; i < 2; i++) {
        uint32_t st = json_get(d, rec, STAGE[i]);
        text_of(d, st, "provider", prov[i], sizeof prov[i]);
        text_of(d, st, "model", model[i], sizeof model[i]);
        int failed;
        int64_t nerr = json_get_i64(d, json_get(d, rec, "errors"), STAGE[i], &failed);
        int64_t dur = json_get_i64(d, st, "duration_ns", &ok); /* error.type: the errors are not classified */
        if (ok) genai_add(o->genai, G_DURATION, OP[i], prov[i], model[i], failed && nerr > 0 ? "_OTHER" : NULL,
                          (double)dur / 1e9);
        int64_t ttft = json_get_i64(d, st, i == 0 ? "ttft_ns" : "ttfa_ns", &ok);
        if (ok) genai_add(o->genai, G_TTFT, OP[i], prov[i], model[i], NULL, (double)ttft / 1e9);
    }
    /* tokens once per turn: with the LLM, or with the realtime model when only that ran */
    int i = !stage_present(d, json_get(d, rec, "llm")) && stage_present(d, json_get(d, rec, "realtime"));
    uint32_t tok = json_get(d, rec, "tokens");
    int64_t in = json_get_i64(d, tok, "input", &ok);
    if (ok) genai_add(o->genai, G_TOKENS, OP[i], prov[i], model[i], "input", (double)in);
    int64_t out = json_get_i64(d, tok, "output", &ok);
    if (ok) genai_add(o->genai, G_TOKENS, OP[i], prov[i], model[i], "output", (double)out);
}

/* ---- Prometheus text --------------------------------------------------------------------------------- */

typedef struct mctx {
    otlp *o;
    enc *e;
    uint64_t now, start;
    uint64_t points;
} mctx;

static const char *unit_of(const char *name) {
    if (strstr(name, "_seconds")) return "s";
    if (strstr(name, "_bytes")) return "By";
    return "";
}

/* A cut UTF-8 text without the incomplete character at its end (strings must stay valid UTF-8). */
static size_t utf8_trim(const char *s, size_t n) {
    size_t i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) i--;
    if (i == 0) return 0;
    if ((unsigned char)s[i - 1] < 0xC0) return n; /* ends on a whole character */
    size_t lead = (unsigned char)s[i - 1] >= 0xF0 ? 4 : (unsigned char)s[i - 1] >= 0xE0 ? 3 : 2;
    return n - (i - 1) == lead ? n : i - 1;
}

/* Label pairs k="v",... as attributes (values unescaped: \\ \" \n). */
static void label_attrs(enc *e, uint32_t field, const char *p) {
    while (*p) {
        const char *eq = strchr(p, '=');
        if (!eq || eq[1] != '"') return;
        char key[256], val[1024];
        size_t kl = (size_t)(eq - p), vl = 0;
        if (kl >= sizeof key) return;
        memcpy(key, p, kl);
        key[kl] = 0;
        p = eq + 2;
        int cut = 0;
        while (*p && *p != '"') {
            char c = *p++;
            if (c == '\\' && *p) c = *p == 'n' ? '\n' : *p, p++;
            if (vl + 1 < sizeof val) val[vl++] = c;
            else cut = 1;
        }
        if (cut) vl = utf8_trim(val, vl);
        val[vl] = 0;
        kv_str(e, field, key, val, vl);
        if (*p == '"') p++;
        if (*p == ',') p++;
    }
}

static void point_head(mctx *m, uint32_t attr_field, const series *s, uint64_t start) {
    enc_msg_begin(m->e, 1, NULL);
    enc_arr_begin(m->e, attr_field, "attributes");
    label_attrs(m->e, attr_field, s->labels);
    enc_arr_end(m->e);
    enc_fixed64(m->e, 2, "startTimeUnixNano", start);
    enc_fixed64(m->e, 3, "timeUnixNano", m->now);
    m->points++;
}

static void write_number_points(mctx *m, family *f, int delta) {
    enc_arr_begin(m->e, 1, "dataPoints");
    for (size_t i = 0; i < f->n; i++) {
        series *s = &f->s[i];
        double v = s->value;
        uint64_t start = m->start;
        if (delta) {
            prev *p = prev_find(m->o->genai, f->name, s->labels);
            if (p) v = s->value - p->value, p->value = s->value;
            start = m->o->genai->last_export_unix ? m->o->genai->last_export_unix : m->start;
        }
        point_head(m, 7, s, start);
        enc_double(m->e, 4, "asDouble", v);
        enc_msg_end(m->e);
    }
    enc_arr_end(m->e);
}

static void write_hist_points(mctx *m, family *f, int delta) {
    enc_arr_begin(m->e, 1, "dataPoints");
    for (size_t i = 0; i < f->n; i++) {
        series *s = &f->s[i];
        uint64_t cum[MAX_BUCKETS + 1], counts[MAX_BUCKETS + 1], count = s->count;
        double sum = s->sum;
        uint64_t start = m->start;
        memcpy(cum, s->cum, sizeof cum);
        if (!s->has_inf) cum[s->nb] = s->count;
        if (delta) {
            prev *p = prev_find(m->o->genai, f->name, s->labels);
            if (p) {
                for (size_t b = 0; b <= s->nb; b++) {
                    uint64_t c = cum[b];
                    cum[b] -= p->cum[b];
                    p->cum[b] = c;
                }
                count -= p->count, p->count = s->count;
                sum -= p->sum, p->sum = s->sum;
            }
            start = m->o->genai->last_export_unix ? m->o->genai->last_export_unix : m->start;
        }
        for (size_t b = 0; b <= s->nb; b++) counts[b] = cum[b] - (b ? cum[b - 1] : 0);
        point_head(m, 9, s, start);
        enc_fixed64(m->e, 4, "count", count);
        enc_double(m->e, 5, "sum", sum);
        enc_packed_fixed64(m->e, 6, "bucketCounts", counts, s->nb + 1);
        enc_packed_double(m->e, 7, "explicitBounds", s->bounds, s->nb);
        enc_msg_end(m->e);
    }
    enc_arr_end(m->e);
}

static void write_summary_points(mctx *m, family *f) {
    enc_arr_begin(m->e, 1, "dataPoints");
    for (size_t i = 0; i < f->n; i++) {
        series *s = &f->s[i];
        point_head(m, 7, s, m->start);
        enc_fixed64(m->e, 4, "count", s->count);
        enc_double(m->e, 5, "sum", s->sum);
        enc_arr_begin(m->e, 6, "quantileValues");
        for (size_t q = 0; q < s->nq; q++) {
            enc_msg_begin(m->e, 6, NULL);
            enc_double(m->e, 1, "quantile", s->qs[q]);
            enc_double(m->e, 2, "value", s->qv[q]);
            enc_msg_end(m->e);
        }
        enc_arr_end(m->e);
        enc_msg_end(m->e);
    }
    enc_arr_end(m->e);
}

/* One Metric message for a family with samples. */
static void family_flush(mctx *m, family *f) {
    int delta = m->o->cfg.delta;
    if (f->n && f->name[0]) {
        enc *e = m->e;
        enc_msg_begin(e, 2, NULL);
        enc_cstr(e, 1, "name", f->name);
        if (f->help[0]) enc_cstr(e, 2, "description", f->help);
        enc_cstr(e, 3, "unit", unit_of(f->name));
        if (f->type == PT_COUNTER) {
            enc_msg_begin(e, 7, "sum");
            write_number_points(m, f, delta);
            enc_uint32(e, 2, "aggregationTemporality", delta ? 1 : 2);
            enc_bool(e, 3, "isMonotonic", 1);
            enc_msg_end(e);
        } else if (f->type == PT_HIST) {
            enc_msg_begin(e, 9, "histogram");
            write_hist_points(m, f, delta);
            enc_uint32(e, 2, "aggregationTemporality", delta ? 1 : 2);
            enc_msg_end(e);
        } else if (f->type == PT_SUMMARY) {
            enc_msg_begin(e, 11, "summary");
            write_summary_points(m, f);
            enc_msg_end(e);
        } else {
            enc_msg_begin(e, 5, "gauge");
            write_number_points(m, f, 0);
            enc_msg_end(e);
        }
        enc_msg_end(e);
    }
    for (size_t i = 0; i < f->n; i++) free(f->s[i].labels);
    f->n = 0;
    f->name[0] = f->help[0] = 0;
    f->type = PT_UNTYPED;
}

static series *series_for(family *f, const char *labels) {
    for (size_t i = f->n; i-- > 0;)
        if (strcmp(f->s[i].labels, labels) == 0) return &f->s[i];
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        series *s = realloc(f->s, cap * sizeof *s);
        if (!s) return NULL;
        f->s = s, f->cap = cap;
    }
    series *s = &f->s[f->n];
    memset(s, 0, sizeof *s);
    s->labels = strdup(labels);
    if (!s->labels) return NULL;
    f->n++;
    return s;
}

/* Splits `{...}`: the pairs other than `special` go to rest; special's value to sval. */
static const char *parse_labels(const char *p, const char *special, char *rest, size_t cap, char *sval, size_t scap) {
    size_t rl = 0, sl = strlen(special);
    sval[0] = rest[0] = 0;
    if (*p != '{') return p;
    p++;
    while (*p && *p != '}') {
        const char *start = p, *eq = strchr(p, '=');
        if (!eq || eq[1] != '"') return NULL;
        p = eq + 2;
        while (*p && *p != '"') p += (*p == '\\' && p[1]) ? 2 : 1;
        if (*p != '"') return NULL;
        p++;
        size_t n = (size_t)(p - start);
        if ((size_t)(eq - start) == sl && memcmp(start, special, sl) == 0) {
            size_t vl = (size_t)(p - eq - 3);
            if (vl >= scap) return NULL;
            memcpy(sval, eq + 2, vl);
            sval[vl] = 0;
        } else {
            if (rl + n + 2 > cap) return NULL;
            if (rl) rest[rl++] = ',';
            memcpy(rest + rl, start, n);
            rl += n;
            rest[rl] = 0;
        }
        if (*p == ',') p++;
    }
    return *p == '}' ? p + 1 : NULL;
}

static void sample_line(mctx *m, family *f, char *line) {
    size_t nl = strcspn(line, "{ ");
    char name[256], rest[4096], sval[64];
    if (nl == 0 || nl >= sizeof name) return;
    memcpy(name, line, nl);
    name[nl] = 0;
    size_t fl = strlen(f->name);
    int same_prefix = fl && strncmp(name, f->name, fl) == 0;
    const char *suffix = same_prefix ? name + fl : NULL;
    if (!suffix || (*suffix && f->type != PT_HIST && f->type != PT_SUMMARY)) {
        family_flush(m, f); /* a sample of a family with no TYPE line: untyped */
        snprintf(f->name, sizeof f->name, "%s", name);
        suffix = "";
    }
    const char *special = f->type == PT_HIST && strcmp(suffix, "_bucket") == 0 ? "le"
                          : f->type == PT_SUMMARY && !*suffix                  ? "quantile"
                                                                              : "";
    const char *p = parse_labels(line + nl, special, rest, sizeof rest, sval, sizeof sval);
    if (!p) return;
    while (*p == ' ') p++;
    double v = strtod(p, NULL);
    series *s = series_for(f, rest);
    if (!s) return;
    if (f->type == PT_HIST && strcmp(suffix, "_bucket") == 0) {
        if (strcmp(sval, "+Inf") == 0) s->cum[s->nb] = (uint64_t)v, s->has_inf = 1;
        else if (s->nb < MAX_BUCKETS) s->bounds[s->nb] = strtod(sval, NULL), s->cum[s->nb++] = (uint64_t)v;
    } else if (f->type == PT_SUMMARY && !*suffix) {
        if (s->nq < MAX_QUANTILES) s->qs[s->nq] = strtod(sval, NULL), s->qv[s->nq++] = v;
    } else if (strcmp(suffix, "_sum") == 0) {
        s->sum = v;
    } else if (strcmp(suffix, "_count") == 0) {
        s->count = (uint64_t)v;
    } else {
        s->value = v;
    }
}

static void meta_line(mctx *m, family *f, char *line) {
    int help = strncmp(line, "# HELP ", 7) == 0, type = strncmp(line, "# TYPE ", 7) == 0;
    if (!help && !type) return;
    char *name = line + 7, *sp = strchr(name, ' ');
    if (!sp) return;
    *sp = 0;
    if (strcmp(name, f->name) != 0) {
        family_flush(m, f);
        snprintf(f->name, sizeof f->name, "%s", name);
    }
    char *rest = sp + 1;
    if (help) {
        size_t w = 0;
        char *p = rest;
        for (; *p && w + 1 < sizeof f->help; p++) {
            char c = *p;
            if (c == '\\' && p[1]) c = p[1] == 'n' ? '\n' : p[1], p++;
            f->help[w++] = c;
        }
        if (*p) w = utf8_trim(f->help, w);
        f->help[w] = 0;
        return;
    }
    f->type = !strcmp(rest, "counter") ? PT_COUNTER : !strcmp(rest, "gauge") ? PT_GAUGE
            : !strcmp(rest, "histogram") ? PT_HIST : !strcmp(rest, "summary") ? PT_SUMMARY : PT_UNTYPED;
}

int prom_to_otlp(otlp *o, enc *e, const char *text, size_t len, uint64_t now, uint64_t *points) {
    mctx m = {o, e, now, o->start_unix_ns, 0};
    family f;
    memset(&f, 0, sizeof f);
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, text, len);
    copy[len] = 0;
    for (char *line = copy; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (line[0] == '#') meta_line(&m, &f, line);
        else if (line[0]) sample_line(&m, &f, line);
        line = nl ? nl + 1 : NULL;
    }
    family_flush(&m, &f);
    free(f.s);
    free(copy);
    *points += m.points;
    return 0;
}

/* ---- GenAI metrics ------------------------------------------------------------------------------------ */

static void genai_point(mctx *m, const genai_series *s, uint64_t start) {
    const char *keys[4] = {"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
                           s->metric == G_TOKENS ? "gen_ai.token.type" : "error.type"};
    const gmetric *g = &GENAI[s->metric];
    enc *e = m->e;
    enc_msg_begin(e, 1, NULL);
    enc_arr_begin(e, 9, "attributes");
    for (int i = 0; i < 4; i++)
        if (s->attrs[i][0]) kv_cstr(e, 9, keys[i], s->attrs[i]);
    enc_arr_end(e);
    enc_fixed64(e, 2, "startTimeUnixNano", start);
    enc_fixed64(e, 3, "timeUnixNano", m->now);
    enc_fixed64(e, 4, "count", s->count);
    enc_double(e, 5, "sum", s->sum);
    enc_packed_fixed64(e, 6, "bucketCounts", s->counts, g->nb + 1);
    enc_packed_double(e, 7, "explicitBounds", g->bounds, g->nb);
    if (s->count) {
        enc_double(e, 11, "min", s->min);
        enc_double(e, 12, "max", s->max);
    }
    enc_msg_end(e);
    m->points++;
}

/* With o->mu held. Delta: the series restart from zero after each export. */
static void genai_metrics(mctx *m) {
    struct genai *g = m->o->genai;
    int delta = m->o->cfg.delta;
    uint64_t start = delta && g->last_export_unix ? g->last_export_unix : m->start;
    for (int metric = 0; metric < 3; metric++) {
        size_t n = 0;
        for (size_t i = 0; i < g->n; i++) n += g->s[i].metric == metric;
        if (!n) continue;
        enc_msg_begin(m->e, 2, NULL);
        enc_cstr(m->e, 1, "name", GENAI[metric].name);
        enc_cstr(m->e, 2, "description", GENAI[metric].desc);
        enc_cstr(m->e, 3, "unit", GENAI[metric].unit);
        enc_msg_begin(m->e, 9, "histogram");
        enc_arr_begin(m->e, 1, "dataPoints");
        for (size_t i = 0; i < g->n; i++)
            if (g->s[i].metric == metric) genai_point(m, &g->s[i], start);
        enc_arr_end(m->e);
        enc_uint32(m->e, 2, "aggregationTemporality", delta ? 1 : 2);
        enc_msg_end(m->e);
        enc_msg_end(m->e);
    }
    if (!delta) return;
    for (size_t i = 0; i < g->n; i++) {
        genai_series *s = &g->s[i];
        memset(s->counts, 0, sizeof s->counts);
        s->count = 0, s->sum = s->min = s->max = 0;
    }
}

static char *read_prom(otlp *o, size_t *len) {
    size_t cap = 64 * 1024;
    for (int tries = 0; tries < 8; tries++) {
        char *p = malloc(cap);
        if (!p) return NULL;
        size_t need = 0;
        int32_t rc = o->host->prom_text(o->host_ctx, p, cap, &need);
        if (rc == 0) {
            *len = need;
            return p;
        }
        free(p);
        if (need < cap) return NULL; /* an error other than a small buffer */
        cap = need + 4096;
    }
    return NULL;
}

/* The metrics request: Prometheus families, then the GenAI histograms. Runs on the sender thread. */
int metrics_build(otlp *o, buf *out, uint64_t *points) {
    size_t len = 0;
    char *text = o->host->prom_text ? read_prom(o, &len) : NULL;
    enc e;
    mctx m = {o, &e, unix_ns(), o->start_unix_ns, 0};
    enc_init(&e, out, o->cfg.json);
    enc_arr_begin(&e, 1, "resourceMetrics");
    enc_msg_begin(&e, 0, NULL);
    spans_resource(o, &e);
    enc_arr_begin(&e, 2, "scopeMetrics");
    enc_msg_begin(&e, 0, NULL);
    enc_msg_begin(&e, 1, "scope");
    enc_cstr(&e, 1, "name", "voicetelemetry.otlp_sink");
    enc_cstr(&e, 2, "version", "1.0.0");
    enc_msg_end(&e);
    enc_arr_begin(&e, 2, "metrics");
    if (text) prom_to_otlp(o, &e, text, len, m.now, &m.points);
    free(text);
    pthread_mutex_lock(&o->mu);
    genai_metrics(&m);
    pthread_mutex_unlock(&o->mu);
    o->genai->last_export_unix = m.now;
    enc_arr_end(&e);
    enc_msg_end(&e);
    enc_arr_end(&e);
    enc_msg_end(&e);
    enc_arr_end(&e);
    enc_finish(&e);
    *points = m.points;
    return out->oom ? -1 : 0;
}
