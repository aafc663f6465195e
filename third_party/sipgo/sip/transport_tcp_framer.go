package sip

// lianxin: added. A stream is cut into whole messages before anything parses them, so
// that a message read over TCP goes through the same path as a UDP datagram: the read
// filter, then ParseSIP. Upstream parsed the stream incrementally and closed the
// connection on the first error, so a malformed request over TCP got no 400 at all,
// and a request that never completed (Content-Length larger than what was sent) held
// the connection forever.

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// TCPIncompleteMessageTimeout is how long a stream may hold part of a message with no
// more bytes arriving. Then the part is taken as the whole message, as a datagram would
// be: a request whose body is shorter than its Content-Length, or that has no
// Content-Length and a body (RFC 2543), is answered instead of waited on for ever.
var TCPIncompleteMessageTimeout = 2 * time.Second

// streamFramer holds the bytes of a stream that are not yet a whole message.
type streamFramer struct {
	buf []byte
}

// next returns the next whole message in the buffer, or nil when more bytes are
// needed. Keep-alive CRLFs between messages are dropped. When idle is set the stream
// has been quiet for TCPIncompleteMessageTimeout and whatever is buffered is returned.
func (f *streamFramer) next(idle bool) []byte {
	for len(f.buf) > 0 && (f.buf[0] == '\r' || f.buf[0] == '\n') {
		f.buf = f.buf[1:]
	}
	if len(f.buf) == 0 {
		return nil
	}
	end := bytes.Index(f.buf, []byte("\r\n\r\n"))
	if end < 0 {
		if idle {
			return f.take(len(f.buf))
		}
		return nil
	}
	head := f.buf[:end+4]
	rest := f.buf[end+4:]
	lengths := contentLengths(head)
	switch {
	case len(lengths) == 1 && lengths[0] >= 0:
		if len(rest) >= lengths[0] {
			return f.take(len(head) + lengths[0])
		}
		if idle {
			return f.take(len(f.buf))
		}
		return nil
	case len(lengths) == 0 && (len(rest) == 0 || startsMessage(rest)):
		// No Content-Length (RFC 3261 §18.3 requires one on a stream): an empty body
		// when nothing or a new message follows the headers.
		return f.take(len(head))
	case len(lengths) == 0 && !idle:
		// A body without Content-Length: it ends when the sender goes quiet.
		return nil
	}
	// Two or more Content-Lengths, or an unreadable one: the message boundary is lost.
	// Everything buffered is this message; the parser or the application refuses it.
	return f.take(len(f.buf))
}

func (f *streamFramer) take(n int) []byte {
	msg := bytes.Clone(f.buf[:n])
	f.buf = f.buf[n:]
	return msg
}

// contentLengths lists the Content-Length values of a header block, -1 for one that
// is not a non-negative number.
func contentLengths(head []byte) []int {
	var out []int
	for _, line := range strings.Split(string(head), "\r\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length", "l":
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || n < 0 {
				n = -1
			}
			out = append(out, n)
		}
	}
	return out
}

// startsMessage says whether b begins like a SIP start line: a response's "SIP/" or a
// request line ending in SIP/2.0.
func startsMessage(b []byte) bool {
	line, _, ok := bytes.Cut(b, []byte("\r\n"))
	if !ok {
		return false
	}
	return bytes.HasPrefix(line, []byte("SIP/")) || bytes.Contains(line, []byte(" SIP/"))
}
