package vosk_test

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/resilient"
	"lianxin/asr/vosk"
	"lianxin/asr/vosk/vosktest"
)

func engine(t *testing.T, srv *vosktest.Server, rate int) asr.Engine {
	t.Helper()
	e, err := vosk.New(vosk.Config{URL: srv.URL(), SampleRate: rate, FlushTimeout: time.Second, ReplyTimeout: time.Second})
	require.NoError(t, err)
	return e
}

func wrapped(t *testing.T, srv *vosktest.Server) asr.Engine {
	t.Helper()
	e, err := resilient.Wrap(engine(t, srv, 8000), resilient.Config{Backoff: resilient.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
	require.NoError(t, err)
	return e
}

func TestConformance(t *testing.T) {
	srv := vosktest.New()
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
	srv := vosktest.New()
	defer srv.Close()
	asrtest.RunFaults(t,
		func(t *testing.T) asr.Engine { return engine(t, srv, 8000) },
		func(t *testing.T) asr.Engine { return wrapped(t, srv) },
		asrtest.DefaultToneFixture(8000), srv, 1500*time.Millisecond)
	require.Empty(t, srv.Violations())
}

// The stand-in must reject what the real server misreads, or it proves nothing.
func TestStandInIsStrict(t *testing.T) {
	srv := vosktest.New()
	defer srv.Close()
	for name, msgs := range map[string][]string{
		"eof without spaces":   {`{"eof": 1}`},
		"eof compact":          {`{"eof":1}`},
		"config after audio":   {"\x00\x00", `{"config": {"sample_rate": 8000}}`},
		"odd audio":            {"\x00"},
		"config not an object": {`{"config": 8000}`},
	} {
		t.Run(name, func(t *testing.T) {
			ws, _, err := websocket.DefaultDialer.Dial(srv.URL(), nil)
			require.NoError(t, err)
			defer ws.Close()
			for _, m := range msgs {
				typ := websocket.TextMessage
				if m[0] == 0 {
					typ = websocket.BinaryMessage
				}
				require.NoError(t, ws.WriteMessage(typ, []byte(m)))
			}
			for {
				_, _, err = ws.ReadMessage()
				if err != nil {
					break
				}
			}
			require.True(t, websocket.IsCloseError(err, websocket.ClosePolicyViolation), "got %v", err)
		})
	}
	require.Len(t, srv.Violations(), 5)
}
