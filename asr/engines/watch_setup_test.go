package engines

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"lianxin/asr/openai/openaitest"
)

// serve starts with an engine whose server refuses its configuration: the watch's first
// round (before any call) marks the engine down with the exact cause, and the cause stays
// the same round after round, so the health report changes, and is logged, once.
func TestWatchNamesARefusedConfiguration(t *testing.T) {
	srv := openaitest.NewHTTPWith(openaitest.HTTPOptions{Key: "k"})
	defer srv.Close()
	c := Config{Default: "none", Engines: map[string]map[string]any{"whisper": {"type": "openai", "url": srv.URL(), "key": "k",
		"model": "gpt-4o-transcribe", "word_times": true}}}
	reg, err := Build(c, nil, prometheus.NewRegistry(), slog.Default())
	require.NoError(t, err)
	defer reg.Close()
	var mu sync.Mutex
	var reports []string
	w := NewWatch(c, 20*time.Millisecond, func(c string, err error) {
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
		require.Equal(t, reports[0], r, "the same cause each round")
	}
}
