package config

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-audio/wav"

	"lianxin/callflow"
)

// MediaIP is the address the RTP legs bind and the SDP announces: media.ip, else the host
// of the first sip listen address.
func (c Config) MediaIP() (netip.Addr, error) {
	// sip listen may name more addresses after commas; the first is the gateway's own.
	host, _, err := net.SplitHostPort(strings.TrimSpace(strings.Split(c.SIP.Listen, ",")[0]))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("sip listen %q: %w", c.SIP.Listen, err)
	}
	ipStr := c.Media.IP
	if ipStr == "" {
		ipStr = host
	}
	ip, err := netip.ParseAddr(ipStr)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("media ip %q: %w", ipStr, err)
	}
	return ip, nil
}

// ForFlow is the call flow's own config, less the media IP and the port allocator that the
// wiring owns: ring and survey timing, the queue announcement and survey prompts,
// recording, each line's recognition language, and RTCP with the call-quality thresholds.
func (c Config) ForFlow() (callflow.Config, error) {
	hold, err := loadHoldMusic(c.ACD.HoldMusic)
	if err != nil {
		return callflow.Config{}, err
	}
	fc := callflow.Config{RingTimeout: c.ACD.RingTimeout, ProbeInterval: c.ACD.ProbeInterval, Survey: c.surveyed, SurveyTimeout: c.Survey.Timeout, InactivityTimeout: c.Media.InactivityTimeout,
		Jitter: c.Media.Jitter, HoldMusic: hold, Language: c.lineLanguage, Hotwords: c.ASR.Hotwords, G722: c.g722(),
		RTCPInterval: c.Media.RTCPInterval, PoorQuality: callflow.QualityThresholds{MinMOS: c.Media.PoorMOS, MaxLoss: c.Media.PoorLoss}}
	if c.recording() {
		fc.RecordDir = filepath.Join(c.DataDir, "recordings")
	}
	if err := c.surveyPrompts(&fc); err != nil {
		return callflow.Config{}, err
	}
	return fc, nil
}

// surveyPrompts loads the survey's own prompts, when set, into the flow's config.
func (c Config) surveyPrompts(fc *callflow.Config) error {
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

// loadHoldMusic reads the queue announcement (8 kHz mono PCM16 WAV); with no file it
// makes the Chinese ringback tone (450 Hz, 1 s on, 4 s off) so a queued caller hears
// ringing, as on the public network.
func loadHoldMusic(path string) ([]int16, error) {
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
