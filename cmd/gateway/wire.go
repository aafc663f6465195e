package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"lianxin/callflow"
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
	ph, err := a.browserPhones()
	if err != nil {
		return err
	}
	dcfg.CheckSeat = func(id, pw string) bool {
		want, ok := a.cfg.seatPassword(id)
		return ok && a.acd.Has(id) && want == pw
	}
	var screens *callflow.Screens // made below, on the desk; set before any request arrives
	var orders *callflow.WorkOrders
	d, err := desk.New(dcfg, st, desk.Options{
		OnHotspotAction: func(ctx context.Context, id, action, who string) error {
			return screens.HotspotAction(ctx, id, action, who)
		},
		OnDecide: func(ctx context.Context, seatID, callID, dept string, accepted bool) error {
			if err := callflow.RecordDecision(ctx, st, feedback, clf, callID, dept); err != nil {
				return err
			}
			orders.Decide(callID, dept)
			return nil
		},
		OnWorkOrder: func(ctx context.Context, seatID, callID string, f json.RawMessage) (desk.WorkOrderStatus, error) {
			return orders.Submit(ctx, seatID, callID, f)
		},
		KickWorkOrders: func() { orders.Kick() },
		OnSetState: func(_ context.Context, id, state string) error {
			return a.acd.SetState(id, seat.State(state))
		},
		Queue: a.acd.Queue,
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
		OpenPhone: ph.open, SeatPhone: ph.kind,
		Now: a.now, Registerer: a.reg, Logger: a.log,
	})
	if err != nil {
		return err
	}
	a.closers = append(a.closers, d.Close)
	a.desk = d
	if orders, err = a.wireWorkOrders(d, st, clf); err != nil {
		return err
	}
	ranker, err := a.liveRanker(clf)
	if err != nil {
		return err
	}
	issues, err := clf.IssueClassifier()
	if err != nil {
		return fmt.Errorf("dispatch: issue types: %w", err)
	}
	screens = callflow.NewScreens(callflow.ScreensConfig{Publisher: d, Store: st, Classifier: clf,
		Hotspots: dispatch.NewHotspots(dispatch.HotspotConfig{Window: a.cfg.Dispatch.HotspotWindow,
			Threshold: a.cfg.Dispatch.HotspotThreshold, Issues: issues}, a.now),
		WorkOrders: orders, Ranker: ranker, HotspotWindow: a.cfg.Dispatch.HotspotWindow, Engine: a.cfg.ASR.Default, Now: a.now, Logger: a.log})
	a.closers = append(a.closers, screens.Close)
	a.closers = append(a.closers, watchEngines(a.cfg, a.engineWatchEvery, d.ReportHealth).Close)
	a.seatChanged = screens.SeatChanged
	if _, err := screens.Reconcile(context.Background(), st); err != nil {
		return fmt.Errorf("closing calls left open: %w", err)
	}
	return a.wireFlow(screens, ph)
}

// wireFlow builds the call flow on the SIP dialogs, the ACD, the recognisers and the
// screens.
func (a *App) wireFlow(screens *callflow.Screens, phones callflow.SeatPhone) error {
	cfg := callflow.Config{RingTimeout: a.cfg.ACD.RingTimeout, Survey: a.cfg.surveyed, SurveyTimeout: a.cfg.Survey.Timeout, InactivityTimeout: a.cfg.Media.InactivityTimeout,
		Jitter: a.cfg.Media.Jitter, MediaIP: a.mediaIP, Ports: a.ports, HoldMusic: a.holdMusic,
		Language: a.cfg.lineLanguage, Hotwords: a.cfg.ASR.Hotwords, RTCPInterval: a.cfg.Media.RTCPInterval,
		PoorQuality: callflow.QualityThresholds{MinMOS: a.cfg.Media.PoorMOS, MaxLoss: a.cfg.Media.PoorLoss}}
	if a.cfg.recording() {
		cfg.RecordDir = filepath.Join(a.cfg.DataDir, "recordings")
	}
	if err := a.cfg.surveyPrompts(&cfg); err != nil {
		return err
	}
	deps := callflow.Deps{Queue: a.acd, Phones: phones, Observer: screens, Sink: screens,
		Metrics: a.media, Registerer: a.reg, Logger: a.log, Now: a.now, Health: a.desk.ReportHealth}
	if a.cfg.liveASR() {
		deps.ASR = a.asr
	}
	f, err := callflow.New(cfg, deps)
	if err != nil {
		return err
	}
	a.flow = f
	return nil
}

// lineLanguage is the recognition language of a line: its own, else the default.
func (c Config) lineLanguage(line string) string {
	for _, l := range c.Lines {
		if l.Number == line && l.Language != "" {
			return l.Language
		}
	}
	return c.ASR.Language
}

func (a *App) classifier() (*dispatch.Classifier, error) {
	if a.cfg.Dispatch.Taxonomy == "" && a.cfg.Dispatch.Model == "" {
		return dispatch.NewDefault()
	}
	return dispatch.Load(a.cfg.Dispatch.Taxonomy, a.cfg.Dispatch.Model)
}

// routes mounts the agent screens and API next to /healthz and /metrics.
func (a *App) routes(mux *http.ServeMux) {
	if a.desk != nil {
		mux.Handle("/", a.desk.Handler())
	}
}
