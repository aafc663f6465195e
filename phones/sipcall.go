// Package phones makes SIP dialogs and browser pages the callers and seat phones of the call
// flow: adapters from sip's dialogs to callflow's Caller and SeatCall, and a router that
// rings whichever phone a seat has now.
package phones

import (
	"context"
	"errors"
	"fmt"

	"lianxin/callflow"
	"lianxin/media"
	"lianxin/sip"
)

// The call flow speaks of callers and seat phones; these adapters make SIP dialogs both.

// Caller is a SIP caller's dialog as the call flow sees it.
type Caller struct{ *sip.InboundCall }

var _ callflow.Prober = Caller{}

func (c Caller) Remote() callflow.Media { return flowMedia(c.InboundCall.Remote()) }

func (c Caller) Reject(r callflow.Rejection) error {
	code, reason := sipStatus(r)
	return c.InboundCall.Reject(code, reason)
}

// Probe asks the caller's phone whether it is still in the call (callflow.Prober).
func (c Caller) Probe(ctx context.Context) error {
	err := c.InboundCall.Probe(ctx)
	if errors.Is(err, sip.ErrDialogGone) {
		return fmt.Errorf("%w: %w", callflow.ErrCallerGone, err)
	}
	return err
}

func (c Caller) OnMediaChange(f func(callflow.Media)) {
	c.InboundCall.OnMediaChange(func(m sip.Media) { f(flowMedia(m)) })
}

// sipPhones rings the SIP phone registered for a seat.
type sipPhones struct{ srv *sip.Server }

func (p sipPhones) Ring(ctx context.Context, r callflow.Ring) (callflow.SeatCall, error) {
	oc, err := p.srv.Dial(ctx, sip.DialOptions{Seat: r.Seat, Local: r.Local, Codecs: r.Codecs, CallerID: r.CallerID})
	if err != nil {
		return nil, err
	}
	return sipSeatCall{oc}, nil
}

// sipSeatCall is an answered seat phone's dialog.
type sipSeatCall struct{ *sip.OutboundCall }

func (c sipSeatCall) Remote() callflow.Media { return flowMedia(c.OutboundCall.Remote()) }

func (c sipSeatCall) OnMediaChange(f func(callflow.Media)) {
	c.OutboundCall.OnMediaChange(func(m sip.Media) { f(flowMedia(m)) })
}

func flowMedia(m sip.Media) callflow.Media {
	d, err := media.ParseDirection(string(m.Direction))
	if err != nil {
		d = media.SendRecv
	}
	rtcp := media.RTCPPeer{Addr: m.RTCP}
	if m.RTCPMux {
		rtcp.Mode = media.RTCPMux
	}
	return callflow.Media{Addr: m.Addr, Codec: m.Codec, PayloadType: m.PayloadType, DTMFType: m.DTMFType, Direction: d,
		SRTP: m.SRTP, RTCP: rtcp}
}

// sipStatus is the final response a refused caller gets.
func sipStatus(r callflow.Rejection) (int, string) {
	switch r {
	case callflow.RejectNoAgent:
		return 480, "Temporarily Unavailable (no agent free)"
	case callflow.RejectQueueFull:
		return 486, "Busy Here (queue full)"
	case callflow.RejectNoSeats:
		return 404, "Not Found (no seats serve this number)"
	case callflow.RejectUnavailable:
		return 503, "Service Unavailable"
	}
	return 500, "Server Internal Error"
}
