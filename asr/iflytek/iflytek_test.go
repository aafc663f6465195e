package iflytek_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/iflytek"
	"lianxin/asr/iflytek/iflytektest"
)

func config(srv *iflytektest.Server) iflytek.Config {
	return iflytek.Config{URL: srv.URL(), AppID: "595f23df", APIKey: "key", FlushTimeout: time.Second}
}

func TestAdapterKit(t *testing.T) {
	srv := iflytektest.New("595f23df", "key")
	defer srv.Close()
	// 16 kHz only: 8 kHz legs are resampled by the adapter, so no rate setting
	asrtest.RunAdapter(t, asrtest.Adapter{Server: srv, ResilientRate: 8000,
		New: func(int) (asr.Engine, error) { return iflytek.New(config(srv)) }})
}

func TestTrailingSilenceAndCloseBudget(t *testing.T) {
	srv := iflytektest.New("595f23df", "key")
	defer srv.Close()
	// a flush timeout well past the budget: Close must end at the server's close
	c := config(srv)
	c.FlushTimeout = 5 * time.Second
	e, err := iflytek.New(c)
	require.NoError(t, err)
	fx := asrtest.TrailingSilence(8000, 1500*time.Millisecond)
	require.Equal(t, []string{"hello water broken", "please report street light noise", "thank you"}, asrtest.Finals(t, e, fx, time.Second))
}

// The doc's worked example (数字签名): appid 595f23df, ts 1512041814, apiKey
// d9f4aa7ea6d94faca62cd88a28fd5234 sign to IrrzsJeOFk1NGfJHW6SkHUoN9CU=.
func TestSignaMatchesTheDocExample(t *testing.T) {
	require.Equal(t, "IrrzsJeOFk1NGfJHW6SkHUoN9CU=", iflytek.Signa("595f23df", "d9f4aa7ea6d94faca62cd88a28fd5234", "1512041814"))
}

func TestBadKeyFailsTheHandshakeWithTheServerCode(t *testing.T) {
	srv := iflytektest.New("595f23df", "key")
	defer srv.Close()
	c := config(srv)
	c.APIKey = "wrong"
	e, err := iflytek.New(c)
	require.NoError(t, err)
	_, err = e.NewStream(context.Background(), asr.StreamConfig{})
	var se *iflytek.ServerError
	require.True(t, errors.As(err, &se), "got %v", err)
	require.Equal(t, "10105", se.Code)
	require.Contains(t, se.Hint(), "signature")
}

// A stale clock makes a stale ts, which the service refuses like a bad key.
func TestStaleClockIsRefused(t *testing.T) {
	srv := iflytektest.New("595f23df", "key")
	defer srv.Close()
	c := config(srv)
	c.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	e, err := iflytek.New(c)
	require.NoError(t, err)
	_, err = e.NewStream(context.Background(), asr.StreamConfig{})
	require.ErrorContains(t, err, "illegal ts")
}

// Item 8: the line's language reaches the service as its lang code.
func TestLanguageReachesTheServiceAsLang(t *testing.T) {
	srv := iflytektest.New("595f23df", "key")
	defer srv.Close()
	e, err := iflytek.New(config(srv))
	require.NoError(t, err)
	for _, lang := range []string{"zh-CN", "en-US", "", "zh"} {
		s, err := e.NewStream(context.Background(), asr.StreamConfig{Language: lang, SampleRate: 8000})
		require.NoError(t, err)
		require.NoError(t, s.Close())
	}
	var got []string
	for _, q := range srv.Queries() {
		got = append(got, q.Get("lang")+"|"+map[bool]string{true: "set", false: "unset"}[q.Has("lang")])
	}
	require.Equal(t, []string{"cn|set", "en|set", "|unset", "cn|set"}, got)

	_, err = e.NewStream(context.Background(), asr.StreamConfig{Language: "fr-FR"})
	require.ErrorContains(t, err, "no lang code")
	require.Len(t, srv.Queries(), 4, "an unmapped language must fail before dialling")

	c := config(srv)
	c.Languages = map[string]string{"yue": "cn_cantonese"}
	l, err := iflytek.Lang(c, "yue-HK")
	require.NoError(t, err)
	require.Equal(t, "cn_cantonese", l)
}

// The stand-in must refuse what the service refuses, or it proves nothing.
func TestStandInIsStrict(t *testing.T) {
	srv := iflytektest.New("595f23df", "key")
	defer srv.Close()
	for name, msgs := range map[string][]struct {
		typ  int
		data []byte
	}{
		"frame too long":  {{websocket.BinaryMessage, make([]byte, 3200)}},
		"odd bytes":       {{websocket.BinaryMessage, make([]byte, 5)}},
		"short then more": {{websocket.BinaryMessage, make([]byte, 640)}, {websocket.BinaryMessage, make([]byte, 1280)}},
		"other text":      {{websocket.TextMessage, []byte(`{"eof":1}`)}},
	} {
		t.Run(name, func(t *testing.T) {
			u, err := iflytek.SignedURL(config(srv), "", time.Now())
			require.NoError(t, err)
			ws, _, err := websocket.DefaultDialer.Dial(u, nil)
			require.NoError(t, err)
			defer ws.Close()
			_, b, err := ws.ReadMessage()
			require.NoError(t, err)
			require.Contains(t, string(b), `"action":"started"`)
			for _, m := range msgs {
				require.NoError(t, ws.WriteMessage(m.typ, m.data))
			}
			for err == nil {
				_, _, err = ws.ReadMessage()
			}
			require.True(t, websocket.IsCloseError(err, websocket.ClosePolicyViolation), "got %v", err)
		})
	}
	require.Len(t, srv.Violations(), 4)
}
