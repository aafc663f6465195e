package callflow

import (
	"context"
	"sync"

	"lianxin/desk"
	"lianxin/dispatch"
)

// Ranker ranks departments with a backend that may be slow or fail (dispatch.LLM): it
// answers with its own ranking or its fallback's, and names which one answered.
type Ranker interface {
	Rank(ctx context.Context, text string, top int) ([]dispatch.Suggestion, string)
}

// llmDispatch asks the ranker after each final of the caller, one request per call at a
// time: finals heard meanwhile wait, and only the latest text is asked next. Once the
// ranker has answered for a call, its answers (or its fallback's, on failure) are the
// call's suggestions, and the local tracker's updates from partials no longer replace them.
type llmDispatch struct {
	mu    sync.Mutex
	calls map[string]*llmCall
}

type llmCall struct {
	busy    bool
	pending string
	owned   bool
}

// llmOwns reports whether the ranker has answered for the call, so the local tracker's
// suggestions are no longer shown.
func (e *Screens) llmOwns(callID string) bool {
	if e.cfg.Ranker == nil {
		return false
	}
	e.llm.mu.Lock()
	defer e.llm.mu.Unlock()
	c := e.llm.calls[callID]
	return c != nil && c.owned
}

// askRanker queues text for the ranker; the goroutine it may start is owned by the
// screens (Close waits for it) and ends when no text is pending.
func (e *Screens) askRanker(ci *Info, text string) {
	if e.cfg.Ranker == nil || text == "" {
		return
	}
	select {
	case <-e.stop:
		return // closed: no new request
	default:
	}
	e.llm.mu.Lock()
	if e.llm.calls == nil {
		e.llm.calls = map[string]*llmCall{}
	}
	c := e.llm.calls[ci.ID]
	if c == nil {
		c = &llmCall{}
		e.llm.calls[ci.ID] = c
	}
	if c.busy {
		c.pending = text
		e.llm.mu.Unlock()
		return
	}
	c.busy = true
	e.llm.mu.Unlock()
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		for text != "" {
			e.rankOnce(ci, c, text)
			e.llm.mu.Lock()
			text, c.pending = c.pending, ""
			if text == "" {
				c.busy = false
				if _, live := e.calls.Load(ci.ID); !live {
					delete(e.llm.calls, ci.ID)
				}
			}
			e.llm.mu.Unlock()
		}
	}()
}

// rankOnce asks the ranker for one text and shows its answer while the call lasts.
func (e *Screens) rankOnce(ci *Info, c *llmCall, text string) {
	ctx, cancel := context.WithCancel(context.Background())
	watch := make(chan struct{})
	go func() { // owned by rankOnce, which waits for it: Close cancels the request
		defer close(watch)
		select {
		case <-e.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	defer func() { cancel(); <-watch }()
	sugg, backend := e.cfg.Ranker.Rank(ctx, text, 3)
	if len(sugg) == 0 {
		return
	}
	if _, live := e.calls.Load(ci.ID); !live {
		return // the call ended meanwhile: its final suggestion stands
	}
	e.llm.mu.Lock()
	c.owned = true
	e.llm.mu.Unlock()
	deps := make([]desk.Department, len(sugg))
	for i, s := range sugg {
		deps[i] = desk.Department{ID: s.ID, Name: s.Name, Score: s.Score, Evidence: s.Evidence}
	}
	e.publish(desk.Event{Type: desk.TypeSuggested, CallID: ci.ID, Seat: ci.Seat, Data: desk.SuggestedData{Departments: deps, Backend: backend}})
}

// forgetRanker drops an ended call's ranker state; a request in flight drops it when it
// ends.
func (e *Screens) forgetRanker(callID string) {
	e.llm.mu.Lock()
	defer e.llm.mu.Unlock()
	if c := e.llm.calls[callID]; c != nil && !c.busy {
		delete(e.llm.calls, callID)
	}
}
