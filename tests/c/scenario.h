/*
 * scenario.h -- replays tests/scenarios/<name>.txt through the C ABI and checks the snapshot against
 * tests/scenarios/<name>.expected (the same files the Python and Go suites replay).
 */
#ifndef VT_TEST_SCENARIO_H
#define VT_TEST_SCENARIO_H

#include "check.h"

/* Find `"key":` inside the JSON object that starts at `from`; returns a pointer to the value text. */
static const char *scenario_find_value(const char *json, const char *path) {
    char part[128];
    const char *cursor = json;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n + 4 > sizeof part) return NULL;
        part[0] = '"';
        memcpy(part + 1, p, n);
        memcpy(part + 1 + n, "\":", 3);
        cursor = strstr(cursor, part);
        if (!cursor) return NULL;
        cursor += n + 3;
        if (!dot) return cursor;
        p = dot + 1;
    }
}

/* Value text at `at`: up to the next ',' or '}' outside a string. */
static void scenario_value_text(const char *at, char *out, size_t cap) {
    size_t i = 0;
    int in_string = 0;
    while (at[i] && i + 1 < cap) {
        char c = at[i];
        if (in_string) {
            if (c == '\\' && at[i + 1]) { out[i] = c; i++; out[i] = at[i]; i++; continue; }
            if (c == '"') in_string = 0;
        } else {
            if (c == '"') in_string = 1;
            else if (c == ',' || c == '}') break;
        }
        out[i] = c;
        i++;
    }
    out[i] = 0;
}

/* Replay a scenario; returns the session (still open) or 0. */
static vt_session scenario_play(const char *txt_path, char *snapshot, size_t cap) {
    FILE *f = fopen(txt_path, "r");
    CHECK(f != NULL);
    if (!f) return 0;
    char line[512];
    vt_session s = 0;
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char call[64] = {0};
        if (sscanf(line, "%63s", call) != 1) continue;
        char *args = strstr(line, call) + strlen(call);
        unsigned long long t = 0, a = 0;
        if (strcmp(call, "config") == 0) {
            static char words[8][128];
            vt_label labels[8];
            int nw = 0;
            char *tok = strtok(args, " \t\r\n");
            while (tok && nw < 8) { snprintf(words[nw++], sizeof words[0], "%s", tok); tok = strtok(NULL, " \t\r\n"); }
            size_t nl = 0;
            for (int i = 1; i < nw - 1; i++) {
                char *eq = strchr(words[i], '=');
                if (!eq) continue;
                *eq = 0;
                labels[nl].key = words[i];
                labels[nl].value = eq + 1;
                nl++;
            }
            vt_session_config cfg;
            memset(&cfg, 0, sizeof cfg);
            cfg.struct_size = sizeof cfg;
            cfg.session_id = words[0];
            cfg.labels = labels;
            cfg.n_labels = nl;
            cfg.start_t_ns = strtoull(words[nw - 1], NULL, 10);
            CHECK_STATUS(vt_create_session(&cfg, &s), VT_OK);
        } else if (strcmp(call, "audio_out") == 0) {
            CHECK(sscanf(args, "%llu %llu", &a, &t) == 2);
            CHECK_STATUS(vt_record_audio_out(s, (size_t)a, t), VT_OK);
        } else if (strcmp(call, "usage") == 0) {
            long long v[5];
            CHECK(sscanf(args, "%lld %lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3], &v[4]) == 5);
            vt_usage u = {sizeof(vt_usage), v[0], v[1], v[2], v[3], v[4]};
            CHECK_STATUS(vt_record_usage(s, &u), VT_OK);
        } else if (strcmp(call, "snapshot_at") == 0) {
            size_t len = 0;
            CHECK(sscanf(args, "%llu", &t) == 1);
            CHECK_STATUS(vt_snapshot_json_at(s, t, snapshot, cap, &len), VT_OK);
        } else {
            CHECK(sscanf(args, "%llu", &t) == 1);
            vt_status st = VT_E_INTERNAL;
            if (strcmp(call, "vad_start") == 0) st = vt_record_vad_start(s, t);
            else if (strcmp(call, "vad_end") == 0) st = vt_record_vad_end(s, t);
            else if (strcmp(call, "text_send") == 0) st = vt_record_text_send(s, t);
            else if (strcmp(call, "text_out") == 0) st = vt_record_text_out(s, t);
            else if (strcmp(call, "interruption") == 0) st = vt_record_interruption(s, t);
            else if (strcmp(call, "turn_start") == 0) st = vt_record_turn_start(s, t);
            else if (strcmp(call, "turn_complete") == 0) st = vt_record_turn_complete(s, t);
            else fprintf(stderr, "unknown scenario call '%s'\n", call);
            CHECK_STATUS(st, VT_OK);
        }
    }
    fclose(f);
    return s;
}

/* Check every "<path> <value>" line of an .expected file against the snapshot text. */
static void scenario_check(const char *expected_path, const char *snapshot) {
    FILE *f = fopen(expected_path, "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char path[256], want[256];
        if (sscanf(line, "%255s %255[^\n]", path, want) != 2) continue;
        const char *at = scenario_find_value(snapshot, path);
        char got[256] = "(missing)";
        if (at) scenario_value_text(at, got, sizeof got);
        char m[1024];
        snprintf(m, sizeof m, "%s: snapshot has %s, expected %s", path, got, want);
        check_report(at && strcmp(got, want) == 0, __FILE__, __LINE__, m);
    }
    fclose(f);
}

#endif /* VT_TEST_SCENARIO_H */
