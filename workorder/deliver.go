package workorder

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Headers of a delivery. The signature is over the timestamp, a dot and the body.
const (
	HeaderTimestamp   = "X-Lianxin-Timestamp" // Unix seconds
	HeaderSignature   = "X-Lianxin-Signature" // "sha256=" + hex HMAC-SHA256
	HeaderIdempotency = "Idempotency-Key"     // call id + version: the same on every retry
)

// Order is the body delivered to the work-order system.
type Order struct {
	IdempotencyKey string    `json:"idempotency_key"`
	CallID         string    `json:"call_id"`
	Version        int       `json:"version"`
	Seat           string    `json:"seat,omitempty"`
	SubmittedAt    time.Time `json:"submitted_at"`
	Fields
}

// Key is the idempotency key of a call's version-th submitted order.
func Key(callID string, version int) string { return callID + ":v" + strconv.Itoa(version) }

// Sign returns the signature header's value for body sent at ts.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery as the receiver does: the signature over timestamp and body,
// and a timestamp within skew of now (a replay of an old delivery is refused).
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, skew time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("workorder: bad timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > skew || d < -skew {
		return errors.New("workorder: timestamp outside the allowed skew")
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature)) {
		return errors.New("workorder: bad signature")
	}
	return nil
}

// Delivery is one submitted order waiting in the outbox.
type Delivery struct {
	ID       int64
	CallID   string
	Seat     string
	Key      string
	Body     []byte
	Attempts int
	// Since is when the delivery was queued (or an admin queued it again): it dies MaxAge
	// after.
	Since time.Time
}

// Receipt is the receiver's acceptance: its work-order number.
type Receipt struct {
	OrderNo string `json:"order_no"`
}

// Sender posts a delivery to the work-order system.
type Sender struct {
	URL    string
	Secret []byte
	Client *http.Client // its Timeout, or the context, bounds a slow receiver
	Now    func() time.Time
}

// errPermanent marks an answer that retrying cannot change (the receiver refuses the order).
var errPermanent = errors.New("refused by the receiver")

// maxReceiptBytes bounds the receiver's answer.
const maxReceiptBytes = 64 << 10

// Send delivers d once. A 2xx answer with an order number is a receipt; 4xx other than 408
// and 429 is permanent (the order goes to the dead letters at once); anything else is
// retried.
func (s *Sender) Send(ctx context.Context, d Delivery) (Receipt, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(d.Body))
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: %w", errPermanent, err)
	}
	ts := s.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(s.Secret, ts, d.Body))
	req.Header.Set(HeaderIdempotency, d.Key)
	resp, err := s.Client.Do(req)
	if err != nil {
		return Receipt{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReceiptBytes))
	if err != nil {
		return Receipt{}, fmt.Errorf("reading the answer: %w", err)
	}
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
	case c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests:
		return Receipt{}, fmt.Errorf("%w: HTTP %d %s", errPermanent, c, truncate(string(raw), 200))
	default:
		return Receipt{}, fmt.Errorf("HTTP %d", c)
	}
	var r Receipt
	if err := json.Unmarshal(raw, &r); err != nil || r.OrderNo == "" {
		// accepted but unanswered: the same key again will get the number
		return Receipt{}, fmt.Errorf("answer without order_no: %s", truncate(string(raw), 200))
	}
	return r, nil
}
