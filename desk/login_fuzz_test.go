package desk

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Whatever reaches /api/login, the answer is a clear status with a JSON body, never a
// server error, and no token without the right password.
func FuzzLogin(f *testing.F) {
	for _, seed := range [][2]string{
		{"application/json", `{"user":"seat-01","password":"s3cret"}`},
		{"application/json", `{"user":"admin","password":"adminpw"}`},
		{"application/json", `{"user":"seat-01","password":"wrong"}`},
		{"text/plain", `{"user":"seat-01","password":"s3cret"}`},
		{"application/json; charset=utf-8", `{"user":"` + strings.Repeat("a", 100) + `","password":"x"}`},
		{"application/json", `{"user":null}`}, {"application/json", `[]`}, {"", ""}, {"application/json", "\xff"},
	} {
		f.Add(seed[0], seed[1])
	}
	e := newEnv(f, Config{}, Options{})
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req, err := http.NewRequest("POST", e.srv.URL+"/api/login", strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", contentType)
		res, err := http.DefaultClient.Do(req)
		if err != nil && strings.Contains(err.Error(), "invalid header field") {
			t.Skip() // no client can send it
		}
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 500 {
			t.Fatalf("%s %q: %d %s", contentType, body, res.StatusCode, b)
		}
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %q: %d with a body that is not JSON: %q", contentType, body, res.StatusCode, b)
		}
		if res.StatusCode == http.StatusOK {
			var creds struct{ User, Password string }
			_ = json.Unmarshal([]byte(body), &creds)
			ok := (creds.User == "admin" && creds.Password == "adminpw") ||
				(strings.HasPrefix(creds.User, "seat-") && creds.Password == seatPass)
			if !ok || out["token"] == nil {
				t.Fatalf("%q logged in: %s", body, b)
			}
		}
	})
}
