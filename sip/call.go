package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	siplib "github.com/emiago/sipgo/sip"

	"lianxin/media"
)

// Causes a call's context ends with.
var (
	ErrCallerHungUp   = errors.New("caller hung up")
	ErrSeatHungUp     = errors.New("seat hung up")
	ErrCallerCanceled = errors.New("caller canceled before answer")
)

// leg is what both dialogs share: the negotiated media, hold notifications and the
// session description the gateway last sent.
type leg struct {
	srv    *Server
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelCauseFunc
	// ua is the dialog's side of the gateway: its Contact names the transport (TLS or
	// not) that the peer's requests in the dialog must use.
	ua *sipgo.DialogUA
	// policy is the peer's SRTP policy, for its re-INVITEs.
	policy SRTPPolicy

	mu     sync.Mutex
	remote Media
	own    sdes // the gateway's side of SRTP in its last SDP
	local  netip.AddrPort
	onHold func(Media)
	// codecs are what this leg may switch to: the caller's G.711 laws, or what the seat
	// was offered
	codecs []string
}

// Remote is the peer's negotiated media (updated by re-INVITEs).
func (l *leg) Remote() Media {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.remote
}

// Context ends, with a cause, when the peer hangs up or the dialog fails.
func (l *leg) Context() context.Context { return l.ctx }

// OnMediaChange sets the function told about re-INVITEs (hold, resume, a new address).
func (l *leg) OnMediaChange(f func(Media)) {
	l.mu.Lock()
	l.onHold = f
	l.mu.Unlock()
}

// reinvite answers an in-dialog INVITE: hold (sendonly/inactive), resume, a move or a
// codec change, which is renegotiated like the first offer: the offer's first codec this
// leg may use. The call never drops on one; an offer with none of them is refused with
// 488 and the old media stays.
func (l *leg) reinvite(req *siplib.Request, tx siplib.ServerTransaction) {
	l.mu.Lock()
	cur, own, allowed := l.remote, l.own, l.codecs
	l.mu.Unlock()
	dir := cur.Direction
	if body := req.Body(); len(body) > 0 {
		o, err := parseSDP(body)
		if err != nil {
			l.srv.respond(tx, req, statusFor(err), reasonFor(err))
			return
		}
		codec, ok := o.pick(allowed)
		if !ok {
			l.srv.respond(tx, req, siplib.StatusNotAcceptableHere, "Not Acceptable Here (no common codec)")
			return
		}
		pol := l.policy
		if cur.SRTP.Enabled() {
			pol = SRTPRequired // an encrypted call never falls back to plain RTP
		}
		sec, keys, err := answerSDES(o, pol, own.key)
		if err != nil {
			l.srv.respond(tx, req, statusFor(err), reasonFor(err))
			return
		}
		cur = o.media(codec)
		cur.SRTP, own = keys, sec
		dir = o.dir
	}
	res := siplib.NewSDPResponseFromRequest(req, l.srv.sdp.build(l.local, []string{cur.Codec},
		map[string]uint8{cur.Codec: cur.PayloadType}, cur.DTMFType, dir.answer(), own, cur.RTCPMux))
	res.AppendHeader(&l.ua.ContactHDR)
	if err := tx.Respond(res); err != nil {
		l.log.Warn("sip: re-INVITE answer failed", "err", err)
		return
	}
	l.mu.Lock()
	l.remote, l.own = cur, own
	f := l.onHold
	l.mu.Unlock()
	l.log.Info("sip: media changed by re-INVITE", "direction", cur.Direction, "addr", cur.Addr, "codec", cur.Codec)
	if f != nil {
		f(cur)
	}
}

func (l *leg) ack(*siplib.Request, siplib.ServerTransaction) {}

// InboundCall is the caller's dialog of a call.
type InboundCall struct {
	leg
	dlg *sipgo.DialogServerSession
	// CallID is the caller dialog's Call-ID.
	CallID string
	// Number is the line the call is for: the dialled number as the trunk's number plan
	// writes it, or, from no trunk, the Request-URI's user part. Dialled is the number as
	// it came; From the caller's user part.
	Number, Dialled, From string
	// Trunk is the carrier or PBX the call came from; nil for a caller that is no trunk.
	Trunk *Trunk
	offer *offer
	codec string

	state struct {
		sync.Mutex
		answered, ended bool
	}
}

func (s *Server) newCall(req *siplib.Request, tx siplib.ServerTransaction) {
	if s.draining.Load() || s.closed.Load() {
		s.respond(tx, req, siplib.StatusServiceUnavailable, "Service Unavailable (draining)")
		return
	}
	if s.cfg.MaxCalls > 0 && int(s.active.Load()) >= s.cfg.MaxCalls {
		s.respond(tx, req, siplib.StatusServiceUnavailable, "Service Unavailable (overload)")
		return
	}
	if req.From() == nil || req.To() == nil || req.CallID() == nil {
		s.respond(tx, req, siplib.StatusBadRequest, "Bad Request (missing headers)")
		return
	}
	adm, refusal := s.inbound.admit(req)
	if refusal != nil {
		s.cfg.Metrics.rejected(refusal.StatusCode)
		refusal.AppendHeader(siplib.NewHeader("Server", s.cfg.UserAgent))
		if err := tx.Respond(refusal); err != nil {
			s.log.Debug("sip: respond failed", "code", refusal.StatusCode, "err", err)
		}
		return
	}
	pol := s.callerPolicy(adm)
	if pol.TLS == TLSRequired && !overTLS(req) {
		s.respond(tx, req, siplib.StatusForbidden, "Forbidden (TLS required)")
		return
	}
	if req.Contact() == nil {
		// RFC 2543 made Contact optional: requests in the dialog then go to the From
		// address (RFC 3261 §8.2.6.2 keeps such callers working). sipgo's dialog needs a
		// Contact, so the call works on a copy that names From as one.
		req = req.Clone()
		req.AppendHeader(&siplib.ContactHeader{Address: *req.From().Address.Clone()})
	}
	co, code, reason := readOffer(req, pol)
	if code != 0 {
		s.respond(tx, req, code, reason)
		return
	}
	ua := s.uaFor(req)
	dlg, err := ua.ReadInvite(req, tx)
	if err != nil {
		s.respond(tx, req, siplib.StatusBadRequest, "Bad Request")
		return
	}
	s.active.Add(1)
	s.calls.Add(1)
	defer s.calls.Done()
	defer s.active.Add(-1)

	c := &InboundCall{dlg: dlg, CallID: req.CallID().Value(), Number: adm.number, Dialled: adm.dialled,
		From: req.From().Address.User, Trunk: adm.trunk, offer: co.o, codec: co.codec}
	c.srv, c.codecs, c.ua, c.policy, c.own = s, callerCodecs, ua, pol.SRTP, co.own
	c.remote = co.o.media(c.codec)
	c.remote.SRTP = co.keys
	s.cfg.Metrics.leg("caller", req.Transport(), co.keys.Enabled())
	c.log = s.log.With("call_id", c.CallID, "line", c.Number)
	if c.Trunk != nil {
		c.log = c.log.With("trunk", c.Trunk.Name)
	}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	stop := context.AfterFunc(dlg.Context(), func() { c.cancel(ErrCallerCanceled) })
	defer stop()
	s.setDialog(dlg.ID, c)
	defer s.setDialog(dlg.ID, nil)
	_ = dlg.Respond(siplib.StatusTrying, "Trying", nil)

	s.handler(c)
	c.finish()
}

// callerOffer is a caller's SDP offer as the gateway takes it: the codec it answers with,
// its own side of SRTP and the leg's keys.
type callerOffer struct {
	o     *offer
	codec string
	own   sdes
	keys  media.SRTPKeys
}

// readOffer checks an INVITE's SDP offer against the caller's policy; a refusal is the
// status and reason to answer with.
func readOffer(req *siplib.Request, pol Policy) (callerOffer, int, string) {
	if len(req.Body()) == 0 {
		return callerOffer{}, siplib.StatusNotAcceptableHere, "Not Acceptable Here (an SDP offer is required)"
	}
	if ct := req.ContentType(); ct != nil && ct.Value() != "application/sdp" {
		return callerOffer{}, siplib.StatusUnsupportedMediaType, "Unsupported Media Type"
	}
	o, err := parseSDP(req.Body())
	if err != nil {
		return callerOffer{}, statusFor(err), reasonFor(err)
	}
	codec, ok := o.pick(callerCodecs)
	if !ok {
		return callerOffer{}, statusFor(ErrNoCommonCodec), reasonFor(ErrNoCommonCodec)
	}
	own, keys, err := answerSDES(o, pol.SRTP, nil)
	if err != nil {
		return callerOffer{}, statusFor(err), reasonFor(err)
	}
	return callerOffer{o: o, codec: codec, own: own, keys: keys}, 0, ""
}

// Codecs is the caller's offered G.711 laws (what a caller's leg may use), preferred first.
func (c *InboundCall) Codecs() []string {
	var out []string
	for _, name := range c.offer.codecs {
		if slices.Contains(callerCodecs, name) {
			out = append(out, name)
		}
	}
	return out
}

func (c *InboundCall) answerSDP(local netip.AddrPort) []byte {
	c.mu.Lock()
	c.local = local
	r, own := c.remote, c.own
	c.mu.Unlock()
	return c.srv.sdp.build(local, []string{r.Codec}, map[string]uint8{r.Codec: r.PayloadType}, r.DTMFType, r.Direction.answer(), own, r.RTCPMux)
}

// Progress sends 183 Session Progress with an SDP answer for RTP at local: early media,
// so the caller hears the queue announcement without the call being answered.
func (c *InboundCall) Progress(local netip.AddrPort) error {
	res := siplib.NewSDPResponseFromRequest(c.dlg.InviteRequest, c.answerSDP(local))
	res.StatusCode, res.Reason = siplib.StatusSessionInProgress, "Session Progress"
	return c.dlg.WriteResponse(res)
}

// Answer sends 200 OK with an SDP answer for RTP at local and waits for the ACK until ctx
// ends; without the ACK the caller is gone, and the call is over.
func (c *InboundCall) Answer(ctx context.Context, local netip.AddrPort) error {
	c.state.Lock()
	if c.state.ended {
		c.state.Unlock()
		return context.Cause(c.ctx)
	}
	c.state.answered = true
	c.state.Unlock()
	if err := c.dlg.RespondSDPContext(ctx, c.answerSDP(local)); err != nil {
		c.cancel(fmt.Errorf("sip: answer: %w", err))
		return fmt.Errorf("sip: answer: %w", err)
	}
	return nil
}

// Reject ends an unanswered call with a failure status.
func (c *InboundCall) Reject(code int, reason string) error {
	c.state.Lock()
	if c.state.answered || c.state.ended {
		c.state.Unlock()
		return nil
	}
	c.state.ended = true
	c.state.Unlock()
	c.srv.cfg.Metrics.rejected(code)
	return c.dlg.Respond(code, reason, nil)
}

// Hangup ends the call: BYE when answered, 480 otherwise. It is idempotent.
func (c *InboundCall) Hangup(ctx context.Context) error {
	c.state.Lock()
	answered, ended := c.state.answered, c.state.ended
	c.state.ended = true
	c.state.Unlock()
	if ended {
		return nil
	}
	if !answered {
		return c.dlg.Respond(siplib.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
	}
	c.cancel(errors.New("gateway hung up"))
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return c.dlg.Bye(ctx)
}

func (c *InboundCall) finish() {
	if err := c.Hangup(context.Background()); err != nil && !errors.Is(err, context.Canceled) {
		c.log.Debug("sip: hangup at handler return", "err", err)
	}
	c.cancel(errors.New("call handler returned"))
	_ = c.dlg.Close()
}

func (c *InboundCall) bye(req *siplib.Request, tx siplib.ServerTransaction) {
	c.state.Lock()
	c.state.ended = true
	c.state.Unlock()
	c.cancel(ErrCallerHungUp)
	if err := c.dlg.ReadBye(req, tx); err != nil {
		c.srv.respond(tx, req, siplib.StatusBadRequest, "Bad Request")
	}
}

func (c *InboundCall) ack(req *siplib.Request, tx siplib.ServerTransaction) {
	_ = c.dlg.ReadAck(req, tx)
}

// OutboundCall is the seat's dialog of a call.
type OutboundCall struct {
	leg
	dlg  *sipgo.DialogClientSession
	once sync.Once
	// Seat is the seat the call went to.
	Seat string
}

// DialOptions describe a call to a seat.
type DialOptions struct {
	Seat string
	// Local is the gateway's RTP address for this leg.
	Local netip.AddrPort
	// Codecs to offer, preferred first (G722 for wideband, else the caller's law to avoid
	// transcoding); the seat may switch among them later by re-INVITE.
	Codecs []string
	// CallerID is shown on the seat phone.
	CallerID string
	// OnRinging is called when the seat phone rings (180/183).
	OnRinging func()
}

// Dial calls a registered seat and returns when it answers. Ending ctx before then
// CANCELs the INVITE (no answer, or the caller hung up).
func (s *Server) Dial(ctx context.Context, o DialOptions) (*OutboundCall, error) {
	reg, ok := s.reg.lookup(o.Seat)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotRegistered, o.Seat)
	}
	pol := s.cfg.SeatPolicies.For(o.Seat)
	ua, err := s.seatUA(reg, pol)
	if err != nil {
		return nil, err
	}
	pts := map[string]uint8{}
	for _, c := range o.Codecs {
		pts[c] = staticPT[c]
	}
	own := offerSDES(pol.SRTP)
	req := siplib.NewRequest(siplib.INVITE, *reg.Contact.Clone())
	// rtcp-mux is offered: the seat's answer says whether RTCP shares the RTP port
	req.SetBody(s.sdp.build(o.Local, o.Codecs, pts, defaultDTMFPayload, SendRecv, own, true))
	req.AppendHeader(siplib.NewHeader("Content-Type", "application/sdp"))
	from := &siplib.FromHeader{DisplayName: o.CallerID,
		Address: siplib.Uri{Scheme: "sip", User: o.CallerID, Host: s.host, Port: int(s.addr.Port())},
		Params:  siplib.NewParams()}
	from.Params.Add("tag", siplib.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&siplib.ToHeader{Address: siplib.Uri{Scheme: "sip", User: o.Seat, Host: s.host}, Params: siplib.NewParams()})
	req.SetTransport(reg.Transport)
	if ua == s.dlgTLS && s.hasConn("tls", reg.Source) {
		// The phone's TLS connection, not its Contact: a phone seldom has a certificate
		// to accept a connection of the gateway's (RFC 5923's reuse).
		req.SetDestination(reg.Source)
	}

	dlg, err := ua.WriteInvite(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("sip: INVITE %s: %w", o.Seat, err)
	}
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *siplib.Response) error {
		if (r.StatusCode == siplib.StatusRinging || r.StatusCode == siplib.StatusSessionInProgress) && o.OnRinging != nil {
			o.OnRinging()
		}
		return nil
	}})
	if err != nil {
		_ = dlg.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sip: %s: %w", o.Seat, context.Cause(ctx))
		}
		return nil, fmt.Errorf("sip: %s did not answer: %w", o.Seat, err)
	}
	oc := &OutboundCall{dlg: dlg, Seat: o.Seat}
	oc.srv, oc.local, oc.codecs, oc.ua, oc.policy, oc.own = s, o.Local, slices.Clone(o.Codecs), ua, pol.SRTP, own
	oc.log = s.log.With("seat", o.Seat)
	oc.ctx, oc.cancel = context.WithCancelCause(context.Background())
	ans, err := parseSDP(dlg.InviteResponse.Body())
	if err == nil {
		if codec, ok := ans.pick(o.Codecs); ok {
			oc.remote = ans.media(codec)
			oc.remote.SRTP, err = own.answered(ans, pol.SRTP)
		} else {
			err = ErrNoCommonCodec
		}
	}
	if err := dlg.Ack(context.WithoutCancel(ctx)); err != nil {
		oc.Hangup(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("sip: ACK to %s: %w", o.Seat, err)
	}
	if err != nil {
		oc.Hangup(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("sip: %s answered with unusable SDP: %w", o.Seat, err)
	}
	s.setDialog(dlg.ID, oc)
	s.cfg.Metrics.leg("seat", reg.Transport, oc.remote.SRTP.Enabled())
	return oc, nil
}

// Hangup sends BYE to the seat; it is idempotent.
func (oc *OutboundCall) Hangup(ctx context.Context) error {
	var err error
	oc.once.Do(func() {
		defer oc.srv.setDialog(oc.dlg.ID, nil)
		defer oc.dlg.Close()
		if oc.ctx.Err() != nil {
			return
		}
		oc.cancel(errors.New("gateway hung up"))
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err = oc.dlg.Bye(ctx)
	})
	return err
}

func (oc *OutboundCall) bye(req *siplib.Request, tx siplib.ServerTransaction) {
	oc.cancel(ErrSeatHungUp)
	if err := oc.dlg.ReadBye(req, tx); err != nil {
		oc.srv.respond(tx, req, siplib.StatusBadRequest, "Bad Request")
	}
}

// statusFor classifies an error into a SIP status.
func statusFor(err error) int {
	switch {
	case errors.Is(err, ErrNoCommonCodec), srtpError(err) != "":
		return siplib.StatusNotAcceptableHere
	case errors.Is(err, ErrBadSDP):
		return siplib.StatusBadRequest
	}
	return siplib.StatusInternalServerError
}

func reasonFor(err error) string {
	if why := srtpError(err); why != "" {
		return "Not Acceptable Here (" + why + ")"
	}
	switch statusFor(err) {
	case siplib.StatusNotAcceptableHere:
		return "Not Acceptable Here"
	case siplib.StatusBadRequest:
		return "Bad Request (SDP)"
	}
	return "Server Internal Error"
}

// srtpError is the reason phrase's words for an SRTP negotiation error, "" for others.
func srtpError(err error) string {
	switch {
	case errors.Is(err, ErrSRTPRequired):
		return "SRTP required"
	case errors.Is(err, ErrSRTPOff):
		return "SRTP not accepted"
	case errors.Is(err, ErrNoCommonCrypto):
		return "no usable SRTP crypto, " + cryptoSuite + " wanted"
	case errors.Is(err, ErrDTLSSRTP):
		return "DTLS-SRTP not supported"
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }
