//go:build !cgo || nopocketsphinx

package pocketsphinx

import (
	"context"
	"fmt"

	"lianxin/asr"
)

// Engine, in this build, is the embedded recogniser without its C libraries: it can be
// registered and named, but every NewStream fails with asr.ErrUnavailable, so that a
// missing recogniser is reported, never mistaken for silence.
type Engine struct{ cfg Config }

// errNoCgo explains what is missing and how to get it.
var errNoCgo = fmt.Errorf("pocketsphinx: built without cgo or with the nopocketsphinx tag; rebuild with CGO_ENABLED=1 and libpocketsphinx-dev, libsphinxbase-dev, pocketsphinx-en-us installed: %w", asr.ErrUnavailable)

// Available reports whether this build has the real recogniser: false here.
func Available() bool { return false }

// New returns the unavailable engine; it never fails.
func New(cfg Config) (*Engine, error) { return &Engine{cfg: cfg.withDefaults()}, nil }

// Name is "pocketsphinx".
func (e *Engine) Name() string { return Name }

// String describes the engine for logs.
func (e *Engine) String() string { return "pocketsphinx(unavailable: built without cgo)" }

// NewStream always fails with asr.ErrUnavailable in this build.
func (e *Engine) NewStream(context.Context, asr.StreamConfig) (asr.Stream, error) {
	return nil, errNoCgo
}

// Close does nothing.
func (e *Engine) Close() error { return nil }

// EstimateCMN needs the real recogniser: it fails with asr.ErrUnavailable in this build.
func EstimateCMN(Config, [][]int16) ([]float32, error) { return nil, errNoCgo }
