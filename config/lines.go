package config

import "lianxin/asr/engines"

// lineSeats is the ACD's view of the skill lines.
func (c Config) lineSeats() map[string][]string {
	out := map[string][]string{}
	for _, l := range c.Lines {
		if len(l.Seats) > 0 {
			out[l.Number] = l.Seats
		}
	}
	return out
}

// lineLanguage is the recognition language of a line: its own, else the default.
func (c Config) lineLanguage(line string) string {
	for _, l := range c.Lines {
		if l.Number == line && l.Language != "" {
			return l.Language
		}
	}
	return c.ASR.Language
}

// LiveASR reports whether calls get live transcription.
func (c Config) LiveASR() bool {
	if c.ASR.Default != "none" && c.ASR.Default != "" {
		return true
	}
	for _, l := range c.Lines {
		if l.ASR != "" && l.ASR != "none" {
			return true
		}
	}
	return false
}

// ASRLines are the lines' own choices of recogniser.
func (c Config) ASRLines() []engines.Line {
	out := make([]engines.Line, len(c.Lines))
	for i, l := range c.Lines {
		out[i] = engines.Line{Number: l.Number, ASR: l.ASR}
	}
	return out
}
