package callflow

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/media"
	"lianxin/seat"
)

// A caller whose network loses every tenth packet is flagged while the call lasts, and
// the flag is the call's, not the seat's: the agent's leg is clean. The call's record
// keeps each leg's loss and MOS.
func TestPoorCallerAudioIsFlagged(t *testing.T) {
	tf := newTestFlow(t, []string{"seat-01"}, map[string]float64{"seat-01": 400}, func(c *Config, _ *seat.Config) {
		c.RTCPInterval = 500 * time.Millisecond
	})
	caller := newFakeCaller(t, 1000)
	caller.peer.lose(10)
	done := tf.handle(t, caller)

	var q CallQuality
	select {
	case q = <-tf.obs.quality:
	case <-time.After(10 * time.Second):
		t.Fatal("the poor call was never flagged")
	}
	require.True(t, q.Poor)
	require.False(t, q.SeatPoor, "the seat's own leg is clean")
	require.True(t, q.Caller.Poor)
	// one interval holds 25 packets, 2 or 3 of them lost: poor by its loss, whatever the
	// MOS of so few packets says
	require.InDelta(t, 0.10, q.Caller.Loss, 0.05)
	require.Less(t, q.Caller.MOS, 3.8)
	require.False(t, q.Agent.Poor)

	// five seconds of the caller reach the seat before the call ends: enough packets for
	// the whole call's loss to be the path's
	require.Eventually(t, func() bool { return len(tf.phones.call("seat-01").peer.received()) > 5*8000 },
		20*time.Second, 20*time.Millisecond)
	caller.hangUp(errors.New("caller hung up"))
	e := tf.obs.waitEnded(t)
	<-done
	cq, aq := e.info.CallerQuality, e.info.AgentQuality
	require.InDelta(t, 0.10, cq.LossFraction(), 0.02, "lost %d of %d", cq.Lost, cq.Expected)
	require.Less(t, cq.MOS(), 3.5)
	require.Zero(t, aq.Lost)
	require.Greater(t, aq.MOS(), 4.0)
	require.Positive(t, cq.RTCPSent, "the gateway reports to the caller")

	l := legQuality(cq)
	require.NotNil(t, l)
	require.InDelta(t, 0.10, l.Loss, 0.02)
	require.Nil(t, l.RTTMS, "the caller sends no RTCP: no round trip")
	require.Nil(t, legQuality(media.Quality{}), "a leg that carried nothing is not rated")
}

func TestQualityThresholds(t *testing.T) {
	th := QualityThresholds{}.withDefaults()
	require.Equal(t, QualityThresholds{MinMOS: 3.5, MaxLoss: 0.05}, th)
	require.False(t, th.rate(media.Quality{Expected: 10, Lost: 5}).Rated, "too few packets to say")
	r := th.rate(media.Quality{Expected: 250, Lost: 15})
	require.True(t, r.Rated && r.Poor, "6%% loss is poor: %+v", r)
	r = th.rate(media.Quality{Expected: 250, Lost: 5, PeerReports: 1, PeerExpected: 250})
	require.True(t, r.Rated && !r.Poor, "2%% loss is fine: MOS %.2f", r.MOS)
	r = th.rate(media.Quality{Expected: 250, RTT: 900 * time.Millisecond})
	require.True(t, r.Poor, "a long round trip alone: MOS %.2f", r.MOS)
}
