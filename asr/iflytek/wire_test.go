package iflytek

import (
	"github.com/stretchr/testify/require"

	"path/filepath"
	"testing"

	"lianxin/asr"
	"lianxin/asr/asrtest/wire"
)

// TestWireReplays replays message sequences in the shapes the vendor publishes
// (testdata/asr/wire/iflytek, see its README) through the protocol.
func TestWireReplays(t *testing.T) {
	files, err := filepath.Glob("../../testdata/asr/wire/iflytek/*.wire")
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

// seg_id numbers the service's messages, not its sentences: the API page's example gives a
// sentence's partial seg_id 0 and its final seg_id 1. The partials and the final of one
// sentence are one utterance on the screen, and the next sentence is another.
func TestSentenceSpansSegIDs(t *testing.T) {
	sc := asr.StreamConfig{Partials: true, Channel: "caller"}
	got := wire.Replay(t, "../../testdata/asr/wire/iflytek/session.wire", &protocol{sc: sc}, sc, 16000)
	require.GreaterOrEqual(t, len(got), 2)
	require.False(t, got[0].Final)
	require.True(t, got[1].Final)
	require.Equal(t, got[0].UtteranceID, got[1].UtteranceID, "the partial (seg_id 0) and its final (seg_id 1) are one sentence")
	for _, r := range got[2:] {
		require.NotEqual(t, got[0].UtteranceID, r.UtteranceID, "a later sentence is another utterance")
	}
}
