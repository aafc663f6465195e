package config

import (
	"fmt"
	"math"
	"os"

	"github.com/go-audio/wav"

	"lianxin/callflow"
)

// SurveyPrompts loads the survey's own prompts, when set, into the flow's config.
func (c Config) SurveyPrompts(fc *callflow.Config) error {
	for _, p := range []struct {
		path string
		into *[]int16
	}{{c.Survey.Question, &fc.SurveyQuestion}, {c.Survey.Thanks, &fc.SurveyThanks}} {
		if p.path == "" {
			continue
		}
		pcm, err := loadPCM8k(p.path)
		if err != nil {
			return fmt.Errorf("survey: %w", err)
		}
		*p.into = pcm
	}
	return nil
}

// LoadHoldMusic reads the queue announcement (8 kHz mono PCM16 WAV); with no file it
// makes the Chinese ringback tone (450 Hz, 1 s on, 4 s off) so a queued caller hears
// ringing, as on the public network.
func LoadHoldMusic(path string) ([]int16, error) {
	if path != "" {
		pcm, err := loadPCM8k(path)
		if err != nil {
			return nil, fmt.Errorf("hold music: %w", err)
		}
		return pcm, nil
	}
	pcm := make([]int16, 5*8000)
	for i := 0; i < 8000; i++ {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*450*float64(i)/8000))
	}
	return pcm, nil
}

// loadPCM8k reads an 8 kHz mono PCM16 WAV (an announcement or a prompt).
func loadPCM8k(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := wav.NewDecoder(f)
	buf, err := d.FullPCMBuffer()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if d.SampleRate != 8000 || d.NumChans != 1 || d.BitDepth != 16 {
		return nil, fmt.Errorf("%s: want 8 kHz mono 16-bit PCM, got %d Hz %d ch %d-bit (convert with: sox IN -r 8000 -c 1 -b 16 OUT.wav)",
			path, d.SampleRate, d.NumChans, d.BitDepth)
	}
	pcm := make([]int16, len(buf.Data))
	for i, v := range buf.Data {
		pcm[i] = int16(v)
	}
	if len(pcm) == 0 {
		return nil, fmt.Errorf("%s: no audio", path)
	}
	return pcm, nil
}
