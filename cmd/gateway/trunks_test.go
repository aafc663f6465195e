package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/config"
	"lianxin/internal/audiotest"
	"lianxin/internal/testpeer"
)

// sippDial runs a sipp scenario from testdata/sipp dialling service, with the caller
// fixture as its audio.
func (g *testGateway) sippDial(ctx context.Context, t *testing.T, scenario, service string, extra ...string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	dur, err := testpeer.WritePCMUPcap(fixture("audio/caller.wav"), filepath.Join(dir, "caller.pcap"))
	require.NoError(t, err)
	mp := testpeer.FreeUDPPorts(t, 4)
	args := []string{g.sipAddr, "-sf", fixture("sipp/" + scenario), "-s", service, "-p", "0",
		"-mi", "127.0.0.1", "-mp", fmt.Sprint(mp), "-m", "1", "-d", fmt.Sprint((dur + 500*time.Millisecond).Milliseconds())}
	return testpeer.Sipp(ctx, t, dir, append(args, extra...)...)
}

// heardCaller waits for the seat's recording of the call and checks it is the caller.
func heardCaller(t *testing.T, seat *testpeer.Baresip) {
	t.Helper()
	caller, err := testpeer.ReadWAV8k(fixture("audio/caller.wav"))
	require.NoError(t, err)
	var heard []int16
	require.Eventually(t, func() bool {
		for _, f := range seat.Received() {
			if pcm, _, _, err := testpeer.ReadWAV(f); err == nil && len(pcm) > 8000 {
				heard = pcm
				return true
			}
		}
		return false
	}, 15*time.Second, 100*time.Millisecond, "the seat's recording never finished:\n%s", seat.Log())
	c, _ := audiotest.BestCorrelation(caller, heard, 3*8000)
	require.Greater(t, c, 0.8, "the seat heard the caller")
}

// A carrier known by its address (127.0.0.1) delivers +86-580-12345 to line 12345 and
// the seat hears the caller; a caller from another address (127.0.0.2) is refused 403.
func TestCarrierTrunkReachesSeatAndStrangerIsRefused(t *testing.T) {
	g := startGateway(t, func(c *config.Config) {
		c.Lines = []config.LineConfig{{Number: "12345"}}
		c.Trunks = []config.TrunkConfig{{Name: "telecom", Sources: []string{"127.0.0.1"}, Numbers: config.NumbersConfig{AreaCode: "580"}}}
	})
	require.False(t, g.app.sip.Open())
	seat := g.seat(t, "seat-01")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	out, err := g.sippDial(ctx, t, "caller_forbidden.xml", "12345", "-i", "127.0.0.2")
	require.NoError(t, err, "a stranger gets 403:\n%s", out)
	require.Equal(t, "available", string(g.app.acd.States()["seat-01"]), "the seat was never rung")

	out, err = g.sippDial(ctx, t, "caller.xml", "+86-580-12345")
	require.NoError(t, err, out)
	heardCaller(t, seat)
	m := g.metrics(t)
	require.Equal(t, 1.0, metricValue(m, `lianxin_calls_answered_total{line="12345"}`), "the call reached line 12345")
	require.Equal(t, 1.0, metricValue(m, `lianxin_trunk_invites_total{result="admitted",trunk="telecom"}`))
	require.Equal(t, 1.0, metricValue(m, `lianxin_trunk_invites_total{result="forbidden",trunk="none"}`))
}

// A PBX that authenticates its INVITEs (407, then Proxy-Authorization) reaches a seat from
// an address no trunk names.
func TestPBXTrunkWithDigestReachesSeat(t *testing.T) {
	g := startGateway(t, func(c *config.Config) {
		c.Lines = []config.LineConfig{{Number: "12345"}}
		c.Trunks = []config.TrunkConfig{{Name: "pbx", Auth: &config.TrunkAuthConfig{Username: "pbx-east", Password: "pbx-secret"}}}
	})
	seat := g.seat(t, "seat-01")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := g.sippDial(ctx, t, "pbx_digest.xml", "12345", "-i", "127.0.0.2", "-au", "pbx-east", "-ap", "pbx-secret")
	require.NoError(t, err, out)
	heardCaller(t, seat)
	m := g.metrics(t)
	require.Equal(t, 1.0, metricValue(m, `lianxin_trunk_invites_total{result="admitted",trunk="pbx"}`))
	require.Equal(t, 1.0, metricValue(m, `lianxin_sip_trunk_auth_total{result="challenged"}`))
}

// A carrier whose registrar does not answer shows as a failing part on /healthz (and so on
// the wallboard) with its last error and next attempt, and on /metrics.
func TestTrunkRegistrationStateIsShown(t *testing.T) {
	dead := fmt.Sprintf("127.0.0.1:%d", testpeer.FreeUDPPorts(t, 1))
	g := startGateway(t, func(c *config.Config) {
		c.Trunks = []config.TrunkConfig{{Name: "telecom", Sources: []string{"127.0.0.1"}, Register: &config.TrunkRegisterConfig{
			Registrar: dead, Username: "0580123450", Password: "pw", Timeout: 300 * time.Millisecond, RetryMin: time.Minute}}}
	})
	var body struct {
		Status   string `json:"status"`
		Problems []struct {
			Component string `json:"component"`
			Detail    string `json:"detail"`
		} `json:"problems"`
	}
	require.Eventually(t, func() bool {
		res, err := http.Get("http://" + g.http + "/healthz")
		require.NoError(t, err)
		defer res.Body.Close()
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		return body.Status == "degraded"
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, "trunk telecom", body.Problems[0].Component)
	require.Contains(t, body.Problems[0].Detail, "registration failing (1 in a row) at "+dead, "names the registrar it failed at")
	require.Contains(t, body.Problems[0].Detail, "next attempt")
	m := g.metrics(t)
	require.Equal(t, 0.0, metricValue(m, `lianxin_trunk_registered{trunk="telecom"}`))
	require.Equal(t, 1.0, metricValue(m, `lianxin_trunk_registration_state{state="backing_off",trunk="telecom"}`))
	require.Greater(t, metricValue(m, `lianxin_trunk_registration_next_attempt_timestamp_seconds{trunk="telecom"}`),
		float64(time.Now().Unix()), "the next attempt is ahead")
	require.True(t, strings.Contains(m, `lianxin_trunk_registration_failures_total{trunk="telecom"} 1`), m)
	require.Equal(t, 0.0, metricValue(m, `lianxin_trunk_registration_last_status{trunk="telecom"}`), "no answer came")
	require.Equal(t, 1.0, metricValue(m, `lianxin_trunk_registration_target{address="`+dead+`",target="`+dead+`",trunk="telecom"}`))
}
