package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/config"
	"lianxin/report"
	"lianxin/store"
)

// TestGatewayWritesReports: a gateway started after a day of calls writes that day's
// report to data_dir/reports, tells the group robot, and serves reports to admins.
func TestGatewayWritesReports(t *testing.T) {
	messages := make(chan string, 4)
	robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ Markdown struct{ Content string } }
		_ = json.NewDecoder(r.Body).Decode(&m)
		messages <- m.Markdown.Content
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(robot.Close)
	day := report.PeriodOf(report.Daily, time.Now().Add(-time.Second)).Previous()
	g := startGateway(t, func(c *config.Config) {
		c.Reports = config.ReportsConfig{Schedule: []string{"daily"}, Delay: time.Second, Formats: []string{"html", "csv"},
			Webhook: config.WebhookConfig{URL: robot.URL + "/cgi-bin/webhook/send?key=k"}}
		st, err := store.OpenSQLite(context.Background(), filepath.Join(c.DataDir, "lianxin.db"))
		require.NoError(t, err)
		defer st.Close()
		for i := range 5 {
			id, at := fmt.Sprint("y", i), day.From.Add(time.Duration(9+i)*time.Hour)
			require.NoError(t, st.Write(context.Background(), store.Call{ID: id, From: "13800138000", Seat: "seat-01", OfferedAt: at},
				store.CallAnswered{CallID: id, Seat: "seat-01", At: at.Add(5 * time.Second)},
				store.CallEnded{CallID: id, At: at.Add(3 * time.Minute), Survey: "satisfied"}))
		}
	})

	select {
	case msg := <-messages:
		require.Contains(t, msg, "日报")
		require.Contains(t, msg, "- 呼入：5")
	case <-time.After(time.Minute): // only a broken schedule waits this long
		require.FailNow(t, "the robot heard nothing")
	}
	csvPath := filepath.Join(g.dataDir, "reports", "daily", day.Name()+".csv")
	b, err := os.ReadFile(csvPath)
	require.NoError(t, err)
	require.Contains(t, string(b), "summary,呼入,本期,5\n")
	_, err = os.Stat(filepath.Join(g.dataDir, "reports", "daily", day.Name()+".html"))
	require.NoError(t, err)

	token := g.login(t, testAdmin, testAdminPassword)
	req, err := http.NewRequest(http.MethodGet, "http://"+g.http+"/api/reports?period=weekly&date="+day.Name()+"&format=xlsx", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.True(t, strings.HasSuffix(res.Header.Get("Content-Disposition"), `.xlsx"`))
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(body), "PK"), "a workbook is a zip")
}
