package asr_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/internal/resample"
	"lianxin/asr/pocketsphinx"
	"lianxin/media"
)

func wavBytes(rate, chans, bits int, pcm []int16) []byte {
	var data bytes.Buffer
	_ = binary.Write(&data, binary.LittleEndian, pcm)
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + data.Len()))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(chans))
	w(uint32(rate))
	w(uint32(rate * chans * bits / 8))
	w(uint16(chans * bits / 8))
	w(uint16(bits))
	b.WriteString("data")
	w(uint32(data.Len()))
	b.Write(data.Bytes())
	return b.Bytes()
}

func realEngine(t *testing.T) asr.Engine {
	t.Helper()
	if !pocketsphinx.Available() {
		t.Skip("built without the embedded recogniser (cgo)")
	}
	e, err := pocketsphinx.New(pocketsphinx.Config{MaxStreams: 1})
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

func finals(t *testing.T, e asr.Engine, path string) (string, []asr.Result) {
	t.Helper()
	var rs []asr.Result
	require.NoError(t, asr.TranscribeFile(context.Background(), e, path, asr.StreamConfig{Partials: true}, func(r asr.Result) { rs = append(rs, r) }))
	var parts []string
	for _, r := range rs {
		if r.Final {
			parts = append(parts, r.Text)
		}
	}
	return strings.Join(parts, " "), rs
}

func TestTranscribeTelephoneMuLaw(t *testing.T) {
	e := realEngine(t)
	text, rs := finals(t, e, "../testdata/asr/wav/hl-17.wav")
	require.Contains(t, text, "sewer")
	require.Contains(t, text, "street")
	require.False(t, rs[0].Final, "partials come first")
}

// A 22.05 kHz file goes through the resampler to 16 kHz and is recognised as well as the
// 16 kHz original.
func TestTranscribeResamplesOddRates(t *testing.T) {
	e := realEngine(t)
	want, _ := finals(t, e, "../testdata/asr/wav16/hl-01.wav")
	f, err := os.Open("../testdata/asr/wav16/hl-01.wav")
	require.NoError(t, err)
	raw, err := os.ReadFile(f.Name())
	f.Close()
	require.NoError(t, err)
	pcm := make([]int16, (len(raw)-44)/2)
	require.NoError(t, binary.Read(bytes.NewReader(raw[44:]), binary.LittleEndian, pcm))
	rs, err := resample.New(16000, 22050)
	require.NoError(t, err)
	up := append(rs.Process(pcm), rs.Flush()...)
	path := filepath.Join(t.TempDir(), "odd.wav")
	require.NoError(t, os.WriteFile(path, wavBytes(22050, 1, 16, up), 0o644))
	got, _ := finals(t, e, path)
	require.Contains(t, got, "twelve bus")
	require.Equal(t, strings.Fields(want)[:4], strings.Fields(got)[:4])
}

func TestTranscribeBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	e := &countingEngine{}
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.wav"):                              "no such file",
		write("text.wav", []byte("hello, not audio")):                  "not a WAV",
		write("stereo.wav", wavBytes(8000, 2, 16, make([]int16, 320))): "2 channels",
		write("8bit.wav", wavBytes(8000, 1, 8, make([]int16, 160))):    "8-bit",
	} {
		err := asr.TranscribeFile(context.Background(), e, path, asr.StreamConfig{}, func(asr.Result) {})
		require.ErrorContains(t, err, want)
	}
	require.Zero(t, e.streams, "no stream opened for a bad file")
}

// countingEngine is a stand-in engine without back-pressure (no WriteWait), to check the
// real-time fallback: every frame arrives, in order, at the requested rate.
type countingEngine struct {
	mu      sync.Mutex
	streams int
	frames  []media.Frame
}

func (c *countingEngine) Name() string { return "counting" }
func (c *countingEngine) Close() error { return nil }
func (c *countingEngine) NewStream(context.Context, asr.StreamConfig) (asr.Stream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.streams++
	return &countingStream{e: c, res: make(chan asr.Result, 1)}, nil
}

type countingStream struct {
	e    *countingEngine
	res  chan asr.Result
	once sync.Once
}

func (s *countingStream) Write(f media.Frame) error {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	s.e.frames = append(s.e.frames, f)
	return nil
}
func (s *countingStream) Results() <-chan asr.Result { return s.res }
func (s *countingStream) Close() error {
	s.once.Do(func() {
		s.res <- asr.Result{Final: true, Text: "done"}
		close(s.res)
	})
	return nil
}

func TestTranscribeRealTimeFallback(t *testing.T) {
	pcm := make([]int16, 8000/5) // 200 ms at 8 kHz
	path := filepath.Join(t.TempDir(), "short.wav")
	require.NoError(t, os.WriteFile(path, wavBytes(8000, 1, 16, pcm), 0o644))
	e := &countingEngine{}
	var got []asr.Result
	err := asr.TranscribeFile(context.Background(), e, path, asr.StreamConfig{SampleRate: 16000}, func(r asr.Result) { got = append(got, r) })
	require.NoError(t, err)
	require.Len(t, got, 1)
	total := 0
	for i, f := range e.frames {
		require.Equal(t, 16000, f.Rate)
		require.Equal(t, int64(i)*20, f.Offset.Milliseconds())
		total += len(f.Samples)
	}
	// 200 ms at 16 kHz, plus at most the resampler's flushed tail
	require.GreaterOrEqual(t, total, 3200)
	require.LessOrEqual(t, total, 3200+64)
}

func TestTranscribeCancelled(t *testing.T) {
	e := realEngine(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("operator gave up")
	cancel(cause)
	err := asr.TranscribeFile(ctx, e, "../testdata/asr/wav16/hl-02.wav", asr.StreamConfig{}, func(asr.Result) {})
	require.Error(t, err)
}
