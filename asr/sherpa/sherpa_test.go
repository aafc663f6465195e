package sherpa_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/asrtest/standin"
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

// Each real server, as its stand-in copies it: every word arrives as a final, with or
// without trailing silence, and Close ends cleanly and promptly.
func TestRealServerModes(t *testing.T) {
	for _, m := range []sherpatest.Mode{sherpatest.CPP, sherpatest.CPPDoneFirst, sherpatest.Python} {
		t.Run(fmt.Sprint(m), func(t *testing.T) {
			srv := sherpatest.NewMode(m)
			defer srv.Close()
			e := func(t *testing.T) asr.Engine {
				e, err := sherpa.New(sherpa.Config{URL: srv.URL(), FlushTimeout: time.Second})
				require.NoError(t, err)
				return e
			}
			asrtest.Run(t, e, asrtest.DefaultToneFixture(8000))
			asrtest.Run(t, e, asrtest.TrailingSilence(8000, 1500*time.Millisecond))
			adapter(srv).ClosesWithoutFinal(t)

			// one utterance per final, the last with the flush, and no wait for a timeout
			eng, err := sherpa.New(sherpa.Config{URL: srv.URL(), FlushTimeout: 5 * time.Second})
			require.NoError(t, err)
			finals := asrtest.Finals(t, eng, asrtest.DefaultToneFixture(8000), time.Second)
			require.Equal(t, []string{"hello water broken", "please report street light noise", "thank you"}, finals)
			require.Empty(t, srv.Violations())
		})
	}
}

// An early close is still an error, however polite: only a close after "Done" ends the
// stream (the Python server's way).
func TestPythonCloseBeforeDoneIsEarly(t *testing.T) {
	srv := sherpatest.NewMode(sherpatest.Python)
	defer srv.Close()
	srv.Fail(standin.Plan{Fault: standin.CloseEarly, After: time.Second})
	e, err := sherpa.New(sherpa.Config{URL: srv.URL(), FlushTimeout: time.Second})
	require.NoError(t, err)
	s, err := e.NewStream(context.Background(), asr.StreamConfig{})
	require.NoError(t, err)
	got := asrtest.Collect(t, s)
	for _, f := range asrtest.DefaultToneFixture(8000).Frames {
		if s.Write(f) != nil {
			break
		}
	}
	<-got
	require.Error(t, s.Close(), "a close before \"Done\" must fail the stream")
}

// Item 8: the language is fixed by the model a server loads, so the line's language
// picks the server.
func TestLanguagePicksTheServer(t *testing.T) {
	srv := sherpatest.New()
	defer srv.Close()
	e, err := sherpa.New(sherpa.Config{URL: srv.URL(), FlushTimeout: time.Second,
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
