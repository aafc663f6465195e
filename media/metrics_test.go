package media

import (
	"bytes"
	"os/exec"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"

	"lianxin/internal/testpeer"
)

func TestMetricsPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		testpeer.Unavailable(t, "promtool not installed (Debian package prometheus)")
	}
	x := newBridged(t, bridgeSetup{})
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), testSignal(FrameSamples*3))
	for range 3 {
		x.pb.recv()
	}
	f := NewFanout("caller", FanoutOptions{Metrics: x.m})
	f.Add(newFrameSink("asr"), 1)
	require.NoError(t, f.WriteFrame(numberedFrame(0)))
	require.NoError(t, f.WriteFrame(numberedFrame(1)))
	require.NoError(t, f.WriteFrame(numberedFrame(2)))
	require.NoError(t, f.Close())
	fams, err := x.reg.Gather()
	require.NoError(t, err)
	var buf bytes.Buffer
	for _, mf := range fams {
		_, err := expfmt.MetricFamilyToText(&buf, mf)
		require.NoError(t, err)
	}
	require.Contains(t, buf.String(), `lianxin_rtp_packets_received_total{leg="caller"} 3`)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &buf
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool: %s", out)
	require.Empty(t, string(out))
}
