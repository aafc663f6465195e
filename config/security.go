package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"lianxin/sip"
)

// SecurityConfig is how one peer's call legs must be protected; an unset key takes the
// default's.
type SecurityConfig struct {
	// TLS is optional or required (a seat's REGISTER and a caller's INVITE over UDP or
	// TCP get 403).
	TLS sip.TLSPolicy `yaml:"tls"`
	// SRTP is off, optional (offered beside plain RTP, taken when the peer offers it) or
	// required (only SRTP offered; a plain peer gets 488 or is hung up).
	SRTP sip.SRTPPolicy `yaml:"srtp"`
}

func (s SecurityConfig) policy() sip.Policy { return sip.Policy{TLS: s.TLS, SRTP: s.SRTP} }

// UnmarshalYAML reads {tls: …, srtp: …} and tells mistakes in the config's words, with
// their line: left to yaml.v3, a policy it cannot read loses its line and a wrong shape
// is told in Go type names.
func (s *SecurityConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a security setting is a mapping, e.g. {tls: required, srtp: required}", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch {
		case k.Value != "tls" && k.Value != "srtp":
			return fmt.Errorf("line %d: unknown key %q in a security setting (valid keys: srtp, tls)", k.Line, k.Value)
		case v.Kind != yaml.ScalarNode:
			err = fmt.Errorf("%s is a policy name, not a list or mapping", k.Value)
		case k.Value == "tls":
			err = s.TLS.UnmarshalText([]byte(v.Value))
		default:
			err = s.SRTP.UnmarshalText([]byte(v.Value))
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", v.Line, err)
		}
	}
	return nil
}

// defaultSecurityKey names the default policy among the seats' ones.
const defaultSecurityKey = "default"

// seatPolicies are seats.security: a default and per-seat policies.
func (c Config) seatPolicies() sip.Policies {
	p := sip.Policies{By: map[string]sip.Policy{}}
	for name, s := range c.Seats.Security {
		if name == defaultSecurityKey {
			p.Default = s.policy()
		} else {
			p.By[name] = s.policy()
		}
	}
	return p
}

// callerPolicies are sip.caller_security and each line's own security, by number.
func (c Config) callerPolicies() sip.Policies {
	p := sip.Policies{Default: c.SIP.CallerSecurity.policy(), By: map[string]sip.Policy{}}
	for _, l := range c.Lines {
		p.By[l.Number] = l.Security.policy()
	}
	return p
}

// checkSecurity refuses TLS settings that cannot work and policies for seats that do not
// exist.
func (c Config) checkSecurity() []error {
	var errs []error
	if (c.SIP.TLSCert == "") != (c.SIP.TLSKey == "") {
		errs = append(errs, errors.New("sip: tls_cert and tls_key go together: give both, or neither for a self-signed pair"))
	}
	if c.SIP.TLSListen == "" && c.SIP.TLSCert != "" {
		errs = append(errs, errors.New("sip: tls_cert is set but tls_listen is not: set tls_listen (e.g. 127.0.0.1:5061) to serve SIP over TLS"))
	}
	for _, a := range tlsHosts(c.SIP.TLSListen) {
		if a.err != nil {
			errs = append(errs, fmt.Errorf("sip: tls_listen %q: %w", c.SIP.TLSListen, a.err))
		}
	}
	ids := map[string]bool{defaultSecurityKey: true}
	for _, id := range c.seatIDs() {
		ids[id] = true
	}
	var unknown []string
	for name := range c.Seats.Security {
		if !ids[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		errs = append(errs, fmt.Errorf("seats: security names unknown seat %q (its keys are %q and seat names)", name, defaultSecurityKey))
	}
	if c.SIP.TLSListen != "" {
		return errs
	}
	if need := c.seatPolicies().RequiresTLS(); len(need) > 0 {
		errs = append(errs, fmt.Errorf("seats: security requires TLS for %s but sip.tls_listen is not set", strings.Join(need, ", ")))
	}
	if need := c.callerPolicies().RequiresTLS(); len(need) > 0 {
		errs = append(errs, fmt.Errorf("sip: caller_security or a line requires TLS (%s) but sip.tls_listen is not set", strings.Join(need, ", ")))
	}
	return errs
}

type tlsHost struct {
	host string
	err  error
}

// tlsHosts are the hosts of sip.tls_listen's addresses: what the self-signed certificate
// names.
func tlsHosts(listen string) []tlsHost {
	if listen == "" {
		return nil
	}
	var out []tlsHost
	for _, a := range strings.Split(listen, ",") {
		h, _, err := net.SplitHostPort(strings.TrimSpace(a))
		out = append(out, tlsHost{host: h, err: err})
	}
	return out
}

// SIPCertificate is the TLS listener's certificate: sip.tls_cert and tls_key, or the
// self-signed pair in the data dir, made at the first start. Its fingerprint is logged at
// every start, so that an operator can compare it with what phones were told to trust.
// Without tls_listen there is none.
func (c Config) SIPCertificate(log *slog.Logger, now time.Time) (*tls.Certificate, error) {
	if c.SIP.TLSListen == "" {
		return nil, nil
	}
	var hosts []string
	for _, h := range tlsHosts(c.SIP.TLSListen) {
		hosts = append(hosts, h.host)
	}
	cert, created, err := sip.LoadOrCreateCertificate(c.SIP.TLSCert, c.SIP.TLSKey, c.DataDir, hosts, now)
	if err != nil {
		return nil, err
	}
	switch {
	case created:
		log.Info("sip: no tls_cert configured, so a self-signed certificate was made; phones that verify the gateway need it as their CA file",
			"file", filepath.Join(c.DataDir, sip.SelfSignedCert), "sha256", sip.Fingerprint(cert))
	case c.SIP.TLSCert == "":
		log.Info("sip: TLS with the self-signed certificate made earlier", "file", filepath.Join(c.DataDir, sip.SelfSignedCert),
			"sha256", sip.Fingerprint(cert))
	default:
		log.Info("sip: TLS certificate", "file", c.SIP.TLSCert, "sha256", sip.Fingerprint(cert))
	}
	return &cert, nil
}
