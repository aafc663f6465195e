package tencent

import (
	"path/filepath"
	"testing"

	"lianxin/asr"
	"lianxin/asr/asrtest/wire"
)

// TestWireReplays replays message sequences in the shapes the vendor publishes
// (testdata/asr/wire/tencent, see its README) through the protocol.
func TestWireReplays(t *testing.T) {
	files, err := filepath.Glob("../../testdata/asr/wire/tencent/*.wire")
	if err != nil || len(files) == 0 {
		t.Fatalf("no replays: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc := asr.StreamConfig{Partials: true, Channel: "caller"}
			wire.Replay(t, f, &protocol{sc: sc, rate: 8000, ids: map[int]int{}, shown: map[int]bool{}}, sc, 8000)
		})
	}
}
