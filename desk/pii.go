package desk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"lianxin/redact"
	"lianxin/store"
)

// Personal data on the screens (个人信息脱敏). What callers say about themselves (ID, phone
// and card numbers) reaches, as said, only the agent of the call while the call lasts: the
// live push to that seat and, for that call, the seat's replay, call detail and search. Every
// other reader (admins, the same agent once the call has ended, a transcript made from the
// recording after the call) gets the numbers masked by package redact. An admin named in
// Config.PIIReveal reads the original through GET /api/calls/{id}/original, and every such
// reveal, like every recording download, is written to the store's audit log first: a store
// that keeps no audit log refuses both.

// PermReveal is the permission to read transcripts unredacted.
const PermReveal = "pii:reveal"

// speechKey says whether k is one of the payload fields that carry what was said:
// transcript text, a hotspot's example utterances, a suggestion's evidence, a work order's
// summary and numbers.
func speechKey(k string) bool {
	switch k {
	case "text", "examples", "evidence", "summary", "caller_number", "callback_number":
		return true
	}
	return false
}

// speechType says whether events of type typ may carry what was said.
func speechType(typ string) bool {
	switch typ {
	case TypeFinal, TypePartial, TypeSuggested, TypeHotspot, TypeWorkOrderDraft, TypeWorkOrderUrgent:
		return true
	}
	return false
}

// redactPayload masks personal numbers in the speech fields of an event payload. It returns
// raw itself when nothing was masked.
func redactPayload(typ string, raw json.RawMessage) (json.RawMessage, error) {
	if !speechType(typ) || len(raw) == 0 {
		return raw, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep integers such as start_ms exact
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("desk: redact %s: %w", typ, err)
	}
	v, changed := redactValue(v, false)
	if !changed {
		return raw, nil
	}
	return json.Marshal(v)
}

// redactValue masks the strings under speech keys of a decoded JSON value, in place where it
// can, and says whether anything changed.
func redactValue(v any, speech bool) (any, bool) {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if nv, c := redactValue(e, speechKey(k)); c {
				x[k], changed = nv, true
			}
		}
	case []any:
		for i, e := range x {
			if nv, c := redactValue(e, speech); c {
				x[i], changed = nv, true
			}
		}
	case string:
		if speech {
			if masked, spans := redact.Redact(x); len(spans) > 0 {
				return masked, true
			}
		}
	}
	return v, changed
}

// framesFor encodes ev for the hub: own goes to the screens of the event's seat, others to
// every admin. They differ only for speech the seat may read as said and admins may not; a
// transcript made from the recording after the call is masked for the seat too.
func (d *Desk) framesFor(ev Event, raw json.RawMessage) (own, others *frame, err error) {
	encode := func(data json.RawMessage) (*frame, error) {
		b, err := json.Marshal(wireEvent{Seq: ev.Seq, Type: ev.Type, Time: ev.Time, CallID: ev.CallID,
			Seat: ev.Seat, Unsaved: ev.Unsaved, Data: data})
		if err != nil {
			return nil, fmt.Errorf("desk: encode %s: %w", ev.Type, err)
		}
		return &frame{seq: ev.Seq, typ: ev.Type, data: b}, nil
	}
	if own, err = encode(raw); err != nil {
		return nil, nil, err
	}
	masked, err := redactPayload(ev.Type, raw)
	if err != nil || bytes.Equal(masked, raw) {
		return own, own, err
	}
	if others, err = encode(masked); err != nil {
		return nil, nil, err
	}
	var td struct {
		Delayed bool `json:"delayed"`
	}
	if json.Unmarshal(raw, &td) == nil && td.Delayed {
		own = others
	}
	return own, others, nil
}

// piiView is what one session may read as said, decided once per request or replay: the
// seat's call in progress, if any.
type piiView struct{ openCall string }

// piiViewFor finds the call in progress on s's seat. Admins read nothing as said.
func (d *Desk) piiViewFor(ctx context.Context, s Session) (piiView, error) {
	if s.Role != RoleSeat || s.Seat == "" {
		return piiView{}, nil
	}
	calls, err := d.st.Calls(ctx, store.CallFilter{Seat: s.Seat, Limit: 1})
	if err != nil || len(calls) == 0 || calls[0].EndedAt != nil {
		return piiView{}, err
	}
	return piiView{openCall: calls[0].ID}, nil
}

// original says whether the view reads call callID's speech as said.
func (v piiView) original(callID string) bool { return v.openCall != "" && callID == v.openCall }

// replayData is a stored event's payload as the view may read it.
func (v piiView) replayData(ev store.Event) (json.RawMessage, error) {
	if v.original(ev.CallID) {
		return ev.Data, nil
	}
	return redactPayload(ev.Type, ev.Data)
}

// redactUtterances masks the utterances the view may not read as said.
func (v piiView) redactUtterances(us []store.Utterance) []store.Utterance {
	for i := range us {
		if !v.original(us[i].CallID) {
			us[i].Text, _ = redact.Redact(us[i].Text)
		}
	}
	return us
}

// redactCall masks a call's transcript and suggestion evidence unless s is the call's own
// seat and the call has not ended.
func redactCall(s Session, c store.CallDetail) store.CallDetail {
	if s.Role == RoleSeat && s.Seat == c.Seat && c.EndedAt == nil {
		return c
	}
	piiView{}.redactUtterances(c.Utterances)
	for i := range c.Suggestions {
		for j := range c.Suggestions[i].Departments {
			ev := c.Suggestions[i].Departments[j].Evidence
			for k := range ev {
				ev[k], _ = redact.Redact(ev[k])
			}
		}
	}
	return c
}

// canReveal says whether s holds pii:reveal: an admin named in Config.PIIReveal.
func (d *Desk) canReveal(s Session) bool {
	return s.Admin() && slices.Contains(d.cfg.PIIReveal, s.User)
}

// piiRoutes mounts the reveal, recording and audit endpoints.
func (d *Desk) piiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/calls/{id}/original", d.authed(d.revealCall))
	mux.HandleFunc("GET /api/calls/{id}/recording", d.authed(d.recording))
	mux.HandleFunc("GET /api/audit", d.authed(d.auditLog))
}

// audit writes one audit entry before the action it records is done; without an audit log
// the action is refused.
func (d *Desk) audit(r *http.Request, s Session, action, callID, detail string) error {
	a, ok := d.st.(store.Auditor)
	if !ok {
		return errNoAudit
	}
	_, err := a.Audit(r.Context(), store.AuditEntry{At: d.opts.Now().UTC(), User: s.User, Action: action,
		CallID: callID, Detail: detail, Remote: d.clientAddr(r)})
	return err
}

var errNoAudit = errors.New("the store keeps no audit log")

// loadCall reads call id for s, answering 404 or 403 itself.
func (d *Desk) loadCall(w http.ResponseWriter, r *http.Request, s Session) (store.CallDetail, bool) {
	c, err := d.st.Call(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such call")
	case err != nil:
		d.serverError(w, err)
	case !s.sees(c.Seat):
		writeError(w, http.StatusForbidden, "call belongs to another seat")
	default:
		return c, true
	}
	return c, false
}

// maxReasonRunes bounds the reason a reveal records.
const maxReasonRunes = 200

// revealCall answers GET /api/calls/{id}/original[?reason=…]: the call unredacted, for an
// admin with pii:reveal, once the reveal (and its reason, if given) is in the audit log.
func (d *Desk) revealCall(w http.ResponseWriter, r *http.Request, s Session) {
	if !d.canReveal(s) {
		writeError(w, http.StatusForbidden, PermReveal+" permission required")
		return
	}
	c, ok := d.loadCall(w, r, s)
	if !ok {
		return
	}
	detail := fmt.Sprintf("%d utterances", len(c.Utterances))
	if reason := []rune(strings.TrimSpace(r.URL.Query().Get("reason"))); len(reason) > 0 {
		detail += "; reason: " + string(reason[:min(len(reason), maxReasonRunes)])
	}
	if err := d.audit(r, s, store.AuditReveal, c.ID, detail); err != nil {
		d.serverError(w, fmt.Errorf("audit reveal: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// recording answers GET /api/calls/{id}/recording: the call's stereo WAV, for admins and the
// call's own seat, once the download is in the audit log.
func (d *Desk) recording(w http.ResponseWriter, r *http.Request, s Session) {
	if d.cfg.RecordDir == "" {
		writeError(w, http.StatusNotFound, "recordings are not kept")
		return
	}
	c, ok := d.loadCall(w, r, s)
	if !ok {
		return
	}
	f, fi, err := openRecording(d.cfg.RecordDir, c.ID, c.OfferedAt)
	if errors.Is(err, os.ErrNotExist) {
		writeError(w, http.StatusNotFound, "no recording of this call")
		return
	}
	if err != nil {
		d.serverError(w, err)
		return
	}
	defer f.Close()
	if err := d.audit(r, s, store.AuditRecording, c.ID, fmt.Sprintf("%d bytes", fi.Size())); err != nil {
		d.serverError(w, fmt.Errorf("audit recording: %w", err))
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.wav"`, c.ID))
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// openRecording opens dir/<day>/<id>.wav, the recorder's layout. The day is the offer's in
// local time as the recorder wrote it; the UTC day and the days either side are tried too,
// for a gateway whose time zone changed. An id that is not a plain file name is not found.
func openRecording(dir, id string, offered time.Time) (*os.File, os.FileInfo, error) {
	if id == "" || id != filepath.Base(id) || strings.HasPrefix(id, ".") || strings.ContainsAny(id, `/\`) {
		return nil, nil, os.ErrNotExist
	}
	for _, t := range []time.Time{offered.Local(), offered.UTC(), offered.Add(-24 * time.Hour), offered.Add(24 * time.Hour)} {
		f, err := os.Open(filepath.Join(dir, t.Format(time.DateOnly), id+".wav"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			f.Close()
			return nil, nil, errors.Join(os.ErrNotExist, err)
		}
		return f, fi, nil
	}
	return nil, nil, os.ErrNotExist
}

// auditLog answers GET /api/audit?call_id=&user=&action=&limit=, newest first, for admins.
func (d *Desk) auditLog(w http.ResponseWriter, r *http.Request, s Session) {
	if !s.Admin() {
		writeError(w, http.StatusForbidden, "admins only")
		return
	}
	a, ok := d.st.(store.Auditor)
	if !ok {
		writeError(w, http.StatusNotImplemented, errNoAudit.Error())
		return
	}
	q := r.URL.Query()
	entries, err := a.AuditLog(r.Context(), store.AuditFilter{CallID: q.Get("call_id"), User: q.Get("user"),
		Action: q.Get("action"), Limit: atoi(q.Get("limit"))})
	if err != nil {
		d.serverError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, entries)
}
