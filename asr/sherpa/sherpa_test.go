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
	"lianxin/asr/sherpa"
	"lianxin/asr/sherpa/sherpatest"
)

func adapter(srv *sherpatest.Server) asrtest.Adapter {
	// the engine always sends float32 at 16 kHz: no rate setting
	return asrtest.Adapter{Server: srv, ResilientRate: 16000,
		New: func(int) (asr.Engine, error) {
			return sherpa.New(sherpa.Config{URL: srv.URL(), FlushTimeout: time.Second})
		}}
}

func TestAdapterKit(t *testing.T) {
	srv := sherpatest.New()
	defer srv.Close()
	asrtest.RunAdapter(t, adapter(srv))
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
