package desk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"lianxin/store"
)

func TestWorkOrderSubmit(t *testing.T) {
	var got atomic.Value
	e := newEnv(t, Config{}, Options{OnWorkOrder: func(_ context.Context, seat, callID string, fields json.RawMessage) (WorkOrderStatus, error) {
		var f map[string]any
		if err := json.Unmarshal(fields, &f); err != nil || f["summary"] == "" {
			return WorkOrderStatus{}, fmt.Errorf("%w: no summary", ErrBadWorkOrder)
		}
		got.Store(seat + " " + callID + " " + string(fields))
		return WorkOrderStatus{ID: 1, Key: callID + ":v1", Version: 1, State: store.OrderPending}, nil
	}})
	e.seedCall("c1", "seat-01", "路灯坏了", "env")
	own, other, admin := e.login("seat-01", seatPass), e.login("seat-02", seatPass), e.login("admin", "adminpw")

	code, body := e.do("POST", "/api/calls/c1/workorder", own, map[string]string{"summary": "市民来电反映：路灯坏了。"})
	require.Equal(t, http.StatusAccepted, code, string(body))
	var st WorkOrderStatus
	require.NoError(t, json.Unmarshal(body, &st))
	require.Equal(t, "c1:v1", st.Key)
	require.Equal(t, `seat-01 c1 {"summary":"市民来电反映：路灯坏了。"}`, got.Load())

	cases := []struct {
		name, token, path string
		body              any
		code              int
	}{
		{"another seat", other, "/api/calls/c1/workorder", map[string]string{"summary": "x"}, http.StatusForbidden},
		{"an admin", admin, "/api/calls/c1/workorder", map[string]string{"summary": "x"}, http.StatusForbidden},
		{"no such call", own, "/api/calls/nope/workorder", map[string]string{"summary": "x"}, http.StatusNotFound},
		{"not an object", own, "/api/calls/c1/workorder", []string{"x"}, http.StatusBadRequest},
		{"refused", own, "/api/calls/c1/workorder", map[string]string{"summary": ""}, http.StatusBadRequest},
		{"no token", "", "/api/calls/c1/workorder", map[string]string{"summary": "x"}, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.do("POST", tc.path, tc.token, tc.body)
			require.Equal(t, tc.code, code, string(body))
			var res map[string]string
			require.NoError(t, json.Unmarshal(body, &res))
			require.NotEmpty(t, res["error"])
		})
	}

	plain := newEnv(t, Config{}, Options{})
	plain.seedCall("c1", "seat-01", "路灯坏了", "env")
	code, _ = plain.do("POST", "/api/calls/c1/workorder", plain.login("seat-01", seatPass), map[string]string{"summary": "x"})
	require.Equal(t, http.StatusNotImplemented, code)
}

func TestWorkOrderDraftStoredAndMasked(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	e.seedCall("c1", "seat-01", "路灯坏了", "env")
	draft := map[string]any{"call_id": "c1", "caller_number": "13905801111", "callback_number": "13805801234",
		"summary": "市民来电反映：路灯坏了，回电13805801234。", "place": "阳光花园"}
	ev := e.publish(Event{Type: TypeWorkOrderDraft, CallID: "c1", Seat: "seat-01", Data: draft})
	require.NotZero(t, ev.Seq, "a draft is stored before it is pushed")
	_, err := e.desk.Publish(context.Background(), Event{Type: TypeWorkOrderDraft, Data: draft})
	require.Error(t, err, "a draft needs its call")

	type view struct {
		Draft  map[string]any      `json:"draft"`
		Orders []store.OutboxOrder `json:"orders"`
	}
	read := func(token string) view {
		code, body := e.do("GET", "/api/calls/c1/workorder", token, nil)
		require.Equal(t, http.StatusOK, code, string(body))
		var v view
		require.NoError(t, json.Unmarshal(body, &v))
		return v
	}
	own := read(e.login("seat-01", seatPass))
	require.Equal(t, "13805801234", own.Draft["callback_number"], "the call's agent reads the number as said")
	adm := read(e.login("admin", "adminpw"))
	require.Equal(t, "***********", adm.Draft["callback_number"])
	require.NotContains(t, adm.Draft["summary"], "13805801234")
	require.Equal(t, "阳光花园", adm.Draft["place"])
	code, _ := e.do("GET", "/api/calls/c1/workorder", e.login("seat-02", seatPass), nil)
	require.Equal(t, http.StatusForbidden, code)

	// the admin's live feed is masked too
	w := e.connect(e.login("admin", "adminpw"), ev.Seq-1)
	got := w.next()
	require.Equal(t, TypeWorkOrderDraft, got.Type)
	require.NotContains(t, string(got.Data), "13805801234")
}

func TestDeadWorkOrdersForAdmins(t *testing.T) {
	var kicks atomic.Int32
	e := newEnv(t, Config{}, Options{KickWorkOrders: func() { kicks.Add(1) }})
	ctx := context.Background()
	o, _, err := e.st.EnqueueOrder(ctx, store.NewOrder{CallID: "c1", Seat: "seat-01", At: e.clock.Now(),
		Build: func(v int) (string, json.RawMessage, error) {
			return "c1:v1", json.RawMessage(`{"callback_number":"13805801234"}`), nil
		}})
	require.NoError(t, err)
	require.NoError(t, e.st.OrderDead(ctx, o.ID, "HTTP 503", e.clock.Now()))
	admin, seat := e.login("admin", "adminpw"), e.login("seat-01", seatPass)

	code, body := e.do("GET", "/api/workorders?state=dead", admin, nil)
	require.Equal(t, http.StatusOK, code)
	var list struct {
		Orders []store.OutboxOrder `json:"orders"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Orders, 1)
	require.Equal(t, "HTTP 503", list.Orders[0].LastError)
	require.NotContains(t, string(body), "13805801234")

	for _, c := range []struct {
		method, path, token string
		code                int
	}{
		{"GET", "/api/workorders?state=lost", admin, http.StatusBadRequest},
		{"GET", "/api/workorders?state=dead", seat, http.StatusForbidden},
		{"POST", "/api/workorders/abc/retry", admin, http.StatusBadRequest},
		{"POST", fmt.Sprintf("/api/workorders/%d/retry", o.ID), seat, http.StatusForbidden},
		{"POST", "/api/workorders/999/retry", admin, http.StatusNotFound},
	} {
		code, body := e.do(c.method, c.path, c.token, nil)
		require.Equal(t, c.code, code, c.path+" "+string(body))
	}
	require.Zero(t, kicks.Load())

	code, body = e.do("POST", fmt.Sprintf("/api/workorders/%d/retry", o.ID), admin, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, int32(1), kicks.Load())
	code, _ = e.do("POST", fmt.Sprintf("/api/workorders/%d/retry", o.ID), admin, nil)
	require.Equal(t, http.StatusNotFound, code, "it is no longer dead")
	code, body = e.do("GET", "/api/workorders?state=pending", admin, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"key":"c1:v1"`)
}
