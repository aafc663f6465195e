package config

import (
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/report"
)

// reportsExample is README's reports example.
const reportsExample = `
reports:                               # analysis reports (all keys optional)
  dir: ./data/reports                  # default data_dir/reports
  schedule: [daily, weekly, monthly]   # the default; [] turns the schedule off
  delay: 15m                           # after midnight
  formats: [html, xlsx, csv, pdf]      # default: these, pdf only when Chromium is there
  lang: zh                             # or en: the files' and the robot's language
  timezone: Asia/Shanghai              # the reports' and the wallboard's days; default the host's
  redact: true                         # false prints repeat callers' numbers in full
  chromium: /usr/bin/chromium          # prints the PDFs; the default when installed
  webhook: {kind: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…", secret: ""}   # or dingtalk (secret: its SEC… signing key)
`

func TestReportsConfigExample(t *testing.T) {
	cfg, err := ParseServeFlags([]string{"--config", writeConfig(t, reportsExample)}, io.Discard)
	require.NoError(t, err)
	rc, err := cfg.ForReports()
	require.NoError(t, err)
	require.Equal(t, report.Kinds, rc.Schedule)
	require.Equal(t, []report.Format{report.HTML, report.XLSX, report.CSV, report.PDF}, rc.Formats)
	require.NotNil(t, rc.Notify)
}

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
	cfg, err := ParseServeFlags([]string{"--config", p}, io.Discard)
	require.NoError(t, err)
	rc, err := cfg.ForReports()
	require.NoError(t, err)
	require.Equal(t, "/srv/reports", rc.Dir)
	require.Equal(t, []report.Kind{report.Daily, report.Monthly}, rc.Schedule)
	require.Equal(t, []report.Format{report.HTML, report.CSV}, rc.Formats)
	require.Equal(t, 30*time.Minute, rc.Delay)
	require.Equal(t, "en", rc.Lang)
	require.Equal(t, "Asia/Shanghai", rc.Location.String())
	require.False(t, rc.Redact)
	require.Equal(t, "/opt/chromium/chrome", rc.Chromium)
	require.NotNil(t, rc.Notify, "the robot")

	def, err := Default().ForReports()
	require.NoError(t, err)
	require.Equal(t, report.Kinds, def.Schedule, "every report by default")
	require.True(t, def.Redact, "callers' numbers masked by default")
	require.Equal(t, filepath.Join("data", "reports"), def.Dir)
	require.NotNil(t, def.Places, "report places grouped as the live hotspots group them")
	require.Equal(t, []int{0, 0, 2}, def.Places([]string{"兴建路", "新建路", "建设路"}))

	off, err := ParseServeFlags([]string{"--config", writeConfig(t, "reports: {schedule: []}\n")}, io.Discard)
	require.NoError(t, err)
	rc, err = off.ForReports()
	require.NoError(t, err)
	require.Empty(t, rc.Schedule, "[] turns the schedule off")

	for yaml, want := range map[string]string{
		"reports: {schedule: [hourly]}\n":      `period "hourly"`,
		"reports: {formats: [docx]}\n":         `format "docx"`,
		"reports: {formats: [fragment]}\n":     "no file format",
		"reports: {lang: fr}\n":                `lang "fr"`,
		"reports: {timezone: Mars/Olympus}\n":  "Mars/Olympus",
		"reports: {delay: 25h}\n":              "within a day",
		"reports: {colour: blue}\n":            "colour",
		"reports: {webhook: {url: ftp://x}}\n": "not an http(s) URL",
	} {
		_, err := ParseServeFlags([]string{"--config", writeConfig(t, yaml)}, io.Discard)
		require.ErrorContains(t, err, want, yaml)
	}
}

// dispatch.hotspot_webhook gives the screens a group robot; without a URL there is none,
// and a URL that is not http(s) is refused at start.
func TestHotspotRobot(t *testing.T) {
	cfg := Default()
	robot, err := cfg.HotspotRobot()
	require.NoError(t, err)
	require.Nil(t, robot)
	require.NoError(t, ReadFile(writeConfig(t, "dispatch: {hotspot_webhook: {kind: dingtalk, url: \"https://oapi.dingtalk.com/robot/send?access_token=x\", secret: SECabc}}\n"), &cfg))
	robot, err = cfg.HotspotRobot()
	require.NoError(t, err)
	require.NotNil(t, robot)
	cfg.Dispatch.HotspotWebhook.URL = "ftp://x"
	_, err = cfg.HotspotRobot()
	require.ErrorContains(t, err, "not an http(s) URL")
}

// The wallboard's days are the reports': reports.timezone is the desk's zone too, the
// host's when it is not set.
func TestDeskDayFollowsReportsZone(t *testing.T) {
	cfg := Default()
	cfg.DataDir = t.TempDir()
	cfg.Desk.Admins = map[string]string{"ops": "$2a$04$juv2KaWJ6yqFmVyuVfLaye/P04BM0JseKO6ftX1JGNXVe3BDoAAeS"}
	dc, err := cfg.ForDesk(nil)
	require.NoError(t, err)
	require.Equal(t, time.Local, dc.Location)

	cfg.Reports.Timezone = "Asia/Shanghai"
	dc, err = cfg.ForDesk(nil)
	require.NoError(t, err)
	rc, err := cfg.ForReports()
	require.NoError(t, err)
	require.Equal(t, "Asia/Shanghai", dc.Location.String())
	require.Equal(t, rc.Location.String(), dc.Location.String(), "one zone")
}
