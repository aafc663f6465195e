package config

import (
	"errors"
	"fmt"
	"lianxin/callflow"
	"os"
	"path/filepath"
	"time"

	"lianxin/desk"
	"lianxin/dispatch"
	"lianxin/report"
)

// ReportsConfig is the analysis reports (数据分析报告): the files the schedule writes, and
// the group robot told of them. Every key is optional.
type ReportsConfig struct {
	// Dir is where the schedule writes them; default data_dir/reports.
	Dir string `yaml:"dir"`
	// Schedule are the reports written once their period ends: daily (after midnight),
	// weekly (Monday), monthly (the 1st). Default all three; [] turns the schedule off.
	Schedule []string `yaml:"schedule"`
	// Delay after midnight, so that calls on at midnight have ended; default 15m.
	Delay time.Duration `yaml:"delay"`
	// Formats the schedule writes: html, pdf, xlsx, csv, json. Default html, xlsx, csv,
	// and pdf when Chromium is there.
	Formats []string `yaml:"formats"`
	// Lang of the files and the robot's message: zh (default) or en.
	Lang string `yaml:"lang"`
	// Timezone of the reports' and the wallboard's days (e.g. Asia/Shanghai); default the host's.
	Timezone string `yaml:"timezone"`
	// Redact masks callers' numbers among the repeat callers, and personal numbers said
	// as part of a place; default true.
	Redact *bool `yaml:"redact"`
	// Chromium prints the PDFs; default /usr/bin/chromium when installed, else no PDFs.
	Chromium string `yaml:"chromium"`
	// Webhook is a 企业微信 or 钉钉 group robot told of each period's reports (figures,
	// no personal data).
	Webhook WebhookConfig `yaml:"webhook"`
}

// WebhookConfig is a 企业微信 or 钉钉 group robot, as the hotspot replay's --webhook flags
// name one.
type WebhookConfig struct {
	Kind   string `yaml:"kind"` // wecom (default) or dingtalk
	URL    string `yaml:"url"`
	Secret string `yaml:"secret"` // DingTalk's signing secret, when the robot is signed
}

// HotspotRobot is the group robot of dispatch.hotspot_webhook for the screens' raised
// alerts; nil (no robot) when it has no URL.
func (c Config) HotspotRobot() (callflow.AlertRobot, error) {
	hook, err := c.Dispatch.HotspotWebhook.Robot()
	if hook == nil || err != nil {
		return nil, err
	}
	return hook, nil
}

// Robot is the group robot, nil when no URL is set.
func (w WebhookConfig) Robot() (*dispatch.Webhook, error) {
	if w.URL == "" {
		return nil, nil
	}
	kind := w.Kind
	if kind == "" {
		kind = dispatch.WebhookWeCom
	}
	return dispatch.NewWebhook(dispatch.WebhookConfig{Kind: kind, URL: w.URL, Secret: w.Secret}, nil, time.Now)
}

// Location is the time zone of the gateway's days (reports.timezone): the reports' and
// the wallboard's, so that both agree on when a day starts; the host's when not set.
func (c Config) Location() (*time.Location, error) {
	if c.Reports.Timezone == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(c.Reports.Timezone)
	if err != nil {
		return nil, fmt.Errorf("timezone %q: %w", c.Reports.Timezone, err)
	}
	return loc, nil
}

// defaultChromium is where Debian's chromium package puts the browser.
const defaultChromium = "/usr/bin/chromium"

// ForReports is the reports' own config, less the store, the names and the clock that
// cmd/gateway hands them: the folder, schedule, formats, language, time zone, masking, the
// browser for PDFs, the robot, and the places grouped as the live hotspots group them.
func (c Config) ForReports() (report.Config, error) {
	rc := c.Reports
	out := report.Config{Dir: rc.Dir, Delay: rc.Delay, Lang: rc.Lang, Redact: rc.Redact == nil || *rc.Redact,
		Chromium: rc.Chromium, Web: desk.WebFiles(), Places: dispatch.GroupPlaces}
	if out.Dir == "" {
		out.Dir = filepath.Join(c.DataDir, "reports")
	}
	schedule := rc.Schedule
	if schedule == nil {
		schedule = []string{"daily", "weekly", "monthly"}
	}
	var errs []error
	for _, s := range schedule {
		k, err := report.ParseKind(s)
		errs = append(errs, err)
		out.Schedule = append(out.Schedule, k)
	}
	for _, s := range rc.Formats {
		f, err := report.ParseFormat(s)
		if err == nil && f == report.Fragment {
			err = fmt.Errorf("%w: %s is no file format", report.ErrBadRequest, s)
		}
		errs = append(errs, err)
		out.Formats = append(out.Formats, f)
	}
	if rc.Lang != "" && rc.Lang != "zh" && rc.Lang != "en" {
		errs = append(errs, fmt.Errorf("lang %q (want zh or en)", rc.Lang))
	}
	if rc.Delay < 0 || rc.Delay >= 24*time.Hour {
		errs = append(errs, fmt.Errorf("delay %s must be within a day", rc.Delay))
	}
	if rc.Timezone != "" {
		loc, err := c.Location()
		errs = append(errs, err)
		out.Location = loc
	}
	if out.Chromium == "" {
		if _, err := os.Stat(defaultChromium); err == nil {
			out.Chromium = defaultChromium
		}
	}
	if hook, err := rc.Webhook.Robot(); hook != nil || err != nil {
		errs = append(errs, err)
		out.Notify = hook
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("reports: %w", err)
	}
	return out, nil
}
