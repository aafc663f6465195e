package alibaba

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest/wire"
)

// TestWireReplays replays sessions and failures as the NLS gateway sends them (captures
// of its messages and the SDKs' code) through the protocol.
func TestWireReplays(t *testing.T) {
	files, err := filepath.Glob("../../testdata/asr/wire/alibaba/*.wire")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cfg := asr.StreamConfig{Partials: true}
			p := &protocol{cfg: Config{SampleRate: 8000, Chunk: 100 * time.Millisecond}, sc: cfg, task: newID(),
				begin: map[int]time.Duration{}, shown: map[int]bool{}}
			wire.Replay(t, path, p, cfg, 8000)
		})
	}
}
