package alibabatest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"lianxin/asr/alibaba"
)

// TokenServer is a stand-in of the CreateToken API (nls-meta): it checks the POP request
// as the service does (Action, Version, the signature over the sorted, encoded query with
// the AccessKey secret) and issues tokens that expire after TTL, answering
// {"Token":{"Id","ExpireTime","UserId"},"RequestId"} or an error {"Code","Message"}.
type TokenServer struct {
	*httptest.Server
	id, secret string
	ttl        time.Duration

	mu     sync.Mutex
	issued map[string]time.Time
	count  int
}

// NewTokenServer starts a CreateToken stand-in for the AccessKey pair id, secret.
func NewTokenServer(id, secret string, ttl time.Duration) *TokenServer {
	t := &TokenServer{id: id, secret: secret, ttl: ttl, issued: map[string]time.Time{}}
	t.Server = httptest.NewServer(http.HandlerFunc(t.serve))
	return t
}

func (t *TokenServer) serve(w http.ResponseWriter, r *http.Request) {
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		if k != "Signature" && len(v) == 1 {
			q[k] = v[0]
		}
	}
	fail := func(code int, c, msg string) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"Code": c, "Message": msg})
	}
	switch {
	case q["Action"] != "CreateToken" || q["Version"] != "2019-02-28":
		fail(http.StatusBadRequest, "InvalidAction", "CreateToken 2019-02-28 expected")
		return
	case q["AccessKeyId"] != t.id:
		fail(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
		return
	case r.URL.Query().Get("Signature") != alibaba.Sign(t.secret, r.Method, alibaba.CanonicalQuery(q)):
		fail(http.StatusBadRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	exp := time.Now().Add(t.ttl)
	t.mu.Lock()
	t.issued[tok] = exp
	t.count++
	t.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"RequestId": "stand-in",
		"Token": map[string]any{"Id": tok, "ExpireTime": exp.Unix(), "UserId": "1"}})
}

// Valid reports whether tok was issued and has not expired.
func (t *TokenServer) Valid(tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	exp, ok := t.issued[tok]
	return ok && time.Now().Before(exp)
}

// Issued is how many tokens were made.
func (t *TokenServer) Issued() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.count
}
