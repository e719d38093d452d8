package voicetelemetry

import (
	"net/http"
	"strconv"
)

// PromContentType is the Content-Type of the Prometheus text exposition format 0.0.4.
const PromContentType = "text/plain; version=0.0.4; charset=utf-8"

// MetricsHandler serves PromText for a Prometheus scrape (mount it at /metrics). GET and HEAD
// only; a failure to render is a 500 with the error as text.
func MetricsHandler() http.Handler { return metricsHandler{} }

type metricsHandler struct{}

func (metricsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := promText()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", PromContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
