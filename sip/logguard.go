package sip

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	siplib "github.com/emiago/sipgo/sip"
)

// Limits of what sipgo may log. sipgo puts what peers send into its records (a whole
// unparseable message, at ERROR), so junk from one peer could fill the disk.
const (
	// maxLogValue is the longest string logged; the rest is cut and its length noted.
	maxLogValue = 256
	// logBurst records of one message text are logged at once, then one per logEvery.
	logBurst = 10
	logEvery = 10 * time.Second
	// maxLogKeys bounds the message texts counted apart; further ones share one count.
	maxLogKeys = 128
)

// unmatchedResponse handles responses that belong to no transaction (retransmissions,
// or anything a peer cares to send): sipgo would log each at INFO through its global
// logger, reason phrase and all; here they go, at debug, through the guarded one.
func unmatchedResponse(log *slog.Logger) func(*siplib.Response) {
	return func(r *siplib.Response) {
		log.Debug("sip: response matches no transaction, dropped", "status", r.StatusCode, "reason", r.Reason,
			"source", r.Source())
	}
}

// guardLogger returns a logger for sipgo over base's handler that truncates every
// string and rate-limits each message text, noting how many records it dropped.
func guardLogger(base *slog.Logger, now func() time.Time, m *Metrics) *slog.Logger {
	return slog.New(&guardHandler{next: base.Handler(),
		lim: &logLimiter{now: now, metrics: m, keys: map[string]*logBucket{}}})
}

type guardHandler struct {
	next slog.Handler
	lim  *logLimiter
}

func (h *guardHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *guardHandler) Handle(ctx context.Context, r slog.Record) error {
	ok, dropped := h.lim.allow(r.Message)
	if !ok {
		return nil
	}
	out := slog.NewRecord(r.Time, r.Level, truncate(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(truncateAttr(a))
		return true
	})
	if dropped > 0 {
		out.AddAttrs(slog.Int("suppressed", dropped))
	}
	return h.next.Handle(ctx, out)
}

func (h *guardHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	cut := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		cut[i] = truncateAttr(a)
	}
	return &guardHandler{next: h.next.WithAttrs(cut), lim: h.lim}
}

func (h *guardHandler) WithGroup(name string) slog.Handler {
	return &guardHandler{next: h.next.WithGroup(truncate(name)), lim: h.lim}
}

// truncateAttr cuts the attribute's strings; values of other kinds become strings first,
// since their String or Error may carry peer input too.
func truncateAttr(a slog.Attr) slog.Attr {
	a.Key = truncate(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, truncate(v.String()))
	case slog.KindAny:
		return slog.String(a.Key, truncate(fmt.Sprint(v.Any())))
	case slog.KindGroup:
		g := v.Group()
		cut := make([]any, len(g))
		for i, ga := range g {
			cut[i] = truncateAttr(ga)
		}
		return slog.Group(a.Key, cut...)
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func truncate(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	return fmt.Sprintf("%s…[%d bytes]", s[:maxLogValue], len(s))
}

// logLimiter is a token bucket per message text.
type logLimiter struct {
	now     func() time.Time
	metrics *Metrics

	mu   sync.Mutex
	keys map[string]*logBucket
}

type logBucket struct {
	tokens  float64
	at      time.Time
	dropped int
}

// allow takes a token for msg and, when it does, says how many records of it were
// dropped since the last one logged.
func (l *logLimiter) allow(msg string) (bool, int) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.keys[msg]
	if !ok {
		if len(l.keys) >= maxLogKeys {
			msg = ""
			b = l.keys[msg]
		}
		if b == nil {
			b = &logBucket{tokens: logBurst, at: now}
			l.keys[msg] = b
		}
	}
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(logBurst, b.tokens+float64(el)/float64(logEvery))
	}
	b.at = now
	if b.tokens < 1 {
		b.dropped++
		l.metrics.logSuppressed()
		return false, 0
	}
	b.tokens--
	dropped := b.dropped
	b.dropped = 0
	return true, dropped
}
