package media

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMOSFromRMatchesG107TableB1(t *testing.T) {
	// G.107 Annex B, Table B.1: the lower limits of R and MOS(CQE) of each user
	// satisfaction category, the MOS given to two decimals rounded up as a lower limit;
	// and the default R of 93.2 rates 4.41 (§7.7)
	for r, mos := range map[float64]float64{90: 4.34, 80: 4.03, 70: 3.60, 60: 3.10, 50: 2.58, 93.2: 4.41} {
		require.InDelta(t, mos, math.Ceil(MOSFromR(r)*100)/100, 1e-9, "R=%v: %v", r, MOSFromR(r))
	}
	require.Equal(t, 1.0, MOSFromR(-3))
	require.Equal(t, 4.5, MOSFromR(120))
}

func TestRFactorForG711(t *testing.T) {
	cases := []struct {
		delay time.Duration
		loss  float64
		want  float64
	}{
		{0, 0, 93.2}, // every parameter at its default
		// Ie,eff = 95·Ppl/(Ppl + 25.1) for G.711 with PLC and random loss
		{0, 0.01, 93.2 - 95*1/(1+25.1)},
		{0, 0.02, 93.2 - 95*2/(2+25.1)},
		{0, 0.10, 93.2 - 95*10/(10+25.1)},
		{0, 2, 93.2 - 95*100/(100+25.1)}, // more than all is all
		// Id = 0.024·d, and 0.11 more per ms beyond 177.3 ms
		{100 * time.Millisecond, 0, 93.2 - 2.4},
		{177300 * time.Microsecond, 0, 93.2 - 0.024*177.3},
		{300 * time.Millisecond, 0, 93.2 - 0.024*300 - 0.11*(300-177.3)},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %.0f%%", c.delay, 100*c.loss), func(t *testing.T) {
			require.InDelta(t, c.want, RFactor(c.delay, c.loss), 1e-9)
		})
	}
}

func TestMOSOfTypicalLegs(t *testing.T) {
	clean := MOS(time.Millisecond, time.Millisecond, 0)
	require.Greater(t, clean, 4.3, "a clean LAN call")
	lossy := MOS(time.Millisecond, 5*time.Millisecond, 0.10)
	require.Less(t, lossy, 3.5, "10% loss is a poor call even with G.711's concealment")
	require.Greater(t, lossy, 3.0)
	require.Less(t, MOS(600*time.Millisecond, 0, 0), MOS(100*time.Millisecond, 0, 0), "a long round trip costs")

	var q Quality
	require.Zero(t, q.MOS(), "nothing carried: no estimate")
	q = Quality{Expected: 1000, Lost: 100, PeerReports: 1, PeerExpected: 1000, PeerLost: 10}
	require.InDelta(t, MOS(0, 0, 0.10), q.MOS(), 1e-12, "the worse direction rates the leg")
	later := Quality{Expected: 2000, Lost: 100, PeerReports: 2, PeerExpected: 2000, PeerLost: 10}
	require.Zero(t, later.Since(q).LossFraction(), "no loss in the interval")
	require.EqualValues(t, 1000, later.Since(q).Expected)
}
