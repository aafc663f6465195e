package report

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/renameio/v2"
)

// retryAfter is how soon a schedule that failed (a full disk, a browser that would not
// print) tries again.
const retryAfter = 15 * time.Minute

// Start runs the schedule until Close: at once, so that reports a stopped gateway missed
// are written, then each day Delay after midnight. Each run writes the reports of the
// latest ended day, week and month that are missing from Dir, unless no call was offered
// in them. Without a Dir or a schedule it does nothing.
func (r *Reports) Start() {
	if r.cfg.Dir == "" || len(r.cfg.Schedule) == 0 {
		return
	}
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		for {
			wait := retryAfter
			if _, err := r.RunDue(r.ctx, r.cfg.Now()); err == nil {
				wait = r.untilNext(r.cfg.Now())
			} else if r.ctx.Err() == nil {
				r.cfg.Logger.Error("reports: scheduled run failed; retrying", "err", err, "in", retryAfter)
			}
			select {
			case <-r.ctx.Done():
				return
			case <-r.cfg.After(wait):
			}
		}
	}()
}

// untilNext is the wait from now to the next run: Delay after the next midnight.
func (r *Reports) untilNext(now time.Time) time.Duration {
	today := PeriodOf(Daily, now.In(r.cfg.Location).Add(-r.cfg.Delay))
	return today.To.Add(r.cfg.Delay).Sub(now)
}

// Due are the periods whose reports the schedule keeps at now: of each scheduled kind, the
// latest that ended at least Delay ago.
func (r *Reports) Due(now time.Time) []Period {
	var out []Period
	for _, k := range r.cfg.Schedule {
		out = append(out, PeriodOf(k, now.In(r.cfg.Location).Add(-r.cfg.Delay)).Previous())
	}
	return out
}

// RunDue writes the due reports' files missing from Dir and tells the Notifier of each
// period it wrote the first files of. It returns the files written.
func (r *Reports) RunDue(ctx context.Context, now time.Time) ([]string, error) {
	var written []string
	var errs []error
	for _, p := range r.Due(now) {
		files, rep, fresh, err := r.write(ctx, p)
		written = append(written, files...)
		if err != nil {
			r.m.failed.Inc()
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
		// the robot hears of a period once, when its first files are out, not again for
		// a file written later (one deleted, or a PDF that failed the first time)
		if !fresh || len(files) == 0 || r.cfg.Notify == nil {
			continue
		}
		if err := r.notify(ctx, rep, files); err != nil {
			// the files are there; a robot that failed is not asked again for them
			r.m.failed.Inc()
			r.cfg.Logger.Warn("reports: robot message failed", "period", p.String(), "err", err)
		}
	}
	return written, errors.Join(errs...)
}

// path is where the schedule keeps p's report in format f.
func (r *Reports) path(p Period, f Format) string {
	return filepath.Join(r.cfg.Dir, string(p.Kind), p.Name()+"."+ext(f))
}

// write writes p's missing files, building the report once, and returns it; fresh says
// that none of p's files were there before.
func (r *Reports) write(ctx context.Context, p Period) (files []string, rep *Report, fresh bool, err error) {
	var missing []Format
	for _, f := range r.cfg.Formats {
		_, err := os.Stat(r.path(p, f))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, f)
		case err != nil:
			return nil, nil, false, err
		}
	}
	if len(missing) == 0 {
		return nil, nil, false, nil
	}
	fresh = len(missing) == len(r.cfg.Formats)
	if rep, err = r.builder.Build(ctx, p, r.cfg.Lang); err != nil {
		return nil, nil, fresh, err
	}
	if rep.Figures.Offered == 0 {
		// a period without a call is a gateway that was not running (a new one, a test
		// one): nothing to report
		return nil, nil, false, nil
	}
	var errs []error
	for _, f := range missing {
		body, err := r.renderer.Render(ctx, rep, f)
		if err == nil {
			err = writeFile(r.path(p, f), body)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		files = append(files, r.path(p, f))
		r.m.written.WithLabelValues(string(p.Kind), string(f)).Inc()
		r.cfg.Logger.Info("reports: written", "period", p.String(), "file", r.path(p, f), "bytes", len(body))
	}
	return files, rep, fresh, errors.Join(errs...)
}

// writeFile writes body to path whole or not at all (a temporary file renamed into place),
// readable by the owner only: reports hold what the hotline heard about.
func writeFile(path string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return renameio.WriteFile(path, body, 0o600)
}

// notify sends the robot the period's headline figures, its top issue types and the files
// written. No caller's number is in it.
func (r *Reports) notify(ctx context.Context, rep *Report, files []string) error {
	l := layOut(rep)
	x := textFor(rep.Lang)
	colon, open, closing := "：", "（", "）"
	if x.en {
		colon, open, closing = ": ", " (", ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n%s\n\n", l.Title, l.Period)
	for _, f := range l.Figures {
		fmt.Fprintf(&b, "- %s%s%s", f.Label, colon, f.Value)
		if f.Change != "" {
			b.WriteString(open + f.Change + closing)
		}
		b.WriteString("\n")
	}
	if len(rep.Issues) > 0 {
		fmt.Fprintf(&b, "\n**%s**\n", x.t("issue_dist"))
		for _, s := range rep.Issues[:min(5, len(rep.Issues))] {
			fmt.Fprintf(&b, "- %s%s%s%s%s%s\n", x.name(s.Name), colon, num(s.Calls), open, x.change(s.Calls, s.Prev), closing)
		}
	}
	b.WriteString("\n")
	for _, f := range files {
		rel, err := filepath.Rel(r.cfg.Dir, f)
		if err != nil {
			rel = filepath.Base(f)
		}
		fmt.Fprintf(&b, "`%s` ", rel)
	}
	return r.cfg.Notify.SendMarkdown(ctx, l.Title+" "+l.Period, b.String())
}
