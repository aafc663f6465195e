package main

import (
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
	_, rc, err := networkEngine("mandarin", engineSection(t, `
type: funasr
url: ws://127.0.0.1:10095
resilient: {ring: 20s, attempts: 3, max_session: 1h}
`))
	require.NoError(t, err)
	require.Equal(t, 20*time.Second, rc.Ring)
	require.Equal(t, 3, rc.Attempts)
	require.Equal(t, time.Hour, rc.MaxSession)

	_, _, err = networkEngine("mandarin", engineSection(t, "{type: funasr, url: 'ws://127.0.0.1:10095', resilient: {rign: 20s}}"))
	require.ErrorContains(t, err, "rign")
	_, _, err = networkEngine("mandarin", engineSection(t, "{type: funasr, url: 'ws://127.0.0.1:10095', resilient: {max_session: soon}}"))
	require.Error(t, err)
	_, _, err = networkEngine("x", engineSection(t, "{type: nosuch}"))
	require.ErrorContains(t, err, "unknown type")
}
