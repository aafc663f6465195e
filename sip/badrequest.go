package sip

import (
	"bytes"
	"log/slog"

	siplib "github.com/emiago/sipgo/sip"
)

// badRequestFilter answers requests that sipgo cannot parse with 400 Bad Request
// (RFC 3261 §21.4.1) instead of sipgo's silent drop, so a broken phone learns why. sipgo
// (the fork) hands it what its own parser refused, on UDP datagrams and on messages
// framed off TCP streams alike, so nothing is parsed twice. Responses and unparseable
// garbage that is not a request are dropped, as RFC 4475 expects.
type badRequestFilter struct {
	log     *slog.Logger
	ua      string
	metrics *Metrics
}

// onParseError is the transport layer's parse-error handler.
func (f *badRequestFilter) onParseError(info siplib.TransportReadProps, data []byte, err error) {
	res := f.response(data)
	if res == nil {
		return
	}
	f.log.Debug("sip: malformed request", "transport", info.Transport, "from", info.RemoteAddr, "err", err)
	f.metrics.rejected(400)
	if info.Reply != nil {
		_ = info.Reply(res)
	}
}

// response builds a 400 from whatever headers of the request can be recovered, by hand:
// the request could not be parsed, so there is no message object to answer from.
func (f *badRequestFilter) response(data []byte) []byte {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	lines := bytes.Split(head, []byte("\r\n"))
	if len(lines) == 0 || !bytes.HasSuffix(bytes.TrimSpace(lines[0]), []byte("SIP/2.0")) ||
		bytes.HasPrefix(lines[0], []byte("SIP/")) {
		return nil
	}
	var b bytes.Buffer
	b.WriteString("SIP/2.0 400 Bad Request\r\n")
	var haveVia bool
	for _, l := range lines[1:] {
		name, _, ok := bytes.Cut(l, []byte(":"))
		if !ok || bytes.ContainsAny(l, "\r\n") {
			// a bare CR or LF would start a line of the sender's making in our answer
			continue
		}
		switch string(bytes.ToLower(bytes.TrimSpace(name))) {
		case "via", "v":
			haveVia = true
			fallthrough
		case "from", "f", "to", "t", "call-id", "i", "cseq":
			b.Write(l)
			b.WriteString("\r\n")
		}
	}
	if !haveVia {
		return nil
	}
	b.WriteString("Server: " + f.ua + "\r\nContent-Length: 0\r\n\r\n")
	return b.Bytes()
}
