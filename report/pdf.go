package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ErrNoPDF is returned for a PDF when no browser is configured to print it.
var ErrNoPDF = errors.New("report: PDF needs headless Chromium (reports.chromium)")

// pdfPrinter prints standalone report pages to PDF with headless Chromium, which lays out
// Chinese text with the system's CJK fonts and runs Chart.js as the page does.
type pdfPrinter struct {
	path string
	// slots lets one browser run at a time: a browser is a large process
	slots chan struct{}
}

func newPDFPrinter(path string) *pdfPrinter {
	return &pdfPrinter{path: path, slots: make(chan struct{}, 1)}
}

// printTimeout bounds one print, so a browser that hangs cannot hold the slot.
const printTimeout = 2 * time.Minute

// printWidth is the printable width of A4 with the page margins of report.css (210 mm less
// 2 × 12 mm) in CSS pixels: the page is laid out, and its charts drawn, at the width it is
// printed at.
const printWidth = 703

func (p *pdfPrinter) print(ctx context.Context, doc []byte) ([]byte, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	defer func() { <-p.slots }()
	ctx, cancel := context.WithTimeout(ctx, printTimeout)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(p.path),
		// the page is the gateway's own, its text escaped, and it loads nothing: the
		// sandbox, which needs user namespaces most servers' containers lack, is off
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// no name resolves: nothing on the page can reach the network
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	pdf, err := printPage(bctx, doc)
	if err != nil {
		return nil, fmt.Errorf("report: pdf with %s: %w", p.path, err)
	}
	return pdf, nil
}

// printPage lays doc out for print at the printed width, waits for its charts and prints it.
func printPage(ctx context.Context, doc []byte) ([]byte, error) {
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return nil, err
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		return nil, err
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(printWidth, 1000)); err != nil {
		return nil, err
	}
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return nil, err
	}
	_, err = chromedp.Call(ctx, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: tree.FrameTree.Frame.ID, HTML: string(doc)})
	if err != nil {
		return nil, err
	}
	// charts.js marks the page ready once every chart is drawn
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.body && document.body.dataset.ready === '1'`,
		chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		return nil, err
	}
	yes := true
	res, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{PrintBackground: &yes, PreferCSSPageSize: &yes})
	if err != nil {
		return nil, err
	}
	return res.Data, nil
}
