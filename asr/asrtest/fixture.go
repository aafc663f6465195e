package asrtest

import (
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/go-audio/wav"

	"lianxin/asr/asrtest/tone"
	"lianxin/media"
)

// Fixture is audio and what is said in it. Give either Frames or a WAV path (mono PCM16).
type Fixture struct {
	Name   string
	Frames []media.Frame
	WAV    string
	// Utterances are the expected words, utterance by utterance.
	Utterances [][]string
	// MaxWER is the word error rate tolerated over the whole fixture (0: exact, as the
	// tone stand-ins must be; a real recogniser needs more).
	MaxWER float64
}

// ToneFixture renders utterances of tone words (see package tone) as 20 ms frames at rate,
// with 300 ms lead silence and only 100 ms after the last word, so the last final arrives
// only when Close flushes.
func ToneFixture(rate int, utterances ...[]string) (Fixture, error) {
	s, err := tone.Synth(rate, 300*time.Millisecond, 100*time.Millisecond, utterances...)
	if err != nil {
		return Fixture{}, err
	}
	return Fixture{Name: fmt.Sprintf("tones-%dHz", rate), Frames: Frames(s, rate, 20*time.Millisecond), Utterances: utterances}, nil
}

// DefaultToneFixture is three utterances of 3, 5 and 2 words (about 4 s): the middle one
// spans the fixture's midpoint, where the reconnect case drops the connection.
func DefaultToneFixture(rate int) Fixture {
	f, err := ToneFixture(rate,
		[]string{"hello", "water", "broken"},
		[]string{"please", "report", "street", "light", "noise"},
		[]string{"thank", "you"})
	if err != nil {
		panic(err) // the words above are in the vocabulary
	}
	return f
}

// Frames cuts samples into frames of length d with offsets from 0.
func Frames(s []int16, rate int, d time.Duration) []media.Frame {
	n := int(d * time.Duration(rate) / time.Second)
	var out []media.Frame
	for i := 0; i < len(s); i += n {
		j := min(i+n, len(s))
		out = append(out, media.Frame{Samples: s[i:j], Rate: rate, Offset: time.Duration(i) * time.Second / time.Duration(rate)})
	}
	return out
}

// Load returns the fixture's frames, reading the WAV when Frames is empty.
func (f Fixture) Load() ([]media.Frame, error) {
	if len(f.Frames) > 0 {
		return f.Frames, nil
	}
	if f.WAV == "" {
		return nil, fmt.Errorf("asrtest: fixture %q has neither frames nor a WAV", f.Name)
	}
	r, err := os.Open(f.WAV)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	d := wav.NewDecoder(r)
	buf, err := d.FullPCMBuffer()
	if err != nil {
		return nil, fmt.Errorf("asrtest: %s: %w", f.WAV, err)
	}
	if buf.Format.NumChannels != 1 || d.BitDepth != 16 {
		return nil, fmt.Errorf("asrtest: %s: want mono 16-bit PCM, got %d channels, %d bits", f.WAV, buf.Format.NumChannels, d.BitDepth)
	}
	s := make([]int16, len(buf.Data))
	for i, v := range buf.Data {
		s[i] = int16(v)
	}
	return Frames(s, buf.Format.SampleRate, 20*time.Millisecond), nil
}

// Words returns the expected words in order.
func (f Fixture) Words() []string {
	var out []string
	for _, u := range f.Utterances {
		for _, w := range u {
			out = append(out, Tokens(w)...)
		}
	}
	return out
}

// Tokens splits text into comparable words: lower case, punctuation dropped, and each CJK
// character a word of its own (Mandarin engines do not put spaces between words).
func Tokens(text string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.Is(unicode.Han, r):
			flush()
			out = append(out, string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'':
			cur.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// WER is the word error rate of got against want (edit distance over len(want)).
func WER(want, got []string) float64 {
	if len(want) == 0 {
		if len(got) == 0 {
			return 0
		}
		return 1
	}
	prev := make([]int, len(got)+1)
	cur := make([]int, len(got)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(want); i++ {
		cur[0] = i
		for j := 1; j <= len(got); j++ {
			c := prev[j-1]
			if want[i-1] != got[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return float64(prev[len(got)]) / float64(len(want))
}
