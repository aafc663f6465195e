package alibaba

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" // #nosec G505 -- the POP signature Alibaba Cloud defines is HMAC-SHA1
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// tokenSource hands out NLS tokens made by CreateToken, a POP RPC request signed with an
// AccessKey pair (Alibaba Cloud's signature version 1.0: sorted, RFC 3986-encoded query,
// HMAC-SHA1 with the secret and "&"), and makes a new one before the old one expires, so
// a gateway that runs for days keeps connecting. The request's shape is that of the NLS
// SDKs' token examples (aliyun/alibabacloud-nls-java-sdk AccessToken.apply).
type tokenSource struct {
	id, secret, endpoint, region string
	client                       *http.Client
	now                          func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// renewBefore is how long before its expiry a token is replaced.
const renewBefore = 10 * time.Minute

// get returns a token with more than renewBefore of life left.
func (t *tokenSource) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && t.now().Add(renewBefore).Before(t.expires) {
		return t.token, nil
	}
	tok, exp, err := t.create(ctx)
	if err != nil {
		return "", fmt.Errorf("alibaba: CreateToken: %w", err)
	}
	t.token, t.expires = tok, exp
	return tok, nil
}

func (t *tokenSource) create(ctx context.Context) (string, time.Time, error) {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	q := map[string]string{
		"AccessKeyId": t.id, "Action": "CreateToken", "Format": "JSON", "RegionId": t.region,
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": hex.EncodeToString(nonce), "SignatureVersion": "1.0",
		"Timestamp": t.now().UTC().Format("2006-01-02T15:04:05Z"), "Version": "2019-02-28",
	}
	canonical := CanonicalQuery(q)
	sig := Sign(t.secret, http.MethodGet, canonical)
	u := strings.TrimRight(t.endpoint, "/") + "/?Signature=" + popEncode(sig) + "&" + canonical
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", time.Time{}, err
	}
	res, err := t.client.Do(req)
	if err != nil {
		return "", time.Time{}, err
	}
	defer res.Body.Close()
	var body struct {
		Token *struct {
			ID         string `json:"Id"`
			ExpireTime int64  `json:"ExpireTime"`
		} `json:"Token"`
		Code    string `json:"Code"`
		Message string `json:"Message"`
		ErrMsg  string `json:"ErrMsg"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return "", time.Time{}, fmt.Errorf("%s: not JSON: %w", res.Status, err)
	}
	if res.StatusCode != http.StatusOK || body.Token == nil || body.Token.ID == "" {
		return "", time.Time{}, fmt.Errorf("%s: %s %s%s", res.Status, body.Code, body.Message, body.ErrMsg)
	}
	return body.Token.ID, time.Unix(body.Token.ExpireTime, 0), nil
}

// CanonicalQuery is the POP signature's canonicalised query: the parameters sorted by
// name, each name and value percent-encoded, joined with & (exported for the stand-in,
// which checks signatures as the service does).
func CanonicalQuery(q map[string]string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = popEncode(k) + "=" + popEncode(q[k])
	}
	return strings.Join(parts, "&")
}

// Sign is the POP signature of a canonical query for method with secret.
func Sign(secret, method, canonical string) string {
	toSign := method + "&" + popEncode("/") + "&" + popEncode(canonical)
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// popEncode is RFC 3986 percent-encoding as POP wants it: Go's query escaping with
// spaces as %20, * as %2A and ~ left alone.
func popEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}
