package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"lianxin/callflow"
	"lianxin/desk"
	"lianxin/seat"
	"lianxin/webrtcseat"
)

// WebRTCConfig is the `webrtc:` block: the browser phones' media.
type WebRTCConfig struct {
	// Disabled turns browser phones off: seats ring SIP phones only.
	Disabled bool `yaml:"disabled"`
	// PortMin and PortMax bound ICE's UDP ports; MuxPort instead carries every browser on
	// one UDP port.
	PortMin uint16 `yaml:"port_min"`
	PortMax uint16 `yaml:"port_max"`
	MuxPort int    `yaml:"mux_port"`
	// PublicIPs are announced instead of the host's addresses (NAT 1:1).
	PublicIPs []string `yaml:"public_ips"`
	// ICEServers are optional STUN/TURN servers.
	ICEServers []ICEServerConfig `yaml:"ice_servers"`
	// Networks are the addresses and prefixes candidates may use; default the media IP.
	Networks []string `yaml:"networks"`
	// Codecs in preference order; default opus, PCMU, PCMA.
	Codecs []string `yaml:"codecs"`
	// Grace is how long a call waits for a reloaded or dropped page; default 30s.
	Grace time.Duration `yaml:"grace"`
}

// ICEServerConfig is one STUN or TURN server.
type ICEServerConfig struct {
	URLs       []string `yaml:"urls"`
	Username   string   `yaml:"username"`
	Credential string   `yaml:"credential"`
}

// phones rings a seat's browser page or its SIP phone, whichever the ACD says is the
// seat's phone now, and carries the browser phones' signalling for the desk.
type phones struct {
	a   *App
	sip callflow.SeatPhone
	web *webrtcseat.Engine // nil when browser phones are disabled
}

// browserPhones builds the browser phones from the `webrtc:` block.
func (a *App) browserPhones() (*phones, error) {
	p := &phones{a: a, sip: sipPhones{a.sip}}
	c := a.cfg.WebRTC
	if c.Disabled {
		return p, nil
	}
	nets, err := parsePrefixes(c.Networks)
	if err != nil {
		return nil, fmt.Errorf("webrtc: networks: %w", err)
	}
	if len(nets) == 0 && !a.mediaIP.IsUnspecified() {
		nets = []netip.Prefix{netip.PrefixFrom(a.mediaIP, a.mediaIP.BitLen())}
	}
	cfg := webrtcseat.Config{PortMin: c.PortMin, PortMax: c.PortMax, MuxPort: c.MuxPort, PublicIPs: c.PublicIPs,
		Networks: nets, Codecs: c.Codecs, Grace: c.Grace}
	for _, s := range c.ICEServers {
		cfg.ICEServers = append(cfg.ICEServers, webrtcseat.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	p.web, err = webrtcseat.New(cfg, webrtcseat.Options{
		OnPhone:   func(id string, on bool) { _ = a.acd.SetPhone(id, seat.PhoneWebRTC, on) },
		OnMonitor: p.audit, Registerer: a.reg, Logger: a.log, Now: a.now})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, p.web.Close)
	return p, nil
}

// Ring rings the seat's current phone.
func (p *phones) Ring(ctx context.Context, r callflow.Ring) (callflow.SeatCall, error) {
	if p.web != nil && p.a.acd.PhoneOf(r.Seat) == seat.PhoneWebRTC {
		return p.web.Ring(ctx, r)
	}
	return p.sip.Ring(ctx, r)
}

// kind is the phone that rings for a seat, for the desk.
func (p *phones) kind(id string) string { return string(p.a.acd.PhoneOf(id)) }

// open starts one socket's phone signalling (desk.Options.OpenPhone).
func (p *phones) open(c desk.PhoneClient, send func(string, any) bool) desk.PhoneLink {
	if p.web == nil {
		return disabledLink{}
	}
	return p.web.Open(webrtcseat.Client{User: c.User, Seat: c.Seat, Admin: c.Admin}, send)
}

// audit stores every start and stop of a listen or whisper, with the call it was on.
func (p *phones) audit(m webrtcseat.MonitorEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	callID := m.CallID
	typ := desk.TypeMonitorStopped
	if m.Started {
		typ = desk.TypeMonitorStarted
	}
	_, err := p.a.desk.Publish(ctx, desk.Event{Type: typ, Time: m.At, CallID: callID,
		Data: desk.MonitorData{Supervisor: m.Supervisor, Seat: m.Seat, Mode: m.Mode}})
	if err != nil {
		p.a.log.Error("audit of a listen/whisper", "err", err, "supervisor", m.Supervisor, "seat", m.Seat)
	}
}

type disabledLink struct{}

func (disabledLink) Message(context.Context, string, json.RawMessage) error {
	return errors.New("browser phones are disabled (webrtc.disabled)")
}
func (disabledLink) Close() error { return nil }
