package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"lianxin/store"
)

func storeFilterAll() store.EventFilter { return store.EventFilter{Limit: 100000} }

func TestWSRejectsBadTokenBeforeUpgrade(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	for _, tok := range []string{"", "not-a-token"} {
		_, res, err := e.dial(tok, -1)
		require.ErrorIs(t, err, websocket.ErrBadHandshake)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		var body map[string]string
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		require.NotEmpty(t, body["error"])
	}
	tok := e.login("seat-01", seatPass)
	_, res, err := e.dial(tok+"&after_seq=-3", -1)
	require.Error(t, err)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "the token is not a prefix match")
	c, _, err := e.dial(tok, -1)
	require.NoError(t, err)
	c.Close()
}

func TestWSSeatIsolationAndAdminSeesAll(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	s1 := e.connect(e.login("seat-01", seatPass), -1)
	s2 := e.connect(e.login("seat-02", seatPass), -1)
	adm := e.connect(e.login("admin", "adminpw"), -1)

	e.offer("c1", "seat-01")
	e.publish(Event{Type: TypeHotspot, Data: HotspotData{Topic: "停水", Count: 12}})
	e.offer("c2", "seat-02")

	require.Equal(t, "c1", s1.next().CallID)
	require.Equal(t, "c2", s2.next().CallID, "seat-02 sees its own call and nothing of seat-01's")
	require.Equal(t, "c1", adm.next().CallID)
	require.Equal(t, TypeHotspot, adm.next().Type)
	require.Equal(t, "c2", adm.next().CallID)
}

// A screen that reconnects with after_seq gets every stored event after it once, in order,
// then live events, even while publishing goes on during the replay.
func TestWSReplayThenLiveWithoutGapOrDuplicate(t *testing.T) {
	e := newEnv(t, Config{ReplayPage: 7}, Options{})
	e.offer("c1", "seat-01")
	for i := range 30 {
		seat := "seat-01"
		if i%3 == 0 {
			seat = "seat-02"
		}
		e.publish(Event{Type: TypeDTMF, CallID: "c1", Seat: seat, Data: DTMFData{Digit: fmt.Sprint(i % 10)}})
	}
	tok := e.login("seat-01", seatPass)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 30 {
			e.publish(Event{Type: TypeDTMF, CallID: "c1", Seat: "seat-01", Data: DTMFData{Digit: fmt.Sprint(i % 10)}})
			e.publish(Event{Type: TypePartial, CallID: "c1", Seat: "seat-01", Data: TranscriptData{Channel: "caller", UtteranceID: "u1", Text: "喂"}})
		}
	})
	c := e.connect(tok, 0)
	wg.Wait()
	// everything seat-01 has stored now is 1 offer + 20 + 30 digits
	want, err := e.st.Events(context.Background(), store.EventFilter{Seat: "seat-01", Limit: 1000})
	require.NoError(t, err)
	require.Len(t, want, 51)
	var got []int64
	for len(got) < len(want) {
		ev := c.next()
		require.Equal(t, "seat-01", ev.Seat)
		if ev.Type == TypePartial {
			require.Zero(t, ev.Seq, "partials carry no seq")
			continue
		}
		got = append(got, ev.Seq)
	}
	for i, ev := range want {
		require.Equal(t, ev.Seq, got[i], "event %d", i)
	}
	// and the stream continues live after the replay
	last := e.publish(Event{Type: TypeEnded, CallID: "c1", Seat: "seat-01"})
	for {
		ev := c.next()
		if ev.Type == TypePartial {
			continue
		}
		require.Equal(t, last.Seq, ev.Seq)
		break
	}
}

// A wallboard asks for the types it shows; replay and live both honour it.
func TestWSTypesFilter(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	first := e.offer("c1", "seat-01")
	e.publish(Event{Type: TypeFinal, CallID: "c1", Seat: "seat-01", Data: TranscriptData{Channel: "caller", UtteranceID: "1", Text: "喂"}})
	ended := e.publish(Event{Type: TypeEnded, CallID: "c1", Seat: "seat-01"})
	tok := e.login("admin", "adminpw")
	c, _, err := e.dialQuery(tok, 0, url.Values{"types": {"call.,seat.state"}})
	require.NoError(t, err)
	defer c.Close()
	w := &wsClient{t: t, c: c}
	require.Equal(t, TypeHello, w.next().Type)
	require.Equal(t, first.Seq, w.next().Seq)
	require.Equal(t, ended.Seq, w.next().Seq, "the final is not replayed")
	e.publish(Event{Type: TypePartial, CallID: "c2", Seat: "seat-02", Data: TranscriptData{Channel: "caller", UtteranceID: "1", Text: "喂"}})
	st := e.publish(Event{Type: TypeSeatState, Seat: "seat-02", Data: SeatStateData{State: "away"}})
	require.Equal(t, st.Seq, w.next().Seq, "nor the partial pushed live")

	_, res, err := e.dialQuery(tok, -1, url.Values{"types": {","}})
	require.Error(t, err)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
}

func TestWSOversizeMessageCloses1009(t *testing.T) {
	e := newEnv(t, Config{MaxMessageBytes: 512}, Options{})
	c := e.connect(e.login("seat-01", seatPass), -1)
	require.NoError(t, c.c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 4096))))
	for {
		_, _, err := c.c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		require.True(t, errors.As(err, &ce), "got %v", err)
		require.Equal(t, websocket.CloseMessageTooBig, ce.Code)
		return
	}
}

func TestWSMalformedMessageGetsErrorAndConnectionStays(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	c := e.connect(e.login("seat-01", seatPass), -1)
	other := e.connect(e.login("seat-01", seatPass), -1) // the same seat's second screen
	for _, msg := range []string{`{not json`, `{"type":"launch.missiles"}`, `{"type":"seat.set_state","state":"asleep","ref":"r1"}`,
		`{"type":"dispatch.decide","call_id":"nope","department":"env"}`} {
		require.NoError(t, c.c.WriteMessage(websocket.TextMessage, []byte(msg)))
		ev := c.next()
		require.Equal(t, TypeError, ev.Type, msg)
		var d errorData
		require.NoError(t, json.Unmarshal(ev.Data, &d))
		require.NotEmpty(t, d.Error)
		if strings.Contains(msg, "r1") {
			require.Equal(t, "r1", d.Ref)
		}
	}
	require.NoError(t, c.c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}))
	require.Equal(t, TypeError, c.next().Type)
	// still connected: a valid message works and its event arrives
	require.NoError(t, c.c.WriteJSON(map[string]string{"type": "seat.set_state", "state": "away"}))
	ev := c.next()
	require.Equal(t, TypeSeatState, ev.Type)
	require.JSONEq(t, `{"state":"away"}`, string(ev.Data))
	// the other screen got none of the errors: its first event is the state change
	require.Equal(t, ev.Seq, other.next().Seq)
}

func TestWSSlowConsumerIsDisconnectedAndResumes(t *testing.T) {
	// a long write timeout: the drop must come from the full buffer, not a stalled write
	e := newEnv(t, Config{BufferSize: 4, WriteTimeout: time.Hour}, Options{})
	tok := e.login("seat-01", seatPass)
	c := e.connect(tok, -1)
	// the client reads nothing while far more than its buffer and the sockets' buffers is
	// published (DTMF: stored, but not indexed for search, so this stays quick)
	payload := strings.Repeat("1", 64<<10)
	var first, last Event
	for i := range 300 {
		last = e.publish(Event{Type: TypeDTMF, CallID: "c1", Seat: "seat-01", Data: DTMFData{Digit: payload}})
		if i == 0 {
			first = last
		}
	}
	require.NoError(t, c.c.SetReadDeadline(time.Time{}))
	var got int64
	for {
		_, b, err := c.c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			require.True(t, errors.As(err, &ce), "got %v", err)
			require.Equal(t, websocket.CloseTryAgainLater, ce.Code)
			break
		}
		var ev wireEvent
		require.NoError(t, json.Unmarshal(b, &ev))
		got = ev.Seq
	}
	require.Less(t, got, last.Seq)
	if got == 0 {
		got = first.Seq - 1
	}
	// resume: the rest arrives, in order, with nothing missing
	r := e.connect(tok, got)
	for want := got + 1; want <= last.Seq; want++ {
		require.Equal(t, want, r.next().Seq)
	}
}

func TestCloseDisconnectsScreens(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	c := e.connect(e.login("admin", "adminpw"), -1)
	require.NoError(t, e.desk.Close())
	_, _, err := c.c.ReadMessage()
	var ce *websocket.CloseError
	require.True(t, errors.As(err, &ce), "got %v", err)
	require.Equal(t, websocket.CloseGoingAway, ce.Code)
	_, res, err := e.dial(e.login("admin", "adminpw"), -1)
	require.Error(t, err)
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
}

func FuzzParseClientMessage(f *testing.F) {
	for _, s := range []string{`{"type":"dispatch.decide","call_id":"c","department":"d","accepted":true}`,
		`{"type":"seat.set_state","state":"away"}`, `{}`, `[]`, `{"type":1}`, "\xff",
		// the browser phone's and a supervisor's messages, which the phone link takes
		`{"type":"phone.register","on":true}`, `{"type":"phone.offer","call":"c1","pc":1,"sdp":"v=0\r\n"}`,
		`{"type":"phone.dtmf","call":"c1","digits":"1#"}`,
		`{"type":"monitor.start","seat":"seat-01","mode":"whisper","pc":2,"sdp":"v=0\r\n"}`,
		`{"type":"dispatch.decide","call_id":"c\u0000","department":"环保","accepted":false,"extra":[1,2]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseClientMessage(b)
		if err == nil && m.Type != typeDecide && m.Type != typeSetState {
			t.Fatalf("accepted type %q", m.Type)
		}
	})
}
