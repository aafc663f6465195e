package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/emiago/sipgo/sip"

	"lianxin/config"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := config.ParseServeFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "gateway serve: %v\n", err)
		return 2
	}
	log := newLogger(stderr, cfg.LogLevel)
	sip.SetDefaultLogger(log)
	app, err := NewApp(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "gateway serve: %v\n", err)
		return 1
	}
	if err := app.Wire(); err != nil {
		fmt.Fprintf(stderr, "gateway serve: %v\n", err)
		app.Close()
		return 1
	}
	if err := app.Start(app.routes); err != nil {
		fmt.Fprintf(stderr, "gateway serve: %v\n", err)
		app.Close()
		return 1
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	select {
	case <-ctx.Done():
	case s := <-sigs:
		// First signal: stop taking calls and let the active ones finish; a second
		// signal stops everything now.
		log.Info("draining: no new calls; signal again to stop now", "signal", s.String(), "active", app.sip.ActiveCalls())
		drainCtx, cancel := context.WithCancelCause(ctx)
		go func() {
			select {
			case s := <-sigs:
				cancel(fmt.Errorf("second signal %s", s))
			case <-drainCtx.Done():
			}
		}()
		err := app.Drain(drainCtx)
		cancel(nil)
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("drain cut short", "cause", err)
		}
	}
	if err := app.Close(); err != nil {
		log.Warn("shutdown", "err", err)
	}
	log.Info("gateway stopped")
	return 0
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
