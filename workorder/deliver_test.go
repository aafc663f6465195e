package workorder

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSignAndVerify(t *testing.T) {
	secret := []byte("0123456789abcdef")
	body := []byte(`{"call_id":"c1"}`)
	now := time.Unix(1_800_000_000, 0)
	sig := Sign(secret, now.Unix(), body)
	// the documented construction, for receivers in any language: "sha256=" and the hex
	// HMAC-SHA256 of "<timestamp>.<body>" (this value was computed with Python's hmac)
	require.Equal(t, "sha256="+pythonHMAC, sig)
	ts := "1800000000"
	require.NoError(t, Verify(secret, ts, sig, body, now.Add(time.Minute), 5*time.Minute))
	require.Error(t, Verify(secret, ts, sig, []byte(`{"call_id":"c2"}`), now, 5*time.Minute), "body changed")
	require.Error(t, Verify([]byte("another secret!!"), ts, sig, body, now, 5*time.Minute), "other secret")
	require.Error(t, Verify(secret, "1800000001", sig, body, now, 5*time.Minute), "timestamp changed")
	require.Error(t, Verify(secret, ts, sig, body, now.Add(time.Hour), 5*time.Minute), "replayed later")
	require.Error(t, Verify(secret, "soon", sig, body, now, 5*time.Minute))
	require.Equal(t, "call-1:v3", Key("call-1", 3))
}

func TestBackoff(t *testing.T) {
	w := &Worker{cfg: DeliveryConfig{Backoff: 2 * time.Second, MaxBackoff: 10 * time.Minute}}
	var got []time.Duration
	for i := range 12 {
		got = append(got, w.backoff(i))
	}
	require.Equal(t, []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second,
		64 * time.Second, 128 * time.Second, 256 * time.Second, 512 * time.Second, 10 * time.Minute, 10 * time.Minute, 10 * time.Minute}, got)
}

func TestWorkerNeedsConfig(t *testing.T) {
	_, err := NewWorker(DeliveryConfig{URL: "http://127.0.0.1:1"}, WorkerDeps{})
	require.Error(t, err)
}

// pythonHMAC is hmac.new(b"0123456789abcdef", b'1800000000.{"call_id":"c1"}', hashlib.sha256).hexdigest().
const pythonHMAC = "b310583a0c5e4ae3f563712702268995552e46f74433d3d7fa8855fe79f807db"
