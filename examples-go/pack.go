package voicetelemetry

import (
	"bytes"
	"sort"
	"strings"
)

// packed holds NUL-terminated strings back to back in one Go []byte, the form the vtgo.h helpers
// unpack. A []byte holds no Go pointers, so cgo lets C read it for the duration of the call: no C
// allocation, nothing to free, and one crossing however many strings a call has.
type packed struct {
	buf []byte
	err error
}

// str appends s; a NUL byte inside s (which C would silently cut) is an invalid argument.
func (p *packed) str(what, s string) {
	if p.err != nil {
		return
	}
	if strings.IndexByte(s, 0) >= 0 {
		p.err = invalidf("%s contains a NUL byte", what)
		return
	}
	p.buf = append(p.buf, s...)
	p.buf = append(p.buf, 0)
}

// bytes is str for a []byte (no conversion copy).
func (p *packed) bytes(what string, b []byte) {
	if p.err != nil {
		return
	}
	if bytes.IndexByte(b, 0) >= 0 {
		p.err = invalidf("%s contains a NUL byte", what)
		return
	}
	p.buf = append(p.buf, b...)
	p.buf = append(p.buf, 0)
}

// pairs appends label pairs (key, value, key, value, ...) in the given order and returns how many
// pairs there are. Duplicate keys are left for the library to reject, with its message.
func (p *packed) pairs(kv []string) int {
	if p.err != nil {
		return 0
	}
	if len(kv)%2 != 0 {
		p.err = invalidf("%d label strings: keys and values must come in pairs", len(kv))
		return 0
	}
	if n := len(kv) / 2; n > MaxLabels {
		p.err = invalidf("%d labels: at most %d are allowed", n, MaxLabels)
		return 0
	}
	for i := 0; i < len(kv); i += 2 {
		p.str("label key", kv[i])
		p.str("value of label '"+kv[i]+"'", kv[i+1])
	}
	return len(kv) / 2
}

// labelPairs flattens m into key, value pairs in key order (deterministic, whatever the map order).
func labelPairs(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kv := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		kv = append(kv, k, m[k])
	}
	return kv
}

// ptr is the address of the packed bytes (never nil once something was packed).
func (p *packed) ptr() *byte {
	if len(p.buf) == 0 {
		p.buf = append(p.buf, 0)
	}
	return &p.buf[0]
}
