package desk

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// FirstAdminUser is the name of the admin that FirstAdmin creates.
const FirstAdminUser = "admin"

// IsPasswordHash reports whether s is a bcrypt hash ("$2a$…", "$2b$…", "$2y$…") rather than
// a plain password. A plain password that happens to look like one is taken as a hash, and
// then no password matches it.
func IsPasswordHash(s string) bool {
	_, err := bcrypt.Cost([]byte(s))
	return err == nil
}

// HashPassword returns password's bcrypt hash, or password itself when it already is one.
func HashPassword(password string) (string, error) {
	if IsPasswordHash(password) {
		return password, nil
	}
	if password == "" {
		return "", errors.New("desk: empty password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("desk: hash password: %w", err)
	}
	return string(h), nil
}

// HashPasswords returns users with every plain password replaced by its bcrypt hash.
func HashPasswords(users map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(users))
	for u, p := range users {
		h, err := HashPassword(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		out[u] = h
	}
	return out, nil
}

// FirstAdmin returns the admin kept in the file at path ("user:bcrypt-hash"), creating it on
// first use with FirstAdminUser and a random password. password is set only when the file was
// created by this call, so that the caller can show it once (the file holds only the hash).
// The file is created with mode 0600 and its folder with 0700.
func FirstAdmin(path string) (user, hash, password string, err error) {
	user, hash, err = readAdminFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return user, hash, "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", "", "", fmt.Errorf("desk: admin file: %w", err)
	}
	password = rand.Text()
	if hash, err = HashPassword(password); err != nil {
		return "", "", "", err
	}
	// O_EXCL: two gateways starting on one data dir must not each print a password of
	// which only one works
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		user, hash, err = readAdminFile(path)
		return user, hash, "", err
	}
	if err != nil {
		return "", "", "", fmt.Errorf("desk: admin file: %w", err)
	}
	_, err = fmt.Fprintf(f, "%s:%s\n", FirstAdminUser, hash)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path) // a half-written file would lock the admin out for good
		return "", "", "", fmt.Errorf("desk: admin file: %w", err)
	}
	return FirstAdminUser, hash, password, nil
}

func readAdminFile(path string) (user, hash string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return "", "", fmt.Errorf("desk: admin file %s: %w", path, err)
		}
		return "", "", fmt.Errorf("desk: admin file %s is empty: delete it to make a new admin", path)
	}
	user, hash, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
	if !ok || user == "" || !IsPasswordHash(hash) {
		return "", "", fmt.Errorf("desk: admin file %s: want user:bcrypt-hash", path)
	}
	return user, hash, nil
}
