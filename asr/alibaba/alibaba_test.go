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
