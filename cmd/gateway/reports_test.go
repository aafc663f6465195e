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

	"lianxin/report"
	"lianxin/store"
)

func TestConfigReports(t *testing.T) {
	p := writeConfig(t, `
reports:
  dir: /srv/reports
  schedule: [daily, monthly]
  delay: 30m
  formats: [html, csv]
  lang: en
  timezone: Asia/Shanghai
  redact: false
  chromium: /opt/chromium/chrome
  webhook: {kind: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=x", secret: SECabc}
`)
	cfg, err := parseServeFlags([]string{"--config", p}, io.Discard)
	require.NoError(t, err)
	rc, err := cfg.reportConfig()
	require.NoError(t, err)
	require.Equal(t, "/srv/reports", rc.Dir)
	require.Equal(t, []report.Kind{report.Daily, report.Monthly}, rc.Schedule)
	require.Equal(t, []report.Format{report.HTML, report.CSV}, rc.Formats)
	require.Equal(t, 30*time.Minute, rc.Delay)
	require.Equal(t, "en", rc.Lang)
	require.Equal(t, "Asia/Shanghai", rc.Location.String())
	require.False(t, rc.Redact)
	require.Equal(t, "/opt/chromium/chrome", rc.Chromium)

	def, err := defaultConfig().reportConfig()
	require.NoError(t, err)
	require.Equal(t, report.Kinds, def.Schedule, "every report by default")
	require.True(t, def.Redact, "callers' numbers masked by default")
	require.Equal(t, filepath.Join("data", "reports"), def.Dir)

	off, err := parseServeFlags([]string{"--config", writeConfig(t, "reports: {schedule: []}\n")}, io.Discard)
	require.NoError(t, err)
	rc, err = off.reportConfig()
	require.NoError(t, err)
	require.Empty(t, rc.Schedule, "[] turns the schedule off")

	for yaml, want := range map[string]string{
		"reports: {schedule: [hourly]}\n":     `period "hourly"`,
		"reports: {formats: [docx]}\n":        `format "docx"`,
		"reports: {formats: [fragment]}\n":    "no file format",
		"reports: {lang: fr}\n":               `lang "fr"`,
		"reports: {timezone: Mars/Olympus}\n": "Mars/Olympus",
		"reports: {delay: 25h}\n":             "within a day",
		"reports: {colour: blue}\n":           "colour",
	} {
		_, err := parseServeFlags([]string{"--config", writeConfig(t, yaml)}, io.Discard)
		require.ErrorContains(t, err, want, yaml)
	}
}

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
	g := startGateway(t, func(c *Config) {
		c.Reports = ReportsConfig{Schedule: []string{"daily"}, Delay: time.Second, Formats: []string{"html", "csv"},
			Webhook: ReportWebhookConfig{URL: robot.URL + "/cgi-bin/webhook/send?key=k"}}
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
