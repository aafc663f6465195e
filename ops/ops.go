// Package ops serves what operators and load balancers ask of a running gateway: its
// health and its Prometheus metrics.
package ops

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics serves reg's metrics; with a token, only to a request bearing it (401 with a
// JSON reason otherwise).
func Metrics(reg *prometheus.Registry, token string) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"metrics need the bearer token of http.metrics_token"}` + "\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Status is what Health reports at one moment.
type Status struct {
	ActiveCalls int
	Queue       int
	Draining    bool
	// Problems are the failing parts (the store, recording, an engine, a trunk…), each
	// as the screens show it.
	Problems []any
}

// Health answers "ok", "degraded" (a failing part, listed) or "draining" with 503, so a
// load balancer stops sending calls to a gateway that refuses them.
func Health(now func() Status) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		st := now()
		body := struct {
			Status      string `json:"status"`
			ActiveCalls int    `json:"active_calls"`
			Queue       int    `json:"queue"`
			Problems    []any  `json:"problems,omitempty"`
		}{Status: "ok", ActiveCalls: st.ActiveCalls, Queue: st.Queue, Problems: st.Problems}
		code := http.StatusOK
		switch {
		case st.Draining:
			body.Status, code = "draining", http.StatusServiceUnavailable
		case len(st.Problems) > 0:
			body.Status = "degraded"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}
}
