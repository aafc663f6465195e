// Package wire replays recorded server message sequences (testdata/asr/wire/<engine>/)
// through an adapter's protocol, with no connection: the messages are those the real
// servers send, taken from their code paths and from public captures, so an adapter is
// held to what the servers do rather than to our stand-ins' reading of it.
//
// A replay file is lines of steps and expectations; blank lines and lines starting with
// # are ignored:
//
//	start             the client sends its opening messages (Protocol.Start)
//	audio 3000        the client sends 3,000 ms of silence (Protocol.Audio)
//	finish            the client sends its end of stream (Protocol.Finish)
//	recv {…}          the server sends this text message (Protocol.Handle)
//	recvq "{\n  …}"   the server sends this text message, written as a Go string
//	                  (for servers that pretty-print over several lines)
//	recvbin 12        the server sends a binary message of 12 bytes
//	close 1000        the server closes with this code (wsengine.Closer): a close that
//	                  ends the flush is "done", any other "error"
//	want partial 你好  the replay so far must have produced these, in order:
//	want final 你好。  a partial or final with this text,
//	want done         Handle reporting the flush done,
//	want error        or Handle failing.
//
// Everything the replay produces must be wanted, in order, and nothing more.
package wire

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/wsengine"
)

// Replay runs the file at path through p, a fresh protocol for a stream configured by
// cfg sending audio at rate, and checks every expectation. It returns the results.
func Replay(t *testing.T, path string, p wsengine.Protocol, cfg asr.StreamConfig, rate int) []asr.Result {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var got, want []string
	var rs []asr.Result
	c := wsengine.Detached(cfg, rate, func(r asr.Result) {
		rs = append(rs, r)
		kind := "partial"
		if r.Final {
			kind = "final"
		}
		got = append(got, kind+" "+r.Text)
	})
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		verb, arg, _ := strings.Cut(line, " ")
		where := fmt.Sprintf("%s:%d", path, n)
		if verb != "want" {
			// a run of want lines is checked as a whole, before the next step
			require.Equal(t, want, got, "%s: what the steps before this one produced", where)
		}
		switch verb {
		case "audio":
			ms, err := strconv.Atoi(arg)
			require.NoError(t, err, where)
			_ = p.Audio(c, make([]int16, ms*rate/1000)) // detached: the send fails, the protocol's accounting does not
		case "start":
			_ = p.Start(c) // detached: the send fails, reads too
		case "finish":
			_ = p.Finish(c)
		case "recv", "recvq", "recvbin":
			typ, msg := websocket.TextMessage, []byte(arg)
			switch verb {
			case "recvbin":
				size, err := strconv.Atoi(arg)
				require.NoError(t, err, where)
				typ, msg = websocket.BinaryMessage, make([]byte, size)
			case "recvq":
				s, err := strconv.Unquote(arg)
				require.NoError(t, err, where)
				msg = []byte(s)
			}
			done, err := p.Handle(c, typ, msg)
			if err != nil {
				got = append(got, "error")
			}
			if done {
				got = append(got, "done")
			}
		case "close":
			code, err := strconv.Atoi(arg)
			require.NoError(t, err, where)
			if cl, ok := p.(wsengine.Closer); ok && cl.Closed(c, code) {
				got = append(got, "done")
			} else {
				got = append(got, "error")
			}
		case "want":
			want = append(want, arg)
		default:
			require.FailNow(t, "unknown step", "%s: %q", where, line)
		}
	}
	require.NoError(t, sc.Err())
	require.Equal(t, want, got, "%s: at the end", path)
	return rs
}
