package desk

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// closedWith reads until the socket closes and returns its close frame.
func (w *wsClient) closedWith() *websocket.CloseError {
	w.t.Helper()
	for {
		require.NoError(w.t, w.c.SetReadDeadline(time.Now().Add(10*time.Second)))
		_, _, err := w.c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		require.True(w.t, errors.As(err, &ce), "socket ended without a close frame: %v", err)
		return ce
	}
}

// An open socket ends when its token expires, whether the clock reaches the expiry while
// the socket waits or is found past it at a ping; the screen then logs in again.
func TestWSClosedWhenTokenExpires(t *testing.T) {
	t.Run("timer", func(t *testing.T) {
		e := newEnv(t, Config{TokenTTL: 200 * time.Millisecond}, Options{})
		c := e.connect(e.login("seat-01", seatPass), -1)
		ce := c.closedWith()
		require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
		require.Equal(t, "token expired", ce.Text)
	})
	t.Run("clock", func(t *testing.T) {
		e := newEnv(t, Config{TokenTTL: time.Hour, PingInterval: 20 * time.Millisecond}, Options{})
		tok := e.login("admin", "adminpw")
		c := e.connect(tok, -1)
		e.offer("c1", "seat-01")
		require.Equal(t, TypeOffered, c.next().Type, "the socket works before the expiry")
		e.clock.Add(time.Hour)
		ce := c.closedWith()
		require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
		require.Equal(t, "token expired", ce.Text)
		code, _ := e.do("GET", "/api/me", tok, nil)
		require.Equal(t, http.StatusUnauthorized, code)
	})
}

// POST /api/logout revokes the token and closes the sockets opened with it, and only those.
func TestLogoutRevokesTokenAndClosesItsSockets(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	mine, other := e.login("seat-01", seatPass), e.login("seat-01", seatPass)
	a1, a2, b := e.connect(mine, -1), e.connect(mine, -1), e.connect(other, -1)

	code, body := e.do("POST", "/api/logout", mine, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	for _, c := range []*wsClient{a1, a2} {
		ce := c.closedWith()
		require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
		require.Equal(t, "logged out", ce.Text)
	}
	code, _ = e.do("GET", "/api/me", mine, nil)
	require.Equal(t, http.StatusUnauthorized, code, "the token is dead")
	_, res, err := e.dial(mine, -1)
	require.Error(t, err)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	code, _ = e.do("POST", "/api/logout", mine, nil)
	require.Equal(t, http.StatusUnauthorized, code, "a second logout has nothing to revoke")

	ev := e.offer("c1", "seat-01")
	require.Equal(t, ev.Seq, b.next().Seq, "another token's socket stays")
	code, _ = e.do("GET", "/api/me", other, nil)
	require.Equal(t, http.StatusOK, code)
}
