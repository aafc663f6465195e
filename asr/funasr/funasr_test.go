package funasr_test

import (
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/funasr"
	"lianxin/asr/funasr/funasrtest"
	"lianxin/asr/resilient"
	"lianxin/asr/segment"
)

func adapter(srv *funasrtest.Server) asrtest.Adapter {
	return asrtest.Adapter{Server: srv, Rates: []int{16000, 8000}, ResilientRate: 16000,
		New: func(rate int) (asr.Engine, error) {
			return funasr.New(funasr.Config{URL: srv.URL(), SampleRate: rate, FlushTimeout: time.Second})
		}}
}

func TestAdapterKit(t *testing.T) {
	srv := funasrtest.New()
	defer srv.Close()
	asrtest.RunAdapter(t, adapter(srv))
}

func TestHotwordsTravelAsAJSONString(t *testing.T) {
	srv := funasrtest.New()
	defer srv.Close()
	s, err := adapter(srv).Engine(t, 16000).NewStream(context.Background(), asr.StreamConfig{Hotwords: []string{"12345", "市民热线"}})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.Empty(t, srv.Violations())
}

// The stand-in must reject what the real server mishandles, or it proves nothing.
func TestStandInIsStrict(t *testing.T) {
	srv := funasrtest.New()
	defer srv.Close()
	for name, cfg := range map[string]string{
		"no chunk_size":      `{"mode":"2pass","wav_name":"a","is_speaking":true}`,
		"zero middle chunk":  `{"mode":"2pass","wav_name":"a","is_speaking":true,"chunk_size":[5,0,5]}`,
		"hotwords as object": `{"mode":"2pass","wav_name":"a","is_speaking":true,"chunk_size":[5,10,5],"hotwords":{"12345":20}}`,
		"hotwords not JSON":  `{"mode":"2pass","wav_name":"a","is_speaking":true,"chunk_size":[5,10,5],"hotwords":"12345 热线"}`,
		"not JSON":           `mode=2pass`,
		"wav_format not pcm": `{"mode":"2pass","wav_name":"a","is_speaking":true,"chunk_size":[5,10,5],"wav_format":"mp3"}`,
		"unsupported rate":   `{"mode":"2pass","wav_name":"a","is_speaking":true,"chunk_size":[5,10,5],"audio_fs":44100}`,
	} {
		t.Run(name, func(t *testing.T) {
			ws, _, err := websocket.DefaultDialer.Dial(srv.URL(), nil)
			require.NoError(t, err)
			defer ws.Close()
			require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(cfg)))
			_, _, err = ws.ReadMessage()
			require.True(t, websocket.IsCloseError(err, websocket.ClosePolicyViolation), "got %v", err)
		})
	}
	require.Len(t, srv.Violations(), 7)
}

// The gate composes with the wrapper and an adapter: silence is kept from the engine, the
// transcript and its times are those of the call.
func TestBehindGate(t *testing.T) {
	srv := funasrtest.New()
	defer srv.Close()
	asrtest.Run(t, func(t *testing.T) asr.Engine {
		return segment.NewGate(adapter(srv).Wrapped(t), segment.GateConfig{Trail: 600 * time.Millisecond})
	}, asrtest.DefaultToneFixture(8000), asrtest.WithKill(srv.Kill))
	require.Empty(t, srv.Violations())
}

// Rotation before a session limit abandons a live connection mid-stream; replay must make
// that invisible in the transcript.
func TestRotation(t *testing.T) {
	srv := funasrtest.New()
	defer srv.Close()
	e, err := resilient.Wrap(adapter(srv).Engine(t, 16000), resilient.Config{MaxSession: 7 * time.Second, RotateEarly: 6500 * time.Millisecond})
	require.NoError(t, err)
	s, err := e.NewStream(context.Background(), asr.StreamConfig{Partials: true})
	require.NoError(t, err)
	got := asrtest.Collect(t, s)
	fx := asrtest.DefaultToneFixture(8000)
	for _, f := range fx.Frames {
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	var finals []string
	for _, r := range <-got {
		if r.Final {
			finals = append(finals, r.Text)
		}
	}
	require.Equal(t, []string{"hello water broken", "please report street light noise", "thank you"}, finals)
	require.GreaterOrEqual(t, s.(interface{ Stats() resilient.Stats }).Stats().Rotations, int64(2))
	require.GreaterOrEqual(t, srv.Connections(), 3)
}

// Each real server, in each mode, as its stand-in copies it: every word arrives as a
// final, with or without trailing silence, and Close ends cleanly.
func TestRealServerModes(t *testing.T) {
	for _, m := range []funasrtest.Mode{funasrtest.CPP, funasrtest.CPPLegacy, funasrtest.Python} {
		for _, mode := range []string{"2pass", "online"} {
			t.Run(m.String()+"-"+mode, func(t *testing.T) {
				srv := funasrtest.NewMode(m)
				defer srv.Close()
				e := func(t *testing.T) asr.Engine {
					e, err := funasr.New(funasr.Config{URL: srv.URL(), Mode: mode, FlushTimeout: time.Second})
					require.NoError(t, err)
					return e
				}
				asrtest.Run(t, e, asrtest.DefaultToneFixture(16000))
				asrtest.Run(t, e, asrtest.TrailingSilence(16000, 1500*time.Millisecond))
				// the Python server's online mode sends no timestamp: the adapter's times are
				// the audio sent so far
				asrtest.Adapter{Server: srv, Rates: []int{16000}, ResilientRate: 16000, Paced: m == funasrtest.Python && mode == "online", New: func(int) (asr.Engine, error) {
					return funasr.New(funasr.Config{URL: srv.URL(), Mode: mode, FlushTimeout: time.Second})
				}}.ClosesWithoutFinal(t)
				require.Empty(t, srv.Violations())
			})
		}
	}
}

// The end of a call must not wait for a timeout: Close returns as soon as the server's
// last message is in, whichever server it is, and every utterance has its final.
func TestCloseIsPrompt(t *testing.T) {
	for _, m := range []funasrtest.Mode{funasrtest.CPP, funasrtest.CPPLegacy, funasrtest.Python} {
		t.Run(m.String(), func(t *testing.T) {
			srv := funasrtest.NewMode(m)
			defer srv.Close()
			e, err := funasr.New(funasr.Config{URL: srv.URL(), FlushTimeout: 5 * time.Second})
			require.NoError(t, err)
			got := asrtest.Finals(t, e, asrtest.TrailingSilence(16000, 1500*time.Millisecond), time.Second)
			require.Len(t, got, 3, "%q", got)
		})
	}
}

// Item 8: the line's language reaches the server as svs_lang (SenseVoiceSmall's form).
func TestLanguageReachesTheServerAsSVSLang(t *testing.T) {
	srv := funasrtest.New()
	defer srv.Close()
	e, err := funasr.New(funasr.Config{URL: srv.URL(), FlushTimeout: time.Second})
	require.NoError(t, err)
	langs := map[string]string{"zh-CN": `"svs_lang":"zh"`, "en-US": `"svs_lang":"en"`, "zh-HK": `"svs_lang":"yue"`, "fr": `"svs_lang":"auto"`, "": ""}
	order := []string{"zh-CN", "en-US", "zh-HK", "fr", ""}
	for _, l := range order {
		s, err := e.NewStream(context.Background(), asr.StreamConfig{Language: l, SampleRate: 8000})
		require.NoError(t, err)
		require.NoError(t, s.Close())
	}
	ops := srv.Openings()
	require.Len(t, ops, len(order))
	for i, l := range order {
		if langs[l] == "" {
			require.NotContains(t, string(ops[i].First), "svs_lang", "no language, no svs_lang")
			continue
		}
		require.Contains(t, string(ops[i].First), langs[l], l)
	}
	require.Empty(t, srv.Violations())
}
