package desk

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// A restart logs no one out: a token issued before it still works after it, until its own
// expiry; a token logged out before it stays dead.
func TestLoginsSurviveARestart(t *testing.T) {
	e := newEnv(t, Config{TokenTTL: time.Hour}, Options{})
	seat := e.login("seat-07", seatPass)
	admin := e.login("admin", "adminpw")
	code, _ := e.do("POST", "/api/logout", admin, nil)
	require.Equal(t, http.StatusOK, code)

	// the same store under a new desk, as after a restart
	d2, err := New(Config{Users: map[string]string{"admin": adminHash}, CheckSeat: e.desk.cfg.CheckSeat, TokenTTL: time.Hour},
		e.st, Options{Now: e.clock.Now, Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	defer d2.Close()
	srv := httptest.NewServer(d2.Handler())
	defer srv.Close()
	e2 := &env{t: t, desk: d2, st: e.st, srv: srv, clock: e.clock}
	code, body := e2.do("GET", "/api/me", seat, nil)
	require.Equal(t, http.StatusOK, code, "the seat's token survives: %s", body)
	require.Contains(t, string(body), `"seat":"seat-07"`)
	code, _ = e2.do("GET", "/api/me", admin, nil)
	require.Equal(t, http.StatusUnauthorized, code, "a logged-out token stays dead")

	e.clock.Add(time.Hour + time.Second)
	code, _ = e2.do("GET", "/api/me", seat, nil)
	require.Equal(t, http.StatusUnauthorized, code, "restored sessions keep their own expiry")
}
