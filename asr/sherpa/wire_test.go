package sherpa

import (
	"path/filepath"
	"testing"

	"lianxin/asr"
	"lianxin/asr/asrtest/wire"
)

// TestWireReplays replays what the real servers send (testdata/asr/wire/sherpa, see its
// README) through the protocol.
func TestWireReplays(t *testing.T) {
	files, err := filepath.Glob("../../testdata/asr/wire/sherpa/*.wire")
	if err != nil || len(files) == 0 {
		t.Fatalf("no replays: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc := asr.StreamConfig{Partials: true, Channel: "caller"}
			wire.Replay(t, f, &protocol{sc: sc}, sc, 16000)
		})
	}
}
