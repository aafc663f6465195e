package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"lianxin/asr/openai/openaitest"
)

// A model the OpenAI-compatible server lacks is the integrator's first question: the
// probe names it, the models the server has, and what to change.
func TestProbeNamesARefusedModel(t *testing.T) {
	srv := openaitest.NewHTTPWith(openaitest.HTTPOptions{Dialect: openaitest.Speaches})
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "gateway.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`asr:
  engines:
    whisper:
      type: openai
      url: "`+srv.URL()+`"
      model: Systran/faster-whisper-large-v3
`), 0o600))
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"asr", "probe", "--config", cfg, "--clip", toneClip(t), "--realtime=false", "--timeout", "10s"}, nil, &out, &errb)
	line := strings.TrimSpace(out.String())
	require.Equal(t, 1, code, "%s\n%s", line, errb.String())
	t.Log(line)
	require.True(t, strings.HasPrefix(line, "FAIL whisper (openai): connect "), line)
	require.Contains(t, line, `handshake failed: openai: model "Systran/faster-whisper-large-v3" is not served at `+srv.URL()+
		" (it serves: Systran/faster-whisper-small, istupakov/parakeet-tdt-0.6b-v2-onnx)")
	require.Contains(t, line, "is not installed locally", "the server's own words")
	require.Contains(t, line, "likely cause: set model: to one the server serves")
}

// serve starts with an engine whose server refuses its configuration: the engine is
// marked down at once with the exact cause (the watch's first round, before any call),
// and the cause stays the same round after round, so it is logged once.
func TestServeMarksARefusedEngineDown(t *testing.T) {
	srv := openaitest.NewHTTPWith(openaitest.HTTPOptions{Key: "k"})
	defer srv.Close()
	cfg := defaultConfig()
	cfg.ASR.Default = "none"
	cfg.ASR.Engines = map[string]map[string]any{"whisper": {"type": "openai", "url": srv.URL(), "key": "k",
		"model": "gpt-4o-transcribe", "word_times": true}}
	reg, err := buildASR(cfg, prometheus.NewRegistry(), slog.Default())
	require.NoError(t, err)
	defer reg.Close()
	var mu sync.Mutex
	var reports []string
	w := watchEngines(cfg, 20*time.Millisecond, func(c string, err error) {
		mu.Lock()
		defer mu.Unlock()
		msg := "ok"
		if err != nil {
			msg = err.Error()
		}
		reports = append(reports, c+": "+msg)
	}, reg)
	defer w.Close()
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(reports) >= 3 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, w.Close())
	require.Contains(t, reports[0], `asr whisper: openai: word_times needs response_format verbose_json, which model "gpt-4o-transcribe" refuses`)
	for _, r := range reports[1:] {
		require.Equal(t, reports[0], r, "the same cause each round: the health report changes once")
	}
}
