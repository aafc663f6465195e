package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/gaissmai/bart"
)

// Trunk is a carrier or PBX that delivers calls to the gateway. Its INVITEs are known by
// their source address (Sources) or by the digest credentials the PBX answers a 407
// challenge with (Username, Password); a trunk has one or the other.
type Trunk struct {
	Name string
	// Sources are the trunk's addresses and prefixes. The most specific prefix that holds
	// an INVITE's source names its trunk. Trunk sources are exempt from the per-source
	// rate limits, as Security.Trusted addresses are.
	Sources []netip.Prefix
	// Username and Password authenticate a PBX's INVITEs (RFC 3261 §22.3).
	Username, Password string
	// Numbers turns the dialled number into a line number.
	Numbers NumberPlan
	// DID says where the trunk puts the dialled number.
	DID DIDSource
	// TLS and SRTP are what the trunk's signalling and media must use (unset: optional).
	TLS  TLSPolicy
	SRTP SRTPPolicy
	// Register, when set, keeps the gateway registered at the trunk's registrar.
	Register *TrunkRegistration
}

// DIDSource says which header of a trunk's INVITE carries the dialled number.
type DIDSource string

// Where the dialled number is read from. Auto reads the Request-URI's user part, or To's
// when the Request-URI has none or names the contact the gateway registered at the trunk
// (many carriers send INVITEs to the registered contact and put the DID in To).
const (
	DIDAuto       DIDSource = "auto"
	DIDRequestURI DIDSource = "request_uri"
	DIDTo         DIDSource = "to"
)

// ParseDIDSource reads a DID source; empty is auto.
func ParseDIDSource(s string) (DIDSource, error) {
	switch d := DIDSource(strings.ToLower(s)); d {
	case "":
		return DIDAuto, nil
	case DIDAuto, DIDRequestURI, DIDTo:
		return d, nil
	}
	return "", fmt.Errorf("did %q: want auto, request_uri or to", s)
}

// Validate reports what is wrong with the trunk's configuration.
func (t *Trunk) Validate() error {
	var errs []error
	if t.Name == "" {
		errs = append(errs, errors.New("a trunk needs a name"))
	}
	switch {
	case len(t.Sources) > 0 && t.Username != "":
		errs = append(errs, errors.New("name sources or a username, not both: a trunk is known by one"))
	case len(t.Sources) == 0 && t.Username == "":
		errs = append(errs, errors.New("name the addresses its INVITEs come from (sources) or the username and password its PBX authenticates with"))
	case t.Username != "" && t.Password == "":
		errs = append(errs, errors.New("a username needs a password"))
	}
	if _, err := ParseDIDSource(string(t.DID)); err != nil {
		errs = append(errs, err)
	}
	if t.Register != nil {
		if err := t.Register.validate(); err != nil {
			errs = append(errs, fmt.Errorf("register: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("trunk %q: %w", t.Name, err)
	}
	return nil
}

// dialled is the number as the trunk sent it, from where its DID setting says.
func (t *Trunk) dialled(req *siplib.Request) string {
	ruri := uriNumber(&req.Recipient)
	var to string
	if h := req.To(); h != nil {
		to = uriNumber(&h.Address)
	}
	switch t.DID {
	case DIDTo:
		return to
	case DIDRequestURI:
		return ruri
	}
	if ruri == "" || (t.Register != nil && ruri == t.Register.contactUser()) {
		return to
	}
	return ruri
}

// uriNumber is the user part of a SIP URI, or the number of a tel: URI.
func uriNumber(u *siplib.Uri) string {
	if strings.EqualFold(u.Scheme, "tel") {
		return u.Raw()
	}
	return u.User
}

// Inbound decides which new calls the gateway takes: a trunk's, on a line it serves; and a
// caller's from anywhere else only where calls are open.
type Inbound struct {
	// Trunks are the carriers and PBXs.
	Trunks []Trunk
	// Lines maps the line numbers to whether each is open to callers that are no trunk.
	// A trunk's call to a number that no line has gets 404; with no lines every number is
	// served.
	Lines map[string]bool
	// Open takes calls from any source on every line. Nil: open while no trunk is
	// configured, so a gateway without trunks takes every call.
	Open *bool
}

// inbound is Inbound made ready for each INVITE.
type inbound struct {
	trunks   []*Trunk
	bySource *bart.Table[*Trunk]
	byUser   map[string]*Trunk
	// auth checks PBX trunks' digest credentials; nil when no trunk uses them.
	auth  *digestAuth
	lines map[string]bool
	open  bool
	// seatAt reports whether a source (address:port) is a registered seat phone's.
	seatAt  func(source string) bool
	metrics *Metrics
}

// admission is what the gateway knows of a call it takes: the trunk it came from (nil
// for none), the number as dialled and the line number it reaches.
type admission struct {
	trunk           *Trunk
	dialled, number string
}

// newInbound checks and indexes the trunks; the server sets auth and seatAt.
func newInbound(cfg Config) (*inbound, error) {
	in := &inbound{bySource: &bart.Table[*Trunk]{}, byUser: map[string]*Trunk{}, lines: cfg.Inbound.Lines,
		metrics: cfg.Metrics, open: len(cfg.Inbound.Trunks) == 0}
	if cfg.Inbound.Open != nil {
		in.open = *cfg.Inbound.Open
	}
	names := map[string]bool{}
	for i := range cfg.Inbound.Trunks {
		t := cfg.Inbound.Trunks[i] // a copy the server owns
		if err := t.Validate(); err != nil {
			return nil, err
		}
		if names[t.Name] {
			return nil, fmt.Errorf("trunk %q: two trunks have that name", t.Name)
		}
		names[t.Name] = true
		t.DID, _ = ParseDIDSource(string(t.DID))
		for _, p := range t.Sources {
			if other, ok := in.bySource.Get(p.Masked()); ok {
				return nil, fmt.Errorf("trunk %q: source %s is trunk %q's already", t.Name, p, other.Name)
			}
			in.bySource.Insert(p.Masked(), &t)
		}
		if t.Username != "" {
			if other, ok := in.byUser[t.Username]; ok {
				return nil, fmt.Errorf("trunk %q: username %q is trunk %q's already", t.Name, t.Username, other.Name)
			}
			in.byUser[t.Username] = &t
		}
		in.trunks = append(in.trunks, &t)
	}
	return in, nil
}

// newAuth is the digest check of PBX trunks, nil when no trunk uses one; cfg's Security
// has its defaults.
func (in *inbound) newAuth(cfg Config) *digestAuth {
	if len(in.byUser) == 0 {
		return nil
	}
	creds := func(user string) (string, bool) {
		t, ok := in.byUser[user]
		if !ok {
			return "", false
		}
		return t.Password, true
	}
	return newDigestAuth(proxyDigest(cfg.Metrics), cfg.Realm, creds, cfg.Now, cfg.Security, cfg.Logger, cfg.Metrics)
}

// trusted are the trunks' sources, exempt from the per-source limits.
func (in *inbound) trusted() []netip.Prefix {
	var out []netip.Prefix
	for _, t := range in.trunks {
		out = append(out, t.Sources...)
	}
	return out
}

// identify returns the trunk whose sources hold the request's source address; a
// registered seat phone is never a trunk, even inside a trunk's prefix.
func (in *inbound) identify(req *siplib.Request) (*Trunk, bool) {
	t, ok := in.bySource.Lookup(sourceAddr(req))
	if !ok || in.seatAt(req.Source()) {
		return nil, false
	}
	return t, true
}

// admit decides a new INVITE: the admission of a call to take, or the response that
// refuses it (403, 404, 407 and what digest checks answer).
func (in *inbound) admit(req *siplib.Request) (admission, *siplib.Response) {
	t, ok := in.identify(req)
	if !ok && in.auth != nil && req.GetHeader("Proxy-Authorization") != nil {
		user, res := in.auth.authenticate(req)
		if res != nil {
			result := "forbidden"
			if res.StatusCode == siplib.StatusProxyAuthRequired {
				result = "challenged" // a stale nonce or another scheme
			}
			in.metrics.trunkInvite("none", result)
			return admission{}, res
		}
		t, ok = in.byUser[user], true
	}
	if ok {
		return in.admitTrunk(t, req)
	}
	number := uriNumber(&req.Recipient)
	if in.open || in.lines[number] {
		in.metrics.trunkInvite("none", "admitted")
		return admission{dialled: number, number: number}, nil
	}
	if in.auth != nil {
		// perhaps a PBX that has not yet said who it is
		in.metrics.trunkInvite("none", "challenged")
		in.auth.kind.count("challenged")
		return admission{}, in.auth.challenge(req, false)
	}
	in.metrics.trunkInvite("none", "forbidden")
	return admission{}, siplib.NewResponseFromRequest(req, siplib.StatusForbidden, "Forbidden (unknown source)", nil)
}

func (in *inbound) admitTrunk(t *Trunk, req *siplib.Request) (admission, *siplib.Response) {
	if t.TLS == TLSRequired && !strings.EqualFold(req.Transport(), "TLS") {
		in.metrics.trunkInvite(t.Name, "forbidden")
		return admission{}, siplib.NewResponseFromRequest(req, siplib.StatusForbidden, "Forbidden (this trunk must use TLS)", nil)
	}
	a := admission{trunk: t, dialled: t.dialled(req)}
	a.number = t.Numbers.Normalize(a.dialled)
	if _, ok := in.lines[a.number]; len(in.lines) > 0 && !ok {
		in.metrics.trunkInvite(t.Name, "not_found")
		return admission{}, siplib.NewResponseFromRequest(req, siplib.StatusNotFound, "Not Found (no line has this number)", nil)
	}
	in.metrics.trunkInvite(t.Name, "admitted")
	return a, nil
}
