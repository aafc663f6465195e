package media

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SRTPProfile is an SRTP crypto suite, by its RFC 4568 name.
type SRTPProfile uint8

// The suites a leg speaks. SRTPNone is plain RTP.
const (
	SRTPNone SRTPProfile = iota
	// SRTPAES128SHA1_80 is AES_CM_128_HMAC_SHA1_80: AES-128 in counter mode with an
	// 80-bit HMAC-SHA1 tag, RFC 3711's default transform and the suite every SDES
	// implementation offers.
	SRTPAES128SHA1_80
)

// srtpReplayWindow is the packets a receiver remembers to refuse replays (RFC 3711
// §3.3.2); it matches the leg's own reordering window.
const srtpReplayWindow = 64

// ErrSRTPKeys reports keys that do not fit their suite.
var ErrSRTPKeys = errors.New("media: bad SRTP keys")

// String is the suite's RFC 4568 name.
func (p SRTPProfile) String() string {
	switch p {
	case SRTPNone:
		return "none"
	case SRTPAES128SHA1_80:
		return "AES_CM_128_HMAC_SHA1_80"
	}
	return fmt.Sprintf("SRTPProfile(%d)", uint8(p))
}

// KeyLen is the length of the suite's master key followed by its master salt, the
// inline key of an SDP a=crypto line.
func (p SRTPProfile) KeyLen() int {
	if p == SRTPAES128SHA1_80 {
		return 16 + 14
	}
	return 0
}

func (p SRTPProfile) pion() (srtp.ProtectionProfile, error) {
	if p == SRTPAES128SHA1_80 {
		return srtp.ProtectionProfileAes128CmHmacSha1_80, nil
	}
	return 0, fmt.Errorf("%w: suite %s not supported", ErrSRTPKeys, p)
}

// SRTPKeys turn SRTP (RFC 3711) on for a leg, with keys exchanged in the SDP (SDES, RFC
// 4568): Local is the master key and salt the gateway protects what it sends with (the
// key its own SDP carried), Remote the peer's, which authenticates and decrypts what
// arrives. The zero value is plain RTP. String and LogValue never show the keys.
type SRTPKeys struct {
	Profile       SRTPProfile
	Local, Remote []byte
}

// Enabled reports whether the keys turn SRTP on.
func (k SRTPKeys) Enabled() bool { return k.Profile != SRTPNone }

// Equal reports whether k and o are the same suite and keys.
func (k SRTPKeys) Equal(o SRTPKeys) bool {
	return k.Profile == o.Profile && bytes.Equal(k.Local, o.Local) && bytes.Equal(k.Remote, o.Remote)
}

// String names the suite only.
func (k SRTPKeys) String() string {
	if !k.Enabled() {
		return "plain RTP"
	}
	return "SRTP " + k.Profile.String()
}

// LogValue keeps the keys out of logs.
func (k SRTPKeys) LogValue() slog.Value { return slog.StringValue(k.String()) }

func (k SRTPKeys) validate() error {
	n := k.Profile.KeyLen()
	if n == 0 {
		return fmt.Errorf("%w: suite %s not supported", ErrSRTPKeys, k.Profile)
	}
	if len(k.Local) != n || len(k.Remote) != n {
		return fmt.Errorf("%w: %s needs %d-byte keys, have %d (local) and %d (remote)", ErrSRTPKeys, k.Profile,
			n, len(k.Local), len(k.Remote))
	}
	return nil
}

// SRTP protects one leg's packets: what it sends with the local key, what it receives with
// the remote one. Each direction has its own lock, so the sending and the receiving
// goroutine never wait for each other; it is safe for concurrent use.
type SRTP struct {
	profile SRTPProfile
	out, in *srtpDirection
	keys    SRTPKeys // never changed: rekey makes a new SRTP
}

// srtpDirection is one direction's SRTP and SRTCP state (rollover counters, SRTCP index,
// replay windows), kept for as long as its key stays.
type srtpDirection struct {
	mu  sync.Mutex
	key []byte
	ctx *srtp.Context
	hdr rtp.Header
}

func newSRTPDirection(p SRTPProfile, key []byte, receive bool) (*srtpDirection, error) {
	pp, err := p.pion()
	if err != nil {
		return nil, err
	}
	n := p.KeyLen()
	var opts []srtp.ContextOption
	if receive {
		opts = []srtp.ContextOption{srtp.SRTPReplayProtection(srtpReplayWindow), srtp.SRTCPReplayProtection(srtpReplayWindow)}
	}
	key = bytes.Clone(key)
	ctx, err := srtp.CreateContext(key[:16], key[16:n], pp, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSRTPKeys, err)
	}
	return &srtpDirection{key: key, ctx: ctx}, nil
}

// NewSRTP makes the protection of one leg from its keys.
func NewSRTP(k SRTPKeys) (*SRTP, error) {
	return (*SRTP)(nil).rekey(k)
}

// rekey returns protection for k that keeps the state of a direction whose key did not
// change: a peer that re-INVITEs with a new key of its own still expects the gateway's
// stream to go on with its rollover counter, or it could no longer decrypt it.
func (s *SRTP) rekey(k SRTPKeys) (*SRTP, error) {
	if err := k.validate(); err != nil {
		return nil, err
	}
	n := &SRTP{profile: k.Profile, keys: SRTPKeys{Profile: k.Profile, Local: bytes.Clone(k.Local), Remote: bytes.Clone(k.Remote)}}
	var err error
	if s != nil && s.profile == k.Profile && bytes.Equal(s.out.key, k.Local) {
		n.out = s.out
	} else if n.out, err = newSRTPDirection(k.Profile, k.Local, false); err != nil {
		return nil, err
	}
	if s != nil && s.profile == k.Profile && bytes.Equal(s.in.key, k.Remote) {
		n.in = s.in
	} else if n.in, err = newSRTPDirection(k.Profile, k.Remote, true); err != nil {
		return nil, err
	}
	return n, nil
}

// Keys are the keys s protects with.
func (s *SRTP) Keys() SRTPKeys {
	return SRTPKeys{Profile: s.keys.Profile, Local: bytes.Clone(s.keys.Local), Remote: bytes.Clone(s.keys.Remote)}
}

// ProtectRTP encrypts and authenticates the RTP packet pkt into dst (grown when too
// small) and returns it; dst may be pkt itself, given room for the tag.
func (s *SRTP) ProtectRTP(dst, pkt []byte) ([]byte, error) {
	d := s.out
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx.EncryptRTP(dst, pkt, &d.hdr)
}

// UnprotectRTP authenticates and decrypts the SRTP packet pkt into dst and returns the
// RTP packet; dst may be pkt itself. A forged, corrupted or replayed packet is an error.
func (s *SRTP) UnprotectRTP(dst, pkt []byte) ([]byte, error) {
	d := s.in
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx.DecryptRTP(dst, pkt, &d.hdr)
}

// ProtectRTCP encrypts and authenticates the RTCP compound packet pkt into dst.
func (s *SRTP) ProtectRTCP(dst, pkt []byte) ([]byte, error) {
	d := s.out
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx.EncryptRTCP(dst, pkt, nil)
}

// UnprotectRTCP authenticates and decrypts the SRTCP packet pkt into dst.
func (s *SRTP) UnprotectRTCP(dst, pkt []byte) ([]byte, error) {
	d := s.in
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx.DecryptRTCP(dst, pkt, nil)
}

// SetSRTP protects the leg's media, RTP and RTCP, with k from now on; the zero SRTPKeys
// make it plain again. Set it before SetRemote: until then nothing is accepted, so no
// packet is ever taken for plain that should have been authenticated. Setting the keys
// the leg already has changes nothing, and a direction whose key stays keeps its state.
func (l *Leg) SetSRTP(k SRTPKeys) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !k.Enabled() {
		l.srtp = nil
		l.out.setSRTP(nil)
		l.SetRTCPProtector(nil)
		return nil
	}
	if l.srtp != nil && l.srtp.keys.Equal(k) {
		return nil
	}
	s, err := l.srtp.rekey(k)
	if err != nil {
		return err
	}
	l.srtp = s
	l.out.setSRTP(s)
	l.SetRTCPProtector(s) // SRTCP (RFC 3711 §3.4) with the same keys
	l.log.Debug("srtp set", "suite", k.Profile)
	return nil
}

// SRTP is the leg's protection, nil for plain RTP.
func (l *Leg) SRTP() *SRTP {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.srtp
}

// unprotect turns an arriving SRTP packet into RTP in place; l.mu is held. With no SRTP
// it is pkt itself.
func (l *Leg) unprotect(pkt []byte) ([]byte, bool) {
	if l.srtp == nil {
		return pkt, true
	}
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		return nil, false
	}
	plain, err := l.srtp.UnprotectRTP(pkt, pkt)
	if err != nil {
		l.stats.Unauthenticated++
		l.m.unauthenticated.Inc()
		return nil, false
	}
	return plain, true
}

func (o *outStream) setSRTP(s *SRTP) {
	o.mu.Lock()
	o.srtp = s
	o.mu.Unlock()
}

// protect turns the RTP packet b (in o.buf) into SRTP in place; o.mu is held.
func (o *outStream) protect(b []byte) ([]byte, error) {
	if o.srtp == nil {
		return b, nil
	}
	return o.srtp.ProtectRTP(b, b)
}
