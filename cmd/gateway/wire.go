package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"lianxin/desk"
	"lianxin/dispatch"
	"lianxin/seat"
	"lianxin/store"
)

// Wire builds the parts around the call path: the store, dispatch, the recognisers and
// the agent screens, and hooks them to calls.
func (a *App) Wire() error {
	if err := os.MkdirAll(a.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	st, err := store.OpenSQLite(context.Background(), filepath.Join(a.cfg.DataDir, "lianxin.db"))
	if err != nil {
		return err
	}
	a.closers = append(a.closers, st.Close)
	a.store = st
	clf, err := a.classifier()
	if err != nil {
		return err
	}
	if a.asr, err = buildASR(a.cfg, a.reg, a.log); err != nil {
		return err
	}
	a.closers = append(a.closers, a.asr.Close)
	feedback := filepath.Join(a.cfg.DataDir, "dispatch-feedback.jsonl")
	dcfg, err := a.cfg.deskConfig(a.log)
	if err != nil {
		return err
	}
	dcfg.CheckSeat = func(id, pw string) bool {
		want, ok := a.cfg.seatPassword(id)
		return ok && a.acd.Has(id) && want == pw
	}
	d, err := desk.New(dcfg, st, desk.Options{
		OnDecide: func(ctx context.Context, seatID, callID, dept string, accepted bool) error {
			return recordDecision(ctx, st, feedback, clf, callID, dept)
		},
		OnSetState: func(_ context.Context, id, state string) error {
			return a.acd.SetState(id, seat.State(state))
		},
		SeatStates: func() map[string]string {
			out := map[string]string{}
			for id, s := range a.acd.States() {
				out[id] = string(s)
			}
			return out
		},
		Departments: func() []desk.Dept {
			var out []desk.Dept
			for _, dep := range clf.Taxonomy().Departments {
				out = append(out, desk.Dept{ID: dep.ID, Name: dep.Name, NameEN: dep.NameEN})
			}
			return out
		},
		Now: a.now, Registerer: a.reg, Logger: a.log,
	})
	if err != nil {
		return err
	}
	a.closers = append(a.closers, d.Close)
	a.desk = d
	ev := &events{app: a, desk: d, store: st, clf: clf, log: a.log,
		hot: dispatch.NewHotspots(dispatch.HotspotConfig{Window: a.cfg.Dispatch.HotspotWindow,
			Threshold: a.cfg.Dispatch.HotspotThreshold}, a.now)}
	a.observer, a.sink = ev, ev
	if a.cfg.liveASR() {
		a.taps = a.startLive
	}
	return nil
}

func (a *App) classifier() (*dispatch.Classifier, error) {
	if a.cfg.Dispatch.Taxonomy == "" && a.cfg.Dispatch.Model == "" {
		return dispatch.NewDefault()
	}
	return dispatch.Load(a.cfg.Dispatch.Taxonomy, a.cfg.Dispatch.Model)
}

// recordDecision keeps the agent's choice as a labelled example for retraining (the desk
// stores the decision itself).
func recordDecision(ctx context.Context, st store.Store, path string, clf *dispatch.Classifier, callID, dept string) error {
	if clf.Taxonomy().Index(dept) < 0 {
		return fmt.Errorf("unknown department %q", dept)
	}
	call, err := st.Call(ctx, callID)
	if err != nil {
		return err
	}
	var text string
	for _, u := range call.Utterances {
		if u.Channel == "caller" {
			text += u.Text + " "
		}
	}
	var suggested []dispatch.Suggestion
	if n := len(call.Suggestions); n > 0 {
		for _, d := range call.Suggestions[n-1].Departments {
			suggested = append(suggested, dispatch.Suggestion{ID: d.ID, Name: d.Name, Score: d.Score})
		}
	}
	if text == "" {
		return nil // nothing was transcribed: no example to learn from
	}
	return dispatch.AppendFeedback(path, dispatch.Feedback(callID, text, suggested, dept))
}

// routes mounts the agent screens and API next to /healthz and /metrics.
func (a *App) routes(mux *http.ServeMux) {
	if a.desk != nil {
		mux.Handle("/", a.desk.Handler())
	}
}
