package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr/asrtest/tone"
	"lianxin/asr/funasr/funasrtest"
	"lianxin/asr/pocketsphinx"
	"lianxin/asr/sherpa/sherpatest"
	"lianxin/asr/vosk/vosktest"
	"lianxin/internal/testpeer"
)

// gateway transcribe on the project's fixtures with the real embedded recogniser: one JSON
// line per result, partials before their final, a bad file reported while the others are
// still transcribed.
func TestTranscribeCommand(t *testing.T) {
	if !pocketsphinx.Available() {
		t.Skip("built without the embedded recogniser (cgo)")
	}
	bad := filepath.Join(t.TempDir(), "bad.wav")
	require.NoError(t, os.WriteFile(bad, []byte("not a wav"), 0o644))
	good8k, good16k := "../testdata/asr/wav/hl-03.wav", "../testdata/asr/wav16/hl-17.wav"
	var stdout, stderr bytes.Buffer
	rc := run(context.Background(), []string{"transcribe", "--asr", "embedded", good8k, bad, good16k}, nil, &stdout, &stderr)
	require.Equal(t, 1, rc)
	require.Contains(t, stderr.String(), "bad.wav: not a WAV file")
	finals := map[string]string{}
	finalSeen := map[string]bool{}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var l transcribeLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
		require.LessOrEqual(t, l.StartMS, l.EndMS)
		require.Equal(t, "pocketsphinx", l.Engine)
		if l.Final {
			finals[l.File] += l.Text
			finalSeen[l.File] = true
			require.NotNil(t, l.Confidence, "the file configuration gives confidences: %s", sc.Text())
			require.InDelta(t, 0.5, *l.Confidence, 0.5)
			for _, w := range l.Words {
				require.NotNil(t, w.Confidence, sc.Text())
			}
		} else {
			require.False(t, finalSeen[l.File], "partial after the final: %s", sc.Text())
		}
	}
	require.Contains(t, finals[good8k], "garbage")
	require.Contains(t, finals[good16k], "sewer")
	require.NotContains(t, finals, bad)
}

func TestTranscribeUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 2, run(context.Background(), []string{"transcribe"}, nil, &stdout, &stderr))
	require.True(t, strings.Contains(stderr.String(), "usage: gateway transcribe"))
	stderr.Reset()
	if pocketsphinx.Available() {
		require.Equal(t, 2, run(context.Background(), []string{"transcribe", "--asr", "nosuch", "x.wav"}, nil, &stdout, &stderr))
		require.Contains(t, stderr.String(), `unknown engine "nosuch"`)
	}
}

// --hotword biases the recogniser towards a phrase: street names it otherwise mishears.
// A word the dictionary cannot pronounce is reported on stderr, not silently dropped.
func TestTranscribeHotwords(t *testing.T) {
	if !pocketsphinx.Available() {
		t.Skip("built without the embedded recogniser (cgo)")
	}
	files := []string{"../testdata/asr/hotwords/wav16/hw-01.wav", "../testdata/asr/hotwords/wav16/hw-02.wav"}
	finals := func(args ...string) (string, string) {
		var stdout, stderr bytes.Buffer
		rc := run(context.Background(), append(append([]string{"transcribe", "--partials=false"}, args...), files...), nil, &stdout, &stderr)
		require.Equal(t, 0, rc, stderr.String())
		var text []string
		sc := bufio.NewScanner(&stdout)
		for sc.Scan() {
			var l transcribeLine
			require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
			text = append(text, l.Text)
		}
		return strings.Join(text, " | "), stderr.String()
	}
	plain, _ := finals()
	require.NotContains(t, plain, "juniper lane")
	require.NotContains(t, plain, "hawthorn terrace")
	biased, warnings := finals("--hotword", "Juniper Lane", "--hotword", "hawthorn terrace", "--hotword", "Zhujiajian ferry")
	require.Contains(t, biased, "juniper lane")
	require.Contains(t, biased, "hawthorn terrace")
	require.Contains(t, warnings, "zhujiajian")
}

// The real servers' behaviours, from outside: gateway transcribe --config against the
// stand-in modes that copy the FunASR (C++ 2026 and 2024, Python), Vosk (Python, C++ with
// its Docker image's environment, Chinese words) and sherpa-onnx (C++, C++ with Done!
// first, Python) servers, each with trailing silence as calls end. Every utterance's final
// arrives, with no gap, Chinese words joined, and the command exits.
func TestTranscribeAgainstRealServerModes(t *testing.T) {
	utts := [][]string{{"water", "street", "broken"}, {"please", "help", "police"}}
	zh := map[string]string{"water": "停", "street": "水", "broken": "了", "please": "请", "help": "帮", "police": "忙"}
	type server interface {
		URL() string
		Close()
		Violations() []string
	}
	for _, tc := range []struct {
		name, typ, extra string
		start            func() server
		want             []string
	}{
		{"funasr-cpp", "funasr", "", func() server { return funasrtest.NewMode(funasrtest.CPP) }, nil},
		{"funasr-cpp-2024", "funasr", "", func() server { return funasrtest.NewMode(funasrtest.CPPLegacy) }, nil},
		{"funasr-python", "funasr", "", func() server { return funasrtest.NewMode(funasrtest.Python) }, nil},
		{"vosk-python", "vosk", "", func() server { return vosktest.New() }, nil},
		{"vosk-cpp-docker", "vosk", "", func() server {
			return vosktest.NewWith(vosktest.Options{CPP: true, Alternatives: 1, NoWords: true})
		}, nil},
		{"vosk-chinese", "vosk", "", func() server { return vosktest.NewWith(vosktest.Options{Lexicon: zh}) },
			[]string{"停水了", "请帮忙"}},
		{"sherpa-cpp", "sherpa", "", func() server { return sherpatest.NewMode(sherpatest.CPP) }, nil},
		{"sherpa-cpp-done-first", "sherpa", "", func() server { return sherpatest.NewMode(sherpatest.CPPDoneFirst) }, nil},
		{"sherpa-python", "sherpa", "", func() server { return sherpatest.NewMode(sherpatest.Python) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.start()
			defer srv.Close()
			want := tc.want
			if want == nil {
				want = []string{"water street broken", "please help police"}
			}
			rate := 16000
			if tc.typ == "vosk" {
				rate = 8000
			}
			pcm, err := tone.Synth(rate, 300*time.Millisecond, 1500*time.Millisecond, utts...)
			require.NoError(t, err)
			dir := t.TempDir()
			wav := filepath.Join(dir, "call.wav")
			require.NoError(t, testpeer.WriteWAV(wav, pcm, rate, 1))
			cfg := filepath.Join(dir, "gw.yaml")
			require.NoError(t, os.WriteFile(cfg, []byte("asr:\n  default: engine\n  engines:\n    engine: {type: "+tc.typ+
				", url: \""+srv.URL()+"\"}\n"), 0o600))

			var stdout, stderr bytes.Buffer
			rc := run(context.Background(), []string{"transcribe", "--config", cfg, "--partials=false", wav}, nil, &stdout, &stderr)
			require.Equal(t, 0, rc, stderr.String())
			var finals []string
			sc := bufio.NewScanner(&stdout)
			for sc.Scan() {
				var l transcribeLine
				require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
				require.False(t, l.Gap, "no gap: %s", sc.Text())
				if l.Final && l.Text != "" {
					finals = append(finals, l.Text)
				}
			}
			require.Equal(t, want, finals)
			require.Empty(t, srv.Violations())
		})
	}
}
