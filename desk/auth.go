package desk

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lianxin/store"
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

// auth issues and checks bearer tokens. Sessions are kept by the SHA-256 of their token
// (tokenID), in memory and, through the desk, in the store, so a restart logs no one out
// and a copy of the database holds no usable token.
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
	s.token = tokenID(tok)
	a.mu.Lock()
	defer a.mu.Unlock()
	// expired tokens are swept here, where the map grows, so it stays bounded by live sessions
	for t, old := range a.tokens {
		if !now.Before(old.Expires) {
			delete(a.tokens, t)
		}
	}
	a.tokens[s.token] = s
	return tok, s, nil
}

// tokenID is what a session is kept and revoked by: the token's SHA-256, hex.
func tokenID(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// restore brings back sessions stored by an earlier run, with their own expiry.
func (a *auth) restore(recs []store.SessionRecord) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range recs {
		a.tokens[r.ID] = Session{User: r.User, Role: r.Role, Seat: r.Seat, Expires: r.Expires, token: r.ID}
	}
}

// check returns the live session of tok.
func (a *auth) check(tok string) (Session, error) {
	if tok == "" {
		return Session{}, errNoToken
	}
	a.mu.Lock()
	s, ok := a.tokens[tokenID(tok)]
	a.mu.Unlock()
	if !ok {
		return s, errBadToken
	}
	if !a.now().Before(s.Expires) {
		return s, errExpiredToken
	}
	return s, nil
}

// revoke ends the session id (a tokenID) now; it reports whether it was live.
func (a *auth) revoke(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.tokens[id]
	delete(a.tokens, id)
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
