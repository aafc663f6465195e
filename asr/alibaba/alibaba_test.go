package alibaba_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/alibaba"
	"lianxin/asr/alibaba/alibabatest"
	"lianxin/asr/asrtest"
	"lianxin/asr/resilient"
)

func adapter(srv *alibabatest.Server) asrtest.Adapter {
	return asrtest.Adapter{Server: srv, Rates: []int{8000, 16000}, ResilientRate: 8000,
		New: func(rate int) (asr.Engine, error) {
			return alibaba.New(alibaba.Config{URL: srv.URL(), Token: "tok", AppKey: "app", SampleRate: rate, FlushTimeout: time.Second})
		}}
}

func TestAdapterKit(t *testing.T) {
	srv := alibabatest.New("tok", "app")
	defer srv.Close()
	asrtest.RunAdapter(t, adapter(srv))
}

func TestBadTokenOrAppKeyFailsTheStart(t *testing.T) {
	srv := alibabatest.New("tok", "app")
	defer srv.Close()
	for _, c := range []alibaba.Config{{Token: "expired", AppKey: "app"}, {Token: "tok", AppKey: "other"}} {
		c.URL = srv.URL()
		e, err := alibaba.New(c)
		require.NoError(t, err)
		_, err = e.NewStream(context.Background(), asr.StreamConfig{})
		require.ErrorContains(t, err, "TaskFailed")
	}
}

// The stand-in must reject what the real gateway rejects, or it proves nothing.
func TestStandInIsStrict(t *testing.T) {
	srv := alibabatest.New("tok", "app")
	defer srv.Close()
	const task = "73b5aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	start := `{"header":{"namespace":"SpeechTranscriber","name":"StartTranscription","appkey":"app","task_id":"` + task + `","message_id":"6d30aaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"payload":{"format":"pcm","sample_rate":8000}}`
	for name, msgs := range map[string][]string{
		"audio first":           {"\x00\x00"},
		"wrong namespace":       {`{"header":{"namespace":"SpeechRecognizer","name":"StartTranscription","appkey":"app","task_id":"` + task + `","message_id":"6d30aaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"payload":{"format":"pcm","sample_rate":8000}}`},
		"task id not hex":       {`{"header":{"namespace":"SpeechTranscriber","name":"StartTranscription","appkey":"app","task_id":"task-1","message_id":"6d30aaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"payload":{"format":"pcm","sample_rate":8000}}`},
		"44.1 kHz":              {`{"header":{"namespace":"SpeechTranscriber","name":"StartTranscription","appkey":"app","task_id":"` + task + `","message_id":"6d30aaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"payload":{"format":"pcm","sample_rate":44100}}`},
		"message id reused":     {start, `{"header":{"namespace":"SpeechTranscriber","name":"StopTranscription","appkey":"app","task_id":"` + task + `","message_id":"6d30aaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}`},
		"stop for another task": {start, `{"header":{"namespace":"SpeechTranscriber","name":"StopTranscription","appkey":"app","task_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","message_id":"9ad8aaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}`},
	} {
		t.Run(name, func(t *testing.T) {
			h := http.Header{"X-Nls-Token": {"tok"}}
			ws, _, err := websocket.DefaultDialer.Dial(srv.URL(), h)
			require.NoError(t, err)
			defer ws.Close()
			for _, m := range msgs {
				typ := websocket.TextMessage
				if m[0] == 0 {
					typ = websocket.BinaryMessage
				}
				require.NoError(t, ws.WriteMessage(typ, []byte(m)))
			}
			for err == nil {
				_, _, err = ws.ReadMessage()
			}
			require.True(t, websocket.IsCloseError(err, websocket.ClosePolicyViolation), "got %v", err)
		})
	}
	require.Len(t, srv.Violations(), 6)
}

// Item 8: NLS fixes the language per project, so the line's language picks the appkey.
func TestLanguagePicksTheAppKey(t *testing.T) {
	srv := alibabatest.New("tok", "app-zh")
	defer srv.Close()
	e, err := alibaba.New(alibaba.Config{URL: srv.URL(), Token: "tok", AppKey: "app-en",
		AppKeys: map[string]string{"zh": "app-zh"}, FlushTimeout: time.Second})
	require.NoError(t, err)
	s, err := e.NewStream(context.Background(), asr.StreamConfig{Language: "zh-CN", SampleRate: 8000})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = e.NewStream(context.Background(), asr.StreamConfig{Language: "en-US", SampleRate: 8000})
	require.ErrorContains(t, err, "APPKEY_NOT_EXIST", "en-US goes to the default appkey, which this stand-in lacks")
	ops := srv.Openings()
	require.Len(t, ops, 2)
	require.Contains(t, string(ops[0].First), `"appkey":"app-zh"`)
	require.Contains(t, string(ops[1].First), `"appkey":"app-en"`)
}

// With an AccessKey pair instead of a fixed token the adapter makes its tokens with
// CreateToken (a signed POP request) and renews them before they expire: every connection
// gets one with life left, and a wrong secret is refused by the signature check.
func TestTokensFromAnAccessKeyPair(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ttl       time.Duration
		perStream bool
	}{{"long-lived token reused", time.Hour, false}, {"short-lived token renewed", 5 * time.Minute, true}} {
		t.Run(tc.name, func(t *testing.T) {
			ts := alibabatest.NewTokenServer("LTAI-test", "s3cret", tc.ttl)
			defer ts.Close()
			srv := alibabatest.NewWith(ts.Valid, "app")
			defer srv.Close()
			e, err := alibaba.New(alibaba.Config{URL: srv.URL(), AccessKeyID: "LTAI-test", AccessKeySecret: "s3cret",
				TokenURL: ts.URL, AppKey: "app", FlushTimeout: time.Second})
			require.NoError(t, err)
			defer e.Close()
			for range 3 {
				st, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
				require.NoError(t, err)
				require.NoError(t, st.Close())
			}
			want := 1
			if tc.perStream {
				want = 3 // a token with under renewBefore of life is never used
			}
			require.Equal(t, want, ts.Issued())
		})
	}
	ts := alibabatest.NewTokenServer("LTAI-test", "s3cret", time.Hour)
	defer ts.Close()
	srv := alibabatest.NewWith(ts.Valid, "app")
	defer srv.Close()
	e, err := alibaba.New(alibaba.Config{URL: srv.URL(), AccessKeyID: "LTAI-test", AccessKeySecret: "wrong",
		TokenURL: ts.URL, AppKey: "app"})
	require.NoError(t, err)
	defer e.Close()
	_, err = e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.ErrorContains(t, err, "SignatureDoesNotMatch")
	require.Zero(t, ts.Issued())
}

// The gateway's refusals reach the operator with their status, the gateway's own text and
// what to do: a token it does not take, an account at its concurrency, a task that heard
// nothing for the idle timeout (a leg on hold).
func TestGatewayFailuresAreExplained(t *testing.T) {
	hint := func(err error) string {
		var se *alibaba.ServerError
		require.ErrorAs(t, err, &se)
		return se.Hint()
	}
	srv := alibabatest.NewWithOptions(alibabatest.Options{Valid: func(t string) bool { return t == "tok" }, AppKey: "app",
		MaxTasks: 1, IdleTimeout: 300 * time.Millisecond})
	defer srv.Close()
	bad, err := alibaba.New(alibaba.Config{URL: srv.URL(), Token: "old", AppKey: "app"})
	require.NoError(t, err)
	_, err = bad.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.ErrorContains(t, err, "TaskFailed 40000001 Meta:ACCESS_DENIED:The token 'old' is invalid!")
	require.Contains(t, hint(err), "token is invalid or expired")

	e, err := alibaba.New(alibaba.Config{URL: srv.URL(), Token: "tok", AppKey: "app", FlushTimeout: time.Second})
	require.NoError(t, err)
	first, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.NoError(t, err)
	_, err = e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.ErrorContains(t, err, "TaskFailed 40000005 Gateway:TOO_MANY_REQUESTS:Too many requests!")
	require.Contains(t, hint(err), "concurrency")

	// the first task hears nothing: the gateway fails it, and says which directive came last
	got := asrtest.Collect(t, first)
	<-got
	err = first.(interface{ Err() error }).Err()
	require.ErrorContains(t, err, "TaskFailed 40000004 Gateway:IDLE_TIMEOUT:Websocket session is idle for too long time, the last directive is 'StartTranscription'!")
	require.Contains(t, hint(err), "idle")
	require.Error(t, first.Close())
	require.Empty(t, srv.Violations())
}

// An idle leg (a caller on hold) costs no words behind the resilience layer: the task the
// gateway failed is replaced, and what is said after the hold is transcribed.
func TestIdleTaskIsReplaced(t *testing.T) {
	srv := alibabatest.NewWithOptions(alibabatest.Options{Valid: func(t string) bool { return t == "tok" }, AppKey: "app",
		IdleTimeout: 300 * time.Millisecond})
	defer srv.Close()
	inner, err := alibaba.New(alibaba.Config{URL: srv.URL(), Token: "tok", AppKey: "app", FlushTimeout: time.Second})
	require.NoError(t, err)
	e, err := resilient.Wrap(inner, resilient.Config{Backoff: resilient.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
	require.NoError(t, err)
	s, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.NoError(t, err)
	got := asrtest.Collect(t, s)
	require.Eventually(t, func() bool { return srv.Connections() >= 2 }, 10*time.Second, 10*time.Millisecond,
		"the idle task was failed and a new one opened")
	frames, err := asrtest.DefaultToneFixture(8000).Load()
	require.NoError(t, err)
	for _, f := range frames {
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	var words []string
	for _, r := range <-got {
		require.False(t, r.Gap, "%+v", r)
		if r.Final {
			words = append(words, asrtest.Tokens(r.Text)...)
		}
	}
	require.Equal(t, asrtest.DefaultToneFixture(8000).Words(), words)
}
