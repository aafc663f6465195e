package callflow

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/media"
)

// countingEngine records each stream's config and the rates of the frames it is given.
type countingEngine struct {
	mu      sync.Mutex
	configs map[string]asr.StreamConfig
	rates   map[string]map[int]int
}

func (e *countingEngine) Name() string { return "counting" }
func (e *countingEngine) Close() error { return nil }
func (e *countingEngine) ForLine(string) (asr.Engine, error) {
	return e, nil
}

func (e *countingEngine) NewStream(_ context.Context, cfg asr.StreamConfig) (asr.Stream, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.configs[cfg.Channel] = cfg
	e.rates[cfg.Channel] = map[int]int{}
	return &countingStream{e: e, ch: cfg.Channel, res: make(chan asr.Result)}, nil
}

func (e *countingEngine) frames(ch string) map[int]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[int]int{}
	for r, n := range e.rates[ch] {
		out[r] = n
	}
	return out
}

type countingStream struct {
	e    *countingEngine
	ch   string
	res  chan asr.Result
	once sync.Once
}

func (s *countingStream) Write(f media.Frame) error {
	s.e.mu.Lock()
	s.e.rates[s.ch][f.Rate]++
	s.e.mu.Unlock()
	return nil
}
func (s *countingStream) Results() <-chan asr.Result { return s.res }
func (s *countingStream) Close() error               { s.once.Do(func() { close(s.res) }); return nil }

// wideSeat is a seat call that hears its agent at 16 kHz (a browser page).
type wideSeat struct {
	*fakeSeatCall
	mu   sync.Mutex
	tap  media.FrameWriter
	stop chan struct{}
	wg   sync.WaitGroup
}

func (w *wideSeat) AgentRate() int { return 16000 }
func (w *wideSeat) TapAgent(fw media.FrameWriter) {
	w.mu.Lock()
	w.tap = fw
	w.mu.Unlock()
}

// push sends 20 ms frames at 16 kHz to whatever tap is set, until stopped.
func (w *wideSeat) push() {
	defer w.wg.Done()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var pos time.Duration
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		w.mu.Lock()
		tap := w.tap
		w.mu.Unlock()
		if tap != nil {
			_ = tap.WriteFrame(media.Frame{Samples: make([]int16, 320), Rate: 16000, Offset: pos})
		}
		pos += 20 * time.Millisecond
	}
}

type widePhones struct{ *fakePhones }

func (p widePhones) Ring(ctx context.Context, r Ring) (SeatCall, error) {
	sc, err := p.fakePhones.Ring(ctx, r)
	if err != nil {
		return nil, err
	}
	w := &wideSeat{fakeSeatCall: sc.(*fakeSeatCall), stop: make(chan struct{})}
	w.wg.Add(1)
	go w.push()
	p.t.Cleanup(func() { close(w.stop); w.wg.Wait() })
	return w, nil
}

// A seat phone that hears its agent wideband feeds the agent's recogniser stream at its
// own rate, from its own frames; the caller's stream stays on the 8 kHz leg.
func TestWidebandSeatFeedsTheAgentStream(t *testing.T) {
	eng := &countingEngine{configs: map[string]asr.StreamConfig{}, rates: map[string]map[int]int{}}
	tf := newTestFlow(t, []string{"seat-01"}, map[string]float64{"seat-01": 400}, nil)
	tf.deps.ASR = eng
	tf.deps.Phones = widePhones{tf.phones}
	caller := newFakeCaller(t, 1000)
	done := tf.handle(t, caller)
	require.Eventually(t, func() bool {
		return eng.frames("agent")[16000] > 20 && eng.frames("caller")[8000] > 20
	}, 10*time.Second, 20*time.Millisecond)
	caller.hangUp(errors.New("caller hung up"))
	<-done
	require.Equal(t, Completed, tf.obs.waitEnded(t).outcome)
	require.Equal(t, 16000, eng.configs["agent"].SampleRate)
	require.Equal(t, 8000, eng.configs["caller"].SampleRate)
	require.Zero(t, eng.frames("agent")[8000], "nothing from the 8 kHz leg reaches the agent stream")
}
