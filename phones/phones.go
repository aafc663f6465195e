package phones

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lianxin/callflow"
	"lianxin/desk"
	"lianxin/seat"
	"lianxin/sip"
	"lianxin/webrtcseat"
)

// Router rings a seat's browser page or its SIP phone, whichever the ACD says is the
// seat's phone now, and carries the browser phones' signalling for the desk.
type Router struct {
	acd  *seat.ACD
	sip  callflow.SeatPhone
	web  *webrtcseat.Engine // nil when browser phones are disabled
	deps Deps
}

// Deps are what the router works with.
type Deps struct {
	ACD *seat.ACD
	SIP *sip.Server
	// Publish stores and shows a desk event: the audit of a listen or whisper.
	Publish    func(context.Context, desk.Event) error
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

// New builds the router; with a webrtcseat config (nil: browser phones disabled) it
// builds the browser phones too, which Close stops.
func New(web *webrtcseat.Config, d Deps) (*Router, error) {
	p := &Router{acd: d.ACD, sip: sipPhones{d.SIP}, deps: d}
	if web == nil {
		return p, nil
	}
	var err error
	p.web, err = webrtcseat.New(*web, webrtcseat.Options{
		OnPhone:   func(id string, on bool) { _ = d.ACD.SetPhone(id, seat.PhoneWebRTC, on) },
		OnMonitor: p.audit, Registerer: d.Registerer, Logger: d.Logger, Now: d.Now})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Close stops the browser phones; it is idempotent.
func (p *Router) Close() error {
	if p.web == nil {
		return nil
	}
	return p.web.Close()
}

// Ring rings the seat's current phone.
func (p *Router) Ring(ctx context.Context, r callflow.Ring) (callflow.SeatCall, error) {
	if p.web != nil && p.acd.PhoneOf(r.Seat) == seat.PhoneWebRTC {
		return p.web.Ring(ctx, r)
	}
	return p.sip.Ring(ctx, r)
}

// Kind is the phone that rings for a seat, for the desk (desk.Options.SeatPhone).
func (p *Router) Kind(id string) string { return string(p.acd.PhoneOf(id)) }

// Open starts one socket's phone signalling (desk.Options.OpenPhone).
func (p *Router) Open(c desk.PhoneClient, send func(string, any) bool) desk.PhoneLink {
	if p.web == nil {
		return disabledLink{}
	}
	return p.web.Open(webrtcseat.Client{User: c.User, Seat: c.Seat, Admin: c.Admin}, send)
}

// audit stores every start and stop of a listen or whisper, with the call it was on.
func (p *Router) audit(m webrtcseat.MonitorEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	callID := m.CallID
	typ := desk.TypeMonitorStopped
	if m.Started {
		typ = desk.TypeMonitorStarted
	}
	err := p.deps.Publish(ctx, desk.Event{Type: typ, Time: m.At, CallID: callID,
		Data: desk.MonitorData{Supervisor: m.Supervisor, Seat: m.Seat, Mode: m.Mode}})
	if err != nil {
		p.deps.Logger.Error("audit of a listen/whisper", "err", err, "supervisor", m.Supervisor, "seat", m.Seat)
	}
}

type disabledLink struct{}

func (disabledLink) Message(context.Context, string, json.RawMessage) error {
	return errors.New("browser phones are disabled (webrtc.disabled)")
}
func (disabledLink) Close() error { return nil }
