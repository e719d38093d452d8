/*
 * request.c -- the HTTP/1.1 request head (RFC 9112) and the header values the routes read
 * (RFC 9110: Accept, Accept-Encoding, Connection, Content-Length). Pure functions over borrowed
 * bytes: nothing here allocates, and nothing reads past the length it is given.
 *
 * The parser is strict where leniency invites smuggling or confusion (white space before a
 * colon, obsolete line folding, control characters, conflicting lengths) and lenient where the
 * RFC allows it (a bare LF ends a line; empty lines before the request line are skipped).
 */
#include <string.h>

#include "http.h"

static int is_tchar(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

int hx_str_ieq(hx_str s, const char *word) {
    size_t n = strlen(word);
    if (s.n != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s.p[i]) != word[i]) return 0;
    return 1;
}

static hx_str trim(hx_str s) {
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) s.p++, s.n--;
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t')) s.n--;
    return s;
}

static long fail(hx_request *req, int status, const char *why) {
    req->error_status = status;
    req->error = why;
    return -1;
}

/* One line of buf[pos..end): its content (without CR LF) and where the next starts. 1: a whole
 * line; 0: no line end yet; -1: a CR not followed by LF, or a byte no head may hold. */
static int next_line(const char *buf, size_t pos, size_t end, hx_str *line, size_t *after) {
    for (size_t i = pos; i < end; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n') {
            size_t n = i - pos;
            if (n && buf[i - 1] == '\r') n--;
            line->p = buf + pos;
            line->n = n;
            *after = i + 1;
            return 1;
        }
        if (c == '\r' && i + 1 < end && buf[i + 1] != '\n') return -1;
        if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) return -1;
    }
    return 0;
}

static int parse_method(hx_str m) {
    if (m.n == 3 && memcmp(m.p, "GET", 3) == 0) return HX_GET;
    if (m.n == 4 && memcmp(m.p, "HEAD", 4) == 0) return HX_HEAD;
    return HX_OTHER_METHOD;
}

/* The request target: origin-form ("/path?query"), absolute-form ("http://host/path") or "*". */
static long parse_target(hx_request *req, hx_str t) {
    for (size_t i = 0; i < t.n; i++) {
        unsigned char c = (unsigned char)t.p[i];
        if (c <= 0x20 || c >= 0x7f || c == '#') return fail(req, 400, "bad character in the request target");
    }
    req->target = t;
    hx_str p = t;
    if (p.n > 7 && (strncmp(p.p, "http://", 7) == 0 || (p.n > 8 && strncmp(p.p, "https://", 8) == 0))) {
        size_t skip = p.p[4] == ':' ? 7 : 8;
        const char *slash = memchr(p.p + skip, '/', p.n - skip);
        const char *q = memchr(p.p + skip, '?', p.n - skip);
        if (q && (!slash || q < slash)) slash = NULL;
        if (!slash) return fail(req, 400, "an absolute request target needs a path");
        p.n -= (size_t)(slash - p.p);
        p.p = slash;
    } else if (!(p.n == 1 && p.p[0] == '*') && (p.n == 0 || p.p[0] != '/')) {
        return fail(req, 400, "the request target must start with '/'");
    }
    const char *q = memchr(p.p, '?', p.n);
    req->path.p = p.p;
    req->path.n = q ? (size_t)(q - p.p) : p.n;
    req->query.p = q ? q + 1 : p.p + p.n;
    req->query.n = q ? p.n - req->path.n - 1 : 0;
    return 0;
}

static long parse_request_line(hx_request *req, hx_str line) {
    const char *sp1 = memchr(line.p, ' ', line.n);
    if (!sp1) return fail(req, 400, "malformed request line");
    const char *sp2 = memchr(sp1 + 1, ' ', line.n - (size_t)(sp1 + 1 - line.p));
    if (!sp2) return fail(req, 400, "malformed request line");
    hx_str method = {line.p, (size_t)(sp1 - line.p)};
    hx_str target = {sp1 + 1, (size_t)(sp2 - sp1 - 1)};
    hx_str version = {sp2 + 1, line.n - (size_t)(sp2 + 1 - line.p)};
    if (method.n == 0) return fail(req, 400, "malformed request line");
    for (size_t i = 0; i < method.n; i++)
        if (!is_tchar((unsigned char)method.p[i])) return fail(req, 400, "bad character in the method");
    req->method = parse_method(method);
    if (version.n != 8 || memcmp(version.p, "HTTP/", 5) != 0 || version.p[6] != '.' ||
        version.p[5] < '0' || version.p[5] > '9' || version.p[7] < '0' || version.p[7] > '9')
        return fail(req, 400, "malformed HTTP version");
    if (version.p[5] != '1') return fail(req, 505, "only HTTP/1.x is served");
    req->http_minor = version.p[7] - '0';
    req->keep_alive = req->http_minor >= 1;
    return parse_target(req, target);
}

/* Content-Length: digits (a list of equal values is one value, RFC 9110 8.6). */
static long content_length(hx_request *req, hx_str v, int *seen, uint64_t *value) {
    uint64_t n = 0;
    int digits = 0;
    for (size_t i = 0; i <= v.n; i++) {
        char c = i < v.n ? v.p[i] : ',';
        if (c >= '0' && c <= '9') {
            if (++digits > 18) return fail(req, 400, "Content-Length too large");
            n = n * 10 + (uint64_t)(c - '0');
        } else if (c == ',') {
            if (!digits) return fail(req, 400, "malformed Content-Length");
            if (*seen && n != *value) return fail(req, 400, "conflicting Content-Length values");
            *seen = 1;
            *value = n;
            n = 0;
            digits = 0;
        } else if (c != ' ' && c != '\t') {
            return fail(req, 400, "malformed Content-Length");
        }
    }
    return 0;
}

/* Connection: a comma-separated list of options; "close" and "keep-alive" matter. */
static void connection_options(hx_request *req, hx_str v) {
    size_t start = 0;
    for (size_t i = 0; i <= v.n; i++) {
        if (i < v.n && v.p[i] != ',') continue;
        hx_str opt = trim((hx_str){v.p + start, i - start});
        if (hx_str_ieq(opt, "close")) req->keep_alive = 0;
        else if (hx_str_ieq(opt, "keep-alive") && req->http_minor == 0) req->keep_alive = 1;
        start = i + 1;
    }
}

typedef struct head_state {
    int hosts, cl_seen, te_seen, auth_seen;
    uint64_t cl;
} head_state;

static long header_line(hx_request *req, hx_str line, head_state *st) {
    if (line.p[0] == ' ' || line.p[0] == '\t') return fail(req, 400, "obsolete line folding");
    const char *colon = memchr(line.p, ':', line.n);
    if (!colon || colon == line.p) return fail(req, 400, "malformed header line");
    hx_str name = {line.p, (size_t)(colon - line.p)};
    for (size_t i = 0; i < name.n; i++)
        if (!is_tchar((unsigned char)name.p[i])) return fail(req, 400, "bad character in a header name");
    hx_str v = trim((hx_str){colon + 1, line.n - name.n - 1});
    if (hx_str_ieq(name, "host")) st->hosts++;
    else if (hx_str_ieq(name, "content-length")) return content_length(req, v, &st->cl_seen, &st->cl);
    else if (hx_str_ieq(name, "transfer-encoding")) st->te_seen = 1;
    else if (hx_str_ieq(name, "connection")) connection_options(req, v);
    else if (hx_str_ieq(name, "accept") && !req->accept.p) req->accept = v;
    else if (hx_str_ieq(name, "accept-encoding") && !req->accept_encoding.p) req->accept_encoding = v;
    else if (hx_str_ieq(name, "last-event-id")) req->last_event_id = v;
    else if (hx_str_ieq(name, "authorization")) {
        if (st->auth_seen++) return fail(req, 400, "more than one Authorization header");
        req->authorization = v;
    }
    return 0;
}

static long finish_head(hx_request *req, const head_state *st) {
    if (req->http_minor >= 1 && st->hosts != 1)
        return fail(req, 400, st->hosts ? "more than one Host header" : "HTTP/1.1 needs a Host header");
    if (st->te_seen && st->cl_seen) return fail(req, 400, "both Transfer-Encoding and Content-Length");
    req->has_body = st->te_seen || (st->cl_seen && st->cl > 0);
    if (req->has_body) req->keep_alive = 0; /* the body is not read: the connection cannot go on */
    return 0;
}

long hx_parse_request(const char *buf, size_t len, size_t max_head, hx_request *req) {
    memset(req, 0, sizeof *req);
    size_t end = len < max_head ? len : max_head, pos = 0, after = 0;
    hx_str line;
    int r;
    head_state st;
    memset(&st, 0, sizeof st);
    while ((r = next_line(buf, pos, end, &line, &after)) == 1 && line.n == 0) pos = after; /* empty lines first */
    if (r == 1) {
        if (parse_request_line(req, line) < 0) return -1;
        pos = after;
        while ((r = next_line(buf, pos, end, &line, &after)) == 1) {
            pos = after;
            if (line.n == 0) return finish_head(req, &st) < 0 ? -1 : (long)pos;
            if (header_line(req, line, &st) < 0) return -1;
        }
    } else if (r == 0 && pos < end) {
        /* no whole request line yet: refuse what cannot begin one without waiting for more */
        for (size_t i = pos; i < end && buf[i] != ' '; i++)
            if (!is_tchar((unsigned char)buf[i]) && buf[i] != '\r') return fail(req, 400, "malformed request line");
    }
    if (r < 0) return fail(req, 400, "bad character in the request head");
    if (len >= max_head) return fail(req, 431, "request head too large");
    return 0;
}

/* ---- values ---------------------------------------------------------------------------------- */

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

long hx_percent_decode(hx_str s, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] != '%') {
            out[o++] = s.p[i];
            continue;
        }
        if (i + 2 >= s.n) return -1;
        int hi = hexval(s.p[i + 1]), lo = hexval(s.p[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return -1;
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = 0;
    return (long)o;
}

/* The elements of a comma-separated header list, each split into its value and parameters. */
typedef struct list_item {
    hx_str value;      /* e.g. "text/plain", "gzip" */
    hx_str params;     /* after the first ';' */
} list_item;

/* The next element of a list at *pos (quoted strings may hold commas). 0 at the end. */
static int list_next(hx_str list, size_t *pos, list_item *it) {
    while (*pos < list.n) {
        size_t start = *pos, i = start;
        int quoted = 0;
        for (; i < list.n && (quoted || list.p[i] != ','); i++) {
            if (list.p[i] == '"') quoted = !quoted;
            else if (list.p[i] == '\\' && quoted && i + 1 < list.n) i++;
        }
        *pos = i + 1;
        hx_str all = trim((hx_str){list.p + start, i - start});
        if (all.n == 0) continue;
        const char *semi = memchr(all.p, ';', all.n);
        it->value = trim((hx_str){all.p, semi ? (size_t)(semi - all.p) : all.n});
        it->params = semi ? (hx_str){semi + 1, all.n - (size_t)(semi + 1 - all.p)} : (hx_str){all.p + all.n, 0};
        return 1;
    }
    return 0;
}

/* The value of parameter `name` in "a=1; b=\"2\"" (quotes removed, escapes kept). */
static int param(hx_str params, const char *name, hx_str *value) {
    size_t pos = 0;
    while (pos < params.n) {
        size_t i = pos;
        int quoted = 0;
        for (; i < params.n && (quoted || params.p[i] != ';'); i++)
            if (params.p[i] == '"') quoted = !quoted;
        hx_str p = trim((hx_str){params.p + pos, i - pos});
        pos = i + 1;
        const char *eq = memchr(p.p, '=', p.n);
        if (!eq) continue;
        if (!hx_str_ieq(trim((hx_str){p.p, (size_t)(eq - p.p)}), name)) continue;
        hx_str v = trim((hx_str){eq + 1, p.n - (size_t)(eq + 1 - p.p)});
        if (v.n >= 2 && v.p[0] == '"' && v.p[v.n - 1] == '"') v.p++, v.n -= 2;
        *value = v;
        return 1;
    }
    return 0;
}

/* A q-value ("0", "0.5", "1.000") in thousandths; -1 if malformed. 1000 when there is none. */
static int qvalue(hx_str params) {
    hx_str v;
    if (!param(params, "q", &v)) return 1000;
    if (v.n == 0 || v.n > 5 || (v.p[0] != '0' && v.p[0] != '1') || (v.n > 1 && v.p[1] != '.')) return -1;
    int q = (v.p[0] - '0') * 1000, scale = 100;
    for (size_t i = 2; i < v.n; i++, scale /= 10) {
        if (v.p[i] < '0' || v.p[i] > '9') return -1;
        q += (v.p[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* The q of the most specific media range in `accept` that matches type/subtype (whose version
 * parameter, when the range gives one, must be `version`). 0 when none matches. */
static int media_q(hx_str accept, const char *type, const char *subtype, const char *version) {
    size_t pos = 0;
    int best_spec = 0, best_q = 0;
    list_item it;
    while (list_next(accept, &pos, &it)) {
        const char *slash = memchr(it.value.p, '/', it.value.n);
        if (!slash) continue;
        hx_str t = {it.value.p, (size_t)(slash - it.value.p)};
        hx_str st = {slash + 1, it.value.n - t.n - 1};
        int spec;
        hx_str ver;
        if (hx_str_ieq(t, "*") && hx_str_ieq(st, "*")) spec = 1;
        else if (hx_str_ieq(t, type) && hx_str_ieq(st, "*")) spec = 2;
        else if (hx_str_ieq(t, type) && hx_str_ieq(st, subtype)) {
            spec = 3;
            if (param(it.params, "version", &ver)) {
                if (!(ver.n == strlen(version) && memcmp(ver.p, version, ver.n) == 0)) continue;
                spec = 4;
            }
        } else {
            continue;
        }
        int q = qvalue(it.params);
        if (q < 0 || spec < best_spec) continue;
        if (spec > best_spec || q > best_q) best_q = q;
        best_spec = spec;
    }
    return best_q;
}

int hx_wants_openmetrics(hx_str accept) {
    if (!accept.p) return 0;
    int om = media_q(accept, "application", "openmetrics-text", "1.0.0");
    int text = media_q(accept, "text", "plain", "0.0.4");
    return om > 0 && om > text;
}

int hx_accepts_gzip(hx_str ae) {
    if (!ae.p) return 0;
    size_t pos = 0;
    int gzip_q = -1, star_q = -1;
    list_item it;
    while (list_next(ae, &pos, &it)) {
        int q = qvalue(it.params);
        if (q < 0) continue;
        if (hx_str_ieq(it.value, "gzip") || hx_str_ieq(it.value, "x-gzip")) gzip_q = q > gzip_q ? q : gzip_q;
        else if (hx_str_ieq(it.value, "*")) star_q = q;
    }
    return gzip_q >= 0 ? gzip_q > 0 : star_q > 0;
}

int hx_query_param(hx_str query, const char *name, hx_str *value) {
    size_t pos = 0, nlen = strlen(name);
    int found = 0;
    while (pos <= query.n && query.n) {
        const char *amp = memchr(query.p + pos, '&', query.n - pos);
        size_t end = amp ? (size_t)(amp - query.p) : query.n;
        hx_str kv = {query.p + pos, end - pos};
        const char *eq = memchr(kv.p, '=', kv.n);
        size_t klen = eq ? (size_t)(eq - kv.p) : kv.n;
        if (klen == nlen && memcmp(kv.p, name, nlen) == 0) {
            if (found++) return -1;
            *value = eq ? (hx_str){eq + 1, kv.n - klen - 1} : (hx_str){kv.p + kv.n, 0};
        }
        if (!amp) break;
        pos = end + 1;
    }
    return found;
}
