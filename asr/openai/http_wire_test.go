package openai

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// httpReplay is a recorded exchange (testdata/asr/wire/openai/*.http): the adapter's
// settings, the server's answers in order (the last repeats), and what the adapter must
// make of them. Lines:
//
//	# …                     a comment (where the answer was taken from)
//	config word_times model=M url-root   the engine's settings
//	answer 404              an answer's status; its body is the lines up to the next verb
//	want text T             the transcript parse gives the 200 answer
//	want words N            how many word times it carries
//	want setup S            Check fails with a SetupError saying S
type httpReplay struct {
	cfg     Config
	root    bool
	answers []replayAnswer
	wants   [][2]string
}

type replayAnswer struct {
	status int
	body   string
}

func readReplay(t *testing.T, path string) httpReplay {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var r httpReplay
	sc := bufio.NewScanner(f)
	body := -1 // index of the answer whose body is being read
	for sc.Scan() {
		line := sc.Text()
		verb, arg, _ := strings.Cut(line, " ")
		switch {
		case strings.HasPrefix(line, "#"):
		case verb == "config":
			for _, kv := range strings.Fields(arg) {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "word_times":
					r.cfg.WordTimes = true
				case "model":
					r.cfg.Model = v
				case "url-root":
					r.root = true
				default:
					require.FailNow(t, "unknown config", "%s: %q", path, kv)
				}
			}
		case verb == "answer":
			st, err := strconv.Atoi(arg)
			require.NoError(t, err, path)
			r.answers = append(r.answers, replayAnswer{status: st})
			body = len(r.answers) - 1
		case verb == "want":
			body = -1
			k, v, _ := strings.Cut(arg, " ")
			r.wants = append(r.wants, [2]string{k, v})
		case body >= 0:
			if r.answers[body].body != "" {
				r.answers[body].body += "\n"
			}
			r.answers[body].body += line
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, r.answers, path)
	return r
}

// serve answers transcription requests with the recorded answers, in order.
func (r httpReplay) serve(t *testing.T) string {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost {
			http.NotFound(w, req) // no model list: the refusal is the server's own words
			return
		}
		mu.Lock()
		a := r.answers[min(n, len(r.answers)-1)]
		n++
		mu.Unlock()
		if strings.HasPrefix(a.body, "{") {
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "text/plain")
		}
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	if r.root {
		return srv.URL
	}
	return srv.URL + "/v1"
}

// TestHTTPReplays runs what the real servers answer, recorded from their code paths and
// from public captures, through the adapter's parser and its start-up check.
func TestHTTPReplays(t *testing.T) {
	files, err := filepath.Glob("../../testdata/asr/wire/openai/*.http")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			r := readReplay(t, path)
			r.cfg.URL = r.serve(t)
			e, err := New(r.cfg)
			require.NoError(t, err)
			defer e.Close()
			checkErr := e.(*httpEngine).Check(context.Background())
			for _, w := range r.wants {
				switch w[0] {
				case "setup":
					var se *SetupError
					require.True(t, errors.As(checkErr, &se), "want a SetupError, got %v", checkErr)
					require.Contains(t, se.Error(), w[1])
				case "text", "words":
					require.NoError(t, checkErr, "a transcription is no refusal")
					tr, err := parse([]byte(r.answers[len(r.answers)-1].body))
					require.NoError(t, err)
					if w[0] == "text" {
						require.Equal(t, w[1], tr.Text)
					} else {
						n, err := strconv.Atoi(w[1])
						require.NoError(t, err)
						require.Len(t, tr.Words, n)
					}
				default:
					require.FailNow(t, "unknown want", "%q", w)
				}
			}
		})
	}
}
