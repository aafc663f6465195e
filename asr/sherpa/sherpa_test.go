package sherpa_test

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/resilient"
	"lianxin/asr/sherpa"
	"lianxin/asr/sherpa/sherpatest"
)

func engine(t *testing.T, srv *sherpatest.Server) asr.Engine {
	t.Helper()
	e, err := sherpa.New(sherpa.Config{URL: srv.URL(), FlushTimeout: time.Second})
	require.NoError(t, err)
	return e
}

func wrapped(t *testing.T, srv *sherpatest.Server) asr.Engine {
	t.Helper()
	e, err := resilient.Wrap(engine(t, srv), resilient.Config{Backoff: resilient.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
	require.NoError(t, err)
	return e
}

func TestConformance(t *testing.T) {
	srv := sherpatest.New()
	defer srv.Close()
	t.Run("8k-resampled", func(t *testing.T) {
		asrtest.Run(t, func(t *testing.T) asr.Engine { return engine(t, srv) }, asrtest.DefaultToneFixture(8000))
	})
	t.Run("resilient", func(t *testing.T) {
		asrtest.Run(t, func(t *testing.T) asr.Engine { return wrapped(t, srv) }, asrtest.DefaultToneFixture(16000), asrtest.WithKill(srv.Kill))
	})
	require.Empty(t, srv.Violations())
}

func TestFaults(t *testing.T) {
	srv := sherpatest.New()
	defer srv.Close()
	asrtest.RunFaults(t,
		func(t *testing.T) asr.Engine { return engine(t, srv) },
		func(t *testing.T) asr.Engine { return wrapped(t, srv) },
		asrtest.DefaultToneFixture(8000), srv, 1500*time.Millisecond)
	require.Empty(t, srv.Violations())
}

// PCM16 where float32 is due, or text other than "Done", must be caught.
func TestStandInIsStrict(t *testing.T) {
	srv := sherpatest.New()
	defer srv.Close()
	s, err := tone.Synth(16000, 0, 0, []string{"hello"})
	require.NoError(t, err)
	for name, msg := range map[string]struct {
		typ  int
		data []byte
	}{
		"pcm16 as is":  {websocket.BinaryMessage, pcm.AppendS16LE(nil, s)},
		"odd length":   {websocket.BinaryMessage, []byte{0, 0, 0}},
		"done variant": {websocket.TextMessage, []byte(`{"done":true}`)},
	} {
		t.Run(name, func(t *testing.T) {
			ws, _, err := websocket.DefaultDialer.Dial(srv.URL(), nil)
			require.NoError(t, err)
			defer ws.Close()
			require.NoError(t, ws.WriteMessage(msg.typ, msg.data))
			for err == nil {
				_, _, err = ws.ReadMessage()
			}
			require.True(t, websocket.IsCloseError(err, websocket.ClosePolicyViolation), "got %v", err)
		})
	}
	require.Len(t, srv.Violations(), 3)
}
