package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"lianxin/asr/engines"
	"lianxin/callflow"
	"lianxin/desk"
	"lianxin/dispatch"
	"lianxin/phones"
	"lianxin/seat"
	"lianxin/sip"
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
	a.closers, a.store = append(a.closers, st.Close), st
	clf, err := dispatch.Load(a.cfg.Dispatch.Taxonomy, a.cfg.Dispatch.Model)
	if err != nil {
		return err
	}
	if a.asr, err = engines.Build(a.cfg.ASR, a.cfg.ASRLines(), a.reg, a.log); err != nil {
		return err
	}
	a.closers = append(a.closers, a.asr.Close)
	feedback := filepath.Join(a.cfg.DataDir, "dispatch-feedback.jsonl")
	dcfg, err := a.cfg.ForDesk(a.log)
	if err != nil {
		return err
	}
	ph, err := a.phones()
	if err != nil {
		return err
	}
	dcfg.CheckSeat = func(id, pw string) bool {
		want, ok := a.cfg.SeatPassword(id)
		return ok && a.acd.Has(id) && want == pw
	}
	var depts []desk.Dept
	for _, dep := range clf.Taxonomy().Departments {
		depts = append(depts, desk.Dept{ID: dep.ID, Name: dep.Name, NameEN: dep.NameEN})
	}
	var screens *callflow.Screens // made below, on the desk; set before any request arrives
	var orders *callflow.WorkOrders
	dopts := desk.Options{
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
		Queue:       a.acd.Queue,
		SeatStates:  a.acd.StateNames,
		Departments: func() []desk.Dept { return depts },
		OpenPhone:   ph.Open, SeatPhone: ph.Kind,
		Now: a.now, Registerer: a.reg, Logger: a.log,
	}
	if err := a.wireReports(st, clf, &dopts); err != nil {
		return err
	}
	d, err := desk.New(dcfg, st, dopts)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, d.Close)
	a.desk = d
	if orders, err = a.wireWorkOrders(d, st, clf); err != nil {
		return err
	}
	var ranker callflow.Ranker // the LLM backend when llm.url is set; the classifier stands in when it fails
	if a.cfg.LLM.URL != "" {
		l, err := dispatch.NewLLM(dispatch.LLMConfig(a.cfg.LLM), clf, nil, a.log)
		if err != nil {
			return err
		}
		ranker = l
	}
	issues, err := clf.IssueClassifier()
	if err != nil {
		return fmt.Errorf("dispatch: issue types: %w", err)
	}
	robot, err := a.cfg.HotspotRobot()
	if err != nil {
		return err
	}
	screens = callflow.NewScreens(callflow.ScreensConfig{Publisher: d, Store: st, Classifier: clf, Robot: robot,
		Hotspots: dispatch.NewHotspots(dispatch.HotspotConfig{Window: a.cfg.Dispatch.HotspotWindow,
			Threshold: a.cfg.Dispatch.HotspotThreshold, Issues: issues}, a.now),
		WorkOrders: orders, Ranker: ranker, HotspotWindow: a.cfg.Dispatch.HotspotWindow, Engine: a.cfg.ASR.Default, Now: a.now, Logger: a.log})
	a.closers = append(a.closers, screens.Close, engines.NewWatch(a.cfg.ASR, a.engineWatchEvery, d.ReportHealth, a.asr).Close)
	a.seatChanged = screens.SeatChanged
	a.trunkChanged = func(st sip.TrunkState) {
		if settled, err := st.Health(); settled {
			d.ReportHealth("trunk "+st.Trunk, err)
		}
	}
	if _, err := screens.Reconcile(context.Background(), st); err != nil {
		return fmt.Errorf("closing calls left open: %w", err)
	}
	return a.wireFlow(screens, ph)
}

// wireFlow builds the call flow on the SIP dialogs, the ACD, the recognisers and the
// screens.
func (a *App) wireFlow(screens *callflow.Screens, phones callflow.SeatPhone) error {
	cfg := a.flowCfg
	cfg.MediaIP, cfg.Ports = a.mediaIP, a.ports
	deps := callflow.Deps{Queue: a.acd, Phones: phones, Observer: screens, Sink: screens,
		Metrics: a.media, Registerer: a.reg, Logger: a.log, Now: a.now, Health: a.desk.ReportHealth}
	if a.cfg.LiveASR() {
		deps.ASR = a.asr
	}
	f, err := callflow.New(cfg, deps)
	if err != nil {
		return err
	}
	a.flow = f
	return nil
}

// phones builds the router that rings a seat's SIP phone or its browser page.
func (a *App) phones() (*phones.Router, error) {
	web, err := a.cfg.WebRTC.SeatConfig(a.mediaIP)
	if err != nil {
		return nil, err
	}
	ph, err := phones.New(web, phones.Deps{ACD: a.acd, SIP: a.sip, Registerer: a.reg, Logger: a.log, Now: a.now,
		Publish: func(ctx context.Context, e desk.Event) error { _, err := a.desk.Publish(ctx, e); return err }})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, ph.Close)
	return ph, nil
}

// routes mounts the agent screens and API next to /healthz and /metrics.
func (a *App) routes(mux *http.ServeMux) {
	if a.desk != nil {
		mux.Handle("/", a.desk.Handler())
	}
}
