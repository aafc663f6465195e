package sip

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
)

// tortureRule is one line of testdata/rfc4475/RULES.tsv.
type tortureRule struct{ name, rule, meaning string }

func loadTortureRules(t *testing.T) []tortureRule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tortureDir, "RULES.tsv"))
	require.NoError(t, err)
	var rules []tortureRule
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		require.Len(t, f, 3, "RULES.tsv line %q", l)
		rules = append(rules, tortureRule{f[0], f[1], f[2]})
	}
	require.Len(t, rules, 49)
	return rules
}

const tortureDir = "../testdata/rfc4475"

var callIDLine = regexp.MustCompile(`(?im)^(?:call-id|i)[ \t]*:[ \t]*(\S+)`)

// callIDs lists the Call-ID values in a message's header part.
func callIDs(msg []byte) []string {
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	var ids []string
	for _, m := range callIDLine.FindAllSubmatch(head, -1) {
		ids = append(ids, string(m[1]))
	}
	return ids
}

// statusCode reads the code of a response's status line; 0 for a request.
func statusCode(msg []byte) int {
	line, _, _ := bytes.Cut(msg, []byte("\r\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return 0
	}
	c, _ := strconv.Atoi(f[1])
	return c
}

// satisfies says whether the codes of the replies to a message meet its rule, read as
// the check's scorer reads it (the rule grammar is in RULES.tsv's header).
func satisfies(rule string, codes []int) bool {
	for _, alt := range strings.Split(strings.TrimPrefix(rule, "codes:"), "|") {
		switch alt {
		case "none":
			if len(codes) == 0 {
				return true
			}
		case "any":
			if len(codes) > 0 {
				return true
			}
		case "parsed":
			ok := len(codes) > 0
			for _, c := range codes {
				ok = ok && c != 400 && c < 500
			}
			if ok {
				return true
			}
		default:
			want, err := strconv.Atoi(alt)
			if err != nil {
				panic("bad rule " + rule)
			}
			for _, c := range codes {
				if c == want {
					return true
				}
			}
		}
	}
	return false
}

// belongs says whether a reply answers msg: same Call-ID, or no Call-ID at all when msg
// has no single Call-ID (insuf, multi01) for a server to copy.
func belongs(msg, reply []byte) bool {
	mine, theirs := callIDs(msg), callIDs(reply)
	if len(theirs) == 0 {
		return len(mine) != 1
	}
	return len(mine) > 0 && theirs[0] == mine[0]
}

// replies are the status lines of the replies to one message.
type replies []string

// codes are the replies' status codes.
func (r replies) codes() []int {
	var codes []int
	for _, l := range r {
		codes = append(codes, statusCode([]byte(l)))
	}
	return codes
}

// collect gathers replies to msg from next until a final one arrives or, when none
// comes, until quiet has passed.
func collect(msg []byte, next func(deadline time.Time) ([]byte, error), quiet time.Duration) replies {
	var codes replies
	deadline := time.Now().Add(quiet)
	for {
		reply, err := next(deadline)
		if err != nil {
			return codes
		}
		if !belongs(msg, reply) || statusCode(reply) == 0 {
			continue
		}
		line, _, _ := bytes.Cut(reply, []byte("\r\n"))
		codes = append(codes, string(line))
		if statusCode(reply) >= 200 {
			return codes
		}
		deadline = time.Now().Add(quiet)
	}
}

// startTortureServer runs a server as the gateway uses one: a call gets early media
// (183 with SDP, which for longreq is over 1300 bytes) and is then refused with 486.
func startTortureServer(t *testing.T) *Server {
	return startTortureServerAt(t, "127.0.0.1:0")
}

// startTortureServerAt is startTortureServer listening at listen (Config.Listen).
func startTortureServerAt(t *testing.T, listen string) *Server {
	t.Helper()
	s, err := New(Config{Listen: listen, ForceRport: true, Logger: slog.New(slog.DiscardHandler),
		Credentials: func(u string) (string, bool) { return "secret", u == "j.user" }},
		func(c *InboundCall) {
			if err := c.Progress(netip.MustParseAddrPort("127.0.0.1:40000")); err != nil {
				t.Errorf("183 for %s: %v", c.CallID, err)
			}
			_ = c.Reject(486, "Busy Here")
		})
	require.NoError(t, err)
	require.NoError(t, s.Start())
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func readTorture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tortureDir, name+".dat"))
	require.NoError(t, err)
	return b
}

// TestRFC4475 sends every RFC 4475 torture message to a real server on loopback, over
// UDP (one datagram each) and over TCP (one connection each), and asserts RULES.tsv.
// After each transport's run the server must still answer an OPTIONS. Each transport
// has its own server: the same message again would rightly be a retransmission.
func TestRFC4475(t *testing.T) {
	rules := loadTortureRules(t)
	t.Run("udp", func(t *testing.T) {
		s := startTortureServer(t)
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		require.NoError(t, err)
		defer c.Close()
		to := net.UDPAddrFromAddrPort(s.Addr())
		next := func(deadline time.Time) ([]byte, error) {
			buf := make([]byte, 65535)
			_ = c.SetReadDeadline(deadline)
			n, err := c.Read(buf)
			return buf[:n], err
		}
		for _, r := range rules {
			t.Run(r.name, func(t *testing.T) {
				msg := readTorture(t, r.name)
				_, err := c.WriteToUDP(msg, to)
				require.NoError(t, err)
				got := collect(msg, next, 300*time.Millisecond)
				require.True(t, satisfies(r.rule, got.codes()), "%s (%s): want %s, got %q", r.name, r.meaning, r.rule, got)
			})
		}
		stillServes(t, func(msg []byte) replies {
			_, err := c.WriteToUDP(msg, to)
			require.NoError(t, err)
			return collect(msg, next, time.Second)
		})
	})
	s := startTortureServer(t)
	t.Run("tcp", func(t *testing.T) {
		for _, r := range rules {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				msg := readTorture(t, r.name)
				got := tcpExchange(t, s, msg)
				require.True(t, satisfies(r.rule, got.codes()), "%s (%s): want %s, got %q", r.name, r.meaning, r.rule, got)
			})
		}
	})
	t.Run("tcp after", func(t *testing.T) {
		stillServes(t, func(msg []byte) replies { return tcpExchange(t, s, msg) })
	})
}

// tcpExchange sends msg on a new connection and returns the replies. The connection
// stays open, as a phone's would: a message cut short is only known to be when the
// sender has gone quiet (siplib.TCPIncompleteMessageTimeout).
func tcpExchange(t *testing.T, s *Server, msg []byte) replies {
	return tcpExchangeTo(t, s.Addr(), msg)
}

// tcpQuiet is how long a TCP exchange waits for a reply: past the server's wait for the
// rest of a message cut short, with room for a loaded machine (the subtests run at once).
var tcpQuiet = siplib.TCPIncompleteMessageTimeout + 3*time.Second

// tcpExchangeTo is tcpExchange to any address.
func tcpExchangeTo(t *testing.T, to netip.AddrPort, msg []byte) replies {
	c, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(to))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write(msg)
	require.NoError(t, err)
	rd := bufio.NewReader(c)
	return collect(msg, func(deadline time.Time) ([]byte, error) {
		_ = c.SetReadDeadline(deadline)
		return readStreamMessage(rd)
	}, tcpQuiet)
}

// readStreamMessage reads one SIP message off a stream: headers, then Content-Length bytes.
func readStreamMessage(rd *bufio.Reader) ([]byte, error) {
	var b bytes.Buffer
	length := 0
	for {
		l, err := rd.ReadString('\n')
		if err != nil {
			return nil, err
		}
		b.WriteString(l)
		name, val, ok := strings.Cut(l, ":")
		if n := strings.ToLower(strings.TrimSpace(name)); ok && (n == "content-length" || n == "l") {
			length, _ = strconv.Atoi(strings.TrimSpace(val))
		}
		if l == "\r\n" && b.Len() > 2 {
			break
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, err
	}
	b.Write(body)
	return b.Bytes(), nil
}

// stillServes checks that the server still answers a plain OPTIONS and still takes a
// call (the test's handler gives every call early media, then 486) after a torture run.
func stillServes(t *testing.T, send func([]byte) replies) {
	head := func(method string) string {
		return method + " sip:lianxin@127.0.0.1 SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-after-torture-" + method + "\r\n" +
			"From: <sip:check@127.0.0.1>;tag=1\r\nTo: <sip:lianxin@127.0.0.1>\r\n" +
			"Call-ID: after-torture-" + method + "\r\nCSeq: 1 " + method + "\r\nMax-Forwards: 70\r\n" +
			"Contact: <sip:check@127.0.0.1>\r\n"
	}
	opts := head("OPTIONS") + "Content-Length: 0\r\n\r\n"
	require.Equal(t, []int{200}, send([]byte(opts)).codes(), "OPTIONS after the torture messages")
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40010 RTP/AVP 0\r\n"
	inv := head("INVITE") + "Content-Type: application/sdp\r\nContent-Length: " +
		strconv.Itoa(len(sdp)) + "\r\n\r\n" + sdp
	got := send([]byte(inv)).codes()
	require.Contains(t, got, 183, "a call after the torture messages: %v", got)
	require.Equal(t, 486, got[len(got)-1], "a call after the torture messages: %v", got)
}
