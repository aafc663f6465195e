package desk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"lianxin/store"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     testing.TB
	desk  *Desk
	st    *store.SQLite
	srv   *httptest.Server
	clock *clock
	reg   *prometheus.Registry
}

const seatPass = "s3cret"

// adminHash is "adminpw" hashed at bcrypt's lowest cost, so that tests logging in as admin
// do not each spend the default cost's CPU (New takes hashes as given).
const adminHash = "$2a$04$juv2KaWJ6yqFmVyuVfLaye/P04BM0JseKO6ftX1JGNXVe3BDoAAeS"

// newEnv starts a desk on a temp SQLite file behind an httptest server on 127.0.0.1.
func newEnv(t testing.TB, cfg Config, opts Options) *env {
	t.Helper()
	return newEnvWith(t, cfg, opts, nil)
}

// newEnvWith is newEnv with the desk's store wrapped by wrap (when not nil), for tests that
// need a store to misbehave.
func newEnvWith(t testing.TB, cfg Config, opts Options, wrap func(store.Store) store.Store) *env {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "desk.db"))
	require.NoError(t, err)
	c := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.Local)}
	if cfg.Users == nil {
		cfg.Users = map[string]string{"admin": adminHash}
	}
	if cfg.CheckSeat == nil {
		cfg.CheckSeat = func(seat, pw string) bool { return strings.HasPrefix(seat, "seat-") && pw == seatPass }
	}
	if opts.Now == nil {
		opts.Now = c.Now
	}
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	var ds store.Store = st
	if wrap != nil {
		ds = wrap(st)
	}
	d, err := New(cfg, ds, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(func() {
		srv.CloseClientConnections()
		require.NoError(t, d.Close())
		srv.Close()
		require.NoError(t, st.Close())
	})
	return &env{t: t, desk: d, st: st, srv: srv, clock: c, reg: reg}
}

func (e *env) login(user, pass string) string {
	e.t.Helper()
	code, body := e.do("POST", "/api/login", "", map[string]string{"user": user, "password": pass})
	require.Equal(e.t, http.StatusOK, code, string(body))
	var res loginResponse
	require.NoError(e.t, json.Unmarshal(body, &res))
	require.NotEmpty(e.t, res.Token)
	return res.Token
}

// do sends a JSON request with a bearer token and returns status and body.
func (e *env) do(method, path, token string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(e.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return res.StatusCode, b
}

// dial opens /ws with token and optional after_seq (< 0: live only).
func (e *env) dial(token string, after int64) (*websocket.Conn, *http.Response, error) {
	return e.dialQuery(token, after, url.Values{})
}

// dialQuery is dial with more query parameters.
func (e *env) dialQuery(token string, after int64, q url.Values) (*websocket.Conn, *http.Response, error) {
	q.Set("token", token)
	if after >= 0 {
		q.Set("after_seq", fmt.Sprint(after))
	}
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws?" + q.Encode()
	return websocket.DefaultDialer.Dial(u, nil)
}

// wsClient reads envelopes from a socket.
type wsClient struct {
	t testing.TB
	c *websocket.Conn
}

func (e *env) connect(token string, after int64) *wsClient {
	e.t.Helper()
	c, _, err := e.dial(token, after)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { c.Close() })
	w := &wsClient{t: e.t, c: c}
	hello := w.next()
	require.Equal(e.t, TypeHello, hello.Type)
	return w
}

// next reads one envelope; the deadline only bounds a hung test.
func (w *wsClient) next() wireEvent {
	w.t.Helper()
	require.NoError(w.t, w.c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, b, err := w.c.ReadMessage()
	require.NoError(w.t, err)
	var ev wireEvent
	require.NoError(w.t, json.Unmarshal(b, &ev), string(b))
	return ev
}

// publish publishes and fails the test on error.
func (e *env) publish(ev Event) Event {
	e.t.Helper()
	out, err := e.desk.Publish(context.Background(), ev)
	require.NoError(e.t, err)
	return out
}

// offer publishes call.offered for callID on seat.
func (e *env) offer(callID, seat string) Event {
	return e.publish(Event{Type: TypeOffered, CallID: callID, Seat: seat, Data: CallOfferedData{From: "13800000000", To: "12345"}})
}
