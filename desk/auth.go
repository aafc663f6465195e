package desk

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Roles of a session.
const (
	RoleSeat  = "seat"
	RoleAdmin = "admin"
)

var (
	errNoToken      = errors.New("missing token")
	errBadToken     = errors.New("invalid token")
	errExpiredToken = errors.New("token expired")
	errBadLogin     = errors.New("wrong user or password")
)

// Session is what a token stands for.
type Session struct {
	User    string    `json:"user"`
	Role    string    `json:"role"`
	Seat    string    `json:"seat,omitempty"` // empty for admins
	Expires time.Time `json:"expires"`
	// token is the bearer token the session was checked with, so that a logout can find the
	// sockets it opened
	token string
}

// Admin reports whether the session sees every seat.
func (s Session) Admin() bool { return s.Role == RoleAdmin }

// sees reports whether the session may see what belongs to seat.
func (s Session) sees(seat string) bool { return s.Admin() || (seat != "" && seat == s.Seat) }

// auth issues and checks bearer tokens. Tokens live in memory: a restart logs everyone out,
// which a screen handles by showing its login form again.
type auth struct {
	users     map[string]string // admin -> bcrypt hash
	seats     map[string]string
	checkSeat func(seat, password string) bool
	ttl       time.Duration
	now       func() time.Time

	mu     sync.Mutex
	tokens map[string]Session
}

func newAuth(cfg Config, now func() time.Time) *auth {
	return &auth{users: cfg.Users, seats: cfg.Seats, checkSeat: cfg.CheckSeat, ttl: cfg.TokenTTL,
		now: now, tokens: map[string]Session{}}
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// login checks user's password and issues a token: admin users first, then seats.
func (a *auth) login(user, password string) (string, Session, error) {
	if user == "" || password == "" {
		return "", Session{}, errBadLogin
	}
	var s Session
	if h, ok := a.users[user]; ok {
		if bcrypt.CompareHashAndPassword([]byte(h), []byte(password)) != nil {
			return "", s, errBadLogin
		}
		s = Session{User: user, Role: RoleAdmin}
	} else if p, ok := a.seats[user]; ok {
		if !equal(p, password) {
			return "", s, errBadLogin
		}
		s = Session{User: user, Role: RoleSeat, Seat: user}
	} else if a.checkSeat != nil && a.checkSeat(user, password) {
		s = Session{User: user, Role: RoleSeat, Seat: user}
	} else {
		return "", s, errBadLogin
	}
	now := a.now()
	s.Expires = now.Add(a.ttl)
	tok := rand.Text()
	s.token = tok
	a.mu.Lock()
	defer a.mu.Unlock()
	// expired tokens are swept here, where the map grows, so it stays bounded by live sessions
	for t, old := range a.tokens {
		if !now.Before(old.Expires) {
			delete(a.tokens, t)
		}
	}
	a.tokens[tok] = s
	return tok, s, nil
}

// check returns the live session of tok.
func (a *auth) check(tok string) (Session, error) {
	if tok == "" {
		return Session{}, errNoToken
	}
	a.mu.Lock()
	s, ok := a.tokens[tok]
	a.mu.Unlock()
	if !ok {
		return s, errBadToken
	}
	if !a.now().Before(s.Expires) {
		return s, errExpiredToken
	}
	return s, nil
}

// revoke ends tok's session now; it reports whether tok was live.
func (a *auth) revoke(tok string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.tokens[tok]
	delete(a.tokens, tok)
	return ok && a.now().Before(s.Expires)
}

// tokenOf reads "Authorization: Bearer T", else ?token=T (browsers cannot set WebSocket
// headers).
func tokenOf(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
	}
	return r.URL.Query().Get("token")
}
