package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/config"
	"lianxin/desk"
	"lianxin/workorder"
)

// The gateway, wired as in production, delivers the order the call's agent submits to a
// receiver on loopback, signed, and shows the agent the receiver's number.
func TestWorkorderHandOffEndToEnd(t *testing.T) {
	const secret = "0123456789abcdef0123"
	got := make(chan http.Header, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := workorder.Verify([]byte(secret), r.Header.Get(workorder.HeaderTimestamp), r.Header.Get(workorder.HeaderSignature),
			body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got <- r.Header
		_ = json.NewEncoder(w).Encode(map[string]string{"order_no": "GD20261206-0001"})
	}))
	defer recv.Close()
	g := startGateway(t, func(c *config.Config) {
		c.WorkOrder = config.WorkOrderConfig{URL: recv.URL + "/orders", Secret: secret}
	})
	_, err := g.app.desk.Publish(context.Background(), desk.Event{Type: desk.TypeOffered, CallID: "call-wo", Seat: "seat-01",
		Data: desk.CallOfferedData{From: "13905801111", To: "12345"}})
	require.NoError(t, err)
	tok := g.login(t, "seat-01", "secret")
	ws := g.openWS(t, tok, 0, func(e wsEvent) bool {
		return e.Type == desk.TypeWorkOrderStatus && json.Valid(e.Data) && hasOrderNo(e.Data)
	})

	code, body := g.api(t, "POST", "/api/calls/call-wo/workorder", tok, map[string]string{"summary": "市民来电反映：路灯坏了。", "department": "urban-management"})
	require.Equal(t, http.StatusAccepted, code, body)
	h := <-got
	require.Equal(t, "call-wo:v1", h.Get(workorder.HeaderIdempotency))
	evs := ws.waitFor(t, "the order number", func(evs []wsEvent) bool {
		return len(evs) > 0 && hasOrderNo(evs[len(evs)-1].Data)
	})
	require.Equal(t, "seat-01", evs[len(evs)-1].Seat)
	code, body = g.api(t, "GET", "/api/calls/call-wo/workorder", tok, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"order_no":"GD20261206-0001"`)
	code, _ = g.api(t, "POST", "/api/calls/call-wo/workorder", tok, "not an object")
	require.Equal(t, http.StatusBadRequest, code)
}

func hasOrderNo(data json.RawMessage) bool {
	var st desk.WorkOrderStatus
	return json.Unmarshal(data, &st) == nil && st.OrderNo != ""
}

// A real call (sipp caller, baresip seat, the embedded recogniser) ends with a complete
// draft on the seat's socket, its caller number from the caller ID, stored for the call.
func TestWorkorderDraftFromALiveCall(t *testing.T) {
	g := startGateway(t, func(c *config.Config) { c.ASR.Default = "pocketsphinx"; c.ASR.MaxStreams = 2 })
	g.seat(t, "seat-01")
	tok := g.login(t, "seat-01", "secret")
	ws := g.openWS(t, tok, -1, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller.xml")
	require.NoError(t, err, out)
	evs := ws.waitFor(t, "a complete work-order draft", func(evs []wsEvent) bool {
		for _, e := range evs {
			var d workorder.Draft
			if e.Type == desk.TypeWorkOrderDraft && json.Unmarshal(e.Data, &d) == nil && d.Complete {
				return true
			}
		}
		return false
	})
	var d workorder.Draft
	for _, e := range evs {
		if e.Type == desk.TypeWorkOrderDraft {
			require.NoError(t, json.Unmarshal(e.Data, &d))
			require.Equal(t, "seat-01", e.Seat)
			require.Equal(t, e.CallID, d.CallID)
		}
	}
	require.True(t, d.Complete)
	require.Equal(t, "caller1", d.CallerNumber)
	code, body := g.api(t, "GET", "/api/calls/"+d.CallID+"/workorder", tok, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"complete":true`)
}
