package sip

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/google/renameio/v2"
)

// RegistrationStore keeps seat registrations across restarts, so that seat phones are
// reachable the moment the gateway is back instead of at their next refresh.
type RegistrationStore interface {
	// LoadRegistrations returns what the last SaveRegistrations stored (nothing at first).
	LoadRegistrations() ([]Registration, error)
	// SaveRegistrations replaces what is stored.
	SaveRegistrations([]Registration) error
}

// FileRegistrations is a RegistrationStore in one small JSON file, replaced atomically
// (a crash leaves the old file or the new one, never half of one) and readable by the
// owner only: it says where each seat's phone is.
type FileRegistrations struct {
	Path string
}

// storedRegistration is a Registration as JSON.
type storedRegistration struct {
	Seat      string    `json:"seat"`
	Contact   string    `json:"contact"`
	Transport string    `json:"transport"`
	Source    string    `json:"source"`
	Expires   time.Time `json:"expires"`
}

// LoadRegistrations reads the file; a missing file is no registrations.
func (f FileRegistrations) LoadRegistrations() ([]Registration, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sip: registrations: %w", err)
	}
	var stored []storedRegistration
	if err := json.Unmarshal(b, &stored); err != nil {
		return nil, fmt.Errorf("sip: registrations %s: %w", f.Path, err)
	}
	out := make([]Registration, 0, len(stored))
	for _, s := range stored {
		var u siplib.Uri
		if err := siplib.ParseUri(s.Contact, &u); err != nil {
			return nil, fmt.Errorf("sip: registrations %s: seat %s: contact %q: %w", f.Path, s.Seat, s.Contact, err)
		}
		out = append(out, Registration{Seat: s.Seat, Contact: u, Transport: s.Transport, Source: s.Source, Expires: s.Expires})
	}
	return out, nil
}

// SaveRegistrations writes the file through a temporary one and a rename.
func (f FileRegistrations) SaveRegistrations(regs []Registration) error {
	stored := make([]storedRegistration, 0, len(regs))
	for _, r := range regs {
		stored = append(stored, storedRegistration{Seat: r.Seat, Contact: r.Contact.String(), Transport: r.Transport,
			Source: r.Source, Expires: r.Expires.UTC()})
	}
	b, err := json.MarshalIndent(stored, "", "  ")
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(f.Path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("sip: registrations: %w", err)
	}
	return nil
}

// snapshot is every registration, in seat order.
func (r *registrar) snapshot() []Registration {
	r.mu.Lock()
	out := make([]Registration, 0, len(r.regs))
	for _, reg := range r.regs {
		out = append(out, reg)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Seat < out[j].Seat })
	return out
}

// restore takes back the stored registrations that are still alive, of seats that still
// exist, with the life they had left, and announces each.
func (r *registrar) restore(regs []Registration) int {
	now := r.now()
	var added []string
	r.mu.Lock()
	for _, reg := range regs {
		if _, ok := r.creds(reg.Seat); !ok || !reg.Expires.After(now) || reg.Expires.Sub(now) > r.maxExpires {
			continue
		}
		if _, had := r.regs[reg.Seat]; !had {
			added = append(added, reg.Seat)
		}
		r.regs[reg.Seat] = reg
	}
	r.metrics.registered(len(r.regs))
	r.mu.Unlock()
	if r.onChange != nil {
		for _, s := range added {
			r.onChange(s, true)
		}
	}
	return len(added)
}

// restoreRegistrations loads the stored registrations at start.
func (s *Server) restoreRegistrations() error {
	if s.cfg.Registrations == nil {
		return nil
	}
	regs, err := s.cfg.Registrations.LoadRegistrations()
	if err != nil {
		return err
	}
	if n := s.reg.restore(regs); n > 0 {
		s.log.Info("sip: seat registrations restored", "seats", n)
	}
	return nil
}

// storeLoop saves the registrations whenever they change, and once more at Close. It is
// the only writer of the store, so a slow disk never holds up a REGISTER.
func (s *Server) storeLoop() {
	save := func() {
		if err := s.cfg.Registrations.SaveRegistrations(s.reg.snapshot()); err != nil {
			s.log.Warn("sip: storing registrations failed", "err", err)
		}
	}
	for {
		select {
		case <-s.stop:
			save()
			return
		case <-s.reg.dirty:
			save()
		}
	}
}
