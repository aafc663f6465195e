package asr

import (
	"fmt"
	"sort"
	"sync"
)

// Registry maps engine names to engines, with a default engine and per-line overrides
// (a Mandarin line → FunASR, an English line → another). Safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	engines map[string]Engine
	def     string
	lines   map[string]string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{engines: map[string]Engine{}, lines: map[string]string{}}
}

// Add registers an engine under its Name. The first engine added becomes the default.
func (r *Registry) Add(e Engine) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.engines[e.Name()]; dup {
		return fmt.Errorf("asr: engine %q registered twice", e.Name())
	}
	r.engines[e.Name()] = e
	if r.def == "" {
		r.def = e.Name()
	}
	return nil
}

// SetDefault chooses the engine used where no line override applies.
func (r *Registry) SetDefault(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.engines[name]; !ok {
		return fmt.Errorf("asr: unknown engine %q (have %v)", name, r.namesLocked())
	}
	r.def = name
	return nil
}

// SetLine routes calls on a line (a dialled number or skill queue) to the named engine.
func (r *Registry) SetLine(line, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.engines[name]; !ok {
		return fmt.Errorf("asr: line %q: unknown engine %q (have %v)", line, name, r.namesLocked())
	}
	r.lines[line] = name
	return nil
}

// Get returns the named engine.
func (r *Registry) Get(name string) (Engine, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.engines[name]
	if !ok {
		return nil, fmt.Errorf("asr: unknown engine %q (have %v)", name, r.namesLocked())
	}
	return e, nil
}

// ForLine returns the engine for a line: its override, else the default.
func (r *Registry) ForLine(line string) (Engine, error) {
	r.mu.RLock()
	name, ok := r.lines[line]
	if !ok {
		name = r.def
	}
	r.mu.RUnlock()
	if name == "" {
		return nil, fmt.Errorf("asr: no engine registered: %w", ErrUnavailable)
	}
	return r.Get(name)
}

// Names lists the registered engines, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.namesLocked()
}

func (r *Registry) namesLocked() []string {
	out := make([]string, 0, len(r.engines))
	for n := range r.engines {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Close closes every registered engine.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first error
	for _, e := range r.engines {
		if err := e.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
