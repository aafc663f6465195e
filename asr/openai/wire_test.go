package openai

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest/wire"
)

// TestRealtimeWireReplays replays Realtime event sequences shaped as OpenAI's published
// schema, with completions late and out of order, through the protocol.
func TestRealtimeWireReplays(t *testing.T) {
	files, err := filepath.Glob("../../testdata/asr/wire/openai/realtime-*.wire")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cfg := asr.StreamConfig{Partials: true}
			wire.Replay(t, path, &realtime{cfg: RealtimeConfig{Chunk: 100e6}, sc: cfg, items: map[string]*item{}}, cfg, realtimeRate)
		})
	}
}
