package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/gorilla/websocket"
)

const adminPassword = "soak-admin-pw"

// screen is an admin's wallboard socket: it keeps which calls it saw offered and ended.
type screen struct {
	conn *websocket.Conn
	wg   sync.WaitGroup

	mu      sync.Mutex
	offered map[string]bool
	ended   map[string]bool
	unsaved int
}

func openScreen(ctx context.Context, httpAddr string) (*screen, error) {
	tok, err := login(httpAddr, "soak", adminPassword)
	if err != nil {
		return nil, err
	}
	u := url.URL{Scheme: "ws", Host: httpAddr, Path: "/ws", RawQuery: url.Values{"token": {tok}}.Encode()}
	c, _, err := websocket.DefaultDialer.DialContext(ctx, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("admin screen: %w", err)
	}
	s := &screen{conn: c, offered: map[string]bool{}, ended: map[string]bool{}}
	s.wg.Add(1)
	go s.read()
	return s, nil
}

func (s *screen) read() {
	defer s.wg.Done()
	for {
		var ev struct {
			Type    string `json:"type"`
			CallID  string `json:"call_id"`
			Seat    string `json:"seat"`
			Unsaved bool   `json:"unsaved"`
		}
		if err := s.conn.ReadJSON(&ev); err != nil {
			return
		}
		s.mu.Lock()
		switch {
		case ev.Type == "call.offered" && ev.Seat == "":
			s.offered[ev.CallID] = true
		case ev.Type == "call.ended":
			s.ended[ev.CallID] = true
		}
		if ev.Unsaved {
			s.unsaved++
		}
		s.mu.Unlock()
	}
}

func (s *screen) saw(call string) (offered, ended bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offered[call], s.ended[call]
}

func (s *screen) close() {
	_ = s.conn.Close()
	s.wg.Wait()
}

func login(httpAddr, user, password string) (string, error) {
	b, _ := json.Marshal(map[string]string{"user": user, "password": password})
	res, err := http.Post("http://"+httpAddr+"/api/login", "application/json", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login %s: %s: %w", user, res.Status, err)
	}
	return out.Token, nil
}

func setState(httpAddr, tok, state string) error {
	b, _ := json.Marshal(map[string]string{"state": state})
	req, err := http.NewRequest("POST", "http://"+httpAddr+"/api/seat/state", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("set %s: %s", state, res.Status)
	}
	return nil
}
