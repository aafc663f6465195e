package desk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// echoPhones is a phone side that answers every message with "<type>.echo" carrying the
// message, refuses "phone.bad", and records opens and closes.
type echoPhones struct {
	mu     sync.Mutex
	opened []PhoneClient
	closed int
}

type echoLink struct {
	p    *echoPhones
	send func(string, any) bool
}

func (p *echoPhones) open(c PhoneClient, send func(string, any) bool) PhoneLink {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opened = append(p.opened, c)
	return &echoLink{p: p, send: send}
}

func (l *echoLink) Message(_ context.Context, typ string, msg json.RawMessage) error {
	if typ == "phone.bad" {
		return errors.New("bad phone message")
	}
	l.send(typ+".echo", msg)
	return nil
}

func (l *echoLink) Close() error {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	l.p.closed++
	return nil
}

func TestPhoneMessagesRideTheSocket(t *testing.T) {
	ph := &echoPhones{}
	e := newEnv(t, Config{}, Options{OpenPhone: ph.open})
	c := e.connect(e.login("seat-01", seatPass), -1)
	offer := `{"type":"phone.offer","call":"c1","pc":"p1","sdp":"v=0 sdp"}`
	require.NoError(t, c.c.WriteMessage(websocket.TextMessage, []byte(offer)))
	ev := c.next()
	require.Equal(t, "phone.offer.echo", ev.Type)
	require.Equal(t, "seat-01", ev.Seat)
	require.JSONEq(t, offer, string(ev.Data))

	require.NoError(t, c.c.WriteMessage(websocket.TextMessage, []byte(`{"type":"phone.bad","ref":"r9"}`)))
	ev = c.next()
	require.Equal(t, TypeError, ev.Type)
	require.JSONEq(t, `{"error":"bad phone message","ref":"r9"}`, string(ev.Data))

	admin := e.connect(e.login("admin", "adminpw"), -1)
	require.NoError(t, admin.c.WriteMessage(websocket.TextMessage, []byte(`{"type":"monitor.start","seat":"seat-01"}`)))
	require.Equal(t, "monitor.start.echo", admin.next().Type)

	ph.mu.Lock()
	require.Equal(t, []PhoneClient{{User: "seat-01", Seat: "seat-01"}, {User: "admin", Admin: true}}, ph.opened,
		"one link per socket, opened by its first phone message")
	ph.mu.Unlock()
	c.c.Close()
	require.Eventually(t, func() bool { ph.mu.Lock(); defer ph.mu.Unlock(); return ph.closed == 1 },
		5*time.Second, 10*time.Millisecond, "the socket's end closes its link")
}

func TestPhoneMessagesRefusedWithoutPhones(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	c := e.connect(e.login("seat-01", seatPass), -1)
	require.NoError(t, c.c.WriteMessage(websocket.TextMessage, []byte(`{"type":"phone.register","on":true}`)))
	ev := c.next()
	require.Equal(t, TypeError, ev.Type)
	require.Contains(t, string(ev.Data), "not enabled")
}

func TestSeatInfoSaysWhichPhoneRings(t *testing.T) {
	e := newEnv(t, Config{}, Options{
		SeatStates: func() map[string]string { return map[string]string{"seat-01": "available", "seat-02": "offline"} },
		SeatPhone: func(s string) string {
			if s == "seat-01" {
				return "webrtc"
			}
			return ""
		},
	})
	tok := e.login("seat-01", seatPass)
	code, body := e.do("GET", "/api/seats/seat-01", tok, nil)
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"seat":"seat-01","state":"available","phone":"webrtc","auto_answer":false}`, string(body))
	code, _ = e.do("GET", "/api/seats/seat-02", tok, nil)
	require.Equal(t, http.StatusForbidden, code, "another seat's token")
	code, _ = e.do("GET", "/api/seats/seat-01", "", nil)
	require.Equal(t, http.StatusUnauthorized, code)

	admin := e.login("admin", "adminpw")
	code, body = e.do("GET", "/api/seats/seat-02", admin, nil)
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"seat":"seat-02","state":"offline","phone":"","auto_answer":false}`, string(body))
	code, _ = e.do("GET", "/api/seats/seat-99", admin, nil)
	require.Equal(t, http.StatusNotFound, code)

	code, body = e.do("GET", "/api/me", tok, nil)
	require.Equal(t, http.StatusOK, code)
	var me meResponse
	require.NoError(t, json.Unmarshal(body, &me))
	require.Equal(t, "webrtc", me.Phone)
}

// Auto-answer is a setting of the seat, kept by the gateway: the agent who turns it on in
// one browser finds it on in the next; no one sets another seat's, and a body without the
// setting is refused rather than read as "off".
func TestSeatSettingsAPI(t *testing.T) {
	e := newEnv(t, Config{}, Options{
		SeatStates: func() map[string]string { return map[string]string{"seat-01": "available", "seat-02": "offline"} },
	})
	tok := e.login("seat-01", seatPass)
	code, body := e.do("PUT", "/api/seats/seat-01/settings", tok, map[string]bool{"auto_answer": true})
	require.Equal(t, http.StatusOK, code, string(body))

	again := e.login("seat-01", seatPass)
	code, body = e.do("GET", "/api/seats/seat-01", again, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"auto_answer":true`)

	code, _ = e.do("PUT", "/api/seats/seat-02/settings", tok, map[string]bool{"auto_answer": true})
	require.Equal(t, http.StatusForbidden, code, "another seat's setting")
	code, body = e.do("PUT", "/api/seats/seat-01/settings", tok, map[string]string{"autoanswer": "yes"})
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, string(body), "auto_answer")
	admin := e.login("admin", "adminpw")
	code, _ = e.do("PUT", "/api/seats/seat-99/settings", admin, map[string]bool{"auto_answer": true})
	require.Equal(t, http.StatusNotFound, code)
	code, _ = e.do("PUT", "/api/seats/seat-01/settings", admin, map[string]bool{"auto_answer": false})
	require.Equal(t, http.StatusOK, code, "an admin may set a seat's")
	_, body = e.do("GET", "/api/seats/seat-01", tok, nil)
	require.Contains(t, string(body), `"auto_answer":false`)
}
