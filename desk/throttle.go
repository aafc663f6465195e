package desk

import (
	"sync"
	"time"
)

// Login throttling: after maxFailures wrong passwords for one user from one address, that
// pair is refused for baseLockout, doubling with each further failure up to maxLockout.
const (
	maxFailures = 5
	baseLockout = 30 * time.Second
	maxLockout  = 15 * time.Minute
	// forgetAfter is how long an unlocked pair's failures are remembered.
	forgetAfter = time.Hour
)

// loginThrottle slows password guessing on the login endpoint. It is keyed by user and
// client address, so a guesser cannot lock a seat out for its agent at another desk; a
// right password clears the pair. Hand-written: golang.org/x/time/rate limits request
// rates, and what is counted here is failures.
type loginThrottle struct {
	now func() time.Time

	mu    sync.Mutex
	pairs map[string]*failures
}

type failures struct {
	n     int
	last  time.Time
	until time.Time // refused before this
}

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{now: now, pairs: map[string]*failures{}}
}

// wait is how long key is still refused (0 when it may try).
func (t *loginThrottle) wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.pairs[key]
	if !ok {
		return 0
	}
	return max(0, f.until.Sub(t.now()))
}

// failed counts a wrong password for key and locks it from the maxFailures-th on.
func (t *loginThrottle) failed(key string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	// forgotten pairs are swept here, where the map grows, so it stays bounded
	for k, f := range t.pairs {
		if now.Sub(f.last) > forgetAfter && !now.Before(f.until) {
			delete(t.pairs, k)
		}
	}
	f, ok := t.pairs[key]
	if !ok {
		f = &failures{}
		t.pairs[key] = f
	}
	f.n++
	f.last = now
	if f.n >= maxFailures {
		lock := baseLockout << min(f.n-maxFailures, 5)
		f.until = now.Add(min(lock, maxLockout))
	}
}

// succeeded clears key's failures.
func (t *loginThrottle) succeeded(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pairs, key)
}
