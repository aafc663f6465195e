// Package segment finds speech in call audio and cuts it into utterances. Its energy and
// zero-crossing VAD, with hangover, serves two ends: a Gate that keeps long silences away
// from engines that bill for (or burn CPU on) them, and a Segmenter that turns an
// utterance-at-a-time engine (an HTTP transcription endpoint) into an asr.Stream.
//
// All timing comes from frame offsets, never from the wall clock, so the same audio always
// segments the same way however fast it is fed.
package segment

import (
	"math"
	"time"

	"lianxin/media"
)

// VADConfig tunes the detector. Zero fields take the defaults noted.
type VADConfig struct {
	// ThresholdDB is the absolute level (dBFS) a frame must reach to count as speech (-42).
	ThresholdDB float64 `yaml:"threshold_db"`
	// MarginDB: a frame must also be this far above the tracked noise floor (9).
	MarginDB float64 `yaml:"margin_db"`
	// ZCR: a frame up to 10 dB under the threshold still counts as speech when its
	// zero-crossing rate is at least this (0.3): unvoiced fricatives are quiet but busy.
	ZCR float64 `yaml:"zcr"`
	// Onset is the speech needed before an utterance starts (60 ms).
	Onset time.Duration `yaml:"onset"`
	// Hangover is the silence that ends an utterance (500 ms).
	Hangover time.Duration `yaml:"hangover"`
}

func (c VADConfig) withDefaults() VADConfig {
	if c.ThresholdDB == 0 {
		c.ThresholdDB = -42
	}
	if c.MarginDB == 0 {
		c.MarginDB = 9
	}
	if c.ZCR == 0 {
		c.ZCR = 0.3
	}
	if c.Onset == 0 {
		c.Onset = 60 * time.Millisecond
	}
	if c.Hangover == 0 {
		c.Hangover = 500 * time.Millisecond
	}
	return c
}

// Transition is what a frame changed.
type Transition int

// Transitions reported by VAD.Process.
const (
	None        Transition = iota
	SpeechStart            // the utterance began at VAD.SpeechStart()
	SpeechEnd              // the utterance ended at VAD.SpeechEnd() (hangover elapsed)
)

// VAD is a frame-by-frame speech detector. Not safe for concurrent use.
type VAD struct {
	cfg        VADConfig
	floor      float64 // noise floor estimate, dBFS
	inSpeech   bool
	voicedFrom time.Duration // start of the current run of speech frames, -1 none
	lastVoiced time.Duration // end of the last speech frame
	start, end time.Duration
}

// NewVAD returns a detector.
func NewVAD(cfg VADConfig) *VAD {
	return &VAD{cfg: cfg.withDefaults(), floor: -70, voicedFrom: -1}
}

// InSpeech reports whether an utterance is in progress.
func (v *VAD) InSpeech() bool { return v.inSpeech }

// SpeechStart is the start of the current (or last) utterance.
func (v *VAD) SpeechStart() time.Duration { return v.start }

// SpeechEnd is the end of the last speech frame of the last finished utterance.
func (v *VAD) SpeechEnd() time.Duration { return v.end }

// Process classifies a frame and returns the transition it caused.
func (v *VAD) Process(f media.Frame) Transition {
	db, zcr := Level(f.Samples)
	end := f.Offset + f.Duration()
	voiced := db >= v.cfg.ThresholdDB && db >= v.floor+v.cfg.MarginDB ||
		db >= v.cfg.ThresholdDB-10 && zcr >= v.cfg.ZCR && db >= v.floor+v.cfg.MarginDB
	if !voiced {
		// the floor follows quiet frames quickly and loud ones slowly
		a := 0.05
		if db < v.floor {
			a = 0.3
		}
		v.floor += a * (db - v.floor)
		v.voicedFrom = -1
		if v.inSpeech && end-v.lastVoiced >= v.cfg.Hangover {
			v.inSpeech = false
			v.end = v.lastVoiced
			return SpeechEnd
		}
		return None
	}
	// a steady noise above the threshold would otherwise read as endless speech: let the
	// floor creep up under it (time constant ~10 s at 20 ms frames)
	v.floor += 0.002 * (db - v.floor)
	if v.voicedFrom < 0 {
		v.voicedFrom = f.Offset
	}
	v.lastVoiced = end
	if !v.inSpeech && end-v.voicedFrom >= v.cfg.Onset {
		v.inSpeech = true
		v.start = v.voicedFrom
		return SpeechStart
	}
	return None
}

// Level returns a frame's RMS level in dBFS (-100 for digital silence) and its zero-crossing
// rate (crossings per sample, 0..1).
func Level(s []int16) (db, zcr float64) {
	if len(s) == 0 {
		return -100, 0
	}
	var e float64
	crossings := 0
	for i, x := range s {
		e += float64(x) * float64(x)
		if i > 0 && (x >= 0) != (s[i-1] >= 0) {
			crossings++
		}
	}
	rms := math.Sqrt(e / float64(len(s)))
	if rms < 1 {
		return -100, 0
	}
	return 20 * math.Log10(rms/32768), float64(crossings) / float64(len(s))
}
