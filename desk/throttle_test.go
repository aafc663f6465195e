package desk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// postLogin posts a login with the given headers and returns the status and body.
func (e *env) postLogin(user, pass string, hdr map[string]string) (int, string) {
	e.t.Helper()
	b, err := json.Marshal(map[string]string{"user": user, "password": pass})
	require.NoError(e.t, err)
	req, err := http.NewRequest("POST", e.srv.URL+"/api/login", bytes.NewReader(b))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return res.StatusCode, string(body)
}

// A flood of made-up user names cannot grow the throttle past its size: the least recently
// failed keys are forgotten.
func TestLoginThrottleBoundedMemory(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	th, err := newLoginThrottle(c.Now, 100)
	require.NoError(t, err)
	for i := range 50_000 {
		th.failed(fmt.Sprint("user-", i), fmt.Sprint("10.0.", i/250, ".", i%250))
	}
	require.LessOrEqual(t, th.size(), 300)
	for range pairLimit {
		th.failed("seat-01", "10.1.1.1")
	}
	require.Positive(t, th.wait("seat-01", "10.1.1.1"), "the keys in use are kept")
}

// One address failing for many users is locked out for every user, the right password
// included.
func TestLoginThrottlePerAddress(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	for i := range addrLimit {
		code, _ := e.postLogin(fmt.Sprintf("guess-%d", i), "x", nil)
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, body := e.postLogin("seat-01", seatPass, nil)
	require.Equal(t, http.StatusTooManyRequests, code, body)
	e.clock.Add(baseLockout + time.Second)
	code, _ = e.postLogin("seat-01", seatPass, nil)
	require.Equal(t, http.StatusOK, code)
}

// Behind a trusted proxy the throttle counts the client address from its header: one
// guesser no longer locks out the agents who share the proxy, a client cannot choose its
// address by writing the header itself, and many addresses guessing one account lock it.
func TestLoginThrottleTrustedProxy(t *testing.T) {
	e := newEnv(t, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		ClientIPHeader: "X-Forwarded-For"}, Options{})
	from := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }
	for range pairLimit {
		code, _ := e.postLogin("seat-01", "guess", from("203.0.113.1"))
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, _ := e.postLogin("seat-01", seatPass, from("203.0.113.1"))
	require.Equal(t, http.StatusTooManyRequests, code)
	code, _ = e.postLogin("seat-01", seatPass, from("198.51.100.7, 203.0.113.1"))
	require.Equal(t, http.StatusTooManyRequests, code, "what the client wrote left of the proxy's entry is ignored")
	code, _ = e.postLogin("seat-01", seatPass, from("203.0.113.2"))
	require.Equal(t, http.StatusOK, code, "the agent at another address logs in")

	for i := range userLimit {
		code, _ := e.postLogin("seat-03", "guess", from(fmt.Sprintf("192.0.2.%d", i+1)))
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, _ = e.postLogin("seat-03", seatPass, from("198.51.100.99"))
	require.Equal(t, http.StatusTooManyRequests, code, "one account guessed from many addresses is locked")
	code, _ = e.postLogin("seat-04", seatPass, from("198.51.100.99"))
	require.Equal(t, http.StatusOK, code)
}

// From a peer that is not a trusted proxy the header is ignored: a guesser cannot escape
// its lockout by sending a new address with each try.
func TestLoginThrottleIgnoresHeaderFromUntrustedPeer(t *testing.T) {
	e := newEnv(t, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		ClientIPHeader: "X-Forwarded-For"}, Options{})
	for i := range pairLimit {
		code, _ := e.postLogin("seat-01", "guess", map[string]string{"X-Forwarded-For": fmt.Sprint("203.0.113.", i)})
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, _ := e.postLogin("seat-01", seatPass, map[string]string{"X-Forwarded-For": "203.0.113.200"})
	require.Equal(t, http.StatusTooManyRequests, code)
}

// /api/login takes JSON only, and refuses a page of another origin: a cross-site form or
// text/plain POST (which needs no CORS preflight) cannot log a browser in.
func TestLoginRequiresJSONAndSameOrigin(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	body := `{"user":"seat-01","password":"` + seatPass + `"}`
	for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", ""} {
		req, err := http.NewRequest("POST", e.srv.URL+"/api/login", strings.NewReader(body))
		require.NoError(t, err)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode, ct)
		require.Contains(t, string(b), `"error"`)
	}
	for _, origin := range []string{"http://evil.example", "null", "http://127.0.0.1:1"} {
		code, b := e.postLogin("seat-01", seatPass, map[string]string{"Origin": origin})
		require.Equal(t, http.StatusForbidden, code, origin)
		require.Contains(t, b, `"error"`)
	}
	code, _ := e.postLogin("seat-01", seatPass, map[string]string{"Origin": e.srv.URL})
	require.Equal(t, http.StatusOK, code, "the desk's own pages")
	code, _ = e.postLogin("seat-01", seatPass, map[string]string{"Content-Type": "application/json; charset=utf-8"})
	require.Equal(t, http.StatusOK, code, "no Origin: not a browser page")
	code, _ = e.postLogin(strings.Repeat("u", maxUserLen+1), "x", nil)
	require.Equal(t, http.StatusBadRequest, code)
}
