package desk

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// Admin passwords are kept and compared as bcrypt hashes: a plain one is hashed by New, a
// hash is taken as given, and the hash itself is not a password.
func TestAdminPasswordsAreHashed(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("night-pw"), bcrypt.MinCost)
	require.NoError(t, err)
	e := newEnv(t, Config{Users: map[string]string{"day": "day-pw", "night": string(h)}}, Options{})
	for user, stored := range e.desk.auth.users {
		require.True(t, IsPasswordHash(stored), "%s is kept as a hash", user)
	}
	require.NotEmpty(t, e.login("day", "day-pw"))
	require.NotEmpty(t, e.login("night", "night-pw"))
	code, _ := e.do("POST", "/api/login", "", map[string]string{"user": "night", "password": string(h)})
	require.Equal(t, http.StatusUnauthorized, code, "the hash is not the password")
	_, err = New(Config{Users: map[string]string{"x": ""}}, e.st, Options{})
	require.Error(t, err, "an empty admin password is refused")
}

func TestFirstAdminFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "admin.passwd")
	user, hash, pw, err := FirstAdmin(path)
	require.NoError(t, err)
	require.Equal(t, FirstAdminUser, user)
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), di.Mode().Perm())

	user2, hash2, pw2, err := FirstAdmin(path)
	require.NoError(t, err)
	require.Equal(t, []string{user, hash, ""}, []string{user2, hash2, pw2}, "the second start reuses the hash and shows nothing")

	require.NoError(t, os.WriteFile(path, nil, 0o600))
	_, _, _, err = FirstAdmin(path)
	require.ErrorContains(t, err, "empty")
}
