package vosk

import (
	"path/filepath"
	"testing"
	"time"

	"lianxin/asr"
	"lianxin/asr/asrtest/wire"
)

// TestWireReplays replays what the real servers send (testdata/asr/wire/vosk, see its
// README) through the protocol.
func TestWireReplays(t *testing.T) {
	files, err := filepath.Glob("../../testdata/asr/wire/vosk/*.wire")
	if err != nil || len(files) == 0 {
		t.Fatalf("no replays: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg := Config{SampleRate: 8000, Chunk: 100 * time.Millisecond}
			sc := asr.StreamConfig{Partials: true, Channel: "caller"}
			wire.Replay(t, f, &protocol{cfg: cfg, sc: sc}, sc, 8000)
		})
	}
}
