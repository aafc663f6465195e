package media

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCodecRoundTripKeepsSignal(t *testing.T) {
	sig := testSignal(8000)
	for _, c := range []Codec{PCMU(), PCMA()} { // G.722 has state: wideband_test.go
		t.Run(c.Name, func(t *testing.T) {
			enc := make([]byte, len(sig))
			require.Equal(t, len(sig), c.Encode(enc, sig))
			dec := make([]int16, len(enc))
			require.Equal(t, len(enc), c.Decode(dec, enc))
			require.GreaterOrEqual(t, correlation(sig, dec, 0), 0.999)
		})
	}
}

func TestTranscodeKeepsSignal(t *testing.T) {
	sig := testSignal(4000)
	for _, tc := range []struct{ from, to Codec }{{PCMU(), PCMA()}, {PCMA(), PCMU()}} {
		t.Run(tc.from.Name+"->"+tc.to.Name, func(t *testing.T) {
			buf := make([]byte, len(sig))
			tc.from.Encode(buf, sig)
			transcode(buf, tc.from.law(), tc.to.law())
			dec := make([]int16, len(buf))
			tc.to.Decode(dec, buf)
			require.GreaterOrEqual(t, correlation(sig, dec, 0), 0.999)
		})
	}
}

func TestCodecByName(t *testing.T) {
	c, err := CodecByName("pcma")
	require.NoError(t, err)
	require.Equal(t, PCMA(), c)
	c, err = CodecByName("g722")
	require.NoError(t, err)
	require.Equal(t, Codec{Name: "G722", PayloadType: 9, ClockRate: 8000}, c, "RFC 3551: G.722 is G722/8000 on pt 9")
	require.Equal(t, 16000, c.AudioRate())
	_, err = CodecByName("G729")
	require.ErrorIs(t, err, ErrUnsupportedCodec)
	require.ErrorIs(t, Codec{Name: "opus", PayloadType: 111, ClockRate: 48000}.validate(), ErrUnsupportedCodec)
}

func TestDirection(t *testing.T) {
	for _, d := range []Direction{SendRecv, SendOnly, RecvOnly, Inactive} {
		got, err := ParseDirection(d.String())
		require.NoError(t, err)
		require.Equal(t, d, got)
	}
	_, err := ParseDirection("sideways")
	require.Error(t, err)
	require.Equal(t, RecvOnly, SendOnly.Reverse())
	require.True(t, RecvOnly.Receives())
	require.False(t, RecvOnly.Sends())
}
