package testpeer

import (
	"os/exec"
	"testing"
)

// FFmpeg runs ffmpeg with args (quiet, never prompting, overwriting its outputs) and fails
// the test with its output when it fails. Without ffmpeg the test stops as Require says.
func FFmpeg(t testing.TB, args ...string) {
	t.Helper()
	Require(t, "ffmpeg")
	base := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}
	out, err := exec.Command("ffmpeg", append(base, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}
