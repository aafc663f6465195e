package sip

import (
	"strings"

	siplib "github.com/emiago/sipgo/sip"
)

// statusUnsupportedURIScheme is 416, which sipgo has no name for.
const statusUnsupportedURIScheme = 416

// allowedMethods are the methods the gateway implements, for 405's Allow header.
const allowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER"

// knownMethods are methods some RFC defines: a request with one the gateway does not
// implement gets 405, anything else 501 (RFC 3261 §8.2.1, §21.5.2).
var knownMethods = map[string]bool{"SUBSCRIBE": true, "NOTIFY": true, "REFER": true,
	"INFO": true, "MESSAGE": true, "PRACK": true, "UPDATE": true, "PUBLISH": true}

// singleHeaders may appear once in a request (RFC 3261 §7.3.1: only comma-separated
// list headers may repeat). Two of them leave no way to know which one the sender meant.
var singleHeaders = []string{"Call-ID", "CSeq", "From", "To", "Max-Forwards", "Content-Length", "Content-Type"}

// uriSchemes are the Request-URI schemes the gateway can route (RFC 3261 §8.2.2.1).
var uriSchemes = map[string]bool{"sip": true, "sips": true, "tel": true}

// checkRequest applies the checks RFC 3261 §8.2 asks of a UAS before it processes a
// request, in its order, and returns the response that refuses it, or nil. sipgo's
// parser is lenient on purpose (it accepts what it can read); these are the protocol's
// rules on top of it, kept here rather than in the fork because they are the
// application's choice of what it supports. ACK is never checked: it gets no response.
func (s *Server) checkRequest(req *siplib.Request) *siplib.Response {
	if req.IsAck() {
		return nil
	}
	refuse := func(code int, reason string) *siplib.Response {
		res := siplib.NewResponseFromRequest(req, code, reason, nil)
		res.AppendHeader(siplib.NewHeader("Server", s.cfg.UserAgent))
		return res
	}
	if req.SipVersion != "SIP/2.0" {
		return refuse(siplib.StatusVersionNotSupported, "Version Not Supported")
	}
	for _, name := range singleHeaders {
		if hs := req.GetHeaders(name); len(hs) > 1 {
			res := refuse(siplib.StatusBadRequest, "Bad Request (more than one "+name+")")
			if ids := req.GetHeaders("Call-ID"); len(ids) > 1 {
				// sipgo keeps the last Call-ID; the sender matches on the first.
				res.ReplaceHeader(ids[0])
			}
			return res
		}
	}
	if cseq := req.CSeq(); cseq == nil || req.CallID() == nil || req.From() == nil || req.To() == nil {
		return refuse(siplib.StatusBadRequest, "Bad Request (missing headers)")
	} else if !strings.EqualFold(string(cseq.MethodName), string(req.Method)) {
		// The parser upper-cases the request line's method but not CSeq's.
		return refuse(siplib.StatusBadRequest, "Bad Request (CSeq method does not match)")
	}
	if !s.implements(req.Method) {
		if knownMethods[string(req.Method)] {
			res := refuse(siplib.StatusMethodNotAllowed, "Method Not Allowed")
			res.AppendHeader(siplib.NewHeader("Allow", allowedMethods))
			return res
		}
		return refuse(siplib.StatusNotImplemented, "Not Implemented")
	}
	if !uriSchemes[strings.ToLower(req.Recipient.Scheme)] {
		return refuse(statusUnsupportedURIScheme, "Unsupported URI Scheme")
	}
	if !req.IsCancel() {
		if opts := headerTokens(req, "Require"); len(opts) > 0 {
			// The gateway supports no extension a request could require.
			res := refuse(siplib.StatusBadExtension, "Bad Extension")
			res.AppendHeader(siplib.NewHeader("Unsupported", strings.Join(opts, ", ")))
			return res
		}
	}
	if req.IsInvite() && !acceptsSDP(req) {
		// Our answer to an INVITE carries SDP, which this sender says it cannot read.
		res := refuse(siplib.StatusNotAcceptable, "Not Acceptable")
		res.AppendHeader(siplib.NewHeader("Accept", "application/sdp"))
		return res
	}
	return nil
}

// implements says whether the server handles method.
func (s *Server) implements(m siplib.RequestMethod) bool {
	switch m {
	case siplib.INVITE, siplib.ACK, siplib.CANCEL, siplib.BYE, siplib.OPTIONS, siplib.REGISTER:
		return true
	}
	return false
}

// headerTokens lists the comma-separated values of every header called name.
func headerTokens(req *siplib.Request, name string) []string {
	var out []string
	for _, h := range req.GetHeaders(name) {
		for _, v := range strings.Split(h.Value(), ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// acceptsSDP says whether the request's Accept (absent: application/sdp, RFC 3261
// §20.1) admits an SDP body.
func acceptsSDP(req *siplib.Request) bool {
	types := headerTokens(req, "Accept")
	if len(req.GetHeaders("Accept")) == 0 {
		return true
	}
	for _, t := range types {
		t, _, _ = strings.Cut(t, ";")
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "application/sdp", "application/*", "*/*":
			return true
		}
	}
	return false
}

// checked runs checkRequest before h and answers in its place when the request fails.
func (s *Server) checked(h func(*siplib.Request, siplib.ServerTransaction)) func(*siplib.Request, siplib.ServerTransaction) {
	return func(req *siplib.Request, tx siplib.ServerTransaction) {
		if res := s.checkRequest(req); res != nil {
			s.cfg.Metrics.rejected(res.StatusCode)
			if err := tx.Respond(res); err != nil {
				s.log.Debug("sip: respond failed", "code", res.StatusCode, "err", err)
			}
			return
		}
		h(req, tx)
	}
}
