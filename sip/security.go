package sip

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	siplib "github.com/emiago/sipgo/sip"
)

// TLSPolicy says whether a peer's signalling must come over TLS.
type TLSPolicy uint8

// TLS policies. TLSUnset takes the default's.
const (
	TLSUnset TLSPolicy = iota
	// TLSOptional takes the peer over UDP, TCP or TLS.
	TLSOptional
	// TLSRequired refuses a seat's REGISTER, or a caller's INVITE, that did not come over
	// TLS (403).
	TLSRequired
)

// SRTPPolicy says whether a peer's media must be SRTP, keyed by SDES (RFC 4568) in the
// SDP.
type SRTPPolicy uint8

// SRTP policies. SRTPUnset takes the default's.
const (
	SRTPUnset SRTPPolicy = iota
	// SRTPOff is plain RTP: no crypto is offered, an offer's crypto is declined, and an
	// offer that insists on SRTP (RTP/SAVP) is refused with 488.
	SRTPOff
	// SRTPOptional offers SRTP beside plain RTP (RTP/AVP with a=crypto) and answers an
	// offer's crypto with SRTP; a peer without it gets plain RTP.
	SRTPOptional
	// SRTPRequired offers only SRTP (RTP/SAVP) and refuses a peer without it: a caller's
	// offer without usable crypto gets 488, a seat that answers plain is hung up.
	SRTPRequired
)

// ErrUnknownPolicy reports a policy name that is not one of the defined ones.
var ErrUnknownPolicy = errors.New("unknown policy")

var (
	tlsPolicyNames  = map[TLSPolicy]string{TLSOptional: "optional", TLSRequired: "required"}
	srtpPolicyNames = map[SRTPPolicy]string{SRTPOff: "off", SRTPOptional: "optional", SRTPRequired: "required"}
)

// String is the policy's config name ("" when unset).
func (p TLSPolicy) String() string { return tlsPolicyNames[p] }

// String is the policy's config name ("" when unset).
func (p SRTPPolicy) String() string { return srtpPolicyNames[p] }

// MarshalText writes the config name.
func (p TLSPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// MarshalText writes the config name.
func (p SRTPPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads "optional" or "required"; anything else is refused.
func (p *TLSPolicy) UnmarshalText(b []byte) error {
	v, err := parsePolicy("tls", string(b), tlsPolicyNames)
	*p = v
	return err
}

// UnmarshalText reads "off", "optional" or "required"; anything else is refused.
func (p *SRTPPolicy) UnmarshalText(b []byte) error {
	v, err := parsePolicy("srtp", string(b), srtpPolicyNames)
	*p = v
	return err
}

func parsePolicy[P comparable](kind, s string, names map[P]string) (P, error) {
	var valid []string
	for _, want := range []string{"off", "optional", "required"} {
		for p, name := range names {
			if name != want {
				continue
			}
			if strings.EqualFold(s, name) {
				return p, nil
			}
			valid = append(valid, name)
		}
	}
	var zero P
	return zero, fmt.Errorf("%w: %s %q (valid: %s)", ErrUnknownPolicy, kind, s, strings.Join(valid, ", "))
}

// Policy is how one peer's legs must be protected: its signalling (TLS) and its media
// (SRTP). Seats and callers have one each; trunks may reuse the type.
type Policy struct {
	TLS  TLSPolicy
	SRTP SRTPPolicy
}

// Or is p with its unset fields taken from d.
func (p Policy) Or(d Policy) Policy {
	if p.TLS == TLSUnset {
		p.TLS = d.TLS
	}
	if p.SRTP == SRTPUnset {
		p.SRTP = d.SRTP
	}
	return p
}

// String is the policy as the config writes it.
func (p Policy) String() string { return fmt.Sprintf("{tls: %s, srtp: %s}", p.TLS, p.SRTP) }

// DefaultPolicy is what a peer gets when nothing is configured: TLS and SRTP when the
// peer offers them, plain otherwise.
var DefaultPolicy = Policy{TLS: TLSOptional, SRTP: SRTPOptional}

// Policies are a default and named exceptions: seats by seat name, callers by the number
// they dial.
type Policies struct {
	Default Policy
	By      map[string]Policy
}

// For is name's policy: its own settings, the default's where it has none, and
// DefaultPolicy's where neither says.
func (p Policies) For(name string) Policy {
	return p.By[name].Or(p.Default).Or(DefaultPolicy)
}

// RequiresTLS lists the names whose policy requires TLS, the default first as "default":
// a configuration that requires TLS needs a TLS listener.
func (p Policies) RequiresTLS() []string {
	var out []string
	if p.Default.TLS == TLSRequired {
		out = append(out, "default")
	}
	var named []string
	for name := range p.By {
		if p.For(name).TLS == TLSRequired && p.Default.TLS != TLSRequired {
			named = append(named, name)
		}
	}
	slices.Sort(named)
	return append(out, named...)
}

// callerPolicy is what a caller must use: its line's policy and, for a call a trunk
// brought, the trunk's SRTP setting (what its carrier can do) unless the line requires
// SRTP. The trunk's own TLS setting was checked when it was admitted.
func (s *Server) callerPolicy(adm admission) Policy {
	pol := s.cfg.CallerPolicies.For(adm.number)
	if t := adm.trunk; t != nil && pol.SRTP != SRTPRequired {
		pol.SRTP = t.SRTP
		if pol.SRTP == SRTPUnset {
			pol.SRTP = SRTPOptional
		}
	}
	return pol
}

// overTLS reports whether req arrived over TLS: the transport it came in on, never what
// its Via claims.
func overTLS(req *siplib.Request) bool {
	return strings.EqualFold(req.MessageData.Transport(), "TLS")
}
