package engines

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func engineSection(t *testing.T, src string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(src), &m))
	return m
}

// An engine's resilient block reaches its wrapper; a misspelt key is refused rather than
// silently leaving the default in place.
func TestEngineResilientBlock(t *testing.T) {
	_, rc, err := Network("mandarin", engineSection(t, `
type: funasr
url: ws://127.0.0.1:10095
resilient: {ring: 20s, attempts: 3, max_session: 1h}
`))
	require.NoError(t, err)
	require.Equal(t, 20*time.Second, rc.Ring)
	require.Equal(t, 3, rc.Attempts)
	require.Equal(t, time.Hour, rc.MaxSession)

	_, _, err = Network("mandarin", engineSection(t, "{type: funasr, url: 'ws://127.0.0.1:10095', resilient: {rign: 20s}}"))
	require.ErrorContains(t, err, "rign")
	_, _, err = Network("mandarin", engineSection(t, "{type: funasr, url: 'ws://127.0.0.1:10095', resilient: {max_session: soon}}"))
	require.Error(t, err)
	_, _, err = Network("x", engineSection(t, "{type: nosuch}"))
	require.ErrorContains(t, err, "unknown type")
}

// A recogniser name that names nothing is refused at start with what can be chosen.
func TestUnknownRecogniserListsTheChoices(t *testing.T) {
	cfg := Config{Default: "nosuch"}
	err := checkEngineNames(cfg, nil)
	require.ErrorContains(t, err, `asr.default: unknown recogniser "nosuch"`)
	require.ErrorContains(t, err, "pocketsphinx (the embedded engine), none, or a network engine (none are configured")

	cfg.Default = "none"
	cfg.Engines = map[string]map[string]any{"mandarin": {"type": "funasr"}, "cantonese": {"type": "funasr"}}
	lines := []Line{{Number: "12366", ASR: "mandrin"}}
	require.ErrorContains(t, checkEngineNames(cfg, lines), `lines[12366].asr: unknown recogniser "mandrin"`)
	require.ErrorContains(t, checkEngineNames(cfg, lines), "configured under asr.engines: cantonese, mandarin")
	lines[0].ASR = "mandarin"
	require.NoError(t, checkEngineNames(cfg, lines))
}

// An engine that cannot be reached is reported failing at once, and working again once it
// answers: the wallboard and /healthz see it before any call needs it.
func TestEngineWatchReportsReachability(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // down at start-up
	cfg := Config{Engines: map[string]map[string]any{"mandarin": {"type": "funasr", "url": "ws://" + addr}}}
	var mu sync.Mutex
	var reports []string
	w := NewWatch(cfg, 20*time.Millisecond, func(c string, err error) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, fmt.Sprintf("%s %v", c, err != nil))
	}, nil)
	defer w.Close()
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(reports) == 0 {
			return ""
		}
		return reports[len(reports)-1]
	}
	require.Eventually(t, func() bool { return last() == "asr mandarin true" }, 5*time.Second, 10*time.Millisecond)
	ln, err = net.Listen("tcp", addr)
	require.NoError(t, err)
	defer ln.Close()
	require.Eventually(t, func() bool { return last() == "asr mandarin false" }, 5*time.Second, 10*time.Millisecond,
		"reachable again")
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "idempotent")
}
