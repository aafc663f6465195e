package desk

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"lianxin/store"
)

// ErrBadWorkOrder marks a submitted work order that is malformed or incomplete.
var ErrBadWorkOrder = errors.New("bad work order")

// WorkOrderUrgentData is the payload of workorder.urgent, for admins: the call's seat, why
// it is urgent and what is known so far.
type WorkOrderUrgentData struct {
	Seat    string   `json:"seat,omitempty"`
	Reasons []string `json:"reasons"`
	Place   string   `json:"place,omitempty"`
	Summary string   `json:"summary,omitempty"`
}

// WorkOrderStatus is the payload of workorder.status and the answer to a submit: a
// submitted order's delivery, with the receiver's order number once it has answered.
type WorkOrderStatus struct {
	ID      int64  `json:"id"`
	Key     string `json:"key"`
	Version int    `json:"version,omitempty"`
	State   string `json:"state"` // pending, delivered, dead
	OrderNo string `json:"order_no,omitempty"`
	Error   string `json:"error,omitempty"`
}

// workOrderRoutes mounts the work-order endpoints: the call's agent submits, the call's
// agent and admins read, admins list dead letters and queue them again.
func (d *Desk) workOrderRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/calls/{id}/workorder", d.authed(d.submitWorkOrder))
	mux.HandleFunc("GET /api/calls/{id}/workorder", d.authed(d.getWorkOrder))
	mux.HandleFunc("GET /api/workorders", d.authed(d.listWorkOrders))
	mux.HandleFunc("POST /api/workorders/{id}/retry", d.authed(d.retryWorkOrder))
}

// outbox is the store's work-order outbox, or an answer saying there is none.
func (d *Desk) outbox(w http.ResponseWriter) (store.Outbox, bool) {
	o, ok := d.st.(store.Outbox)
	if !ok {
		writeError(w, http.StatusNotImplemented, "this store keeps no work orders")
	}
	return o, ok
}

// callOf answers 404 or 403 unless the call exists and ownOnly (its agent) or s sees it.
func (d *Desk) callOf(w http.ResponseWriter, r *http.Request, s Session, ownOnly bool) (store.CallDetail, bool) {
	c, err := d.st.Call(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such call")
		return c, false
	}
	if err != nil {
		d.serverError(w, err)
		return c, false
	}
	if ownOnly && (s.Seat == "" || c.Seat != s.Seat) || !s.sees(c.Seat) {
		writeError(w, http.StatusForbidden, "only the call's agent may do this")
		return c, false
	}
	return c, true
}

func (d *Desk) submitWorkOrder(w http.ResponseWriter, r *http.Request, s Session) {
	if d.opts.OnWorkOrder == nil {
		writeError(w, http.StatusNotImplemented, "work orders are not delivered by this gateway")
		return
	}
	c, ok := d.callOf(w, r, s, true)
	if !ok {
		return
	}
	var fields json.RawMessage
	if !readJSON(w, r, &fields) {
		return
	}
	if len(fields) == 0 || fields[0] != '{' {
		writeError(w, http.StatusBadRequest, "the body must be the order's fields as a JSON object")
		return
	}
	st, err := d.opts.OnWorkOrder(r.Context(), s.Seat, c.ID, fields)
	if errors.Is(err, ErrBadWorkOrder) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		d.serverError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, st)
}

// workOrderView is a call's draft and its submitted orders.
type workOrderView struct {
	Draft  json.RawMessage     `json:"draft"`
	Orders []store.OutboxOrder `json:"orders"`
}

func (d *Desk) getWorkOrder(w http.ResponseWriter, r *http.Request, s Session) {
	o, ok := d.outbox(w)
	if !ok {
		return
	}
	c, ok := d.callOf(w, r, s, false)
	if !ok {
		return
	}
	v := workOrderView{Draft: json.RawMessage("null")}
	dr, err := o.Draft(r.Context(), c.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		d.serverError(w, err)
		return
	}
	if err == nil {
		v.Draft = dr.Data
	}
	if v.Orders, err = o.Orders(r.Context(), store.WorkOrderFilter{CallID: c.ID}); err != nil {
		d.serverError(w, err)
		return
	}
	// the numbers as said are the call's agent's, and a revealing admin's, to read
	if c.Seat != s.Seat && !d.canReveal(s) {
		if v.Draft, err = redactPayload(TypeWorkOrderDraft, v.Draft); err != nil {
			d.serverError(w, err)
			return
		}
		for i := range v.Orders {
			v.Orders[i].Body = nil
		}
	}
	writeJSON(w, http.StatusOK, v)
}

func (d *Desk) listWorkOrders(w http.ResponseWriter, r *http.Request, s Session) {
	if !s.Admin() {
		writeError(w, http.StatusForbidden, "admins only")
		return
	}
	o, ok := d.outbox(w)
	if !ok {
		return
	}
	state := r.URL.Query().Get("state")
	switch state {
	case "", store.OrderPending, store.OrderDelivered, store.OrderDead:
	default:
		writeError(w, http.StatusBadRequest, "state must be pending, delivered or dead")
		return
	}
	list, err := o.Orders(r.Context(), store.WorkOrderFilter{State: state, Limit: atoi(r.URL.Query().Get("limit"))})
	if err != nil {
		d.serverError(w, err)
		return
	}
	for i := range list {
		list[i].Body = nil // personal numbers as said; the call's detail shows the order
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": list})
}

func (d *Desk) retryWorkOrder(w http.ResponseWriter, r *http.Request, s Session) {
	if !s.Admin() {
		writeError(w, http.StatusForbidden, "admins only")
		return
	}
	o, ok := d.outbox(w)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "bad work-order id")
		return
	}
	got, err := o.RequeueOrder(r.Context(), id, d.opts.Now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no dead work order with that id")
		return
	}
	if err != nil {
		d.serverError(w, err)
		return
	}
	if d.opts.KickWorkOrders != nil {
		d.opts.KickWorkOrders()
	}
	got.Body = nil
	writeJSON(w, http.StatusOK, got)
}
