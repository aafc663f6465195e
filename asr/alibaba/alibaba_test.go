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

func engine(t *testing.T, srv *alibabatest.Server, rate int) asr.Engine {
	t.Helper()
	e, err := alibaba.New(alibaba.Config{URL: srv.URL(), Token: "tok", AppKey: "app", SampleRate: rate, FlushTimeout: time.Second})
	require.NoError(t, err)
	return e
}

func wrapped(t *testing.T, srv *alibabatest.Server) asr.Engine {
	t.Helper()
	e, err := resilient.Wrap(engine(t, srv, 8000), resilient.Config{Backoff: resilient.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
	require.NoError(t, err)
	return e
}

func TestConformance(t *testing.T) {
	srv := alibabatest.New("tok", "app")
	defer srv.Close()
	t.Run("8k", func(t *testing.T) {
		asrtest.Run(t, func(t *testing.T) asr.Engine { return engine(t, srv, 8000) }, asrtest.DefaultToneFixture(8000))
	})
	t.Run("16k-from-8k", func(t *testing.T) {
		asrtest.Run(t, func(t *testing.T) asr.Engine { return engine(t, srv, 16000) }, asrtest.DefaultToneFixture(8000))
	})
	t.Run("resilient", func(t *testing.T) {
		asrtest.Run(t, func(t *testing.T) asr.Engine { return wrapped(t, srv) }, asrtest.DefaultToneFixture(8000), asrtest.WithKill(srv.Kill))
	})
	require.Empty(t, srv.Violations())
}

func TestFaults(t *testing.T) {
	srv := alibabatest.New("tok", "app")
	defer srv.Close()
	asrtest.RunFaults(t,
		func(t *testing.T) asr.Engine { return engine(t, srv, 8000) },
		func(t *testing.T) asr.Engine { return wrapped(t, srv) },
		asrtest.DefaultToneFixture(8000), srv, 1500*time.Millisecond)
	require.Empty(t, srv.Violations())
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
