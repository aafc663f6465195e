package report

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"regexp"
)

// Format is a report's file format.
type Format string

// The formats. Fragment is the HTML report without its document, for the admin page that
// shows it (the page brings the styles and scripts).
const (
	HTML     Format = "html"
	PDF      Format = "pdf"
	XLSX     Format = "xlsx"
	CSV      Format = "csv"
	JSON     Format = "json"
	Fragment Format = "fragment"
)

// Formats are the formats a report can be written in, the files first.
var Formats = []Format{HTML, PDF, XLSX, CSV, JSON, Fragment}

// ParseFormat checks a format's name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w: format %q (want html, pdf, xlsx, csv, json or fragment)", ErrBadRequest, s)
}

// ContentType is the format's media type.
func (f Format) ContentType() string {
	switch f {
	case PDF:
		return "application/pdf"
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case CSV:
		return "text/csv; charset=utf-8"
	case JSON:
		return "application/json; charset=utf-8"
	}
	return "text/html; charset=utf-8"
}

// Assets the HTML report takes from the desk's web files: its styles, Chart.js and the
// script that draws the charts. A standalone report carries them inline, so it opens
// (and prints to PDF) with no server and no network.
const (
	AssetCSS     = "report.css"
	AssetChartJS = "chartjs/chart.umd.min.js"
	AssetCharts  = "charts.js"
)

//go:embed report.html.tmpl
var pageTemplate string

// Renderer writes reports in every format. It is safe for concurrent use.
type Renderer struct {
	tmpl                   *template.Template
	css, chartJS, chartsJS string
	pdf                    *pdfPrinter
}

// NewRenderer reads the assets from web (the desk's web files). chromium is the browser
// that prints PDFs; empty: no PDFs.
func NewRenderer(web fs.FS, chromium string) (*Renderer, error) {
	r := &Renderer{}
	for name, dst := range map[string]*string{AssetCSS: &r.css, AssetChartJS: &r.chartJS, AssetCharts: &r.chartsJS} {
		b, err := fs.ReadFile(web, name)
		if err != nil {
			return nil, fmt.Errorf("report: asset: %w", err)
		}
		*dst = string(b)
	}
	t, err := template.New("report").Parse(pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("report: template: %w", err)
	}
	r.tmpl = t
	if chromium != "" {
		r.pdf = newPDFPrinter(chromium)
	}
	return r, nil
}

// CanPDF says whether the renderer prints PDFs.
func (r *Renderer) CanPDF() bool { return r.pdf != nil }

// Render writes rep in format f.
func (r *Renderer) Render(ctx context.Context, rep *Report, f Format) ([]byte, error) {
	switch f {
	case HTML:
		return r.document(rep)
	case Fragment:
		var b bytes.Buffer
		err := r.tmpl.ExecuteTemplate(&b, "fragment", layOut(rep))
		return b.Bytes(), err
	case PDF:
		if r.pdf == nil {
			return nil, ErrNoPDF
		}
		page, err := r.document(rep)
		if err != nil {
			return nil, err
		}
		return r.pdf.print(ctx, page)
	case XLSX:
		return writeXLSX(layOut(rep))
	case CSV:
		return writeCSV(layOut(rep))
	case JSON:
		return json.MarshalIndent(rep, "", "  ")
	}
	return nil, fmt.Errorf("%w: format %q", ErrBadRequest, f)
}

// scriptEnd finds what would end an inline script early.
var scriptEnd = regexp.MustCompile(`(?i)</(script)`)

// inlineJS makes a script safe to place inside <script>…</script>: only "</script" can
// end it there, and "<\/script" means the same inside a JavaScript string or regexp.
func inlineJS(s string) template.JS {
	return template.JS(scriptEnd.ReplaceAllString(s, `<\/$1`))
}

func (r *Renderer) document(rep *Report) ([]byte, error) {
	var b bytes.Buffer
	err := r.tmpl.ExecuteTemplate(&b, "document", struct {
		Layout            layout
		CSS               template.CSS
		ChartJS, ChartsJS template.JS
	}{layOut(rep), template.CSS(r.css), inlineJS(r.chartJS), inlineJS(r.chartsJS)})
	if err != nil {
		return nil, fmt.Errorf("report: html: %w", err)
	}
	return b.Bytes(), nil
}
