package media

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-audio/wav"
	"github.com/stretchr/testify/require"
)

// readStereo reads a recording back with go-audio/wav and splits its channels.
func readStereo(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	d := wav.NewDecoder(f)
	require.True(t, d.IsValidFile(), "a valid WAV")
	buf, err := d.FullPCMBuffer()
	require.NoError(t, err)
	require.Equal(t, 2, buf.Format.NumChannels)
	require.Equal(t, 8000, buf.Format.SampleRate)
	for i := 0; i+1 < len(buf.Data); i += 2 {
		left = append(left, int16(buf.Data[i]))
		right = append(right, int16(buf.Data[i+1]))
	}
	return left, right
}

func firstNonZero(s []int16) int {
	for i, v := range s {
		if v != 0 {
			return i
		}
	}
	return -1
}

// writeCall feeds a recorder like two taps would: the caller from 0 to `until`, the agent
// from 400 ms (its leg answered later), each starting a tone at 1 s; the caller's frames
// between 1.6 s and 1.8 s were dropped by a full queue.
func writeCall(t *testing.T, r *Recorder, until time.Duration) {
	t.Helper()
	frame := func(off time.Duration) Frame {
		s := make([]int16, FrameSamples)
		if off >= time.Second {
			copy(s, tone(440, SampleRate, FrameSamples))
		}
		return Frame{Samples: s, Rate: SampleRate, Offset: off}
	}
	for off := time.Duration(0); off < until; off += FrameDuration {
		if off < 1600*time.Millisecond || off >= 1800*time.Millisecond {
			require.NoError(t, r.Caller().WriteFrame(frame(off)))
		}
		if off >= 400*time.Millisecond {
			require.NoError(t, r.Agent().WriteFrame(frame(off)))
		}
	}
}

func TestRecorderSurvivesCrashUpToLastFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recordings", "call-1.wav")
	r, err := NewRecorder(path, RecorderOptions{FlushInterval: time.Second})
	require.NoError(t, err)
	writeCall(t, r, 2500*time.Millisecond)
	// The process "dies" here: no Close. Another reader opens the file as it is on disk.
	left, right := readStereo(t, path)
	require.Len(t, left, 2*SampleRate, "everything up to the flush at 2 s is playable")
	require.Equal(t, SampleRate+1, firstNonZero(left), "the tone starts at 1 s (its first sample is 0)")
	require.Equal(t, firstNonZero(left), firstNonZero(right), "channels aligned")
	require.Equal(t, make([]int16, 200*8), left[1600*8:1800*8], "dropped frames are silence")
	if soxi, err := exec.LookPath("soxi"); err == nil {
		out, err := exec.Command(soxi, "-D", path).Output()
		require.NoError(t, err)
		require.Equal(t, "2.000000", strings.TrimSpace(string(out)))
	} else {
		t.Log("soxi not installed; checked with go-audio/wav only")
	}
	require.NoError(t, r.Close())
}

func TestRecorderCloseFinalises(t *testing.T) {
	path := filepath.Join(t.TempDir(), "call-2.wav")
	r, err := NewRecorder(path, RecorderOptions{})
	require.NoError(t, err)
	writeCall(t, r, 2500*time.Millisecond)
	// The agent's last frame never came: Close pads it.
	require.NoError(t, r.Caller().WriteFrame(Frame{Samples: make([]int16, FrameSamples), Rate: SampleRate, Offset: 2500 * time.Millisecond}))
	require.NoError(t, r.Close())
	require.NoError(t, r.Close())
	require.ErrorIs(t, r.Caller().WriteFrame(numberedFrame(1)), ErrClosed)
	left, right := readStereo(t, path)
	require.Len(t, left, 2520*8)
	require.Equal(t, make([]int16, 400*8), right[:400*8], "the agent's channel is silent before it answered")
	require.Equal(t, firstNonZero(left), firstNonZero(right))
	require.Equal(t, "recorder(caller)", r.Caller().String())
}

func TestRecorderPadsALaggingChannel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "call-3.wav")
	r, err := NewRecorder(path, RecorderOptions{MaxSkew: 200 * time.Millisecond, FlushInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	for i := range 50 { // one second of caller, nothing from the agent's consumer
		require.NoError(t, r.Caller().WriteFrame(numberedFrame(i)))
	}
	require.Equal(t, 800*time.Millisecond, r.Duration(), "the agent is padded once it lags by MaxSkew")
	require.Error(t, r.Caller().WriteFrame(Frame{Samples: make([]int16, 320), Rate: 16000}))
	require.NoError(t, r.Close())
}

// recorderChildEnv makes the test binary a recorder that gets killed mid-call.
const recorderChildEnv = "MEDIA_RECORDER_CHILD"

// TestRecorderChild is the child process of TestRecorderSurvivesKill.
func TestRecorderChild(t *testing.T) {
	path := os.Getenv(recorderChildEnv)
	if path == "" {
		t.Skip("helper process of TestRecorderSurvivesKill")
	}
	r, err := NewRecorder(path, RecorderOptions{FlushInterval: time.Second})
	require.NoError(t, err)
	writeCall(t, r, 2500*time.Millisecond)
	fmt.Println("written")
	// Wait for SIGKILL; end anyway if the parent goes away (its stdin pipe closes).
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func TestRecorderSurvivesKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "killed.wav")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecorderChild$")
	cmd.Env = append(os.Environ(), recorderChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	defer stdin.Close()
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "written\n", line)
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()

	left, right := readStereo(t, path)
	require.Len(t, left, 2*SampleRate, "playable up to the last flush")
	require.Equal(t, firstNonZero(left), firstNonZero(right), "channels aligned")
}
