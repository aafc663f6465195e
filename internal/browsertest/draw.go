package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// CJKDrawn fails the test unless the Chinese characters of the first element matching the
// CSS selector sel are drawn as glyphs. The element must stay while it is photographed:
// not one a live page redraws. The element is photographed as it is and again
// as a copy with every Han character replaced by U+E000, a private-use character no font
// draws, which comes out as the fallback font's empty box (tofu). Without a Chinese font
// the Han characters come out as that same box and the two photographs are alike.
func CJKDrawn(t testing.TB, ctx context.Context, sel string) {
	t.Helper()
	n := Eval[int](t, ctx, `(() => {
		const el = document.querySelector(`+jsString(sel)+`);
		if (!el) return -1;
		const copy = el.cloneNode(true);
		copy.removeAttribute('id');
		copy.setAttribute('data-tofu-probe', '');
		const walk = document.createTreeWalker(copy, NodeFilter.SHOW_TEXT);
		for (let node = walk.nextNode(); node; node = walk.nextNode()) node.data = node.data.replace(/\p{Script=Han}/gu, '\uE000');
		el.after(copy);
		return (el.textContent.match(/\p{Script=Han}/gu) || []).length;
	})()`)
	require.GreaterOrEqual(t, n, 2, "%s: no element with two or more Chinese characters", sel)
	defer Eval[bool](t, ctx, `(document.querySelector('[data-tofu-probe]').remove(), true)`)
	real := screenshot(t, ctx, sel)
	tofu := screenshot(t, ctx, `[data-tofu-probe]`)
	if real.Bounds().Size() != tofu.Bounds().Size() {
		return // the glyphs took other widths than the boxes: they are not boxes
	}
	require.Greater(t, differingPixels(real, tofu), real.Bounds().Dx()*real.Bounds().Dy()/100,
		"%s: its Chinese characters are drawn like U+E000, as empty boxes (is fonts-noto-cjk installed?)", sel)
}

func screenshot(t testing.TB, ctx context.Context, sel string) image.Image {
	t.Helper()
	// bounded: a page that redraws the element away would otherwise be waited on for good
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	require.NoError(t, err, "screenshot of %s", sel)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	return img
}

// differingPixels counts the pixels of two images of one size that differ visibly.
func differingPixels(a, b image.Image) int {
	n := 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab, _ := a.At(x, y).RGBA()
			br, bg, bb, _ := b.At(x-r.Min.X+b.Bounds().Min.X, y-r.Min.Y+b.Bounds().Min.Y).RGBA()
			if absDiff(ar, br)+absDiff(ag, bg)+absDiff(ab, bb) > 3*0x2000 {
				n++
			}
		}
	}
	return n
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// CanvasPainted is a JavaScript expression that is true when the canvas matching the CSS
// selector sel has pixels painted on it (a chart drawn, not a blank canvas).
func CanvasPainted(sel string) string {
	return `(() => {
		const c = document.querySelector(` + jsString(sel) + `);
		if (!c || !c.width || !c.height) return false;
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let painted = 0;
		for (let i = 3; i < d.length; i += 4) if (d[i] > 0) painted++;
		return painted > 100;
	})()`
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}
