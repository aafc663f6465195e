// Package tone is the deterministic "speech" the protocol stand-ins recognise. Each word of
// a small vocabulary is a pure tone of its own frequency; words are separated by short
// silences and utterances by long ones. A stand-in decodes tones back into words, so audio
// that is lost, duplicated, reordered or mis-encoded (wrong sample format or rate) shows up
// as wrong text: replay correctness becomes testable without a real recogniser.
//
// This is a test stand-in, not speech recognition.
package tone

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Vocabulary lists the words tones can carry; word i is the tone BaseHz + i*StepHz.
var vocabulary = [...]string{
	"hello", "water", "street", "light", "broken", "noise", "road", "report",
	"please", "help", "bus", "park", "tree", "police", "thank", "you",
}

// Tone frequencies: all below 3.4 kHz so that they survive telephone band and resampling.
const (
	BaseHz = 400.0
	StepHz = 180.0
)

// Timing of synthesised speech and the decoder's endpointing.
const (
	WordDur      = 160 * time.Millisecond
	WordGap      = 60 * time.Millisecond
	UtteranceGap = 800 * time.Millisecond
	// Endpoint is the silence after a word that ends an utterance in the decoder.
	Endpoint  = 400 * time.Millisecond
	amplitude = 8000
	block     = 10 * time.Millisecond // decoder analysis block
	minBlocks = 5                     // a word needs ≥ 50 ms of its tone
)

// Words returns the vocabulary.
func Words() []string { return append([]string(nil), vocabulary[:]...) }

// Freq returns the tone of a word, or false when it is not in the vocabulary.
func Freq(word string) (float64, bool) {
	for i, w := range vocabulary {
		if w == word {
			return BaseHz + float64(i)*StepHz, true
		}
	}
	return 0, false
}

// Synth renders utterances at rate: lead silence, then each utterance's words separated by
// WordGap, utterances separated by UtteranceGap, then tail silence. Unknown words are an error.
func Synth(rate int, lead, tail time.Duration, utterances ...[]string) ([]int16, error) {
	var out []int16
	silence := func(d time.Duration) { out = append(out, make([]int16, samples(d, rate))...) }
	silence(lead)
	for ui, u := range utterances {
		if ui > 0 {
			silence(UtteranceGap)
		}
		for wi, w := range u {
			f, ok := Freq(w)
			if !ok {
				return nil, fmt.Errorf("tone: %q is not in the vocabulary %v", w, vocabulary)
			}
			if wi > 0 {
				silence(WordGap)
			}
			n := samples(WordDur, rate)
			for i := range n {
				// 5 ms raised-cosine ramps keep clicks (broadband energy) out of the spectrum
				env := 1.0
				ramp := samples(5*time.Millisecond, rate)
				if i < ramp {
					env = 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(ramp))
				} else if n-1-i < ramp {
					env = 0.5 - 0.5*math.Cos(math.Pi*float64(n-1-i)/float64(ramp))
				}
				out = append(out, int16(amplitude*env*math.Sin(2*math.Pi*f*float64(i)/float64(rate))))
			}
		}
	}
	silence(tail)
	return out, nil
}

func samples(d time.Duration, rate int) int { return int(d * time.Duration(rate) / time.Second) }

// Word is one decoded word with its times relative to the decoder's first sample.
type Word struct {
	Text       string
	Start, End time.Duration
}

// Event is what the decoder reports after each block: a word was added to the current
// utterance (Partial), or the utterance ended (Final).
type Event struct {
	Final bool
	Words []Word // the utterance so far
}

// Text joins the words with spaces.
func (e Event) Text() string { return Join(e.Words) }

// Join joins word texts with spaces.
func Join(ws []Word) string {
	s := make([]string, len(ws))
	for i, w := range ws {
		s[i] = w.Text
	}
	return strings.Join(s, " ")
}

// Decoder turns a stream of samples back into words. Not safe for concurrent use.
type Decoder struct {
	rate    int
	bs      int // samples per block
	buf     []int16
	pos     int // samples consumed
	cur     int // word index of the current run, -1 none
	run     int // blocks in the current run
	runFrom int // sample position where the run began
	silent  int // silent blocks since the last word
	words   []Word
	coeff   []float64
}

// NewDecoder returns a decoder for audio at rate.
func NewDecoder(rate int) *Decoder {
	d := &Decoder{rate: rate, bs: samples(block, rate), cur: -1}
	for i := range vocabulary {
		f := BaseHz + float64(i)*StepHz
		d.coeff = append(d.coeff, 2*math.Cos(2*math.Pi*f/float64(rate)))
	}
	return d
}

// Feed decodes samples and returns the events they complete.
func (d *Decoder) Feed(s []int16) []Event {
	d.buf = append(d.buf, s...)
	var evs []Event
	for len(d.buf) >= d.bs {
		if ev, ok := d.block(d.buf[:d.bs]); ok {
			evs = append(evs, ev)
		}
		d.buf = d.buf[d.bs:]
		d.pos += d.bs
	}
	return evs
}

// Flush ends the stream: a word in progress is closed and the utterance, if any, is final.
func (d *Decoder) Flush() []Event {
	var evs []Event
	if ev, ok := d.endRun(); ok {
		evs = append(evs, ev)
	}
	if len(d.words) > 0 {
		evs = append(evs, Event{Final: true, Words: d.words})
		d.words = nil
	}
	return evs
}

func (d *Decoder) block(b []int16) (Event, bool) {
	w := d.classify(b)
	if w == d.cur && w >= 0 {
		d.run++
		return Event{}, false
	}
	ev, ok := d.endRun()
	if w >= 0 {
		d.cur, d.run, d.runFrom, d.silent = w, 1, d.pos, 0
		return ev, ok
	}
	d.silent++
	if !ok && len(d.words) > 0 && d.silent*int(block) >= int(Endpoint) {
		ev, ok = Event{Final: true, Words: d.words}, true
		d.words = nil
	}
	return ev, ok
}

// endRun closes the current tone run; a run long enough is a word (a partial event).
func (d *Decoder) endRun() (Event, bool) {
	w, n := d.cur, d.run
	d.cur, d.run = -1, 0
	if w < 0 || n < minBlocks {
		return Event{}, false
	}
	d.words = append(d.words, Word{
		Text:  vocabulary[w],
		Start: time.Duration(d.runFrom) * time.Second / time.Duration(d.rate),
		End:   time.Duration(d.pos) * time.Second / time.Duration(d.rate),
	})
	return Event{Words: append([]Word(nil), d.words...)}, true
}

// classify returns the word whose tone dominates the block, or -1 for silence or noise.
func (d *Decoder) classify(b []int16) int {
	var energy float64
	for _, v := range b {
		energy += float64(v) * float64(v)
	}
	n := float64(len(b))
	if energy/n < 300*300 {
		return -1
	}
	best, bestP := -1, 0.0
	for i, c := range d.coeff {
		var s1, s2 float64
		for _, v := range b {
			s0 := float64(v) + c*s1 - s2
			s2, s1 = s1, s0
		}
		p := s1*s1 + s2*s2 - c*s1*s2
		if p > bestP {
			best, bestP = i, p
		}
	}
	// a pure tone puts about n/2·energy into its Goertzel bin; noise spreads it thin
	if bestP < 0.25*n/2*energy {
		return -1
	}
	return best
}
