package callflow

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// agentLegs are the calls whose agent leg holds a live stream, oldest first: the streams
// a new caller leg may take over when its engine is at its stream limit. The caller's
// words drive dispatch; an agent leg that loses its stream is transcribed from the
// recording after its call, from where it stopped.
type agentLegs struct {
	mu        sync.Mutex
	calls     []*liveCall
	preempted prometheus.Counter
}

func newAgentLegs(reg prometheus.Registerer) *agentLegs {
	p := &agentLegs{preempted: prometheus.NewCounter(prometheus.CounterOpts{Name: "lianxin_asr_agent_legs_preempted_total",
		Help: "Agent legs whose live stream a new caller leg took over (transcribed after the call instead)."})}
	reg.MustRegister(p.preempted)
	return p
}

func (p *agentLegs) add(lc *liveCall) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, lc)
}

func (p *agentLegs) remove(lc *liveCall) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = slices.DeleteFunc(p.calls, func(c *liveCall) bool { return c == lc })
}

// takeOver frees a stream of engine for by's caller leg: it takes the oldest live agent
// leg on that engine from its call and closes its stream (the utterance in progress is
// flushed to that call's transcript). It reports whether a stream was freed.
func (p *agentLegs) takeOver(engine string, by *Info) bool {
	p.mu.Lock()
	i := slices.IndexFunc(p.calls, func(c *liveCall) bool { return c.engine == engine && c.ci != by })
	if i < 0 {
		p.mu.Unlock()
		return false
	}
	victim := p.calls[i]
	p.calls = slices.Delete(p.calls, i, i+1)
	p.mu.Unlock()
	st := victim.agent.detach()
	if st == nil {
		return false
	}
	_ = st.Close()
	p.preempted.Inc()
	victim.log.Info("agent leg's live stream handed to a new caller; the rest of the leg is transcribed after the call",
		"caller_call", by.ID)
	return true
}
