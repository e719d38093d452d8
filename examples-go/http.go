package voicetelemetry

// Header section "Process metrics and Prometheus exposition": the exposition formats, and serving
// them over HTTP.

/*
#include "vtgo.h"

static inline vtgo_result vtgo_prom_text_as(uint32_t format, char *buf, size_t cap) {
    size_t len = 0;
    vt_status st = vt_prom_text_as(format, buf, cap, &len);
    return vtgo_result_of(st, (uint64_t)len);
}
*/
import "C"

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// PromContentType is the Content-Type of the Prometheus text exposition format 0.0.4.
const PromContentType = "text/plain; version=0.0.4; charset=utf-8"

// OpenMetricsContentType is the Content-Type of OpenMetrics 1.0.0 text. Since 1.2.
const OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

// ExpositionFormat is a text format of PromTextAs (vt_exposition_format). Since 1.2.
type ExpositionFormat uint32

// Values of ExpositionFormat.
const (
	// FormatPrometheus: text format 0.0.4, exactly PromText's text.
	FormatPrometheus ExpositionFormat = C.VT_FORMAT_PROMETHEUS
	// FormatOpenMetrics: OpenMetrics 1.0.0 -- counter families named without _total, # UNIT
	// lines, exemplars {session_id,turn_id,trace_id} on the turn latency histogram buckets, # EOF.
	FormatOpenMetrics ExpositionFormat = C.VT_FORMAT_OPENMETRICS
)

// ContentType is the Content-Type to serve the format with.
func (f ExpositionFormat) ContentType() string {
	if f == FormatOpenMetrics {
		return OpenMetricsContentType
	}
	return PromContentType
}

// promAsHint: the buffer size the next PromTextAs starts with, per format (the largest seen).
var promAsHint [2]atomic.Int64

func init() {
	promAsHint[FormatPrometheus].Store(16 << 10)
	promAsHint[FormatOpenMetrics].Store(16 << 10)
}

// PromTextAs returns every metric of the process in the exposition format (vt_prom_text_as).
// FormatPrometheus gives PromText's text; FormatOpenMetrics the same families, series and values as
// OpenMetrics 1.0.0. An unknown format is ErrInvalidArgument. Since 1.2.
func PromTextAs(format ExpositionFormat) (string, error) {
	b, err := promTextAs(format)
	return string(b), err
}

func promTextAs(format ExpositionFormat) ([]byte, error) {
	if format != FormatPrometheus && format != FormatOpenMetrics {
		return nil, invalidf("exposition format %d: use FormatPrometheus or FormatOpenMetrics", uint32(format))
	}
	return textCall(&promAsHint[format], "exposition", func(p *C.char, cap int) C.vtgo_result {
		return C.vtgo_prom_text_as(C.uint32_t(format), p, C.size_t(cap))
	})
}

// ---- negotiation (docs/http.md "Negotiation"; the same rules as http_exporter.so and Python) ----

// NegotiateFormat is the exposition format an Accept header asks for ("" = no header). Each format
// gets the q-value of the most specific range that matches it (*/*, then type/*, then the type,
// then the type with its version; a range naming another version does not match; an element with
// a malformed q-value is ignored): OpenMetrics 1.0.0 when its q-value is above 0 and above that of
// text 0.0.4, otherwise text 0.0.4 (on a tie too; never 406).
func NegotiateFormat(accept string) ExpositionFormat {
	om := mediaQ(accept, "application", "openmetrics-text", "1.0.0")
	text := mediaQ(accept, "text", "plain", "0.0.4")
	if om > 0 && om > text {
		return FormatOpenMetrics
	}
	return FormatPrometheus
}

// AcceptsGzip reports whether an Accept-Encoding header allows gzip: gzip (or x-gzip) has a q-value
// above 0, or, naming neither, * has one.
func AcceptsGzip(acceptEncoding string) bool {
	gzipQ, starQ := -1, -1
	for _, it := range listItems(acceptEncoding) {
		q := qvalue(it.params)
		switch {
		case q < 0:
		case asciiEqualFold(it.value, "gzip") || asciiEqualFold(it.value, "x-gzip"):
			if q > gzipQ {
				gzipQ = q
			}
		case it.value == "*":
			starQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

const ows = " \t" // optional whitespace around list elements and parameters (RFC 9110)

type listItem struct{ value, params string }

// listItems splits a comma-separated header list (quoted strings may hold commas) into elements,
// each as its value and the parameters after its first ';'; empty elements are skipped.
func listItems(header string) []listItem {
	var out []listItem
	for i := 0; i < len(header); {
		start, quoted := i, false
		for ; i < len(header) && (quoted || header[i] != ','); i++ {
			if header[i] == '"' {
				quoted = !quoted
			} else if header[i] == '\\' && quoted && i+1 < len(header) {
				i++
			}
		}
		item := strings.Trim(header[start:i], ows)
		i++
		if item == "" {
			continue
		}
		value, params, _ := strings.Cut(item, ";")
		out = append(out, listItem{strings.Trim(value, ows), params})
	}
	return out
}

// param is the value of parameter name in `a=1; b="2"` (one pair of quotes removed).
func param(params, name string) (string, bool) {
	for pos := 0; pos < len(params); {
		i, quoted := pos, false
		for ; i < len(params) && (quoted || params[i] != ';'); i++ {
			if params[i] == '"' {
				quoted = !quoted
			}
		}
		key, value, eq := strings.Cut(strings.Trim(params[pos:i], ows), "=")
		pos = i + 1
		if eq && asciiEqualFold(strings.Trim(key, ows), name) {
			value = strings.Trim(value, ows)
			if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
				value = value[1 : len(value)-1]
			}
			return value, true
		}
	}
	return "", false
}

// qvalue is the q parameter in thousandths (1000 when absent), -1 when malformed.
func qvalue(params string) int {
	v, ok := param(params, "q")
	if !ok {
		return 1000
	}
	if len(v) < 1 || len(v) > 5 || (v[0] != '0' && v[0] != '1') || (len(v) > 1 && v[1] != '.') {
		return -1
	}
	q, scale := int(v[0]-'0')*1000, 100
	for i := 2; i < len(v); i, scale = i+1, scale/10 {
		if v[i] < '0' || v[i] > '9' {
			return -1
		}
		q += int(v[i]-'0') * scale
	}
	if q > 1000 {
		return -1
	}
	return q
}

// mediaQ is the q of the most specific range of accept that matches typ/sub (see NegotiateFormat),
// 0 when none matches.
func mediaQ(accept, typ, sub, version string) int {
	bestSpec, bestQ := 0, 0
	for _, it := range listItems(accept) {
		t, st, ok := strings.Cut(it.value, "/")
		if !ok {
			continue
		}
		var spec int
		switch {
		case t == "*" && st == "*":
			spec = 1
		case asciiEqualFold(t, typ) && st == "*":
			spec = 2
		case asciiEqualFold(t, typ) && asciiEqualFold(st, sub):
			spec = 3
			if v, has := param(it.params, "version"); has {
				if v != version {
					continue
				}
				spec = 4
			}
		default:
			continue
		}
		q := qvalue(it.params)
		if q < 0 || spec < bestSpec {
			continue
		}
		if spec > bestSpec || q > bestQ {
			bestQ = q
		}
		bestSpec = spec
	}
	return bestQ
}

// asciiEqualFold is s == lower (lower in lower case), ignoring ASCII case only.
func asciiEqualFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// ---- the handler -------------------------------------------------------------------------------

// GzipLevel is the compression level of gzipped scrapes: 1, as http_exporter.so's default.
const GzipLevel = 1

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, GzipLevel)
	return w
}}

func gzipBytes(body []byte) []byte {
	var out bytes.Buffer
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&out)
	_, _ = w.Write(body)
	_ = w.Close()
	gzipWriters.Put(w)
	return out.Bytes()
}

// MetricsHandler serves the process's metrics for a Prometheus scrape (mount it at /metrics; it
// does not look at the path), with the negotiation of http_exporter.so and the Python binding:
// GET and HEAD only (405 with Allow: GET, HEAD and a JSON error otherwise); OpenMetrics or text
// 0.0.4 by Accept (NegotiateFormat); gzip by Accept-Encoding (AcceptsGzip); Content-Length always
// (HEAD: GET's); Vary: Accept-Encoding, Accept; Cache-Control: no-store; no ETag. A failure to
// render is a 500 with a JSON error.
func MetricsHandler() http.Handler { return metricsHandler{} }

type metricsHandler struct{}

func (metricsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSONError(w, http.StatusMethodNotAllowed, "only GET and HEAD are served")
		return
	}
	format := NegotiateFormat(strings.Join(r.Header.Values("Accept"), ", "))
	body, err := promTextAs(format)
	if err != nil {
		msg := err.Error()
		var e *Error
		if errors.As(err, &e) {
			msg = e.Message
		}
		writeJSONError(w, http.StatusInternalServerError, "cannot render metrics: "+msg)
		return
	}
	h := w.Header()
	h.Set("Content-Type", format.ContentType())
	if AcceptsGzip(strings.Join(r.Header.Values("Accept-Encoding"), ", ")) {
		body = gzipBytes(body)
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Vary", "Accept-Encoding, Accept")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// writeJSONError answers {"error": msg}, as http_exporter.so does.
func writeJSONError(w http.ResponseWriter, status int, msg string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"error": msg})
	body := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
