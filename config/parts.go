package config

import (
	"net/http"
	"path/filepath"
	"time"

	"lianxin/seat"
	"lianxin/sip"
)

// ForACD is the ACD's own config: the seats, the skill lines, wrap-up and the queue's
// bounds.
func (c Config) ForACD() seat.Config {
	return seat.Config{Seats: c.seatIDs(), Lines: c.lineSeats(), WrapUp: c.ACD.WrapUp,
		MaxWait: c.ACD.MaxWait, MaxQueue: c.maxQueue()}
}

// ForSIP is the signalling server's own config, less its callbacks and its TLS certificate
// (SIPCertificate): its listeners, realm and limits, its trunks and lines, the seats' and
// callers' TLS and SRTP policies, and the file that keeps registrations across a restart.
func (c Config) ForSIP() (sip.Config, error) {
	sec, err := c.SIP.security()
	if err != nil {
		return sip.Config{}, err
	}
	in, err := c.inbound()
	if err != nil {
		return sip.Config{}, err
	}
	return sip.Config{Listen: c.SIP.Listen, Realm: c.SIP.Realm, MaxCalls: c.SIP.MaxCalls, Security: sec, Inbound: in,
		Registrations: sip.FileRegistrations{Path: filepath.Join(c.DataDir, "sip-registrations.json")},
		TLSListen:     c.SIP.TLSListen, SeatPolicies: c.seatPolicies(), CallerPolicies: c.callerPolicies()}, nil
}

// Server is an HTTP server of h with the http: block's limits.
func (c HTTPConfig) Server(h http.Handler) *http.Server {
	if n := c.MaxBodyBytes; n > 0 {
		h = http.MaxBytesHandler(h, n)
	}
	// Without read and write timeouts a client that stalls its body or stops reading
	// holds a connection and a goroutine for good.
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: c.ReadTimeout,
		WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout, MaxHeaderBytes: 64 << 10}
}
