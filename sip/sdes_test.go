package sip

import (
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"lianxin/media"
)

var testKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcd"))

func TestParseCrypto(t *testing.T) {
	c, ok := parseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey)
	require.True(t, ok)
	require.Equal(t, 1, c.tag)
	require.Equal(t, "0123456789abcdef0123456789abcd", string(c.key))
	c, ok = parseCrypto("7 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|2^31")
	require.True(t, ok, "a lifetime is fine")
	require.Equal(t, 7, c.tag)
	_, ok = parseCrypto("2 AES_CM_128_HMAC_SHA1_80 inline:" + strings.TrimRight(testKey, "=") + "|2^20")
	require.True(t, ok, "unpadded base64")

	for name, v := range map[string]string{
		"other suite":    "1 AES_CM_128_HMAC_SHA1_32 inline:" + testKey,
		"MKI":            "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|2^20|1:4",
		"two keys":       "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + ";inline:" + testKey,
		"session params": "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + " UNENCRYPTED_SRTP",
		"short key":      "1 AES_CM_128_HMAC_SHA1_80 inline:YWJj",
		"not base64":     "1 AES_CM_128_HMAC_SHA1_80 inline:!!!",
		"bad tag":        "x AES_CM_128_HMAC_SHA1_80 inline:" + testKey,
		"not inline":     "1 AES_CM_128_HMAC_SHA1_80 uri:" + testKey,
		"empty":          "",
	} {
		_, ok := parseCrypto(v)
		require.False(t, ok, name)
	}
}

// What the gateway answers to each kind of offer under each policy.
func TestAnswerSDES(t *testing.T) {
	crypto := "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" + testKey
	offers := map[string][]byte{
		"plain":        sdpOffer("m=audio 4000 RTP/AVP 0"),
		"best effort":  sdpOffer("m=audio 4000 RTP/AVP 0", crypto),
		"SAVP":         sdpOffer("m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:"+testKey, crypto),
		"SAVP useless": sdpOffer("m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:"+testKey),
		"DTLS":         sdpOffer("m=audio 4000 UDP/TLS/RTP/SAVP 0", "a=fingerprint:sha-256 AB"),
	}
	type want struct {
		srtp bool
		err  error
	}
	cases := map[string]map[SRTPPolicy]want{
		"plain":        {SRTPOff: {}, SRTPOptional: {}, SRTPRequired: {err: ErrSRTPRequired}},
		"best effort":  {SRTPOff: {}, SRTPOptional: {srtp: true}, SRTPRequired: {srtp: true}},
		"SAVP":         {SRTPOff: {err: ErrSRTPOff}, SRTPOptional: {srtp: true}, SRTPRequired: {srtp: true}},
		"SAVP useless": {SRTPOff: {err: ErrSRTPOff}, SRTPOptional: {err: ErrNoCommonCrypto}, SRTPRequired: {err: ErrNoCommonCrypto}},
		"DTLS":         {SRTPOff: {err: ErrDTLSSRTP}, SRTPOptional: {err: ErrDTLSSRTP}, SRTPRequired: {err: ErrDTLSSRTP}},
	}
	for name, byPolicy := range cases {
		o, err := parseSDP(offers[name])
		require.NoError(t, err, name)
		for pol, w := range byPolicy {
			t.Run(name+"/"+pol.String(), func(t *testing.T) {
				own, keys, err := answerSDES(o, pol, nil)
				if w.err != nil {
					require.ErrorIs(t, err, w.err)
					require.Equal(t, 488, statusFor(err))
					require.Contains(t, reasonFor(err), "Not Acceptable Here (")
					return
				}
				require.NoError(t, err)
				require.Equal(t, w.srtp, keys.Enabled())
				if !w.srtp {
					require.Nil(t, own.key)
					return
				}
				require.Equal(t, 3, own.tag, "the answer takes the usable line's tag")
				require.Equal(t, o.proto, own.proto, "and the offer's profile")
				require.Equal(t, "0123456789abcdef0123456789abcd", string(keys.Remote))
				require.Equal(t, own.key, keys.Local)
				require.Len(t, keys.Local, 30)
			})
		}
	}
}

// The gateway's offer to a seat, and what it makes of the answers.
func TestOfferSDES(t *testing.T) {
	require.Equal(t, sdes{}, offerSDES(SRTPOff))
	opt, req := offerSDES(SRTPOptional), offerSDES(SRTPRequired)
	require.Equal(t, protoAVP, opt.proto, "SRTP beside plain: phones without it still answer")
	require.Equal(t, protoSAVP, req.proto)
	require.NotEqual(t, opt.key, req.key, "a fresh key per offer")

	w := &sdpWriter{}
	body := string(w.build(netipLoop(20000), []string{PCMU}, map[string]uint8{PCMU: 0}, 101, SendRecv, req, false))
	require.Contains(t, body, "m=audio 20000 RTP/SAVP 0 101\r\n")
	require.Contains(t, body, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+base64.StdEncoding.EncodeToString(req.key)+"\r\n")
	o, err := parseSDP([]byte(body))
	require.NoError(t, err)
	require.Len(t, o.crypto, 1, "the gateway reads its own crypto line")

	answer := func(media string, extra ...string) *offer {
		a, err := parseSDP(sdpOffer(media, extra...))
		require.NoError(t, err)
		return a
	}
	withCrypto := answer("m=audio 5000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+testKey)
	keys, err := req.answered(withCrypto, SRTPRequired)
	require.NoError(t, err)
	require.Equal(t, media.SRTPKeys{Profile: media.SRTPAES128SHA1_80, Local: req.key, Remote: []byte("0123456789abcdef0123456789abcd")}, keys)

	plain := answer("m=audio 5000 RTP/AVP 0")
	_, err = req.answered(plain, SRTPRequired)
	require.ErrorIs(t, err, ErrSRTPRequired, "a seat that must use SRTP and answers plain")
	keys, err = opt.answered(plain, SRTPOptional)
	require.NoError(t, err)
	require.False(t, keys.Enabled(), "plain RTP with a phone that has no SRTP")

	wrongTag := answer("m=audio 5000 RTP/SAVP 0", "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:"+testKey)
	_, err = opt.answered(wrongTag, SRTPOptional)
	require.ErrorIs(t, err, ErrNoCommonCrypto, "an answer must name the offered line")
}

func TestPolicies(t *testing.T) {
	var tp TLSPolicy
	require.NoError(t, tp.UnmarshalText([]byte("required")))
	require.Equal(t, TLSRequired, tp)
	err := tp.UnmarshalText([]byte("always"))
	require.ErrorIs(t, err, ErrUnknownPolicy)
	require.EqualError(t, err, `unknown policy: tls "always" (valid: optional, required)`)
	var sp SRTPPolicy
	require.NoError(t, sp.UnmarshalText([]byte("Off")))
	require.Equal(t, SRTPOff, sp)
	require.EqualError(t, sp.UnmarshalText([]byte("on")), `unknown policy: srtp "on" (valid: off, optional, required)`)

	p := Policies{Default: Policy{SRTP: SRTPRequired},
		By: map[string]Policy{"seat-07": {TLS: TLSRequired}, "seat-08": {SRTP: SRTPOff}}}
	require.Equal(t, Policy{TLS: TLSRequired, SRTP: SRTPRequired}, p.For("seat-07"), "unset fields come from the default")
	require.Equal(t, Policy{TLS: TLSOptional, SRTP: SRTPOff}, p.For("seat-08"))
	require.Equal(t, Policy{TLS: TLSOptional, SRTP: SRTPRequired}, p.For("seat-09"))
	require.Equal(t, DefaultPolicy, Policies{}.For("seat-01"))
	require.Equal(t, []string{"seat-07"}, p.RequiresTLS())
}

func netipLoop(port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
}

// A trunk's srtp setting is the policy of the calls it brings, unless their line requires
// SRTP; callers that are no trunk have their line's.
func TestCallerPolicyWithTrunks(t *testing.T) {
	s := &Server{cfg: Config{CallerPolicies: Policies{By: map[string]Policy{"12366": {SRTP: SRTPRequired}}}}}
	carrier := &Trunk{Name: "telecom", SRTP: SRTPOff}
	require.Equal(t, SRTPOff, s.callerPolicy(admission{trunk: carrier, number: "12345"}).SRTP)
	require.Equal(t, SRTPRequired, s.callerPolicy(admission{trunk: carrier, number: "12366"}).SRTP)
	require.Equal(t, SRTPRequired, s.callerPolicy(admission{trunk: &Trunk{SRTP: SRTPRequired}, number: "12345"}).SRTP)
	require.Equal(t, SRTPOptional, s.callerPolicy(admission{number: "12345"}).SRTP)
}
