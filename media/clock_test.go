package media

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClockRunsEverySubscriberAcrossWorkers(t *testing.T) {
	c := NewClock()
	defer c.Close()
	const n = parallelFrom * 3
	var wg sync.WaitGroup
	wg.Add(n)
	var calls [n]atomic.Int64
	unsubs := make([]func(), n)
	for i := range n {
		unsubs[i] = c.subscribe(func(int) {
			if calls[i].Add(1) == 1 {
				wg.Done()
			}
		})
	}
	wg.Wait() // every subscriber ticked at least once
	for _, u := range unsubs {
		u()
	}
	var after [n]int64
	for i := range n {
		after[i] = calls[i].Load()
	}
	c.Close()
	c.Close()
	c.Tick() // a closed real clock ignores Tick
	for i := range n {
		require.Equal(t, after[i], calls[i].Load(), "no tick after unsubscribe returned")
	}
}

func TestManualClockTicksOnDemand(t *testing.T) {
	c := NewManualClock()
	var n int
	unsub := c.subscribe(func(f int) { n += f })
	c.Tick()
	c.Tick()
	unsub()
	c.Tick()
	require.Equal(t, 2, n)
	c.Close()
}
