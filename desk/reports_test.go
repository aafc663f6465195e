package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"lianxin/internal/browsertest"
	"lianxin/report"
	"lianxin/store"
)

// reportDay is the day the report tests' calls are on, in the gateway's time zone.
var reportDay = time.Date(2026, 11, 24, 0, 0, 0, 0, time.Local)

// withReports gives the desk the gateway's reports, as cmd/gateway wires them: the desk's
// own web files, its errors mapped to the desk's.
func withReports(t *testing.T, opts Options, chromium string) (Options, func(*store.SQLite)) {
	t.Helper()
	var r *report.Reports
	opts.Report = func(ctx context.Context, period, date, format, lang string) (ReportFile, error) {
		f, err := r.Make(ctx, period, date, format, lang)
		switch {
		case errors.Is(err, report.ErrBadRequest):
			err = fmt.Errorf("%w: %w", ErrBadReport, err)
		case errors.Is(err, report.ErrNoPDF):
			err = fmt.Errorf("%w: %w", ErrReportUnavailable, err)
		}
		return ReportFile{Name: f.Name, ContentType: f.ContentType, Body: f.Body}, err
	}
	return opts, func(st *store.SQLite) {
		var err error
		r, err = report.New(report.Config{Source: st, Web: os.DirFS("web"), Chromium: chromium, Redact: true,
			Names: report.Names{Departments: map[string]report.Label{"housing": {ZH: "住建局", EN: "Housing"}},
				Issues: map[string]report.Label{"lift-fault": {ZH: "电梯故障", EN: "lift breakdown"}}},
			Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
	}
}

func seedReportDay(t *testing.T, st *store.SQLite) {
	t.Helper()
	var rows []store.Row
	for i := range 12 {
		id := fmt.Sprint("r", i)
		at := reportDay.Add(time.Duration(8+i) * time.Hour)
		rows = append(rows, store.Call{ID: id, From: "1380013800" + fmt.Sprint(i%2), Seat: "seat-01", OfferedAt: at})
		if i%4 != 0 {
			rows = append(rows, store.CallAnswered{CallID: id, Seat: "seat-01", At: at.Add(10 * time.Second)})
		}
		data, err := json.Marshal(map[string]string{"department": "housing", "issue": "lift-fault", "place": "阳光花园3号楼"})
		require.NoError(t, err)
		rows = append(rows, store.CallEnded{CallID: id, At: at.Add(4 * time.Minute), Survey: "satisfied"},
			store.WorkOrderDraft{CallID: id, Data: data, At: at.Add(4 * time.Minute)})
	}
	require.NoError(t, st.Write(context.Background(), rows...))
}

func get(t *testing.T, e *env, path, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func TestReportAPI(t *testing.T) {
	opts, attach := withReports(t, Options{}, "")
	e := newEnv(t, Config{}, opts)
	attach(e.st)
	seedReportDay(t, e.st)
	admin, seat := e.login("admin", "adminpw"), e.login("seat-01", seatPass)

	res := get(t, e, "/api/reports?period=daily&date=2026-11-24&format=csv&lang=zh", admin)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="daily-2026-11-24.csv"`, res.Header.Get("Content-Disposition"))
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), "summary,呼入,本期,12\n")

	res = get(t, e, "/api/reports?period=weekly&date=2026-11-24&lang=en", admin)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Empty(t, res.Header.Get("Content-Disposition"), "the page's fragment is shown, not saved")
	body, err = io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), "weekly report")

	for path, want := range map[string]int{
		"/api/reports?period=hourly&date=2026-11-24":            http.StatusBadRequest,
		"/api/reports?period=daily&date=yesterday":              http.StatusBadRequest,
		"/api/reports?period=daily&date=2026-11-24&format=docx": http.StatusBadRequest,
		"/api/reports?period=daily&date=2026-11-24&format=pdf":  http.StatusServiceUnavailable, // no browser configured
	} {
		code, b := e.do("GET", path, admin, nil)
		require.Equal(t, want, code, path)
		require.Contains(t, string(b), `"error"`, path)
	}
	code, _ := e.do("GET", "/api/reports?period=daily&date=2026-11-24", seat, nil)
	require.Equal(t, http.StatusForbidden, code, "admins only")
	code, _ = e.do("GET", "/api/reports?period=daily&date=2026-11-24", "", nil)
	require.Equal(t, http.StatusUnauthorized, code)

	none := newEnv(t, Config{}, Options{})
	code, _ = none.do("GET", "/api/reports", none.login("admin", "adminpw"), nil)
	require.Equal(t, http.StatusNotFound, code, "a gateway without reports says so")
}

// TestBrowserReportsPage: an admin opens a day's report, sees it in Chinese with its
// charts drawn, switches to English and to the week, and takes the PDF.
func TestBrowserReportsPage(t *testing.T) {
	bctx := browser(t)
	opts, attach := withReports(t, Options{Now: time.Now}, chromiumPath)
	e := newEnv(t, Config{}, opts)
	attach(e.st)
	seedReportDay(t, e.st)

	require.NoError(t, chromedp.Do(bctx,
		chromedp.EmulateViewport(1280, 1000),
		chromedp.Navigate(e.srv.URL+"/admin/reports?period=daily&date=2026-11-24"),
		chromedp.WaitVisible(`#login`),
		chromedp.SetValue(`#user`, "admin"),
		chromedp.SetValue(`#password`, "adminpw"),
		chromedp.Click(`#login-btn`),
		chromedp.WaitVisible(`#report .report-head h1`),
	))
	require.Equal(t, "12345 热线数据分析报告 · 日报", text(t, bctx, `#report h1`))
	require.Equal(t, "2026-11-24（周二）", text(t, bctx, `#report .report-period`))
	require.Contains(t, text(t, bctx, `[data-section="department"] tbody`), "住建局")
	require.Contains(t, text(t, bctx, `[data-section="repeat"] tbody`), "138****8000", "repeat callers masked")
	for _, sel := range []string{`.rchart:nth-child(1) canvas`, `.rchart:nth-child(2) canvas`, `.rchart:nth-child(3) canvas`} {
		browsertest.Until(t, bctx, browsertest.CanvasPainted(sel), 20*time.Second, sel+" drawn")
	}
	browsertest.CJKDrawn(t, bctx, `#report h1`)
	browsertest.CJKDrawn(t, bctx, `.report-figures .rfig span`)

	// in English, then the week
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(`#lang`)))
	browsertest.Until(t, bctx, `document.querySelector('#report h1').textContent.includes('daily report')`, 20*time.Second, "English report")
	require.Equal(t, "Show", text(t, bctx, `#show`))
	require.NoError(t, chromedp.Do(bctx, chromedp.SetValue(`#kind`, "weekly"), chromedp.Click(`#show`)))
	browsertest.Until(t, bctx, `document.querySelector('#report h1').textContent.includes('weekly report')`, 20*time.Second, "the week's report")
	browsertest.Until(t, bctx, `location.search.includes('period=weekly')`, 5*time.Second, "the address opens it again")
	require.Equal(t, 4, browsertest.Eval[int](t, bctx, `document.querySelectorAll('#report canvas').length`))

	// printed, the page is the report alone
	_, err := chromedp.Call(bctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
	require.NoError(t, err)
	require.Equal(t, []string{"none", "none", "block"}, browsertest.Eval[[]string](t, bctx,
		`['header', '#report-form', '#report'].map((s) => getComputedStyle(document.querySelector(s)).display)`))
	_, err = chromedp.Call(bctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
	require.NoError(t, err)

	// the PDF download: the page fetches it with the session's token
	size, err := chromedp.Run(bctx, chromedp.Evaluate[int](`(async () => {
		const b = await LX.blob('/api/reports?period=daily&date=2026-11-24&format=pdf&lang=zh');
		const head = new TextDecoder().decode(await b.slice(0, 5).arrayBuffer());
		return head === '%PDF-' ? b.size : -1;
	})()`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Greater(t, size, 10000, "a PDF")
}
