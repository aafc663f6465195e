package openai

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// whisper.cpp's server nests word times in its segments (with probabilities); OpenAI puts
// them at the top level (without). Both give the words their times.
func TestWordTimesFlatAndNested(t *testing.T) {
	openAI := `{"task":"transcribe","language":"english","duration":1.4,"text":"water cut",
		"words":[{"word":"water","start":0.12,"end":0.5},{"word":"cut","start":0.52,"end":0.9}]}`
	whisperCPP := `{"task":"transcribe","language":"chinese","duration":1.4,"text":"停水",
		"segments":[{"id":0,"text":"停水","start":0.0,"end":1.4,"tokens":[50364],"words":[
			{"word":"停","start":0.12,"end":0.5,"t_dtw":-1,"probability":0.91},
			{"word":"水","start":0.52,"end":0.9,"t_dtw":-1,"probability":0.8}]}]}`
	for name, body := range map[string]string{"openai": openAI, "whisper.cpp": whisperCPP} {
		tr, err := parse([]byte(body))
		require.NoError(t, err, name)
		require.Len(t, tr.Words, 2, name)
		require.Equal(t, 520*time.Millisecond, tr.Words[1].Start, name)
		require.Equal(t, 900*time.Millisecond, tr.Words[1].End, name)
		if name == "whisper.cpp" {
			require.InDelta(t, 0.8, tr.Words[1].Confidence, 1e-9)
		} else {
			require.Equal(t, -1.0, tr.Words[1].Confidence, "OpenAI gives no word confidence")
		}
	}
}
