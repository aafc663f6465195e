package sip

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Registrations survive a restart with the life they had left; expired ones and those of
// seats that no longer exist do not come back.
func TestRegistrationsSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registrations.json")
	store := FileRegistrations{Path: path}
	clock := newFakeClock()
	withStore := func(c *Config) { c.Registrations = store; c.Now = clock.Now }

	a := startServer(t, withStore)
	p := newUDPPeer(t, a.Addr().String())
	for _, seat := range []string{"seat-01", "seat-02"} {
		chal := p.challenge(seat)
		require.Equal(t, 200, p.do(p.register(seat, p.authorization(chal, seat, testPassword, 1), 600)).StatusCode)
	}
	before, ok := a.Registration("seat-01")
	require.True(t, ok)
	require.NoError(t, a.Close())
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "where the phones are is for the gateway only")

	clock.Advance(2 * time.Minute)
	var mu sync.Mutex
	announced := map[string]bool{}
	b := startServer(t, func(c *Config) {
		withStore(c)
		c.OnRegistration = func(seat string, on bool) {
			mu.Lock()
			announced[seat] = on
			mu.Unlock()
		}
		base := c.Credentials
		c.Credentials = func(u string) (string, bool) {
			if u == "seat-02" { // removed from the config meanwhile
				return "", false
			}
			return base(u)
		}
	})
	after, ok := b.Registration("seat-01")
	require.True(t, ok, "seat-01 is registered after the restart")
	require.Equal(t, before.Contact.String(), after.Contact.String())
	require.True(t, before.Expires.Equal(after.Expires), "with the life it had left")
	_, ok = b.Registration("seat-02")
	require.False(t, ok, "a seat no longer configured is not restored")
	mu.Lock()
	require.Equal(t, map[string]bool{"seat-01": true}, announced, "the restored seat is announced")
	mu.Unlock()
	require.NoError(t, b.Close())

	clock.Advance(10 * time.Minute)
	c := startServer(t, withStore)
	_, ok = c.Registration("seat-01")
	require.False(t, ok, "an expired registration is not restored")
}

// A damaged file is reported, not half-read.
func TestFileRegistrationsDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registrations.json")
	require.NoError(t, os.WriteFile(path, []byte(`[{"seat":"seat-01","contact":"::::"`), 0o600))
	_, err := FileRegistrations{Path: path}.LoadRegistrations()
	require.Error(t, err)
	regs, err := FileRegistrations{Path: filepath.Join(t.TempDir(), "none.json")}.LoadRegistrations()
	require.NoError(t, err)
	require.Empty(t, regs)
}
