package main

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
	good8k, good16k := "../../testdata/asr/wav/hl-03.wav", "../../testdata/asr/wav16/hl-17.wav"
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
	files := []string{"../../testdata/asr/hotwords/wav16/hw-01.wav", "../../testdata/asr/hotwords/wav16/hw-02.wav"}
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

// gateway transcribe --config runs a configured network engine as a live call would,
// behind the resilience wrapper: here the FunASR stand-in in its real-server (C++) mode,
// whose end-of-stream message has no mode. Every utterance's final arrives, no gap.
func TestTranscribeWithAConfiguredEngine(t *testing.T) {
	srv := funasrtest.New()
	defer srv.Close()
	utts := [][]string{{"water", "street", "broken"}, {"please", "help", "police"}}
	pcm, err := tone.Synth(16000, 300*time.Millisecond, 1500*time.Millisecond, utts...) // trailing silence, as calls end
	require.NoError(t, err)
	dir := t.TempDir()
	wav := filepath.Join(dir, "call.wav")
	require.NoError(t, testpeer.WriteWAV(wav, pcm, 16000, 1))
	cfg := filepath.Join(dir, "gw.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("asr:\n  default: mandarin\n  engines:\n    mandarin: {type: funasr, url: \""+srv.URL()+"\"}\n"), 0o600))

	var stdout, stderr bytes.Buffer
	rc := run(context.Background(), []string{"transcribe", "--config", cfg, "--partials=false", wav}, nil, &stdout, &stderr)
	require.Equal(t, 0, rc, stderr.String())
	var finals []string
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var l transcribeLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
		require.Equal(t, "mandarin", l.Engine)
		require.False(t, l.Gap, "no gap: %s", sc.Text())
		if l.Final && l.Text != "" {
			finals = append(finals, l.Text)
		}
	}
	require.Equal(t, []string{"water street broken", "please help police"}, finals)
	require.Empty(t, srv.Violations())
}
