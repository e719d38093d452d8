/*
 * config.c -- the plugin's config JSON (docs/http.md lists every key). Unknown keys are ignored
 * (the host adds its own); a known key with a bad value fails init with a message naming it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../json_mini.h"
#include "http.h"

/* The integer keys: name, field, default, smallest and largest allowed value. One list. */
typedef struct int_key {
    const char *name;
    size_t offset;
    uint32_t def, min, max;
} int_key;

#define HX_KEY(name, def, min, max) {#name, offsetof(hx_config, name), def, min, max}
static const int_key int_keys[] = {
    HX_KEY(max_connections, 64, 1, 100000),
    HX_KEY(max_header_bytes, 8192, 256, 1048576),
    HX_KEY(request_timeout_ms, 5000, 10, 3600000),
    HX_KEY(idle_timeout_ms, 60000, 10, 86400000),
    HX_KEY(sse_max_clients, 16, 0, 10000),
    HX_KEY(sse_queue_events, 256, 1, 65536),
    HX_KEY(sse_heartbeat_ms, 15000, 10, 3600000),
    HX_KEY(threads, 1, 1, 16),
    HX_KEY(gzip_level, 1, 1, 9),
};
#undef HX_KEY

static int failf(char *err, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int read_string(const jm_doc *d, int root, const char *key, char *out, size_t cap, char *err, size_t err_cap) {
    int v = jm_get(d, root, key);
    if (v < 0 || jm_is(d, v, JM_NULL)) return 0;
    if (!jm_is(d, v, JM_STRING)) return failf(err, err_cap, "config: '%s' must be a string", key);
    const jm_tok *t = &d->tok[v];
    if (t->len >= cap) return failf(err, err_cap, "config: '%s' is longer than %zu bytes", key, cap - 1);
    size_t n = jm_unescape(d->src + t->start, t->len, out);
    out[n] = 0;
    if (strlen(out) != n) return failf(err, err_cap, "config: '%s' holds a NUL character", key);
    return 0;
}

static int read_ints(const jm_doc *d, int root, hx_config *cfg, char *err, size_t err_cap) {
    for (size_t i = 0; i < sizeof int_keys / sizeof int_keys[0]; i++) {
        const int_key *k = &int_keys[i];
        uint32_t *field = (uint32_t *)((char *)cfg + k->offset);
        *field = k->def;
        int v = jm_get(d, root, k->name);
        if (v < 0 || jm_is(d, v, JM_NULL)) continue;
        int64_t x;
        if (jm_int(d, v, &x) < 0 || x < k->min || x > k->max)
            return failf(err, err_cap, "config: '%s' must be an integer from %u to %u", k->name, k->min, k->max);
        *field = (uint32_t)x;
    }
    return 0;
}

int hx_config_parse(const char *json, hx_config *cfg, char *err, size_t err_cap) {
    memset(cfg, 0, sizeof *cfg);
    jm_tok tok[1024];
    jm_doc d;
    if (!json) json = "{}";
    if (jm_parse(&d, json, strlen(json), tok, sizeof tok / sizeof tok[0]) < 0)
        return failf(err, err_cap, "config: not valid JSON (%s at byte %zu)", d.error, d.pos);
    if (!jm_is(&d, 0, JM_OBJECT)) return failf(err, err_cap, "config: not a JSON object");
    strcpy(cfg->listen, "127.0.0.1:9464");
    if (read_string(&d, 0, "listen", cfg->listen, sizeof cfg->listen, err, err_cap) < 0 ||
        read_string(&d, 0, "port_file", cfg->port_file, sizeof cfg->port_file, err, err_cap) < 0 ||
        read_string(&d, 0, "token", cfg->token, sizeof cfg->token, err, err_cap) < 0 ||
        read_ints(&d, 0, cfg, err, err_cap) < 0)
        return -1;
    for (const char *p = cfg->token; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return failf(err, err_cap, "config: 'token' must be printable ASCII without spaces");
    if (cfg->listen[0] == 0) return failf(err, err_cap, "config: 'listen' is empty");
    return 0;
}
