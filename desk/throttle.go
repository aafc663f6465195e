package desk

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Login throttling counts wrong passwords three ways, each with its own limit:
//   - a user from one address: an agent's typos, or one guesser at one account;
//   - an address over all users: one guesser spraying many accounts;
//   - a user over all addresses: many addresses guessing one account.
//
// From its limit on, a key is refused for baseLockout, doubling with each further failure up
// to maxLockout. The per-user limit is high so that a guesser needs many addresses, and keeps
// at it, to lock an agent out; behind a reverse proxy every client shares the proxy's
// address unless Config.TrustedProxies and ClientIPHeader say where the client's is.
const (
	pairLimit   = 5
	addrLimit   = 30
	userLimit   = 30
	baseLockout = 30 * time.Second
	maxLockout  = 15 * time.Minute
	// forgetAfter is how long an unlocked key's failures are remembered after its last one.
	forgetAfter = time.Hour
)

// loginThrottle slows password guessing on the login endpoint. Each table is an LRU of
// bounded size: a flood of made-up user names evicts the oldest entries instead of growing
// memory, and every check is a constant number of map lookups. Hand-written counting:
// golang.org/x/time/rate limits request rates, and what is counted here is failures.
type loginThrottle struct {
	now func() time.Time

	mu    sync.Mutex
	pairs *failureTable
	users *failureTable
	addrs *failureTable
}

// failureTable counts failures per key up to limit.
type failureTable struct {
	limit int
	lru   *simplelru.LRU[string, *failures]
}

type failures struct {
	n     int
	last  time.Time
	until time.Time // refused before this
}

// newLoginThrottle keeps at most size keys in each of its three tables.
func newLoginThrottle(now func() time.Time, size int) (*loginThrottle, error) {
	t := &loginThrottle{now: now}
	for _, x := range []struct {
		tab   **failureTable
		limit int
	}{{&t.pairs, pairLimit}, {&t.users, userLimit}, {&t.addrs, addrLimit}} {
		l, err := simplelru.NewLRU[string, *failures](size, nil)
		if err != nil {
			return nil, err
		}
		*x.tab = &failureTable{limit: x.limit, lru: l}
	}
	return t, nil
}

func pairKey(user, addr string) string { return user + "\x00" + addr }

// wait is how long a login of user from addr is still refused (0 when it may try).
func (t *loginThrottle) wait(user, addr string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(t.pairs.wait(pairKey(user, addr), now), t.users.wait(user, now), t.addrs.wait(addr, now))
}

// failed counts a wrong password of user from addr.
func (t *loginThrottle) failed(user, addr string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pairs.failed(pairKey(user, addr), now)
	t.users.failed(user, now)
	t.addrs.failed(addr, now)
}

// succeeded clears the failures of user, from addr and over all addresses: the account's
// owner is back. The address keeps its count, so that one valid account does not let its
// holder spray guesses at the others.
func (t *loginThrottle) succeeded(user, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pairs.lru.Remove(pairKey(user, addr))
	t.users.lru.Remove(user)
}

// size is the number of keys held, all tables together.
func (t *loginThrottle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pairs.lru.Len() + t.users.lru.Len() + t.addrs.lru.Len()
}

func (f *failures) stale(now time.Time) bool {
	return now.Sub(f.last) > forgetAfter && !now.Before(f.until)
}

func (tab *failureTable) wait(key string, now time.Time) time.Duration {
	f, ok := tab.lru.Peek(key)
	if !ok {
		return 0
	}
	return max(0, f.until.Sub(now))
}

func (tab *failureTable) failed(key string, now time.Time) {
	f, ok := tab.lru.Get(key)
	if !ok || f.stale(now) {
		f = &failures{}
		tab.lru.Add(key, f)
	}
	f.n++
	f.last = now
	if f.n >= tab.limit {
		lock := baseLockout << min(f.n-tab.limit, 5)
		f.until = now.Add(min(lock, maxLockout))
	}
}
