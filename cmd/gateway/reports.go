package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"lianxin/desk"
	"lianxin/dispatch"
	"lianxin/report"
	"lianxin/store"
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
	// Timezone of the reports' days (e.g. Asia/Shanghai); default the host's.
	Timezone string `yaml:"timezone"`
	// Redact masks callers' numbers among the repeat callers, and personal numbers said
	// as part of a place; default true.
	Redact *bool `yaml:"redact"`
	// Chromium prints the PDFs; default /usr/bin/chromium when installed, else no PDFs.
	Chromium string `yaml:"chromium"`
	// Webhook is a 企业微信 or 钉钉 group robot told of each period's reports (figures,
	// no personal data).
	Webhook ReportWebhookConfig `yaml:"webhook"`
}

// ReportWebhookConfig is a group robot, as the hotspot replay's --webhook flags name one.
type ReportWebhookConfig struct {
	Kind   string `yaml:"kind"` // wecom (default) or dingtalk
	URL    string `yaml:"url"`
	Secret string `yaml:"secret"` // DingTalk's signing secret, when the robot is signed
}

// defaultChromium is where Debian's chromium package puts the browser.
const defaultChromium = "/usr/bin/chromium"

// reportConfig checks the reports' configuration and makes the report package's.
func (c Config) reportConfig() (report.Config, error) {
	rc := c.Reports
	out := report.Config{Dir: rc.Dir, Delay: rc.Delay, Lang: rc.Lang, Redact: rc.Redact == nil || *rc.Redact,
		Chromium: rc.Chromium, Web: desk.WebFiles()}
	var errs []error
	if out.Dir == "" {
		out.Dir = filepath.Join(c.DataDir, "reports")
	}
	schedule := rc.Schedule
	if schedule == nil {
		schedule = []string{"daily", "weekly", "monthly"}
	}
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
		loc, err := time.LoadLocation(rc.Timezone)
		errs = append(errs, err)
		out.Location = loc
	}
	if out.Chromium == "" {
		if _, err := os.Stat(defaultChromium); err == nil {
			out.Chromium = defaultChromium
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("reports: %w", err)
	}
	return out, nil
}

// wireReports makes the reports on the store, names their departments and issue types
// from dispatch's taxonomy, starts their schedule and hands the desk its Report and
// IssueTypes options.
func (a *App) wireReports(st *store.SQLite, clf *dispatch.Classifier, opts *desk.Options) error {
	cfg, err := a.cfg.reportConfig()
	if err != nil {
		return err
	}
	cfg.Source, cfg.Now, cfg.Registerer, cfg.Logger = st, a.now, a.reg, a.log
	cfg.Names = report.Names{Departments: map[string]report.Label{}, Issues: map[string]report.Label{}}
	for _, d := range clf.Taxonomy().Departments {
		cfg.Names.Departments[d.ID] = report.Label{ZH: d.Name, EN: d.NameEN}
	}
	ic, err := clf.IssueClassifier()
	if err != nil {
		return fmt.Errorf("reports: issue types: %w", err)
	}
	var types []desk.Dept
	for _, is := range ic.Issues().Types {
		cfg.Names.Issues[is.ID] = report.Label{ZH: is.Name, EN: is.NameEN}
		types = append(types, desk.Dept{ID: is.ID, Name: is.Name, NameEN: is.NameEN})
	}
	opts.IssueTypes = func() []desk.Dept { return types }
	if w := a.cfg.Reports.Webhook; w.URL != "" {
		kind := w.Kind
		if kind == "" {
			kind = dispatch.WebhookWeCom
		}
		if cfg.Notify, err = dispatch.NewWebhook(dispatch.WebhookConfig{Kind: kind, URL: w.URL, Secret: w.Secret}, nil, a.now); err != nil {
			return fmt.Errorf("reports: webhook: %w", err)
		}
	}
	r, err := report.New(cfg)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, r.Close)
	opts.Report = func(ctx context.Context, period, date, format, lang string) (desk.ReportFile, error) {
		f, err := r.Make(ctx, period, date, format, lang)
		switch {
		case errors.Is(err, report.ErrBadRequest):
			err = fmt.Errorf("%w: %w", desk.ErrBadReport, err)
		case errors.Is(err, report.ErrNoPDF):
			err = fmt.Errorf("%w: %w", desk.ErrReportUnavailable, err)
		}
		return desk.ReportFile{Name: f.Name, ContentType: f.ContentType, Body: f.Body}, err
	}
	r.Start()
	return nil
}
