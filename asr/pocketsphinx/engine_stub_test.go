//go:build !cgo || nopocketsphinx

package pocketsphinx

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
)

// Built without the C libraries the engine must say so, never produce an empty transcript.
func TestUnavailableWithoutCgo(t *testing.T) {
	require.False(t, Available())
	e, err := New(Config{})
	require.NoError(t, err)
	require.Equal(t, Name, e.Name())
	_, err = e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.ErrorIs(t, err, asr.ErrUnavailable)
	require.ErrorContains(t, err, "cgo")
	_, err = EstimateCMN(Config{}, nil)
	require.ErrorIs(t, err, asr.ErrUnavailable)
	require.NoError(t, e.Close())
}
