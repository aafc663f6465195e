//go:build cgo && !nopocketsphinx

package pocketsphinx

import (
	"testing"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
)

// The shared conformance suite on spoken fixtures (wideband, two utterances; and a
// telephone-band sentence upsampled by the engine). Speech recognition is not exact, so
// the transcript check allows a word error rate.
func TestConformance(t *testing.T) {
	newEngine := func(t *testing.T) asr.Engine {
		e, err := New(Config{MaxStreams: 1})
		require.NoError(t, err)
		return e
	}
	asrtest.Run(t, newEngine, asrtest.Fixture{
		Name: "hl-15",
		WAV:  "../../testdata/asr/wav16/hl-15.wav",
		Utterances: [][]string{
			asrtest.Tokens("rubbish is piling up next to the market and it smells very bad"),
			asrtest.Tokens("please send someone to clean it today"),
		},
		MaxWER: 0.35,
	})
}
