package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/pion/sdp/v3"

	"lianxin/media"
)

// Direction is an SDP media direction from the point of view of the party that wrote it.
type Direction string

// SDP directions (RFC 3264). A party on hold sends sendonly or inactive.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// answer is the direction that answers an offer of d.
func (d Direction) answer() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// Codec names the gateway speaks: the G.711 laws, and G.722 (wideband; SDP "G722/8000",
// RFC 3551's historical clock rate, on static payload type 9).
const (
	PCMU = "PCMU"
	PCMA = "PCMA"
	G722 = "G722"
)

var staticPT = map[string]uint8{PCMU: 0, PCMA: 8, G722: 9}

// callerCodecs are what a caller's leg may negotiate: the trunk side stays G.711.
var callerCodecs = []string{PCMU, PCMA}

// Media is one side's negotiated audio: where to send RTP, which law, which payload type
// carries RFC 4733 telephone events (0 when none), the direction that side asked for and,
// when the leg is SRTP, its keys; and where it takes RTCP: multiplexed on the RTP port
// (a=rtcp-mux, RFC 5761), at RTCP (a=rtcp, RFC 3605), or when neither, on the RTP port + 1.
type Media struct {
	Addr        netip.AddrPort
	Codec       string
	PayloadType uint8
	DTMFType    uint8
	Direction   Direction
	SRTP        media.SRTPKeys
	RTCPMux     bool
	RTCP        netip.AddrPort
}

// Errors from SDP negotiation; they classify to SIP statuses.
var (
	ErrBadSDP          = errors.New("sip: malformed SDP")
	ErrNoCommonCodec   = errors.New("sip: no common codec (PCMU, PCMA or G722)")
	errNoAudio         = fmt.Errorf("%w: no audio stream", ErrNoCommonCodec)
	defaultDTMFPayload = uint8(101)
)

type offer struct {
	addr    netip.AddrPort
	codecs  []string // supported codecs in the offerer's order of preference
	pts     map[string]uint8
	dtmf    uint8
	dir     Direction
	proto   string       // the m= line's transport, e.g. RTP/AVP
	crypto  []sdesCrypto // the a=crypto lines the gateway can use, in the offerer's order
	rtcpMux bool
	rtcp    netip.AddrPort
}

// parseSDP reads an offer or answer and picks out the audio stream.
func parseSDP(body []byte) (*offer, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	var md *sdp.MediaDescription
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media == "audio" && m.MediaName.Port.Value > 0 {
			md = m
			break
		}
	}
	if md == nil {
		return nil, errNoAudio
	}
	conn := md.ConnectionInformation
	if conn == nil {
		conn = sd.ConnectionInformation
	}
	if conn == nil || conn.Address == nil {
		return nil, fmt.Errorf("%w: no connection address", ErrBadSDP)
	}
	ip, err := netip.ParseAddr(strings.Split(conn.Address.Address, "/")[0])
	if err != nil {
		return nil, fmt.Errorf("%w: connection address %q", ErrBadSDP, conn.Address.Address)
	}
	port := md.MediaName.Port.Value
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("%w: port %d", ErrBadSDP, port)
	}
	o := &offer{addr: netip.AddrPortFrom(ip.Unmap(), uint16(port)), pts: map[string]uint8{}, dir: SendRecv,
		proto: strings.Join(md.MediaName.Protos, "/")}
	names := rtpmaps(md)
	for _, f := range md.MediaName.Formats {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 127 {
			return nil, fmt.Errorf("%w: payload type %q", ErrBadSDP, f)
		}
		pt := uint8(n)
		name, ok := names[pt]
		if !ok {
			switch pt {
			case 0:
				name = PCMU
			case 8:
				name = PCMA
			case 9:
				name = G722
			}
		}
		switch strings.ToUpper(name) {
		case PCMU, PCMA, G722:
			codec := strings.ToUpper(name)
			if _, dup := o.pts[codec]; !dup {
				o.codecs = append(o.codecs, codec)
				o.pts[codec] = pt
			}
		case "TELEPHONE-EVENT":
			o.dtmf = pt
		}
	}
	for _, a := range append(md.Attributes, sd.Attributes...) {
		switch Direction(a.Key) {
		case SendRecv, SendOnly, RecvOnly, Inactive:
			o.dir = Direction(a.Key)
		}
	}
	for _, a := range md.Attributes {
		switch a.Key {
		case "rtcp-mux":
			o.rtcpMux = true
		case "rtcp":
			o.rtcp = rtcpAttr(a.Value, ip.Unmap())
		}
		if c, ok := parseCrypto(a.Value); ok && a.Key == "crypto" {
			o.crypto = append(o.crypto, c)
		}
	}
	if len(o.codecs) == 0 {
		return nil, ErrNoCommonCodec
	}
	return o, nil
}

// rtcpAttr reads RFC 3605's a=rtcp:<port> [IN IP4|IP6 <address>]; the address defaults
// to the stream's. A value that does not parse is ignored: the port above RTP it is.
func rtcpAttr(v string, ip netip.Addr) netip.AddrPort {
	f := strings.Fields(v)
	if len(f) == 0 {
		return netip.AddrPort{}
	}
	port, err := strconv.ParseUint(f[0], 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}
	}
	if len(f) == 4 && f[1] == "IN" {
		a, err := netip.ParseAddr(f[3])
		if err != nil {
			return netip.AddrPort{}
		}
		ip = a.Unmap()
	}
	return netip.AddrPortFrom(ip, uint16(port))
}

// rtpmaps maps payload types to encoding names (8000 Hz only: G.711, G.722 and
// telephone-event).
func rtpmaps(md *sdp.MediaDescription) map[uint8]string {
	out := map[uint8]string{}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		ptStr, rest, ok := strings.Cut(a.Value, " ")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(ptStr)
		if err != nil || n < 0 || n > 127 {
			continue
		}
		name, rate, _ := strings.Cut(rest, "/")
		if rate != "" && !strings.HasPrefix(rate, "8000") {
			continue
		}
		out[uint8(n)] = name
	}
	return out
}

// pick is the first codec of the offer (the offerer's preference) that allowed names.
func (o *offer) pick(allowed []string) (string, bool) {
	for _, c := range o.codecs {
		if slices.Contains(allowed, c) {
			return c, true
		}
	}
	return "", false
}

// media is the result of negotiation: what the remote side will receive.
func (o *offer) media(codec string) Media {
	return Media{Addr: o.addr, Codec: codec, PayloadType: o.pts[codec], DTMFType: o.dtmf, Direction: o.dir,
		RTCPMux: o.rtcpMux, RTCP: o.rtcp}
}

// sdpWriter builds the gateway's session descriptions; the version rises with each one.
type sdpWriter struct {
	sessionID uint64
	version   atomic.Uint64
}

// build writes an SDP with the given codecs (first preferred), telephone-event type,
// direction and SRTP, for RTP at local. RTCP is always at local's port + 1 (the media port
// pairs), so no a=rtcp is needed; with mux the SDP offers, or in an answer accepts,
// rtcp-mux.
func (w *sdpWriter) build(local netip.AddrPort, codecs []string, pts map[string]uint8, dtmf uint8, dir Direction, sec sdes, mux bool) []byte {
	ip := local.Addr().Unmap()
	family := "IP4"
	if ip.Is6() {
		family = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=lianxin %d %d IN %s %s\r\ns=lianxin\r\nc=IN %s %s\r\nt=0 0\r\n",
		w.sessionID, w.version.Add(1), family, ip, family, ip)
	fmts := make([]string, 0, len(codecs)+1)
	for _, c := range codecs {
		fmts = append(fmts, strconv.Itoa(int(pts[c])))
	}
	if dtmf != 0 {
		fmts = append(fmts, strconv.Itoa(int(dtmf)))
	}
	proto := sec.proto
	if proto == "" {
		proto = protoAVP
	}
	fmt.Fprintf(&b, "m=audio %d %s %s\r\n", local.Port(), proto, strings.Join(fmts, " "))
	for _, c := range codecs {
		fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", pts[c], c)
	}
	if dtmf != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", dtmf, dtmf)
	}
	if sec.key != nil {
		fmt.Fprintf(&b, "a=crypto:%s\r\n", sec.attr())
	}
	fmt.Fprintf(&b, "a=ptime:20\r\na=%s\r\n", dir)
	if mux {
		b.WriteString("a=rtcp-mux\r\n")
	}
	return []byte(b.String())
}
