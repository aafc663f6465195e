package media

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// blockedWriter holds its first frame until released: a consumer that stopped.
type blockedWriter struct {
	*frameSink
	once             sync.Once
	entered, release chan struct{}
}

func (b *blockedWriter) WriteFrame(f Frame) error {
	b.once.Do(func() {
		close(b.entered)
		<-b.release
	})
	return b.frameSink.WriteFrame(f)
}

func numberedFrame(i int) Frame {
	s := make([]int16, FrameSamples)
	for j := range s {
		s[j] = int16(i)
	}
	return Frame{Samples: s, Rate: SampleRate, Offset: time.Duration(i) * FrameDuration}
}

func TestFanoutDropsForBlockedConsumerWithoutBlockingWriter(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	f := NewFanout("caller", FanoutOptions{Metrics: m})
	blocked := &blockedWriter{frameSink: newFrameSink("asr"), entered: make(chan struct{}), release: make(chan struct{})}
	fast := newFrameSink("recorder(caller)")
	f.Add(blocked, 5)
	f.Add(fast, 100)
	require.Equal(t, "fanout(caller) -> [asr recorder(caller)]", f.String())

	require.NoError(t, f.WriteFrame(numberedFrame(0)))
	<-blocked.entered // the slow consumer now holds frame 0 and takes nothing more
	for i := 1; i < 100; i++ {
		require.NoError(t, f.WriteFrame(numberedFrame(i)))
	}
	close(blocked.release)
	require.NoError(t, f.Close())
	require.NoError(t, f.Close())
	require.ErrorIs(t, f.WriteFrame(numberedFrame(100)), ErrClosed)

	got := fast.snapshot()
	require.Len(t, got, 100)
	for i, fr := range got {
		require.Equal(t, numberedFrame(i), fr, "buffers reused by the fan-out kept each frame intact")
	}
	slow := blocked.snapshot()
	require.Len(t, slow, 6, "the frame in hand plus a full queue of 5")
	for i, fr := range slow {
		require.Equal(t, numberedFrame(i), fr)
	}
	st := f.Stats()
	require.Equal(t, uint64(94), st[0].Dropped)
	require.Equal(t, uint64(0), st[1].Dropped)
	require.Equal(t, 94.0, testutil.ToFloat64(m.tapDropped.WithLabelValues("asr")))
}
