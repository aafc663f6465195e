package desk

import (
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every answer of the desk carries the browser protections, and the pages need nothing the
// policy forbids (inline scripts, handlers or styles), so the policy does not break them.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	scripts := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`)
	inline := regexp.MustCompile(`(?i)\son[a-z]+\s*=|\sstyle\s*=|<style`)
	for path, code := range map[string]int{"/": 200, "/admin": 200, "/static/common.js": 200, "/api/me": 401, "/api/none": 404} {
		res, err := http.Get(e.srv.URL + path)
		require.NoError(t, err)
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		require.Equal(t, code, res.StatusCode, path)
		h := res.Header
		require.Equal(t, contentSecurityPolicy, h.Get("Content-Security-Policy"), path)
		require.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
		require.NotContains(t, h.Get("Content-Security-Policy"), "unsafe-inline")
		require.Equal(t, "DENY", h.Get("X-Frame-Options"), path)
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
		require.Equal(t, "no-referrer", h.Get("Referrer-Policy"), path)
		if path == "/" || path == "/admin" {
			require.Nil(t, inline.Find(b), "%s has an inline handler or style: %q", path, inline.Find(b))
			tags := scripts.FindAllSubmatch(b, -1)
			require.NotEmpty(t, tags, path)
			for _, m := range tags {
				require.Contains(t, string(m[1]), "src=", path)
				require.Empty(t, string(m[2]), "%s has an inline script", path)
			}
		}
	}
}
