package openai_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/openai"
	"lianxin/asr/openai/openaitest"
	"lianxin/asr/segment"
)

func httpEngine(t *testing.T, srv *openaitest.HTTPServer, words bool) asr.Engine {
	t.Helper()
	e, err := openai.New(openai.Config{
		URL: srv.URL(), Key: "sk-test", Language: "en-US", WordTimes: words,
		Segment: segment.Config{PartialEvery: 300 * time.Millisecond, RetryDelay: time.Millisecond, Timeout: 500 * time.Millisecond},
	})
	require.NoError(t, err)
	return e
}

func TestHTTPConformance(t *testing.T) {
	srv := openaitest.NewHTTP("sk-test")
	defer srv.Close()
	for _, words := range []bool{false, true} {
		asrtest.Run(t, func(t *testing.T) asr.Engine { return httpEngine(t, srv, words) }, asrtest.DefaultToneFixture(8000))
	}
	require.Empty(t, srv.Violations())
}

func TestHTTPFaults(t *testing.T) {
	// each fault hits one request; the segmenter's retry recovers it, and the error is
	// still reported
	srv := openaitest.NewHTTP("sk-test")
	defer srv.Close()
	e := func(t *testing.T) asr.Engine { return httpEngine(t, srv, true) }
	asrtest.RunFaults(t, e, e, asrtest.DefaultToneFixture(8000), srv, 0)
	require.Empty(t, srv.Violations())
}

func TestHTTPStandInIsStrict(t *testing.T) {
	srv := openaitest.NewHTTP("sk-test")
	defer srv.Close()
	post := func(key string, fields map[string]string, wav []byte) int {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for k, v := range fields {
			require.NoError(t, w.WriteField(k, v))
		}
		if wav != nil {
			f, err := w.CreateFormFile("file", "a.wav")
			require.NoError(t, err)
			_, _ = f.Write(wav)
		}
		require.NoError(t, w.Close())
		req, err := http.NewRequest(http.MethodPost, srv.URL()+"/audio/transcriptions", &b)
		require.NoError(t, err)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	wav16 := pcm.WAV(make([]int16, 1600), 16000)
	require.Equal(t, 200, post("sk-test", map[string]string{"model": "whisper-1"}, wav16))
	require.Equal(t, 401, post("wrong", map[string]string{"model": "whisper-1"}, wav16))
	require.Equal(t, 400, post("sk-test", map[string]string{"model": "whisper-1"}, nil))
	require.Equal(t, 400, post("sk-test", map[string]string{}, wav16))
	require.Equal(t, 200, post("sk-test", map[string]string{"model": "whisper-1"}, pcm.WAV(make([]int16, 800), 8000)), "any rate: the API resamples")
	require.Equal(t, 400, post("sk-test", map[string]string{"model": "whisper-1", "language": "zh-CN"}, wav16))
	require.Equal(t, 400, post("sk-test", map[string]string{"model": "whisper-1", "timestamp_granularities[]": "word"}, wav16))
	require.Equal(t, 400, post("sk-test", map[string]string{"model": "whisper-1"}, []byte("RIFF....WAVEdata")))
	require.Equal(t, 404, post("sk-test", map[string]string{"model": "whisper-2"}, wav16))
	require.Equal(t, 400, post("sk-test", map[string]string{"model": "gpt-4o-transcribe", "response_format": "verbose_json"}, wav16))
	require.Len(t, srv.Violations(), 8)
}

func realtimeAdapter(srv *openaitest.RealtimeServer) asrtest.Adapter {
	return asrtest.Adapter{Server: srv, ResilientRate: 16000,
		New: func(int) (asr.Engine, error) {
			return openai.NewRealtime(openai.RealtimeConfig{URL: srv.URL(), Key: "sk-test", Language: "en", FlushTimeout: time.Second})
		}}
}

func TestRealtimeAdapterKit(t *testing.T) {
	srv := openaitest.NewRealtime("sk-test")
	defer srv.Close()
	asrtest.RunAdapter(t, realtimeAdapter(srv))
}

// The real service sends a transcription's completed late, after later commits and out of
// order, the last ones after the answer to the clear: the adapter still delivers every
// final, in commit order, and its Close waits for them.
func TestRealtimeAdapterKitLateCompletions(t *testing.T) {
	srv := openaitest.NewRealtimeLate("sk-test")
	defer srv.Close()
	asrtest.RunAdapter(t, realtimeAdapter(srv))
	require.Positive(t, srv.Reordered(), "the stand-in sent completions out of order: the ordering was tested")
}

// Against the late server the finals still come one per turn, in the order spoken, with
// the later turn's partials free to come first.
func TestRealtimeFinalsInCommitOrder(t *testing.T) {
	srv := openaitest.NewRealtimeLate("sk-test")
	defer srv.Close()
	e, err := openai.NewRealtime(openai.RealtimeConfig{URL: srv.URL(), Key: "sk-test", Language: "en", FlushTimeout: time.Second})
	require.NoError(t, err)
	finals := asrtest.Finals(t, e, asrtest.DefaultToneFixture(8000), 5*time.Second)
	require.Equal(t, []string{"hello water broken", "please report street light noise", "thank you"}, finals)
	require.Positive(t, srv.Reordered())
}

func TestRealtimeRefusesAModelURL(t *testing.T) {
	_, err := openai.NewRealtime(openai.RealtimeConfig{URL: "wss://api.openai.com/v1/realtime?model=gpt-4o-transcribe"})
	require.ErrorContains(t, err, "intent=transcription")
	srv := openaitest.NewRealtime("sk-test")
	defer srv.Close()
	e, err := openai.NewRealtime(openai.RealtimeConfig{URL: srv.URL(), Key: "wrong"})
	require.NoError(t, err)
	_, err = e.NewStream(context.Background(), asr.StreamConfig{})
	require.ErrorContains(t, err, "401")
}

// Item 8: the line's language reaches the server as its ISO-639-1 code, for the HTTP
// endpoint and for the Realtime session.
func TestLanguageReachesTheServerAsISO639(t *testing.T) {
	srv := openaitest.NewHTTP("sk-test")
	defer srv.Close()
	e := httpEngine(t, srv, false)
	frames, err := asrtest.DefaultToneFixture(8000).Load()
	require.NoError(t, err)
	for _, l := range []string{"zh-CN", "cmn", ""} {
		s, err := e.NewStream(context.Background(), asr.StreamConfig{Language: l, SampleRate: 8000})
		require.NoError(t, err)
		for _, f := range frames {
			require.NoError(t, s.Write(f))
		}
		require.NoError(t, s.Close())
	}
	langs := srv.Languages()
	require.NotEmpty(t, langs)
	seen := map[string]bool{}
	for _, l := range langs {
		seen[l] = true
	}
	// zh-CN and cmn as zh; a stream with none gets the engine's default (en-US → en)
	require.Equal(t, map[string]bool{"zh": true, "en": true}, seen)

	rt := openaitest.NewRealtime("sk-test")
	defer rt.Close()
	re, err := openai.NewRealtime(openai.RealtimeConfig{URL: rt.URL(), Key: "sk-test", FlushTimeout: time.Second})
	require.NoError(t, err)
	s, err := re.NewStream(context.Background(), asr.StreamConfig{Language: "zh-CN", SampleRate: 8000})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.Contains(t, string(rt.Openings()[0].First), `"language":"zh"`)
}
