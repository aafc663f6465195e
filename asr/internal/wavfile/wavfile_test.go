package wavfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// header builds a canonical 44-byte WAV header followed by data.
func header(format, chans, bits uint16, rate uint32, data []byte) []byte {
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + len(data)))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(format)
	w(chans)
	w(rate)
	w(rate * uint32(chans) * uint32(bits/8))
	w(chans * bits / 8)
	w(bits)
	b.WriteString("data")
	w(uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

func readAll(t *testing.T, r *Reader) []int16 {
	var out []int16
	buf := make([]int16, 7) // odd size: exercises partial reads
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
	}
}

func TestPCM16(t *testing.T) {
	pcm := []int16{0, 1, -1, 32767, -32768, 1234, -4321, 5, 6, 7}
	var data bytes.Buffer
	_ = binary.Write(&data, binary.LittleEndian, pcm)
	r, err := NewReader(bytes.NewReader(header(1, 1, 16, 22050, data.Bytes())))
	require.NoError(t, err)
	require.Equal(t, 22050, r.Rate)
	require.Equal(t, "WAV(pcm16, 22050 Hz)", r.String())
	require.Equal(t, pcm, readAll(t, r))
}

func TestG711(t *testing.T) {
	// µ-law 0xFF and A-law 0xD5 are (near) zero; 0x80 / 0xAA are large positives
	r, err := NewReader(bytes.NewReader(header(7, 1, 8, 8000, []byte{0xFF, 0x80, 0x00})))
	require.NoError(t, err)
	got := readAll(t, r)
	require.Equal(t, int16(0), got[0])
	require.Greater(t, got[1], int16(30000))
	require.Less(t, got[2], int16(-30000))
	r, err = NewReader(bytes.NewReader(header(6, 1, 8, 8000, []byte{0xD5, 0xAA})))
	require.NoError(t, err)
	got = readAll(t, r)
	require.InDelta(t, 0, got[0], 16)
	require.Greater(t, got[1], int16(30000))
}

func TestFixtures(t *testing.T) {
	for _, p := range []string{"../../../testdata/asr/wav/hl-01.wav", "../../../testdata/asr/wav16/hl-01.wav"} {
		f, err := os.Open(p)
		require.NoError(t, err)
		r, err := NewReader(f)
		require.NoError(t, err)
		n := len(readAll(t, r))
		require.InDelta(t, 4.7*float64(r.Rate), n, 0.2*float64(r.Rate), filepath.Base(p))
		f.Close()
	}
}

func TestRejects(t *testing.T) {
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"stereo":    {header(1, 2, 16, 8000, make([]byte, 8)), "2 channels"},
		"8-bit":     {header(1, 1, 8, 8000, make([]byte, 8)), "8-bit PCM"},
		"float":     {header(3, 1, 32, 8000, make([]byte, 8)), "floating-point"},
		"gsm":       {header(49, 1, 8, 8000, make([]byte, 8)), "format code 49"},
		"ext-short": {header(0xFFFE, 1, 16, 8000, make([]byte, 8)), "format code 65534"},
		"data1st":   {[]byte("RIFF\x20\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd"), "data before fmt"},
		"hugeLIST":  {[]byte("RIFF\x20\x00\x00\x00WAVELIST\xff\xff\xff\x7fabcd"), "cut short"},
		"hugefmt":   {[]byte("RIFF\x20\x00\x00\x00WAVEfmt \xff\xff\xff\x7fabcd"), "fmt chunk of"},
		"rate":      {header(1, 1, 16, 1000, make([]byte, 8)), "sample rate"},
		"empty":     {header(1, 1, 16, 8000, nil), "no audio"},
		"garbage":   {[]byte("this is not a wav file at all, just text"), "WAV"},
		"nothing":   {nil, "WAV"},
		"truncRIF":  {[]byte("RIFF\x10\x00\x00\x00WAVE"), "WAV"},
	} {
		_, err := NewReader(bytes.NewReader(c.b))
		require.ErrorContains(t, err, c.want, name)
	}
}

func TestTruncatedData(t *testing.T) {
	b := header(1, 1, 16, 8000, make([]byte, 100))
	r, err := NewReader(bytes.NewReader(b[:44+31])) // data chunk says 100 bytes, 31 present
	require.NoError(t, err)
	require.Len(t, readAll(t, r), 15)
}

func FuzzReader(f *testing.F) {
	f.Add(header(1, 1, 16, 16000, make([]byte, 64)))
	f.Add(header(7, 1, 8, 8000, []byte{1, 2, 3}))
	f.Add(header(6, 1, 8, 8000, []byte{1, 2, 3}))
	f.Add(header(1, 2, 16, 8000, make([]byte, 8)))
	if b, err := os.ReadFile("../../../testdata/asr/wav/hl-05.wav"); err == nil {
		f.Add(b[:min(len(b), 2000)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		buf := make([]int16, 160)
		for range 10000 {
			if _, err := r.Read(buf); err != nil {
				return
			}
		}
	})
}
