package main

import (
	"context"
	"errors"
	"fmt"

	"lianxin/desk"
	"lianxin/dispatch"
	"lianxin/report"
	"lianxin/store"
)

// wireReports makes the reports on the store, names their departments and issue types
// from dispatch's taxonomy, starts their schedule and hands the desk its Report and
// IssueTypes options.
func (a *App) wireReports(st *store.SQLite, clf *dispatch.Classifier, opts *desk.Options) error {
	cfg, err := a.cfg.ForReports()
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
