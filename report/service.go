package report

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Notifier tells people a report is out: a group robot's markdown message.
type Notifier interface {
	SendMarkdown(ctx context.Context, title, text string) error
}

// Config is the reports' configuration and collaborators.
type Config struct {
	Source Source
	Names  Names
	// Places groups the spellings of one place for the places most called about; the
	// gateway's configuration hands over dispatch.GroupPlaces, the grouping the live
	// hotspots use. Nil: places are grouped as spelled.
	Places PlaceGrouper
	// Web are the desk's web files, where the HTML report's styles and scripts are.
	Web fs.FS
	// Chromium is the browser that prints PDFs; empty: no PDFs.
	Chromium string
	// Redact masks callers' numbers and personal numbers in places (default on in the
	// gateway's configuration).
	Redact bool
	// Lang is the language of the files the schedule writes and of the robot's message:
	// "zh" (default) or "en".
	Lang string
	// Location is the time zone of the reports' days; nil: the host's.
	Location *time.Location

	// Dir is where the schedule writes reports: Dir/daily/2026-11-23.xlsx,
	// Dir/weekly/2026-W48.pdf, Dir/monthly/2026-11.csv. Empty: no schedule.
	Dir string
	// Schedule are the kinds written when their period ends.
	Schedule []Kind
	// Delay is how long after midnight the schedule runs, so that calls that were on at
	// midnight have ended (default 15m).
	Delay time.Duration
	// Formats are the files written (default html, xlsx, csv, and pdf when Chromium is set).
	Formats []Format
	// Notify, when set, is told of each period's reports once written.
	Notify Notifier

	Now        func() time.Time
	After      func(time.Duration) <-chan time.Time
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// File is a report in one format.
type File struct {
	Name        string // e.g. daily-2026-11-23.xlsx
	ContentType string
	Body        []byte
}

// Reports makes reports on demand and, once started, on schedule. Create it with New and
// Close it when done.
type Reports struct {
	cfg      Config
	builder  *Builder
	renderer *Renderer
	m        metrics
	// busy bounds the reports made on demand at once: a month's takes a second of CPU
	busy chan struct{}

	ctx    context.Context
	cancel context.CancelCauseFunc
	once   sync.Once
	done   sync.WaitGroup
}

// ErrClosed is the cause of a schedule stopped by Close.
var ErrClosed = errors.New("report: closed")

type metrics struct {
	written *prometheus.CounterVec
	failed  prometheus.Counter
}

// New checks cfg and reads the report assets.
func New(cfg Config) (*Reports, error) {
	if cfg.Source == nil || cfg.Web == nil {
		return nil, errors.New("report: a source and the web files are required")
	}
	if cfg.Lang != "en" {
		cfg.Lang = "zh"
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Delay <= 0 {
		cfg.Delay = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	rd, err := NewRenderer(cfg.Web, cfg.Chromium)
	if err != nil {
		return nil, err
	}
	if cfg.Formats == nil {
		cfg.Formats = []Format{HTML, XLSX, CSV}
		if rd.CanPDF() {
			cfg.Formats = append(cfg.Formats, PDF)
		}
	}
	for _, f := range cfg.Formats {
		if f == Fragment || f == PDF && !rd.CanPDF() {
			return nil, fmt.Errorf("report: format %s cannot be written to a file here", f)
		}
	}
	m := metrics{
		written: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lianxin_reports_written_total",
			Help: "Report files the schedule wrote, by kind and format."}, []string{"kind", "format"}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "lianxin_report_failures_total",
			Help: "Scheduled reports or robot messages that failed (retried while the period is the latest)."}),
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{m.written, m.failed} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("report: metrics: %w", err)
			}
		}
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	return &Reports{cfg: cfg, renderer: rd, m: m, ctx: ctx, cancel: cancel, busy: make(chan struct{}, maxOnDemand),
		builder: &Builder{Source: cfg.Source, Names: cfg.Names, Places: cfg.Places, Redact: cfg.Redact, Now: cfg.Now}}, nil
}

// CanPDF says whether PDFs can be made.
func (r *Reports) CanPDF() bool { return r.renderer.CanPDF() }

// maxOnDemand is how many reports Make makes at once; more wait their turn.
const maxOnDemand = 2

// Make makes the report of kind (daily, weekly, monthly) that contains date (YYYY-MM-DD)
// in format, its text in lang. A bad kind, date or format is an ErrBadRequest; a PDF
// without a browser ErrNoPDF.
func (r *Reports) Make(ctx context.Context, kind, date, format, lang string) (File, error) {
	p, err := ParsePeriod(kind, date, r.cfg.Location)
	if err != nil {
		return File{}, err
	}
	f, err := ParseFormat(format)
	if err != nil {
		return File{}, err
	}
	if f == PDF && !r.CanPDF() {
		return File{}, ErrNoPDF
	}
	select {
	case r.busy <- struct{}{}:
		defer func() { <-r.busy }()
	case <-ctx.Done():
		return File{}, context.Cause(ctx)
	}
	rep, err := r.builder.Build(ctx, p, lang)
	if err != nil {
		return File{}, err
	}
	body, err := r.renderer.Render(ctx, rep, f)
	if err != nil {
		return File{}, err
	}
	return File{Name: fmt.Sprintf("%s-%s.%s", p.Kind, p.Name(), ext(f)), ContentType: f.ContentType(), Body: body}, nil
}

func ext(f Format) string {
	if f == Fragment {
		return "html"
	}
	return string(f)
}

// Close stops the schedule and waits for a report being written; it is safe to call
// twice.
func (r *Reports) Close() error {
	r.once.Do(func() { r.cancel(ErrClosed) })
	r.done.Wait()
	return nil
}
