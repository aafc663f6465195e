package main

import (
	"fmt"

	"lianxin/callflow"
	"lianxin/desk"
	"lianxin/dispatch"
	"lianxin/store"
	"lianxin/workorder"
)

// wireWorkOrders builds the work-order drafts on the desk and, when workorder.url is set,
// the worker that delivers submitted orders from the store's outbox. Both are closed
// before the desk and the store they use.
func (a *App) wireWorkOrders(d *desk.Desk, st *store.SQLite, clf *dispatch.Classifier) (*callflow.WorkOrders, error) {
	bcfg := workorder.Config{Classifier: clf}
	if a.cfg.LLM.URL != "" {
		l, err := workorder.NewLLM(workorder.LLMConfig(a.cfg.LLM), nil)
		if err != nil {
			return nil, err
		}
		bcfg.Summarizer = l
		bcfg.SummaryTimeout = l.Timeout()
	}
	b, err := workorder.NewBuilder(bcfg)
	if err != nil {
		return nil, fmt.Errorf("workorder: %w", err)
	}
	wcfg := callflow.WorkOrdersConfig{Builder: b, Publisher: d, Outbox: st, Now: a.now, Logger: a.log,
		MaskDelivery: a.cfg.WorkOrder.Redact}
	if a.cfg.WorkOrder.URL == "" {
		a.log.Info("workorder: no url configured; submitted orders wait in the outbox")
		orders := callflow.NewWorkOrders(wcfg)
		a.closers = append(a.closers, orders.Close)
		return orders, nil
	}
	var orders *callflow.WorkOrders // the worker tells it of each delivery; made next
	w, err := workorder.NewWorker(workorder.DeliveryConfig{URL: a.cfg.WorkOrder.URL, Secret: a.cfg.WorkOrder.Secret,
		Timeout: a.cfg.WorkOrder.Timeout, MaxAge: a.cfg.WorkOrder.MaxAge},
		workorder.WorkerDeps{Queue: callflow.OutboxQueue{Outbox: st}, Now: a.now, Registerer: a.reg, Logger: a.log,
			Notify: func(d workorder.Delivery, r workorder.Receipt, err error) { orders.Delivered(d, r, err) }})
	if err != nil {
		return nil, err
	}
	wcfg.Kick = w.Kick
	orders = callflow.NewWorkOrders(wcfg)
	// closed in reverse: the worker first, so no delivery is reported to a closed keeper
	a.closers = append(a.closers, orders.Close, w.Close)
	return orders, nil
}
