package sip

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lianxin/media"
)

// SDP transport profiles of the audio stream.
const (
	protoAVP  = "RTP/AVP"
	protoSAVP = "RTP/SAVP"
)

// cryptoSuite is the one SDES suite the gateway speaks (RFC 4568 §6.2.1): what every
// SDES phone offers, and what media.SRTPAES128SHA1_80 implements.
const cryptoSuite = "AES_CM_128_HMAC_SHA1_80"

// Errors of SRTP negotiation; they classify to 488 Not Acceptable Here.
var (
	// ErrSRTPRequired: the peer's policy requires SRTP and its SDP has no usable crypto.
	ErrSRTPRequired = errors.New("sip: SRTP required (" + cryptoSuite + " keyed by SDES)")
	// ErrSRTPOff: the SDP insists on SRTP (RTP/SAVP) where the policy turns it off.
	ErrSRTPOff = errors.New("sip: SRTP is off for this peer")
	// ErrNoCommonCrypto: RTP/SAVP without a crypto line the gateway can use.
	ErrNoCommonCrypto = errors.New("sip: no usable SRTP crypto (" + cryptoSuite + " keyed by SDES)")
	// ErrDTLSSRTP: DTLS-SRTP (UDP/TLS/RTP/SAVP) is for browsers, which reach the gateway
	// over WebRTC, not SIP.
	ErrDTLSSRTP = errors.New("sip: DTLS-SRTP is not supported on SIP legs")
)

// sdes is the gateway's own side of SDES on one leg: the profile its m= line names and
// the crypto attribute it sends. The zero value is plain RTP/AVP.
type sdes struct {
	proto string // "" is RTP/AVP
	tag   int    // the crypto line's tag: 1 in an offer, the offer's in an answer
	key   []byte // master key and salt; nil: no crypto line
}

// sdesCrypto is one usable a=crypto line of a peer.
type sdesCrypto struct {
	tag int
	key []byte
}

// keys are the leg's SRTP keys for the peer's crypto c.
func (s sdes) keys(c sdesCrypto) media.SRTPKeys {
	return media.SRTPKeys{Profile: media.SRTPAES128SHA1_80, Local: s.key, Remote: c.key}
}

// attr is the a=crypto line's value.
func (s sdes) attr() string {
	return fmt.Sprintf("%d %s inline:%s", s.tag, cryptoSuite, base64.StdEncoding.EncodeToString(s.key))
}

// newSRTPKey is a fresh master key and salt.
func newSRTPKey() []byte {
	k := make([]byte, media.SRTPAES128SHA1_80.KeyLen())
	_, _ = rand.Read(k)
	return k
}

// parseCrypto reads an a=crypto value, "1 AES_CM_128_HMAC_SHA1_80 inline:KEY[|lifetime]".
// It is false for a line the gateway cannot use: another suite, several keys or an MKI,
// session parameters (UNENCRYPTED_SRTP and the like), a key of the wrong length.
func parseCrypto(v string) (sdesCrypto, bool) {
	f := strings.Fields(v)
	if len(f) != 3 || !strings.EqualFold(f[1], cryptoSuite) || strings.Contains(f[2], ";") {
		return sdesCrypto{}, false
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return sdesCrypto{}, false
	}
	method, info, ok := strings.Cut(f[2], ":")
	if !ok || !strings.EqualFold(method, "inline") {
		return sdesCrypto{}, false
	}
	parts := strings.Split(info, "|")
	for _, p := range parts[1:] {
		if strings.Contains(p, ":") {
			return sdesCrypto{}, false // an MKI: pion keys one context per leg without one
		}
	}
	key, err := base64.StdEncoding.DecodeString(parts[0])
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(parts[0])
	}
	if err != nil || len(key) != media.SRTPAES128SHA1_80.KeyLen() {
		return sdesCrypto{}, false
	}
	return sdesCrypto{tag: tag, key: key}, true
}

// secureProto reports an SRTP profile (RTP/SAVP, RTP/SAVPF).
func secureProto(p string) bool { return strings.Contains(strings.ToUpper(p), "SAVP") }

// answerSDES is how the gateway answers offer o under policy p: SRTP with the offer's
// first usable crypto (own as its key, or a new one), plain RTP, or a 488 error.
func answerSDES(o *offer, p SRTPPolicy, own []byte) (sdes, media.SRTPKeys, error) {
	switch {
	case strings.HasPrefix(strings.ToUpper(o.proto), "UDP/TLS"):
		return sdes{}, media.SRTPKeys{}, ErrDTLSSRTP
	case secureProto(o.proto) && p == SRTPOff:
		return sdes{}, media.SRTPKeys{}, ErrSRTPOff
	case secureProto(o.proto) && len(o.crypto) == 0:
		return sdes{}, media.SRTPKeys{}, ErrNoCommonCrypto
	case len(o.crypto) > 0 && p != SRTPOff:
		if own == nil {
			own = newSRTPKey()
		}
		c := o.crypto[0]
		s := sdes{proto: o.proto, tag: c.tag, key: own}
		return s, s.keys(c), nil
	case p == SRTPRequired:
		return sdes{}, media.SRTPKeys{}, ErrSRTPRequired
	}
	return sdes{}, media.SRTPKeys{}, nil
}

// offerSDES is the gateway's offer under policy p: plain, SRTP beside plain (RTP/AVP with
// a crypto line, which phones without SRTP ignore), or SRTP only (RTP/SAVP).
func offerSDES(p SRTPPolicy) sdes {
	switch p {
	case SRTPOff:
		return sdes{}
	case SRTPRequired:
		return sdes{proto: protoSAVP, tag: 1, key: newSRTPKey()}
	}
	return sdes{proto: protoAVP, tag: 1, key: newSRTPKey()}
}

// answered reads the answer a to the gateway's offer s under policy p: the leg's keys,
// plain RTP, or an error when the answer does not meet the policy.
func (s sdes) answered(a *offer, p SRTPPolicy) (media.SRTPKeys, error) {
	if s.key != nil {
		for _, c := range a.crypto {
			if c.tag == s.tag {
				return s.keys(c), nil
			}
		}
	}
	switch {
	case p == SRTPRequired:
		return media.SRTPKeys{}, ErrSRTPRequired
	case secureProto(a.proto):
		return media.SRTPKeys{}, ErrNoCommonCrypto
	}
	return media.SRTPKeys{}, nil
}
