package vosk_test

import (
	"context"
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

// Each real server, as its stand-in copies it: every word arrives as a final, with or
// without trailing silence, and Close ends cleanly.
func TestRealServers(t *testing.T) {
	for name, o := range map[string]vosktest.Options{
		"python":                 {},
		"python-alternatives":    {Alternatives: 3},
		"cpp":                    {CPP: true},
		"cpp-docker-image":       {CPP: true, Alternatives: 1, NoWords: true},
		"cpp-16k-no-config-sent": {CPP: true, Rate: 16000},
	} {
		t.Run(name, func(t *testing.T) {
			srv := vosktest.NewWith(o)
			defer srv.Close()
			e := func(t *testing.T) asr.Engine {
				e, err := vosk.New(vosk.Config{URL: srv.URL(), SampleRate: max(o.Rate, 8000), NoConfig: o.Rate == 16000,
					FlushTimeout: time.Second, ReplyTimeout: time.Second})
				require.NoError(t, err)
				return e
			}
			asrtest.Run(t, e, asrtest.DefaultToneFixture(8000))
			asrtest.Run(t, e, asrtest.TrailingSilence(8000, 1500*time.Millisecond))
			asrtest.Adapter{Server: srv, Rates: []int{max(o.Rate, 8000)}, ResilientRate: 8000, New: func(int) (asr.Engine, error) {
				return vosk.New(vosk.Config{URL: srv.URL(), SampleRate: max(o.Rate, 8000), NoConfig: o.Rate == 16000,
					FlushTimeout: time.Second, ReplyTimeout: time.Second})
			}}.ClosesWithoutFinal(t)
			require.Empty(t, srv.Violations())
		})
	}
}

// Chinese models answer with words separated by spaces; a transcript has none.
func TestChineseWordsJoined(t *testing.T) {
	srv := vosktest.NewWith(vosktest.Options{Lexicon: map[string]string{
		"hello": "你好", "water": "水管", "broken": "坏了", "please": "请", "report": "反映",
		"street": "路灯", "light": "不亮", "noise": "噪音", "thank": "谢谢", "you": "您"}})
	defer srv.Close()
	e, err := vosk.New(vosk.Config{URL: srv.URL(), FlushTimeout: 5 * time.Second})
	require.NoError(t, err)
	require.Equal(t, []string{"你好水管坏了", "请反映路灯不亮噪音", "谢谢您"}, asrtest.Finals(t, e, asrtest.DefaultToneFixture(8000), time.Second))
	require.Equal(t, "你好我要 report 12345 热线", vosk.Join("你好 我 要 report 12345 热线"))
	require.Equal(t, "请问，路灯坏了", vosk.Join("请问 ， 路灯 坏了"))
}

// The C++ server answers the config too, keeps the connection open after the final and
// needs zeros before the end of stream: the last utterance must still arrive, promptly.
// The audio is dithered, as a line's silence is never digital zero.
func TestCPPServerLastUtterance(t *testing.T) {
	srv := vosktest.NewWith(vosktest.Options{CPP: true})
	defer srv.Close()
	e, err := vosk.New(vosk.Config{URL: srv.URL(), FlushTimeout: 5 * time.Second})
	require.NoError(t, err)
	want := []string{"hello water broken", "please report street light noise", "thank you"}
	require.Equal(t, want, asrtest.Finals(t, e, dithered(asrtest.DefaultToneFixture(8000)), time.Second))
	require.Equal(t, want, asrtest.Finals(t, e, dithered(asrtest.TrailingSilence(8000, 1500*time.Millisecond)), time.Second))
}

// dithered adds ±1 to every sample.
func dithered(fx asrtest.Fixture) asrtest.Fixture {
	for i, f := range fx.Frames {
		s := append([]int16(nil), f.Samples...)
		for j := range s {
			s[j] += int16(1 - 2*(j%2))
		}
		fx.Frames[i].Samples = s
	}
	return fx
}

// Item 8: the language is fixed by the model a server loads, so the line's language
// picks the server.
func TestLanguagePicksTheServer(t *testing.T) {
	srv := vosktest.New()
	defer srv.Close()
	e, err := vosk.New(vosk.Config{URL: srv.URL(), FlushTimeout: time.Second,
		Languages: map[string]string{"zh": srv.Server.URL("/zh"), "en-US": srv.Server.URL("/en")}})
	require.NoError(t, err)
	order := []string{"zh-CN", "en-US", "fr-FR", ""}
	for _, l := range order {
		s, err := e.NewStream(context.Background(), asr.StreamConfig{Language: l, SampleRate: 8000})
		require.NoError(t, err)
		require.NoError(t, s.Close())
	}
	var paths []string
	for _, o := range srv.Openings() {
		paths = append(paths, o.URL.Path)
	}
	require.Equal(t, []string{"/zh", "/en", "/", "/"}, paths)
	require.Empty(t, srv.Violations())
}
