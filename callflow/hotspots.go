package callflow

import (
	"context"
	"fmt"
	"time"

	"lianxin/desk"
	"lianxin/dispatch"
)

// publishAlert tells admins of an alert's new state (raised, grown, acknowledged, closed,
// expired); the wallboard keeps one row per alert ID.
func (e *Screens) publishAlert(a dispatch.Alert) {
	e.publish(desk.Event{Type: desk.TypeHotspot, Data: desk.HotspotData{ID: a.ID, State: a.State,
		Department: a.Department, Issue: a.Issue, IssueID: a.IssueID, Place: a.Place,
		Topic: fmt.Sprintf("%s @ %s", a.Issue, a.Place), Count: len(a.CallIDs), Examples: a.CallIDs,
		WindowS: int(e.cfg.HotspotWindow.Seconds()), AckBy: a.AckBy, AckAt: a.AckAt, ClosedBy: a.ClosedBy}})
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
	e.once.Do(func() { close(e.stop) })
	e.bg.Wait()
	return nil
}
