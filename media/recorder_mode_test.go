package media

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A recording, and the folder made for it, are readable by the gateway's user only: they
// hold citizens' voices.
func TestRecordingIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "recordings")
	r, err := NewRecorder(filepath.Join(dir, "call.wav"), RecorderOptions{})
	require.NoError(t, err)
	require.NoError(t, r.Close())
	for p, want := range map[string]os.FileMode{dir: 0o700, r.Path(): 0o600} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, want, fi.Mode().Perm(), p)
	}
}
