package desk

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"lianxin/store"
)

//go:embed web
var webFS embed.FS

// WebFiles are the screens' embedded web files (styles, scripts, Chart.js), which a
// standalone report carries inline.
func WebFiles() fs.FS {
	static, _ := fs.Sub(webFS, "web") // the path is fixed at compile time
	return static
}

// errForbidden marks an action on another seat's call or state.
var errForbidden = errors.New("forbidden")

func (d *Desk) routes() *http.ServeMux {
	mux := http.NewServeMux()
	static := WebFiles()
	files := http.FileServerFS(static)
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, static, name)
		}
	}
	mux.HandleFunc("GET /{$}", page("index.html"))
	mux.HandleFunc("GET /admin", page("admin.html"))
	mux.HandleFunc("GET /history", page("history.html"))
	mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	mux.HandleFunc("GET /ws", d.serveWS)
	mux.HandleFunc("POST /api/login", d.login)
	mux.HandleFunc("POST /api/logout", d.authed(d.logout))
	mux.HandleFunc("GET /api/me", d.authed(d.me))
	mux.HandleFunc("GET /api/departments", d.authed(d.departments))
	mux.HandleFunc("GET /api/transcripts", d.authed(d.transcripts))
	mux.HandleFunc("GET /api/calls", d.authed(d.calls))
	mux.HandleFunc("GET /api/calls/{id}", d.authed(d.call))
	mux.HandleFunc("GET /api/stats/today", d.authed(d.statsToday))
	mux.HandleFunc("GET /api/seats", d.authed(d.seats))
	mux.HandleFunc("GET /api/seats/{seat}", d.authed(d.seatInfo))
	mux.HandleFunc("PUT /api/seats/{seat}/settings", d.authed(d.saveSeatSettings))
	mux.HandleFunc("POST /api/dispatch/decide", d.authed(d.apiDecide))
	mux.HandleFunc("POST /api/seat/state", d.authed(d.apiSetState))
	mux.HandleFunc("POST /api/hotspots/{id}/acknowledge", d.authed(d.hotspotAction(HotspotAcknowledge)))
	mux.HandleFunc("POST /api/hotspots/{id}/close", d.authed(d.hotspotAction(HotspotClose)))
	d.piiRoutes(mux)
	d.workOrderRoutes(mux)
	d.reportRoutes(mux, page)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint")
	})
	return mux
}

// contentSecurityPolicy lets the pages load their own scripts, styles and images and talk
// to their own origin (API and WebSocket) only: no inline script, no framing, no plug-ins,
// so that injected text (a transcript is what a caller said) cannot run or be framed.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src blob:; " +
	"font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// withSecurityHeaders sets the browser protections on every answer of the desk: pages,
// static files and the JSON API alike.
func withSecurityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// authenticate answers 401 with a JSON error unless the request carries a live token.
func (d *Desk) authenticate(w http.ResponseWriter, r *http.Request) (Session, bool) {
	s, err := d.auth.check(tokenOf(r))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lianxin"`)
		writeError(w, http.StatusUnauthorized, err.Error())
		return s, false
	}
	return s, true
}

func (d *Desk) authed(h func(http.ResponseWriter, *http.Request, Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s, ok := d.authenticate(w, r); ok {
			h(w, r, s)
		}
	}
}

// readJSON decodes a small JSON request body into v.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<10))
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return false
	}
	return true
}

// meResponse is the session with its seat's current state and, while the seat has a call
// that has not ended, ResumeSeq: the after_seq that replays that whole call, so that a screen
// opened (or reloaded) mid-call shows the call from its start.
type meResponse struct {
	Session
	State     string `json:"state,omitempty"`
	ResumeSeq *int64 `json:"resume_seq,omitempty"`
	// Phone is the kind of phone that rings for the seat: "sip", "webrtc" or "".
	Phone string `json:"phone"`
	// Permissions are what the session may do beyond its role: PermReveal.
	Permissions []string `json:"permissions,omitempty"`
}

func (d *Desk) me(w http.ResponseWriter, r *http.Request, s Session) {
	res := meResponse{Session: s, Phone: d.phoneOf(s.Seat)}
	if d.canReveal(s) {
		res.Permissions = []string{PermReveal}
	}
	if s.Seat != "" && d.opts.SeatStates != nil {
		res.State = d.opts.SeatStates()[s.Seat]
	}
	if s.Seat != "" {
		seq, err := d.openCallSeq(r.Context(), s.Seat)
		if err != nil {
			d.serverError(w, err)
			return
		}
		res.ResumeSeq = seq
	}
	writeJSON(w, http.StatusOK, res)
}

// openCallSeq returns the seq just before the first event of seat's latest call, if that
// call has not ended.
func (d *Desk) openCallSeq(ctx context.Context, seat string) (*int64, error) {
	calls, err := d.st.Calls(ctx, store.CallFilter{Seat: seat, Limit: 1})
	if err != nil || len(calls) == 0 || calls[0].EndedAt != nil {
		return nil, err
	}
	evs, err := d.st.Events(ctx, store.EventFilter{CallID: calls[0].ID, Seat: seat, Limit: 1})
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	seq := evs[0].Seq - 1
	return &seq, nil
}

func (d *Desk) departments(w http.ResponseWriter, _ *http.Request, _ Session) {
	deps := []Dept{}
	if d.opts.Departments != nil {
		deps = append(deps, d.opts.Departments()...)
	}
	writeJSON(w, http.StatusOK, deps)
}

// transcripts searches final utterances: ?q=terms&limit=. The search runs under the
// request's context, so it stops when the client goes, and under SearchTimeout, so no query
// holds the database for long; a query over the store's limits or past the deadline is the
// user's to narrow (400), not a server fault.
func (d *Desk) transcripts(w http.ResponseWriter, r *http.Request, s Session) {
	q := store.SearchQuery{Text: r.URL.Query().Get("q"), Limit: atoi(r.URL.Query().Get("limit"))}
	if q.Text == "" {
		writeError(w, http.StatusBadRequest, "q is required")
		return
	}
	if !s.Admin() {
		q.Seat = s.Seat
	}
	ctx, cancel := context.WithTimeout(r.Context(), d.cfg.SearchTimeout)
	defer cancel()
	hits, err := d.st.SearchUtterances(ctx, q)
	var view piiView
	if err == nil {
		view, err = d.piiViewFor(ctx, s)
	}
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]any{"query": q.Text, "results": view.redactUtterances(hits)})
	case errors.Is(err, store.ErrBadQuery):
		writeError(w, http.StatusBadRequest, err.Error())
	case r.Context().Err() != nil:
		// the client went away: nobody reads an answer
	case ctx.Err() != nil:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("search took longer than %s: use longer or fewer terms", d.cfg.SearchTimeout))
	default:
		d.serverError(w, err)
	}
}

func (d *Desk) call(w http.ResponseWriter, r *http.Request, s Session) {
	c, err := d.st.Call(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such call")
		return
	}
	if err != nil {
		d.serverError(w, err)
		return
	}
	if !s.sees(c.Seat) {
		writeError(w, http.StatusForbidden, "call belongs to another seat")
		return
	}
	writeJSON(w, http.StatusOK, redactCall(s, c))
}

// calls lists calls: ?seat=&date=YYYY-MM-DD&limit=. A seat token lists its own seat only.
func (d *Desk) calls(w http.ResponseWriter, r *http.Request, s Session) {
	q := r.URL.Query()
	f := store.CallFilter{Seat: q.Get("seat"), Department: q.Get("department"), Issue: q.Get("issue"), Limit: atoi(q.Get("limit"))}
	if !s.Admin() {
		if f.Seat != "" && f.Seat != s.Seat {
			writeError(w, http.StatusForbidden, "another seat's calls")
			return
		}
		f.Seat = s.Seat
	}
	if v := q.Get("date"); v != "" {
		day, err := time.ParseInLocation(time.DateOnly, v, d.cfg.Location)
		if err != nil {
			writeError(w, http.StatusBadRequest, "date must be YYYY-MM-DD")
			return
		}
		f.From, f.To = day, day.AddDate(0, 0, 1)
	}
	calls, err := d.st.Calls(r.Context(), f)
	if err != nil {
		d.serverError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, calls)
}

// today is the start of the desk's day that holds now, in its zone (Config.Location).
func (d *Desk) today() time.Time {
	now := d.opts.Now().In(d.cfg.Location)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, d.cfg.Location)
}

func (d *Desk) statsToday(w http.ResponseWriter, r *http.Request, s Session) {
	if !s.Admin() {
		writeError(w, http.StatusForbidden, "admins only")
		return
	}
	from := d.today()
	st, err := d.st.DayStats(r.Context(), from, from.AddDate(0, 0, 1))
	if err != nil {
		d.serverError(w, err)
		return
	}
	deps := namedCounts(d.opts.Departments, st.Departments)
	out := map[string]any{"date": from.Format(time.DateOnly), "stats": st, "departments": deps}
	if err := d.todayCharts(r.Context(), from, from.AddDate(0, 0, 1), out); err != nil {
		d.serverError(w, err)
		return
	}
	if d.opts.Queue != nil {
		n, longest := d.opts.Queue()
		out["queue"] = map[string]int64{"waiting": int64(n), "longest_wait_ms": longest.Milliseconds()}
	}
	writeJSON(w, http.StatusOK, out)
}

func (d *Desk) seats(w http.ResponseWriter, _ *http.Request, s Session) {
	if !s.Admin() {
		writeError(w, http.StatusForbidden, "admins only")
		return
	}
	states := map[string]string{}
	if d.opts.SeatStates != nil {
		states = d.opts.SeatStates()
	}
	writeJSON(w, http.StatusOK, states)
}

func (d *Desk) apiDecide(w http.ResponseWriter, r *http.Request, s Session) {
	var m clientMessage
	if !readJSON(w, r, &m) {
		return
	}
	m.Type = typeDecide
	d.apiMessage(w, r, s, m)
}

func (d *Desk) apiSetState(w http.ResponseWriter, r *http.Request, s Session) {
	var m clientMessage
	if !readJSON(w, r, &m) {
		return
	}
	m.Type = typeSetState
	d.apiMessage(w, r, s, m)
}

func (d *Desk) apiMessage(w http.ResponseWriter, r *http.Request, s Session, m clientMessage) {
	b, _ := json.Marshal(m) // a struct of strings and a bool always encodes
	m, err := parseClientMessage(b)
	if err == nil {
		err = d.handle(r.Context(), s, m)
	}
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	case errors.Is(err, errForbidden):
		writeError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	default:
		writeError(w, http.StatusBadRequest, err.Error())
	}
}

// decide checks that the call is the session's, hands the decision to dispatch, then stores
// and publishes it.
func (d *Desk) decide(ctx context.Context, s Session, callID, dept string, accepted bool) error {
	c, err := d.st.Call(ctx, callID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("call %s: %w", callID, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if !s.sees(c.Seat) {
		return fmt.Errorf("call %s: %w", callID, errForbidden)
	}
	var suggested string
	if n := len(c.Suggestions); n > 0 && len(c.Suggestions[n-1].Departments) > 0 {
		suggested = c.Suggestions[n-1].Departments[0].ID
	}
	if d.opts.OnDecide != nil {
		if err := d.opts.OnDecide(ctx, c.Seat, callID, dept, accepted); err != nil {
			return err
		}
	}
	_, err = d.Publish(ctx, Event{Type: TypeDecided, CallID: callID, Seat: c.Seat,
		Data: DecidedData{Department: dept, Suggested: suggested, Accepted: accepted}})
	return err
}

// setState asks the seat package to change a seat's state; without one, the desk records and
// publishes the change itself.
func (d *Desk) setState(ctx context.Context, s Session, seat, state string) error {
	if seat == "" || !s.sees(seat) {
		return fmt.Errorf("seat %q: %w", seat, errForbidden)
	}
	if d.opts.OnSetState != nil {
		return d.opts.OnSetState(ctx, seat, state)
	}
	_, err := d.Publish(ctx, Event{Type: TypeSeatState, Seat: seat, Data: SeatStateData{State: state}})
	return err
}

func (d *Desk) serverError(w http.ResponseWriter, err error) {
	d.log.Error("desk: request failed", "err", err)
	writeError(w, http.StatusInternalServerError, "internal error")
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	if n < 0 || n > 1000 {
		return 0
	}
	return n
}
