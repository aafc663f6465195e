package config

import (
	"fmt"
	"net/netip"
	"time"

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

// SeatConfig is the browser phones' own config, nil when they are disabled; candidates
// use the media IP unless networks says otherwise.
func (c WebRTCConfig) SeatConfig(mediaIP netip.Addr) (*webrtcseat.Config, error) {
	if c.Disabled {
		return nil, nil
	}
	nets, err := parsePrefixes(c.Networks)
	if err != nil {
		return nil, fmt.Errorf("webrtc: networks: %w", err)
	}
	if len(nets) == 0 && !mediaIP.IsUnspecified() {
		nets = []netip.Prefix{netip.PrefixFrom(mediaIP, mediaIP.BitLen())}
	}
	cfg := webrtcseat.Config{PortMin: c.PortMin, PortMax: c.PortMax, MuxPort: c.MuxPort, PublicIPs: c.PublicIPs,
		Networks: nets, Codecs: c.Codecs, Grace: c.Grace}
	for _, s := range c.ICEServers {
		cfg.ICEServers = append(cfg.ICEServers, webrtcseat.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return &cfg, nil
}
