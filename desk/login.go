package desk

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"lianxin/store"
)

// maxUserLen bounds a login's user name, so that throttle keys stay small.
const maxUserLen = 64

type loginRequest struct {
	User     string `json:"user"`
	Seat     string `json:"seat"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token   string    `json:"token"`
	Role    string    `json:"role"`
	Seat    string    `json:"seat,omitempty"`
	User    string    `json:"user"`
	Expires time.Time `json:"expires"`
}

func (d *Desk) login(w http.ResponseWriter, r *http.Request) {
	if !sameSiteJSON(w, r) {
		return
	}
	var req loginRequest
	if !readJSON(w, r, &req) {
		return
	}
	user := req.User
	if user == "" {
		user = req.Seat
	}
	if len(user) > maxUserLen {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("user longer than %d bytes", maxUserLen))
		return
	}
	addr := d.clientAddr(r)
	if wait := d.throttle.wait(user, addr); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		d.m.logins.WithLabelValues("throttled").Inc()
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many wrong passwords; try again in %d s", secs))
		return
	}
	tok, s, err := d.auth.login(user, req.Password)
	if err != nil {
		d.throttle.failed(user, addr)
		d.m.logins.WithLabelValues("denied").Inc()
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	d.throttle.succeeded(user, addr)
	d.m.logins.WithLabelValues("ok").Inc()
	if err := d.st.SaveSession(r.Context(), store.SessionRecord{ID: s.token, User: s.User, Role: s.Role, Seat: s.Seat,
		Expires: s.Expires}); err != nil {
		d.log.Warn("desk: session not stored; it ends at the next restart", "user", s.User, "err", err)
	}
	writeJSON(w, http.StatusOK, loginResponse{Token: tok, Role: s.Role, Seat: s.Seat, User: s.User, Expires: s.Expires})
}

// logout revokes the request's token and closes the sockets opened with it; the screen's
// other tokens (another tab, another agent) are untouched.
func (d *Desk) logout(w http.ResponseWriter, r *http.Request, s Session) {
	d.auth.revoke(s.token)
	if err := d.st.DeleteSession(r.Context(), s.token); err != nil {
		d.log.Warn("desk: stored session not deleted; it is revoked until the restart", "user", s.User, "err", err)
	}
	n := d.hub.dropToken(s.token)
	d.log.Info("desk: logged out", "user", s.User, "sockets", n)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// sameSiteJSON refuses what a page of another site could make a browser send: a form or
// text/plain body (no CORS preflight) or any request whose Origin is another host. Without
// the JSON content type a cross-site page could log a screen in as the attacker's account.
// Requests without Origin (curl, scripts, kiosks) are not from a browser page and pass.
func sameSiteJSON(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			writeError(w, http.StatusForbidden, "cross-origin request refused")
			return false
		}
	}
	return true
}

// clientAddr is the address the throttle counts for r: the peer's, or, when the peer is a
// trusted proxy, the client address its ClientIPHeader names. With X-Forwarded-For style
// lists the rightmost address that is not a trusted proxy is the client: whatever lies left
// of it was written by the client itself and proves nothing.
func (d *Desk) clientAddr(r *http.Request) string {
	peer := peerAddr(r)
	if d.cfg.ClientIPHeader == "" || !d.trusted(peer) {
		return peer.String()
	}
	vals := r.Header.Values(d.cfg.ClientIPHeader)
	var hops []string
	for _, v := range vals {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: nothing left of it can be trusted
		}
		ip = ip.Unmap()
		if !d.trusted(ip) {
			return ip.String()
		}
	}
	return peer.String()
}

func (d *Desk) trusted(ip netip.Addr) bool {
	for _, p := range d.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// peerAddr is the request's peer address without the port.
func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}
