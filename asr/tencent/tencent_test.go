package tencent_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/tencent"
	"lianxin/asr/tencent/tencenttest"
)

func config(srv *tencenttest.Server, rate int) tencent.Config {
	return tencent.Config{URL: srv.URL(), AppID: "1259228442", SecretID: "AKIDtest", SecretKey: "secret",
		SampleRate: rate, FlushTimeout: time.Second}
}

func TestAdapterKit(t *testing.T) {
	srv := tencenttest.New("1259228442", "AKIDtest", "secret")
	defer srv.Close()
	asrtest.RunAdapter(t, asrtest.Adapter{Server: srv, Rates: []int{8000, 16000}, ResilientRate: 8000,
		New: func(rate int) (asr.Engine, error) { return tencent.New(config(srv, rate)) }})
}

func TestTrailingSilenceAndCloseBudget(t *testing.T) {
	srv := tencenttest.New("1259228442", "AKIDtest", "secret")
	defer srv.Close()
	c := config(srv, 8000)
	c.FlushTimeout = 5 * time.Second // Close must end at final:1, not at the timeout
	e, err := tencent.New(c)
	require.NoError(t, err)
	fx := asrtest.TrailingSilence(8000, 1500*time.Millisecond)
	require.Equal(t, []string{"hello water broken", "please report street light noise", "thank you"}, asrtest.Finals(t, e, fx, time.Second))
}

// The signature string is host+path+"?"+sorted raw parameters (the SDK's buildURL and
// genSignature); this pins it to a value computed independently with
// `printf %s "$s" | openssl sha1 -hmac secret -binary | base64`.
func TestSignIsOverSortedRawParameters(t *testing.T) {
	q := url.Values{"secretid": {"AKIDtest"}, "timestamp": {"1673408372"}, "expired": {"1673494772"},
		"nonce": {"1673408372"}, "engine_model_type": {"16k_zh"}, "voice_id": {"c64385ee"},
		"voice_format": {"1"}, "needvad": {"1"}, "signature": {"ignored"}}
	require.Equal(t, "20dcKlb0/SdRJTUv9UbrXT+j4mk=", tencent.Sign("secret", "asr.cloud.tencent.com/asr/v2/1259228442", q))
}

func TestBadKeyFailsTheHandshakeWithTheServerCode(t *testing.T) {
	srv := tencenttest.New("1259228442", "AKIDtest", "secret")
	defer srv.Close()
	c := config(srv, 8000)
	c.SecretKey = "wrong"
	e, err := tencent.New(c)
	require.NoError(t, err)
	_, err = e.NewStream(context.Background(), asr.StreamConfig{})
	var se *tencent.ServerError
	require.True(t, errors.As(err, &se), "got %v", err)
	require.Equal(t, 4002, se.Code)
	require.Contains(t, se.Hint(), "signature")
}

// Item 8: the line's language and the rate make the engine_model_type.
func TestLanguageReachesTheServiceAsEngineModelType(t *testing.T) {
	srv := tencenttest.New("1259228442", "AKIDtest", "secret")
	defer srv.Close()
	for _, c := range []struct {
		rate       int
		lang, want string
	}{{8000, "zh-CN", "8k_zh"}, {8000, "", "8k_zh"}, {8000, "en-US", "8k_en"}, {16000, "zh-CN", "16k_zh"},
		{16000, "yue", "16k_yue"}, {16000, "zh-HK", "16k_yue"}, {16000, "ja-JP", "16k_ja"}} {
		e, err := tencent.New(config(srv, c.rate))
		require.NoError(t, err)
		s, err := e.NewStream(context.Background(), asr.StreamConfig{Language: c.lang, SampleRate: 8000})
		require.NoError(t, err, c.lang)
		require.NoError(t, s.Close())
		qs := srv.Queries()
		require.Equal(t, c.want, qs[len(qs)-1].Get("engine_model_type"), "%s at %d Hz", c.lang, c.rate)
	}
	e, err := tencent.New(config(srv, 8000))
	require.NoError(t, err)
	n := len(srv.Queries())
	_, err = e.NewStream(context.Background(), asr.StreamConfig{Language: "yue"})
	require.ErrorContains(t, err, "no 8 kHz model")
	_, err = e.NewStream(context.Background(), asr.StreamConfig{Language: "tlh"})
	require.ErrorContains(t, err, "no engine model")
	require.Len(t, srv.Queries(), n, "an impossible model must fail before dialling")
}

func TestHotwordsGoInTheHotwordList(t *testing.T) {
	srv := tencenttest.New("1259228442", "AKIDtest", "secret")
	defer srv.Close()
	e, err := tencent.New(config(srv, 8000))
	require.NoError(t, err)
	s, err := e.NewStream(context.Background(), asr.StreamConfig{Hotwords: []string{"市民热线", "a|b", " 12345 "}})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.Equal(t, "市民热线|10,12345|10", srv.Queries()[0].Get("hotword_list"))
}

// The stand-in must refuse what the service refuses, or it proves nothing.
func TestStandInIsStrict(t *testing.T) {
	srv := tencenttest.New("1259228442", "AKIDtest", "secret")
	defer srv.Close()
	for name, msgs := range map[string][]struct {
		typ  int
		data []byte
	}{
		"packet too long": {{websocket.BinaryMessage, make([]byte, 3200)}},
		"short then more": {{websocket.BinaryMessage, make([]byte, 320)}, {websocket.BinaryMessage, make([]byte, 640)}},
		"other text":      {{websocket.TextMessage, []byte(`{"type":"stop"}`)}},
	} {
		t.Run(name, func(t *testing.T) {
			u, err := tencent.SignedURL(config(srv, 8000), asr.StreamConfig{}, name, time.Now())
			require.NoError(t, err)
			ws, _, err := websocket.DefaultDialer.Dial(u, nil)
			require.NoError(t, err)
			defer ws.Close()
			_, b, err := ws.ReadMessage()
			require.NoError(t, err)
			require.Contains(t, string(b), `"code":0`)
			for _, m := range msgs {
				require.NoError(t, ws.WriteMessage(m.typ, m.data))
			}
			for err == nil {
				_, _, err = ws.ReadMessage()
			}
			require.True(t, websocket.IsCloseError(err, websocket.ClosePolicyViolation), "got %v", err)
		})
	}
	require.Len(t, srv.Violations(), 3)
}
