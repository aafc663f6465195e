package openai_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/openai"
	"lianxin/asr/openai/openaitest"
	"lianxin/asr/segment"
)

// dialectEngine is the HTTP engine pointed at a stand-in of one server, as an operator
// would configure it for that server.
func dialectEngine(t *testing.T, srv *openaitest.HTTPServer, d openaitest.Dialect, c openai.Config) asr.Engine {
	t.Helper()
	c.URL = srv.URL()
	if d == openaitest.WhisperCPP {
		c.Path = "/inference"
	}
	c.Segment = segment.Config{PartialEvery: 300 * time.Millisecond, RetryDelay: time.Millisecond, Timeout: 2 * time.Second}
	e, err := openai.New(c)
	require.NoError(t, err)
	return e
}

// Every server the engine meets transcribes a call whole: OpenAI, whisper.cpp (POST
// /inference, word times nested in segments), speaches (word times at the top level) and
// vLLM (verbose_json without words), with and without word times.
func TestDialectsTranscribe(t *testing.T) {
	for _, tc := range []struct {
		d     openaitest.Dialect
		model string
	}{
		{openaitest.OpenAI, "whisper-1"},
		{openaitest.WhisperCPP, "ignored"},
		{openaitest.Speaches, "Systran/faster-whisper-small"},
		{openaitest.VLLM, "openai/whisper-large-v3"},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			srv := openaitest.NewHTTPWith(openaitest.HTTPOptions{Dialect: tc.d, Key: "sk-test"})
			defer srv.Close()
			for _, words := range []bool{false, true} {
				asrtest.Run(t, func(t *testing.T) asr.Engine {
					return dialectEngine(t, srv, tc.d, openai.Config{Key: "sk-test", Model: tc.model, Language: "zh", WordTimes: words})
				}, asrtest.DefaultToneFixture(8000))
			}
			require.Empty(t, srv.Violations())
		})
	}
}

// Word times reach the finals from each server's shape: OpenAI's and speaches' top-level
// words, whisper.cpp's words nested in segments; vLLM gives none.
func TestDialectWordTimes(t *testing.T) {
	for d, want := range map[openaitest.Dialect]bool{openaitest.OpenAI: true, openaitest.WhisperCPP: true, openaitest.Speaches: true, openaitest.VLLM: false} {
		t.Run(d.String(), func(t *testing.T) {
			srv := openaitest.NewHTTPWith(openaitest.HTTPOptions{Dialect: d})
			defer srv.Close()
			model := map[openaitest.Dialect]string{openaitest.Speaches: "Systran/faster-whisper-small", openaitest.VLLM: "openai/whisper-large-v3"}[d]
			e := dialectEngine(t, srv, d, openai.Config{Model: model, WordTimes: true, Language: "en"})
			finals := streamFixture(t, e)
			require.NotEmpty(t, finals)
			for _, r := range finals {
				if !want {
					require.Empty(t, r.Words, "vLLM's verbose_json carries no words")
					continue
				}
				require.Len(t, r.Words, len(asrtest.Tokens(r.Text)), "a word time per word: %+v", r)
				for _, w := range r.Words {
					require.GreaterOrEqual(t, w.Start, r.Start, "word times are on the call's clock")
				}
			}
		})
	}
}

// A setting the server refuses is found before the first call, with the exact cause and
// what to change, and every stream fails with it at once: no call is made to carry it as
// a gap in each utterance. The server is asked once, however many streams open.
func TestSetupRefusedAtStart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       openaitest.HTTPOptions
		c       openai.Config
		problem string
	}{
		{"openai-unknown-model", openaitest.HTTPOptions{Key: "k"}, openai.Config{Key: "k", Model: "whisper-2"},
			`model "whisper-2" is not served at`},
		{"openai-gpt4o-word-times", openaitest.HTTPOptions{Key: "k"}, openai.Config{Key: "k", Model: "gpt-4o-transcribe", WordTimes: true},
			`word_times needs response_format verbose_json, which model "gpt-4o-transcribe" refuses`},
		{"openai-wrong-key", openaitest.HTTPOptions{Key: "k"}, openai.Config{Key: "other"}, "the server refuses the key"},
		{"speaches-not-installed", openaitest.HTTPOptions{Dialect: openaitest.Speaches}, openai.Config{Model: "whisper-1"},
			`model "whisper-1" is not served at`},
		{"speaches-parakeet-word-times", openaitest.HTTPOptions{Dialect: openaitest.Speaches},
			openai.Config{Model: "istupakov/parakeet-tdt-0.6b-v2-onnx", WordTimes: true}, "refuses"},
		{"vllm-unknown-model", openaitest.HTTPOptions{Dialect: openaitest.VLLM}, openai.Config{Model: "whisper-1"},
			`model "whisper-1" is not served at`},
		{"vllm-no-segment-timestamps", openaitest.HTTPOptions{Dialect: openaitest.VLLM, JSONOnly: []string{"openai/whisper-large-v3"}},
			openai.Config{Model: "openai/whisper-large-v3", WordTimes: true}, "refuses"},
		{"whisper.cpp-english-only-model", openaitest.HTTPOptions{Dialect: openaitest.WhisperCPP, EnglishOnly: true},
			openai.Config{Language: "zh-CN"}, `asked for language "zh", the model answered in "english"`},
		{"whisper.cpp-english-only-model-word-times", openaitest.HTTPOptions{Dialect: openaitest.WhisperCPP, EnglishOnly: true},
			openai.Config{Language: "zh", WordTimes: true}, `asked for language "zh", the model answered in "english"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := openaitest.NewHTTPWith(tc.o)
			defer srv.Close()
			e := dialectEngine(t, srv, tc.o.Dialect, tc.c)
			defer e.Close()
			err := e.(asr.Checker).Check(context.Background())
			var se *openai.SetupError
			require.True(t, errors.As(err, &se), "want a SetupError, got %v", err)
			require.Contains(t, se.Problem, tc.problem)
			require.NotEmpty(t, se.Hint())
			asked := srv.Requests()
			for range 3 {
				_, err = e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
				require.ErrorAs(t, err, &se, "every stream fails with the refusal")
			}
			require.Equal(t, asked, srv.Requests(), "the verdict is kept: no request per call")
		})
	}
}

// The refusal names what the server has: the models it serves.
func TestUnknownModelListsTheServedOnes(t *testing.T) {
	srv := openaitest.NewHTTPWith(openaitest.HTTPOptions{Dialect: openaitest.Speaches})
	defer srv.Close()
	e := dialectEngine(t, srv, openaitest.Speaches, openai.Config{Model: "Systran/faster-whisper-large-v3"})
	_, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.ErrorContains(t, err, "it serves: Systran/faster-whisper-small, istupakov/parakeet-tdt-0.6b-v2-onnx")
	require.ErrorContains(t, err, "is not installed locally", "the server's own words")
}

// whisper.cpp's server lives at /inference under its root: the OpenAI path there is
// "File Not Found", which the check reports as the wrong path, not as a missing model.
func TestWhisperCPPPath(t *testing.T) {
	srv := openaitest.NewHTTPWith(openaitest.HTTPOptions{Dialect: openaitest.WhisperCPP})
	defer srv.Close()
	e, err := openai.New(openai.Config{URL: srv.URL()})
	require.NoError(t, err)
	err = e.(asr.Checker).Check(context.Background())
	var se *openai.SetupError
	require.ErrorAs(t, err, &se)
	require.Contains(t, se.Problem, "no transcription endpoint at "+srv.URL()+"/audio/transcriptions")
	require.Contains(t, se.Hint(), "path: /inference")
	require.NoError(t, dialectEngine(t, srv, openaitest.WhisperCPP, openai.Config{}).(asr.Checker).Check(context.Background()))
}

// A server that cannot be reached is not a refused setting: the stream fails, and the
// next one asks again.
func TestUnreachableIsNotASetupVerdict(t *testing.T) {
	srv := openaitest.NewHTTP("")
	url := srv.URL()
	srv.Close()
	e, err := openai.New(openai.Config{URL: url})
	require.NoError(t, err)
	_, err = e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.Error(t, err)
	var se *openai.SetupError
	require.False(t, errors.As(err, &se), "cannot reach is not a refusal: %v", err)
}

// Once the server took the configuration, Check only asks whether it answers: a watch
// that checks every 30 s sends no audio.
func TestCheckAfterSuccessSendsNoAudio(t *testing.T) {
	srv := openaitest.NewHTTP("k")
	defer srv.Close()
	e := dialectEngine(t, srv, openaitest.OpenAI, openai.Config{Key: "k", WordTimes: true, Language: "zh"})
	c := e.(asr.Checker)
	require.NoError(t, c.Check(context.Background()))
	n := srv.Requests()
	for range 3 {
		require.NoError(t, c.Check(context.Background()))
	}
	require.Equal(t, n, srv.Requests())
}

// streamFixture runs the default tone fixture through a stream of e and returns its finals.
func streamFixture(t *testing.T, e asr.Engine) []asr.Result {
	t.Helper()
	frames, err := asrtest.DefaultToneFixture(8000).Load()
	require.NoError(t, err)
	s, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.NoError(t, err)
	got := asrtest.Collect(t, s)
	for _, f := range frames {
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	var finals []asr.Result
	for _, r := range <-got {
		if r.Final {
			finals = append(finals, r)
		}
	}
	return finals
}

// A telephone leg's 8 kHz audio reaches the server as the 16 kHz WAV it takes, resampled
// (a 1 kHz tone is still at 1 kHz in what the server decoded), not relabelled.
func TestHTTPEightKHzLegs(t *testing.T) {
	srv := openaitest.NewHTTPWith(openaitest.HTTPOptions{Dialect: openaitest.WhisperCPP})
	defer srv.Close()
	e := dialectEngine(t, srv, openaitest.WhisperCPP, openai.Config{Language: "en"})
	s, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.NoError(t, err)
	done := asrtest.Collect(t, s)
	pcm := make([]int16, 8000*3/2)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	for _, f := range asrtest.Frames(append(make([]int16, 2400), append(pcm, make([]int16, 8000)...)...), 8000, 20*time.Millisecond) {
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	<-done
	heard := srv.Received()
	require.Equal(t, 16000, heard.Rate)
	var loud []int16 // the tone's samples, without the utterance's lead and tail silence
	for _, v := range heard.Samples {
		if v > 2000 || v < -2000 || len(loud) > 0 && len(loud) < 8000 {
			loud = append(loud, v)
		}
	}
	require.Greater(t, len(loud), 8000, "the tone reached the server")
	require.InDelta(t, 1000, asrtest.DominantHz(loud[1000:8000], heard.Rate), 20)
}
