package vosk_test

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/vosk"
	"lianxin/asr/vosk/vosktest"
)

func adapter(srv *vosktest.Server) asrtest.Adapter {
	return asrtest.Adapter{Server: srv, Rates: []int{8000, 16000}, ResilientRate: 8000,
		New: func(rate int) (asr.Engine, error) {
			return vosk.New(vosk.Config{URL: srv.URL(), SampleRate: rate, FlushTimeout: time.Second, ReplyTimeout: time.Second})
		}}
}

func TestAdapterKit(t *testing.T) {
	srv := vosktest.New()
	defer srv.Close()
	asrtest.RunAdapter(t, adapter(srv))
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
