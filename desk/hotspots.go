package desk

import (
	"errors"
	"net/http"
)

// ErrNoAlert is what OnHotspotAction returns for an alert that is not live.
var ErrNoAlert = errors.New("no such live alert")

// Hotspot alert actions an admin may take.
const (
	HotspotAcknowledge = "acknowledge"
	HotspotClose       = "close"
)

// hotspotAction serves POST /api/hotspots/{id}/acknowledge and …/close: an admin takes
// charge of an alert, or closes it; the change reaches every admin as a hotspot.alert.
func (d *Desk) hotspotAction(action string) func(http.ResponseWriter, *http.Request, Session) {
	return func(w http.ResponseWriter, r *http.Request, s Session) {
		if !s.Admin() {
			writeError(w, http.StatusForbidden, "admins only")
			return
		}
		if d.opts.OnHotspotAction == nil {
			writeError(w, http.StatusNotFound, "hotspot detection is off")
			return
		}
		err := d.opts.OnHotspotAction(r.Context(), r.PathValue("id"), action, s.User)
		switch {
		case err == nil:
			writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
		case errors.Is(err, ErrNoAlert):
			writeError(w, http.StatusNotFound, err.Error())
		default:
			writeError(w, http.StatusInternalServerError, err.Error())
		}
	}
}
