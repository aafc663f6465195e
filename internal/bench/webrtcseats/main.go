// Command webrtcseats is the browser-seat benchmark: it starts the gateway binary, makes N
// in-process pion pages the phones of N seats (each logged in and signalling over the
// gateway's WebSocket, as the agent page does), places N concurrent calls from a sipp
// caller streaming speech, which the pages answer while streaming speech back, and reports
// the gateway's CPU-seconds per call-minute, memory per call and the browser relay's added
// delay (p99), for one codec.
//
//	go run ./internal/bench/webrtcseats -gateway bin/gateway -n 100 -hold 60s -codec opus
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/internal/bench/benchkit"
	"lianxin/internal/testpeer"
	"lianxin/media"
	"lianxin/webrtcseat/webrtcseattest"
)

func main() {
	gw := flag.String("gateway", "bin/gateway", "gateway binary")
	n := flag.Int("n", 100, "concurrent calls (and browser seats)")
	hold := flag.Duration("hold", 60*time.Second, "how long each call lasts")
	rate := flag.Int("rate", 20, "new calls per second while ramping up")
	codec := flag.String("codec", "opus", "the pages' codec: opus or PCMU")
	flag.Parse()
	if err := run(*gw, *n, *hold, *rate, *codec); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin string, n int, hold time.Duration, rate int, codec string) error {
	root, _ := os.Getwd()
	dir, err := os.MkdirTemp("", "bench-webrtc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sipAddr, httpAddr := addr(benchkit.FreePort()), addr(benchkit.FreePort())
	if err := benchkit.WriteAudio(root, dir); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := fmt.Sprintf("sip: {listen: %q, max_calls: %d}\nhttp: {listen: %q}\ndata_dir: %q\nseats: {count: %d, password: bench}\n"+
		"acd: {ring_timeout: 10s, wrap_up: 0s, max_wait: 60s}\nmedia: {port_min: 40000, port_max: 59999}\nasr: {default: none}\n"+
		"desk: {admins: {admin: benchadmin}}\nlog_level: warn\n", sipAddr, n+50, httpAddr, filepath.Join(dir, "data"), n)
	gw, err := benchkit.StartGateway(ctx, bin, dir, cfg, httpAddr)
	if err != nil {
		return err
	}
	defer gw.Stop()
	agentPCM, err := testpeer.ReadWAV8k(filepath.Join(root, "testdata/audio/agent.wav"))
	if err != nil {
		return err
	}
	pages, err := openPages(httpAddr, n, codec, agentPCM)
	defer func() {
		for _, p := range pages {
			_ = p.Close()
		}
	}()
	if err != nil {
		return err
	}
	idle, err := benchkit.Sample(gw.Pid)
	if err != nil {
		return err
	}
	callers, err := benchkit.StartCallers(ctx, root, dir, sipAddr, n, rate, hold)
	if err != nil {
		return err
	}
	// the steady state: every call up (the ring and ICE take a moment), none ending
	from, to, err := callers.Steady(gw.Pid, 4*time.Second)
	if err != nil {
		return err
	}
	m, err := benchkit.Scrape(httpAddr)
	if err != nil {
		return err
	}
	callErr := callers.Wait()
	report(n, codec, time.Since(callers.Started), idle, from, to, m, callErr)
	return nil
}

// openPages logs in seat-01…seat-N and makes a pion page each seat's phone, signalling
// over its own WebSocket; every page answers by itself and speaks pcm in a loop.
func openPages(httpAddr string, n int, codec string, pcm []int16) ([]*webrtcseattest.Page, error) {
	var pages []*webrtcseattest.Page
	for i := 1; i <= n; i++ {
		seat := fmt.Sprintf("seat-%02d", i)
		tok, err := login(httpAddr, seat)
		if err != nil {
			return pages, err
		}
		c, _, err := websocket.DefaultDialer.Dial("ws://"+httpAddr+"/ws?token="+tok, nil)
		if err != nil {
			return pages, fmt.Errorf("%s socket: %w", seat, err)
		}
		off := (i * 2731) % len(pcm) // the pages do not all say the same thing at once
		var mu sync.Mutex
		mic := func() []int16 {
			mu.Lock()
			defer mu.Unlock()
			f := make([]int16, media.FrameSamples)
			for j := range f {
				f[j] = pcm[off]
				off = (off + 1) % len(pcm)
			}
			return f
		}
		p := webrtcseattest.New(webrtcseattest.Options{Codec: codec, AutoAnswer: true, Deaf: true, Mic: mic})
		s := &wsSignaller{c: c}
		p.Attach(s)
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.read(p) }()
		pages = append(pages, p)
		if err := p.Send("phone.register", map[string]any{"on": true}); err != nil {
			return pages, err
		}
	}
	return pages, nil
}

// wsSignaller carries a page's messages over the gateway's WebSocket.
type wsSignaller struct {
	c  *websocket.Conn
	mu sync.Mutex
	wg sync.WaitGroup
}

func (w *wsSignaller) Message(_ context.Context, _ string, msg json.RawMessage) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.WriteMessage(websocket.TextMessage, msg)
}

func (w *wsSignaller) Close() error {
	err := w.c.Close()
	w.wg.Wait()
	return err
}

// read hands the phone messages that arrive on the socket to the page.
func (w *wsSignaller) read(p *webrtcseattest.Page) {
	for {
		_, b, err := w.c.ReadMessage()
		if err != nil {
			return
		}
		var ev struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(b, &ev) == nil && strings.HasPrefix(ev.Type, "phone.") {
			p.Deliver(ev.Type, ev.Data)
		}
	}
}

func login(httpAddr, seat string) (string, error) {
	body := strings.NewReader(fmt.Sprintf(`{"user":%q,"password":"bench"}`, seat))
	r, err := http.Post("http://"+httpAddr+"/api/login", "application/json", body)
	if err != nil {
		return "", err
	}
	defer r.Body.Close()
	var res struct{ Token, Error string }
	if err := json.NewDecoder(r.Body).Decode(&res); err != nil || res.Token == "" {
		return "", errors.Join(fmt.Errorf("%s login: %s", seat, res.Error), err)
	}
	return res.Token, nil
}
