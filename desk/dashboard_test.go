package desk

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"lianxin/internal/testpeer"
)

// The Grafana dashboard parses, shows every desk metric, and every query is valid PromQL
// (promtool checks them as recording rules; Grafana's $__range becomes a fixed range).
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("../dashboards/lianxin.json")
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	var exprs []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			require.Contains(t, tg.Expr, "lianxin_", p.Title)
			exprs = append(exprs, tg.Expr)
		}
	}
	require.NotEmpty(t, exprs)
	all := strings.Join(exprs, "\n")
	m, err := newMetrics(prometheus.NewRegistry())
	require.NoError(t, err)
	for _, c := range []prometheus.Collector{m.subscribers, m.events, m.slowDrops, m.replayed, m.publish} {
		ch := make(chan *prometheus.Desc, 1)
		c.Describe(ch)
		name := strings.Split(strings.TrimPrefix((<-ch).String(), `Desc{fqName: "`), `"`)[0]
		require.Contains(t, all, name, "dashboard shows %s", name)
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		testpeer.Unavailable(t, "needs promtool (Debian package prometheus) to check the queries")
	}
	var rules strings.Builder
	rules.WriteString("groups:\n- name: dashboard\n  rules:\n")
	for i, e := range exprs {
		e = strings.ReplaceAll(e, "$__range", "1d")
		q, err := json.Marshal(e) // a JSON string is a valid YAML scalar
		require.NoError(t, err)
		fmt.Fprintf(&rules, "  - record: dashboard:q%d\n    expr: %s\n", i, q)
	}
	path := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(path, []byte(rules.String()), 0o600))
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	require.NoError(t, err, string(out))
}
