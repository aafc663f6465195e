package callflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"lianxin/desk"
	"lianxin/dispatch"
	"lianxin/store"
)

// AlertRobot posts a hotspot alert to a chat group (dispatch.Webhook).
type AlertRobot interface {
	Send(ctx context.Context, a dispatch.Alert) error
}

// publishAlert tells admins of an alert's new state (raised, grown, acknowledged, closed,
// expired); the wallboard keeps one row per alert ID. A raised alert also goes to the
// group robot, in the background so that no call waits on a chat server.
func (e *Screens) publishAlert(a dispatch.Alert) {
	if e.cfg.Robot != nil && a.State == dispatch.AlertRaised && e.startPost() {
		go func() {
			defer e.bg.Done()
			if err := e.cfg.Robot.Send(e.ctx, a); err != nil {
				e.log.Warn("hotspot alert not posted to the group robot", "alert", a.ID, "robot", e.cfg.Robot, "err", err)
			}
		}()
	}
	e.publish(desk.Event{Type: desk.TypeHotspot, Data: desk.HotspotData{ID: a.ID, State: a.State,
		Department: a.Department, Issue: a.Issue, IssueID: a.IssueID, Place: a.Place,
		Topic: fmt.Sprintf("%s @ %s", a.Issue, a.Place), Count: len(a.CallIDs), Examples: a.CallIDs,
		WindowS: int(e.cfg.HotspotWindow.Seconds()), AckBy: a.AckBy, AckAt: a.AckAt, ClosedBy: a.ClosedBy,
		RaisedAt: a.RaisedAt, LastCallAt: a.LastCallAt}})
}

// AlertStore reads back the hotspot alerts a previous run stored (the store).
type AlertStore interface {
	OpenAlerts(ctx context.Context, now time.Time) ([]store.Alert, error)
	AlertIDs(ctx context.Context) ([]string, error)
}

// restoreAlerts hands hotspot detection the alerts a previous run left open, so that they
// grow, are acknowledged or closed and expire as if it had not stopped; the desk shows
// them from the same rows.
func (e *Screens) restoreAlerts(ctx context.Context, st AlertStore) error {
	if e.cfg.Hotspots == nil {
		return nil
	}
	rows, err := st.OpenAlerts(ctx, e.cfg.Now())
	if err != nil {
		return err
	}
	ids, err := st.AlertIDs(ctx)
	if err != nil {
		return err
	}
	alerts := make([]dispatch.Alert, 0, len(rows))
	for _, r := range rows {
		var d desk.HotspotData
		if err := json.Unmarshal(r.Data, &d); err != nil {
			return fmt.Errorf("alert %s: %w", r.ID, err)
		}
		last := d.LastCallAt
		if last.IsZero() && d.WindowS > 0 { // stored before alerts said when their last call came
			last = r.Until.Add(-time.Duration(d.WindowS) * time.Second)
		}
		alerts = append(alerts, dispatch.Alert{ID: r.ID, State: r.State, Department: d.Department, Issue: d.Issue,
			IssueID: d.IssueID, Place: d.Place, CallIDs: d.Examples, RaisedAt: d.RaisedAt, AckBy: d.AckBy, AckAt: d.AckAt,
			LastCallAt: last})
	}
	if n := e.cfg.Hotspots.Restore(alerts, ids); n > 0 {
		e.log.Info("hotspot alerts left open taken up", "alerts", n)
	}
	return nil
}

// startPost counts a robot post in bg, unless Close has begun: a WaitGroup must not grow
// while Close waits on it.
func (e *Screens) startPost() bool {
	e.postMu.Lock()
	defer e.postMu.Unlock()
	if e.ctx.Err() != nil {
		return false
	}
	e.bg.Add(1)
	return true
}

// HotspotAction acknowledges or closes an alert for the admin who (desk.Options'
// OnHotspotAction) and publishes its new state.
func (e *Screens) HotspotAction(_ context.Context, id, action, who string) error {
	var (
		a   dispatch.Alert
		err error
	)
	switch action {
	case desk.HotspotAcknowledge:
		a, err = e.cfg.Hotspots.Acknowledge(id, who)
	case desk.HotspotClose:
		a, err = e.cfg.Hotspots.Close(id, who)
	default:
		return fmt.Errorf("unknown hotspot action %q", action)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", desk.ErrNoAlert, err)
	}
	e.publishAlert(a)
	return nil
}

// expireAlerts takes alerts whose window passed without a new call off the wallboard,
// until Close.
func (e *Screens) expireAlerts(every time.Duration) {
	defer e.bg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		for _, a := range e.cfg.Hotspots.Expire() {
			e.publishAlert(a)
		}
	}
}

// Close stops the alert expiry; it is idempotent.
func (e *Screens) Close() error {
	e.once.Do(func() {
		close(e.stop)
		e.postMu.Lock()
		e.cancel()
		e.postMu.Unlock()
	})
	e.bg.Wait()
	return nil
}
