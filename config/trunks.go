package config

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"lianxin/sip"
)

// TrunkConfig is a carrier or PBX (trunks: in the file): known by the addresses its INVITEs
// come from (sources) or by the digest credentials its PBX answers a 407 with (auth),
// optionally registering the gateway at its registrar.
type TrunkConfig struct {
	Name     string               `yaml:"name"`
	Sources  []string             `yaml:"sources"`
	Auth     *TrunkAuthConfig     `yaml:"auth"`
	Register *TrunkRegisterConfig `yaml:"register"`
	Numbers  NumbersConfig        `yaml:"numbers"`
	// DID is where the dialled number is read: auto (the Request-URI, or To when the
	// Request-URI is the registered contact), request_uri or to.
	DID string `yaml:"did"`
	// TLS is required or optional (default); SRTP required, optional (default) or off.
	TLS  sip.TLSPolicy  `yaml:"tls"`
	SRTP sip.SRTPPolicy `yaml:"srtp"`
}

// TrunkAuthConfig is what a PBX authenticates its INVITEs with.
type TrunkAuthConfig struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// TrunkRegisterConfig keeps the gateway registered at a carrier (see sip.TrunkRegistration).
type TrunkRegisterConfig struct {
	Registrar    string        `yaml:"registrar"`
	Transport    string        `yaml:"transport"`
	Username     string        `yaml:"username"`
	AuthUsername string        `yaml:"auth_username"`
	Password     string        `yaml:"password"`
	Domain       string        `yaml:"domain"`
	Expires      time.Duration `yaml:"expires"`
	RetryMin     time.Duration `yaml:"retry_min"`
	RetryMax     time.Duration `yaml:"retry_max"`
	Timeout      time.Duration `yaml:"timeout"`
}

// NumbersConfig is a trunk's number plan (see sip.NumberPlan).
type NumbersConfig struct {
	CountryCode         string          `yaml:"country_code"`
	AreaCode            string          `yaml:"area_code"`
	InternationalPrefix string          `yaml:"international_prefix"`
	NationalPrefix      string          `yaml:"national_prefix"`
	Strip               []string        `yaml:"strip"`
	Rewrite             []RewriteConfig `yaml:"rewrite"`
}

// RewriteConfig replaces a number that matches Match (a regular expression) with Replace.
type RewriteConfig struct {
	Match   string `yaml:"match"`
	Replace string `yaml:"replace"`
}

// inbound is the SIP layer's view of trunks, lines and whether calls are open.
func (c Config) inbound() (sip.Inbound, error) {
	in := sip.Inbound{Open: c.SIP.Open, Lines: map[string]bool{}}
	for _, l := range c.Lines {
		in.Lines[l.Number] = l.Open
	}
	var errs []error
	for _, tc := range c.Trunks {
		t, err := tc.trunk()
		if err == nil {
			err = t.Validate()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("trunks: %w", err))
			continue
		}
		in.Trunks = append(in.Trunks, t)
	}
	return in, errors.Join(errs...)
}

func (tc TrunkConfig) trunk() (sip.Trunk, error) {
	src, err := parsePrefixes(tc.Sources)
	if err != nil {
		return sip.Trunk{}, fmt.Errorf("trunk %q: sources: %w", tc.Name, err)
	}
	t := sip.Trunk{Name: tc.Name, Sources: src, DID: sip.DIDSource(tc.DID), TLS: tc.TLS, SRTP: tc.SRTP,
		Numbers: sip.NumberPlan{CountryCode: tc.Numbers.CountryCode, AreaCode: tc.Numbers.AreaCode,
			InternationalPrefix: tc.Numbers.InternationalPrefix, NationalPrefix: tc.Numbers.NationalPrefix, Strip: tc.Numbers.Strip}}
	for _, r := range tc.Numbers.Rewrite {
		re, err := regexp.Compile(r.Match)
		if err != nil {
			return sip.Trunk{}, fmt.Errorf("trunk %q: numbers: rewrite %q: %w", tc.Name, r.Match, err)
		}
		t.Numbers.Rewrite = append(t.Numbers.Rewrite, sip.NumberRewrite{Match: re, Replace: r.Replace})
	}
	if tc.Auth != nil {
		t.Username, t.Password = tc.Auth.Username, tc.Auth.Password
	}
	if r := tc.Register; r != nil {
		t.Register = &sip.TrunkRegistration{Registrar: r.Registrar, Transport: r.Transport, Username: r.Username,
			AuthUsername: r.AuthUsername, Password: r.Password, Domain: r.Domain, Expires: r.Expires,
			RetryMin: r.RetryMin, RetryMax: r.RetryMax, Timeout: r.Timeout}
	}
	return t, nil
}
