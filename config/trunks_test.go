package config

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/sip"
)

// trunksExample is README's trunks example.
const trunksExample = `
lines:
  - {number: "12345", name: 综合}
  - {number: "110", name: 报警转接, open: true}
trunks:
  - name: telecom                       # a carrier: known by its addresses, the gateway registers there
    sources: [203.0.113.0/28, 198.51.100.7]
    register: {registrar: "ims.telecom.example", username: "0580123450", password: "from-the-carrier", expires: 1h}
    numbers: {country_code: "86", area_code: "580", strip: ["17909"]}
    did: auto                           # the Request-URI, or To when the carrier calls the registered contact
    tls: optional
    srtp: optional
  - name: city-pbx                      # a PBX: answers the gateway's 407 with its digest credentials
    auth: {username: pbx-east, password: "long-random-secret"}
    numbers: {area_code: "580", rewrite: [{match: '^9(\d+)$', replace: '$1'}]}
`

func TestTrunksConfigExample(t *testing.T) {
	cfg, err := ParseServeFlags([]string{"--config", writeConfig(t, trunksExample)}, io.Discard)
	require.NoError(t, err)
	in, err := cfg.inbound()
	require.NoError(t, err)
	require.Nil(t, in.Open, "closed once trunks exist, unless sip.open says otherwise")
	require.Equal(t, map[string]bool{"12345": false, "110": true}, in.Lines)
	require.Len(t, in.Trunks, 2)
	telecom, pbx := in.Trunks[0], in.Trunks[1]
	require.Len(t, telecom.Sources, 2)
	require.Equal(t, time.Hour, telecom.Register.Expires)
	require.Equal(t, "ims.telecom.example", telecom.Register.Registrar, "a domain: its registrars are found by SRV")
	require.Equal(t, "12345", telecom.Numbers.Normalize("17909+86-580-12345"))
	require.Equal(t, "pbx-east", pbx.Username)
	require.Equal(t, "12345", pbx.Numbers.Normalize("912345"))
	require.Equal(t, sip.DIDAuto, telecom.DID)
}

func TestTrunksConfigRefused(t *testing.T) {
	for yaml, want := range map[string]string{
		"trunks: [{name: a, sources: [not-an-address]}]":                             "neither an address nor a prefix",
		"trunks: [{name: a, sources: [10.0.0.1], auth: {username: u, password: p}}]": "not both",
		"trunks: [{name: a}]": "sources",
		"trunks: [{name: a, sources: [10.0.0.1], numbers: {rewrite: [{match: '(' }]}}]": "rewrite",
		"trunks: [{name: a, sources: [10.0.0.1], srtp: sometimes}]":                     "srtp",
		"trunks: [{name: a, sources: [10.0.0.1], tls: maybe}]":                          "tls",
		"trunks: [{name: a, sources: [10.0.0.1], register: {username: u}}]":             "registrar",
		"trunks: [{name: a, sources: [10.0.0.1], colour: red}]":                         "colour",
	} {
		_, err := ParseServeFlags([]string{"--config", writeConfig(t, yaml)}, io.Discard)
		require.ErrorContains(t, err, want, yaml)
	}
}
