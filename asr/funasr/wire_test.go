package funasr

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lianxin/asr"
	"lianxin/asr/asrtest/wire"
)

// TestWireReplays replays what the real servers send (testdata/asr/wire/funasr, see its
// README) through the protocol.
func TestWireReplays(t *testing.T) {
	files, err := filepath.Glob("../../testdata/asr/wire/funasr/*.wire")
	if err != nil || len(files) == 0 {
		t.Fatalf("no replays: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			mode := "2pass"
			if strings.Contains(f, "online") {
				mode = "online"
			}
			cfg := Config{Mode: mode, SampleRate: 16000, OnlineGap: 2 * time.Second}
			sc := asr.StreamConfig{Partials: true, Channel: "caller"}
			wire.Replay(t, f, &protocol{cfg: cfg, sc: sc}, sc, 16000)
		})
	}
}
