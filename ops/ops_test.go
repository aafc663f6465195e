package ops

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// With a token, /metrics is refused without it (a JSON reason) and served with it.
func TestMetricsToken(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "lianxin_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Inc()
	h := Metrics(reg, "s3cret")
	for _, tc := range []struct {
		auth string
		code int
	}{{"", http.StatusUnauthorized}, {"Bearer wrong", http.StatusUnauthorized}, {"Bearer s3cret", http.StatusOK}} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/metrics", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		h.ServeHTTP(rec, req)
		require.Equal(t, tc.code, rec.Code, tc.auth)
		if tc.code == http.StatusOK {
			require.Contains(t, rec.Body.String(), "lianxin_test_total 1")
		} else {
			require.JSONEq(t, `{"error":"metrics need the bearer token of http.metrics_token"}`, rec.Body.String())
		}
	}
}

// A load balancer reads 200 while the gateway takes calls (degraded still takes them) and
// 503 once it drains.
func TestHealth(t *testing.T) {
	for _, tc := range []struct {
		st     Status
		code   int
		status string
	}{
		{Status{ActiveCalls: 3, Queue: 1}, http.StatusOK, "ok"},
		{Status{Problems: []any{map[string]string{"component": "store"}}}, http.StatusOK, "degraded"},
		{Status{Draining: true, Problems: []any{"x"}}, http.StatusServiceUnavailable, "draining"},
	} {
		rec := httptest.NewRecorder()
		Health(func() Status { return tc.st })(rec, httptest.NewRequest("GET", "/healthz", nil))
		require.Equal(t, tc.code, rec.Code)
		var body struct {
			Status      string `json:"status"`
			ActiveCalls int    `json:"active_calls"`
			Queue       int    `json:"queue"`
			Problems    []any  `json:"problems"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		require.Equal(t, tc.status, body.Status)
		require.Equal(t, tc.st.ActiveCalls, body.ActiveCalls)
		require.Equal(t, tc.st.Queue, body.Queue)
		require.Len(t, body.Problems, len(tc.st.Problems))
	}
}
