// Package standin is the scaffolding of the in-repo protocol stand-in servers (one per
// engine, e.g. asr/funasr/funasrtest). No real engine runs here, so each adapter is tested
// against a stand-in that implements the engine's documented wire protocol strictly — a
// message the real server would reject, ignore or misread is recorded as a violation and
// the connection is closed with 1008 — and that "recognises" tone words (package tone).
// A stand-in can be told to drop a connection, close it early, send garbage or hang, to
// test the adapters' and the resilience wrapper's handling of a failing engine.
//
// These are test stand-ins, not speech engines.
package standin

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Fault is what a stand-in does to a connection.
type Fault int

// Faults.
const (
	None       Fault = iota
	Drop             // the TCP connection vanishes (no close frame): a crash or network loss
	CloseEarly       // a clean close frame before the stream is done
	Garbage          // a message that is not the protocol, then carry on
	Hang             // keep reading, never answer again
	// NoFinal answers the client's end of stream with a normal close instead of the
	// last results: a server that ends its side without its final (a crash in the
	// flush, a restart, a proxy's idle cut), which a client cannot tell from a clean end
	// by the close code. Stand-ins carry it out through Session.Ending.
	NoFinal
)

// String names the fault.
func (f Fault) String() string {
	return [...]string{"none", "drop", "close-early", "garbage", "hang", "no-final"}[f]
}

// Plan is a fault for one connection, after it has received After of audio.
type Plan struct {
	Fault Fault
	After time.Duration
}

// Server is a stand-in WebSocket server on 127.0.0.1.
type Server struct {
	name   string
	handle func(*Session)
	hs     *httptest.Server
	up     websocket.Upgrader

	mu         sync.Mutex
	plans      []Plan
	sessions   map[*Session]bool
	count      int
	violations []string
	openings   []*Opening
	received   Audio
	receivedBy *Session
	down       bool
	faults     int
	wg         sync.WaitGroup
}

// Audio is what a session received, decoded to PCM16 at the rate the stand-in decodes
// it: the signal the engine would have heard.
type Audio struct {
	Samples []int16
	Rate    int
}

// maxReceived bounds the audio a session keeps for Received.
const maxReceived = 30 * time.Second

// Opening is how a connection began: its upgrade URL and its first text message, the two
// places where protocols carry a stream's settings (what reached the server, for tests
// of per-stream settings such as the language).
type Opening struct {
	URL   *url.URL
	First []byte // nil until a text message arrives
}

// New starts a stand-in; handle runs one connection (it returns when the connection ends).
// check, when set, vets the upgrade request (auth headers, query) and may refuse it with an
// HTTP status.
func New(name string, handle func(*Session), check func(*http.Request) (int, string)) *Server {
	s := &Server{name: name, handle: handle, sessions: map[*Session]bool{}}
	s.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.isDown() {
			// an engine that is down: its host answers, its service does not
			http.Error(w, "engine down", http.StatusServiceUnavailable)
			return
		}
		if check != nil {
			if code, msg := check(r); code != 0 {
				s.violate("upgrade refused: %s", msg)
				http.Error(w, msg, code)
				return
			}
		}
		ws, err := s.up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s.serve(ws, r)
	}))
	return s
}

func (s *Server) serve(ws *websocket.Conn, r *http.Request) {
	s.mu.Lock()
	sess := &Session{WS: ws, Request: r, srv: s, hung: make(chan struct{}), opening: &Opening{URL: r.URL}}
	s.openings = append(s.openings, sess.opening)
	if len(s.plans) > 0 {
		sess.plan = s.plans[0]
		s.plans = s.plans[1:]
	}
	s.count++
	s.sessions[sess] = true
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		ws.Close()
		s.mu.Lock()
		delete(s.sessions, sess)
		s.mu.Unlock()
		s.wg.Done()
	}()
	s.handle(sess)
}

// URL is the server's ws:// address with path appended.
func (s *Server) URL(path string) string {
	return "ws" + strings.TrimPrefix(s.hs.URL, "http") + path
}

// HTTPURL is the server's http:// address.
func (s *Server) HTTPURL() string { return s.hs.URL }

// Fail schedules faults for the next connections, one plan per connection, in order.
func (s *Server) Fail(p ...Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plans = append(s.plans, p...)
}

// Kill drops every open connection abruptly, as a crashed engine would.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sess := range s.sessions {
		sess.WS.NetConn().Close()
	}
}

// Down takes the engine down: every open connection drops and new ones are refused
// (HTTP 503 on the upgrade) until Up, as while a recogniser restarts or a link is cut.
func (s *Server) Down() {
	s.mu.Lock()
	s.down = true
	s.mu.Unlock()
	s.Kill()
}

// Up brings the engine back after Down.
func (s *Server) Up() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = false
}

func (s *Server) isDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// Received is the audio the latest session to receive any heard, at the rate the
// stand-in decoded it (at most its last 30 s).
func (s *Server) Received() Audio {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Audio{Samples: append([]int16(nil), s.received.Samples...), Rate: s.received.Rate}
}

// Faults is how many planned faults the server has carried out.
func (s *Server) Faults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

func (s *Server) faulted() {
	s.mu.Lock()
	s.faults++
	s.mu.Unlock()
}

// Connections is how many connections the server has accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Openings are how the connections began, in order of arrival.
func (s *Server) Openings() []Opening {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Opening, len(s.openings))
	for i, o := range s.openings {
		out[i] = *o
	}
	return out
}

// Violations are the protocol violations seen, in order.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

func (s *Server) violate(format string, a ...any) string {
	msg := fmt.Sprintf(s.name+": "+format, a...)
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	s.mu.Unlock()
	return msg
}

// Close drops every connection, waits for the handlers and stops listening.
func (s *Server) Close() {
	s.Kill()
	s.hs.CloseClientConnections()
	s.hs.Close()
	s.wg.Wait()
}

// Session is one connection.
type Session struct {
	WS      *websocket.Conn
	Request *http.Request
	srv     *Server
	plan    Plan
	heard   time.Duration
	hung    chan struct{}
	faulted bool
	wmu     sync.Mutex
	opening *Opening
}

// Violation records a protocol violation and closes the connection with 1008 and the
// reason. The handler should return.
func (c *Session) Violation(format string, a ...any) {
	msg := c.srv.violate(format, a...)
	if len(msg) > 120 {
		msg = msg[:120] // a close reason must fit a control frame
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.WS.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, msg), time.Now().Add(time.Second))
}

// Send writes a text message unless the session hangs.
func (c *Session) Send(msg []byte) error {
	if c.Hung() {
		return nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.WS.WriteMessage(websocket.TextMessage, msg)
}

// Read returns the next message. Once the session hangs it swallows everything, so a
// handler needs no care for that fault; it sees only the connection's end.
func (c *Session) Read() (int, []byte, error) {
	for {
		typ, b, err := c.WS.ReadMessage()
		if err == nil && typ == websocket.TextMessage {
			c.srv.mu.Lock()
			if c.opening.First == nil {
				c.opening.First = append([]byte(nil), b...)
			}
			c.srv.mu.Unlock()
		}
		if err != nil || !c.Hung() {
			return typ, b, err
		}
	}
}

// Hung reports whether the session no longer answers.
func (c *Session) Hung() bool {
	select {
	case <-c.hung:
		return true
	default:
		return false
	}
}

// Hear accounts for audio received (decoded to PCM16 at the rate the stand-in decodes
// it), keeps it for Server.Received, and carries out the connection's planned fault when
// it is due. stop tells the handler to return (the connection is gone).
func (c *Session) Hear(samples []int16, rate int) (stop bool) {
	c.srv.keep(samples, rate, c)
	return c.Heard(time.Duration(len(samples)) * time.Second / time.Duration(rate))
}

// keep appends a session's audio to what Received reports; a new session's audio
// replaces the last one's.
func (s *Server) keep(samples []int16, rate int, c *Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.receivedBy != c || s.received.Rate != rate {
		s.receivedBy, s.received = c, Audio{Rate: rate}
	}
	s.received.Samples = append(s.received.Samples, samples...)
	if over := len(s.received.Samples) - int(maxReceived)*rate/int(time.Second); over > 0 {
		s.received.Samples = append(s.received.Samples[:0], s.received.Samples[over:]...)
	}
}

// Ending is called by a stand-in when the client's end-of-stream message arrives, before
// it flushes. With a NoFinal plan it closes the connection normally instead, and stop
// tells the handler to return.
func (c *Session) Ending() (stop bool) {
	if c.faulted || c.plan.Fault != NoFinal {
		return false
	}
	c.faulted = true
	c.srv.faulted()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.WS.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return true
}

// Heard accounts for audio received and carries out the connection's planned fault when
// it is due. stop tells the handler to return (the connection is gone).
func (c *Session) Heard(d time.Duration) (stop bool) {
	c.heard += d
	if c.faulted || c.plan.Fault == None || c.plan.Fault == NoFinal || c.heard < c.plan.After {
		return false
	}
	c.faulted = true
	defer c.srv.faulted()
	switch c.plan.Fault {
	case Drop:
		c.WS.NetConn().Close()
		return true
	case CloseEarly:
		c.wmu.Lock()
		_ = c.WS.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second))
		c.wmu.Unlock()
		return true
	case Garbage:
		c.wmu.Lock()
		_ = c.WS.WriteMessage(websocket.TextMessage, []byte("\x00\xffHTTP/1.1 502 Bad Gateway{"))
		c.wmu.Unlock()
	case Hang:
		close(c.hung)
	}
	return false
}
