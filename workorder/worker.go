package workorder

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Queue is the durable outbox the worker drains (the store). Every method is one
// transaction: a delivery is pending until Delivered or Dead says otherwise, so one the
// process stopped under is sent again, with the same key, after a restart.
type Queue interface {
	// Due returns pending deliveries whose next attempt is at or before now, oldest first.
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	Delivered(ctx context.Context, id int64, r Receipt, at time.Time) error
	Retry(ctx context.Context, id int64, next time.Time, lastErr string) error
	Dead(ctx context.Context, id int64, lastErr string, at time.Time) error
}

// DeliveryConfig configures the hand-off to the work-order system.
type DeliveryConfig struct {
	URL     string
	Secret  string
	Timeout time.Duration // per attempt; default 10s
	// MaxAge is how long a delivery is retried before it becomes a dead letter; default 24h.
	MaxAge time.Duration
	// Backoff is the first retry's delay, doubled each attempt up to MaxBackoff; defaults
	// 2s and 10m.
	Backoff, MaxBackoff time.Duration
	// Poll is how often the outbox is read when nothing kicks it; default 1s.
	Poll time.Duration
}

// Worker delivers the outbox. NewWorker starts its loop; Close stops it and waits.
type Worker struct {
	cfg    DeliveryConfig
	q      Queue
	send   *Sender
	now    func() time.Time
	log    *slog.Logger
	notify Notify
	m      *workerMetrics

	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Notify hears of each delivery's end: a receipt, or a dead letter (err set).
type Notify func(d Delivery, r Receipt, err error)

type workerMetrics struct {
	sent *prometheus.CounterVec
}

// WorkerDeps are the worker's collaborators; all but Queue are optional.
type WorkerDeps struct {
	Queue      Queue
	Client     *http.Client
	Now        func() time.Time
	Notify     Notify
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// NewWorker checks the config and starts delivering.
func NewWorker(cfg DeliveryConfig, deps WorkerDeps) (*Worker, error) {
	if cfg.URL == "" || cfg.Secret == "" || deps.Queue == nil {
		return nil, errors.New("workorder: delivery needs a URL, a secret and a queue")
	}
	setDeliveryDefaults(&cfg)
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Client == nil {
		deps.Client = &http.Client{}
	}
	if deps.Notify == nil {
		deps.Notify = func(Delivery, Receipt, error) {}
	}
	m := &workerMetrics{sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lianxin_workorder_deliveries_total",
		Help: "Work-order delivery attempts by result (delivered, retry, dead)."}, []string{"result"})}
	if deps.Registerer != nil {
		if err := deps.Registerer.Register(m.sent); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Worker{cfg: cfg, q: deps.Queue, now: deps.Now, log: deps.Logger, notify: deps.Notify, m: m,
		send: &Sender{URL: cfg.URL, Secret: []byte(cfg.Secret), Client: deps.Client, Now: deps.Now},
		kick: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go w.loop(ctx)
	return w, nil
}

func setDeliveryDefaults(cfg *DeliveryConfig) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 24 * time.Hour
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 2 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
}

// Kick asks for a pass now: an order was just queued.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Close stops the worker and waits for it; an attempt in flight is abandoned and stays
// pending, to be sent again with the same key. Safe to call twice.
func (w *Worker) Close() error {
	w.once.Do(w.cancel)
	<-w.done
	return nil
}

func (w *Worker) loop(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		w.pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.kick:
		}
	}
}

// pass sends every due delivery once.
func (w *Worker) pass(ctx context.Context) {
	due, err := w.q.Due(ctx, w.now(), 50)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("reading the work-order outbox", "err", err)
		}
		return
	}
	for _, d := range due {
		if ctx.Err() != nil {
			return
		}
		w.attempt(ctx, d)
	}
}

// attempt sends d and records the outcome. A stop in the middle records nothing: the
// delivery stays as it was and is sent again after the restart.
func (w *Worker) attempt(ctx context.Context, d Delivery) {
	actx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	r, err := w.send.Send(actx, d)
	cancel()
	if ctx.Err() != nil {
		return
	}
	// The outcome is written even if a stop arrives now: the receiver has answered.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer wcancel()
	now := w.now()
	log := w.log.With("call", d.CallID, "key", d.Key, "attempt", d.Attempts+1)
	switch {
	case err == nil:
		if err := w.q.Delivered(wctx, d.ID, r, now); err != nil {
			log.Error("recording a delivered work order", "err", err)
			return
		}
		w.m.sent.WithLabelValues("delivered").Inc()
		log.Info("work order delivered", "order_no", r.OrderNo)
		w.notify(d, r, nil)
	case errors.Is(err, errPermanent) || now.Sub(d.Since) >= w.cfg.MaxAge:
		if err := w.q.Dead(wctx, d.ID, err.Error(), now); err != nil {
			log.Error("recording a dead work order", "err", err)
			return
		}
		w.m.sent.WithLabelValues("dead").Inc()
		log.Warn("work order not delivered: dead letter", "err", err)
		w.notify(d, Receipt{}, err)
	default:
		next := now.Add(w.backoff(d.Attempts))
		if err := w.q.Retry(wctx, d.ID, next, err.Error()); err != nil {
			log.Error("recording a work order's retry", "err", err)
			return
		}
		w.m.sent.WithLabelValues("retry").Inc()
		log.Warn("work order delivery failed, will retry", "err", err, "next", next)
	}
}

// backoff is the delay after the attempts-th failed attempt (0 based).
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.cfg.Backoff
	for i := 0; i < attempts && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, w.cfg.MaxBackoff)
}
