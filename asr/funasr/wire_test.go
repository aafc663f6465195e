package funasr

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lianxin/asr"
	"lianxin/asr/asrtest/wire"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/wsengine"
)

// audioClock advances a clock by the audio sent.
type audioClock struct {
	*protocol
	fed *time.Duration
}

func (a audioClock) Audio(c *wsengine.Conn, s []int16) error {
	*a.fed += pcm.Duration(len(s), c.Rate)
	return a.protocol.Audio(c, s)
}

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
			// the replay feeds audio as fast as it can; the online-mode sentence clock
			// runs on the audio instead, as it would for a live call
			var fed time.Duration
			p := &protocol{cfg: cfg, sc: sc}
			p.now = func() time.Time { return time.Unix(0, 0).Add(fed) }
			wire.Replay(t, f, audioClock{p, &fed}, sc, 16000)
		})
	}
}
