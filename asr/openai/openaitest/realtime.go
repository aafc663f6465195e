package openaitest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"sync"

	"github.com/gorilla/websocket"

	"lianxin/asr/asrtest/standin"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/internal/pcm"
)

// RealtimeServer is the stand-in Realtime transcription socket (GA session shape):
// /v1/realtime?intent=transcription with a bearer token, session.created first, a
// session.update of type "transcription" with audio/pcm at 24 kHz before any audio, base64
// PCM16 in input_audio_buffer.append, server VAD (tone endpoints) producing speech_started,
// speech_stopped, committed, conversation.item.added and .done, transcription deltas and
// completed; commit on an empty buffer is an error event, as on the real service. Events
// are those of OpenAI's published schema (openai/openai-openapi @ f85dbe2, openapi.yaml):
// RealtimeServerEventInputAudioBufferCommitted (l.52502: item_id, previous_item_id, and
// "a conversation.item.created event will also be sent"), ConversationItemAdded and
// ConversationItemDone (l.51809, l.51969), InputAudioBufferCleared (l.52476),
// ConversationItemInputAudioTranscriptionDelta and Completed (l.52123, l.52024: content_index,
// transcript, usage), each with an event_id.
type RealtimeServer struct {
	*standin.Server
	mu        sync.Mutex
	reordered int
}

// NewRealtime starts the stand-in; key is the bearer token it demands.
func NewRealtime(key string) *RealtimeServer { return newRealtime(key, false) }

// NewRealtimeLate is the stand-in as the real service behaves: transcription "runs
// asynchronously" with everything else (openapi.yaml l.52024-52040), so a completed event
// comes late, after the next item was committed and its deltas sent, and out of order (the
// later item's first), and the last ones only after the answer to the client's clear
// (input_audio_buffer.cleared). Clients that order by arrival splice or swap turns; those
// that order by the committed items (previous_item_id) do not: public reports of both in
// openclaw/openclaw pull request 113723, block/buzz pull request 1511 and livekit/agents
// pull request 6579.
func NewRealtimeLate(key string) *RealtimeServer { return newRealtime(key, true) }

// Reordered is how many completed events the late stand-in sent before an earlier item's.
func (s *RealtimeServer) Reordered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reordered
}

func newRealtime(key string, late bool) *RealtimeServer {
	check := func(r *http.Request) (int, string) {
		switch {
		case r.URL.Path != "/v1/realtime":
			return http.StatusNotFound, "no such path " + r.URL.Path
		case r.Header.Get("Authorization") != "Bearer "+key:
			return http.StatusUnauthorized, "missing or wrong bearer token"
		case r.URL.Query().Get("intent") != "transcription":
			return http.StatusBadRequest, "intent=transcription required for a transcription session"
		case r.URL.Query().Has("model"):
			return http.StatusBadRequest, "a model in the URL opens a conversation session, not transcription"
		}
		return 0, ""
	}
	s := &RealtimeServer{}
	s.Server = standin.New("openai-realtime", func(c *standin.Session) { serveRealtime(c, late, s) }, check)
	return s
}

// URL is the address to configure the adapter with.
func (s *RealtimeServer) URL() string { return s.Server.URL("/v1/realtime?intent=transcription") }

type rtSession struct {
	c          *standin.Session
	srv        *RealtimeServer
	dec        *tone.Decoder
	configured bool
	seq, open  int // item counter; open: the item in speech (0 none)
	prev       string
	sent       int // events sent, for event_id
	// late holds completed events back (NewRealtimeLate) until a second one is due (after
	// the later item's deltas) or the client clears, then sends them newest first
	late bool
	held []map[string]any
}

func serveRealtime(c *standin.Session, late bool, srv *RealtimeServer) {
	s := &rtSession{c: c, srv: srv, dec: tone.NewDecoder(24000), late: late}
	if !s.send(map[string]any{"type": "session.created", "session": map[string]any{"type": "transcription"}}) {
		return
	}
	for {
		typ, b, err := c.Read()
		if err != nil {
			return
		}
		if typ != websocket.TextMessage {
			c.Violation("binary message: audio goes base64 in input_audio_buffer.append")
			return
		}
		var m struct {
			Type    string          `json:"type"`
			Audio   *string         `json:"audio"`
			Session json.RawMessage `json:"session"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			c.Violation("not JSON: %.60q", b)
			return
		}
		if !s.handle(m.Type, m.Audio, m.Session) {
			return
		}
	}
}

func (s *rtSession) handle(typ string, audio *string, session json.RawMessage) bool {
	switch typ {
	case "session.update":
		if msg := checkSession(session); msg != "" {
			s.c.Violation("%s", msg)
			return false
		}
		s.configured = true
		return s.send(map[string]any{"type": "session.updated", "session": json.RawMessage(session)})
	case "input_audio_buffer.append":
		if !s.configured {
			s.c.Violation("audio before session.update")
			return false
		}
		if audio == nil {
			s.c.Violation("append without audio")
			return false
		}
		b, err := base64.StdEncoding.DecodeString(*audio)
		if err != nil || len(b)%2 != 0 {
			s.c.Violation("audio is not base64 PCM16 (%v, %d bytes)", err, len(b))
			return false
		}
		samples := pcm.S16LE(b)
		if s.c.Hear(samples, 24000) {
			return false
		}
		return s.events(s.dec.Feed(samples))
	case "input_audio_buffer.commit":
		if s.c.Ending() {
			return false
		}
		evs := s.dec.Flush()
		if len(evs) == 0 && s.open == 0 {
			return s.send(map[string]any{"type": "error", "error": map[string]string{
				"type": "invalid_request_error", "code": "input_audio_buffer_commit_empty",
				"message": "Error committing input audio buffer: buffer too small."}})
		}
		return s.events(evs)
	case "input_audio_buffer.clear":
		s.dec = tone.NewDecoder(24000) // uncommitted audio is discarded
		s.open = 0
		return s.send(map[string]any{"type": "input_audio_buffer.cleared"}) && s.release()
	case "transcription_session.update":
		s.c.Violation("legacy beta event transcription_session.update")
		return false
	}
	s.c.Violation("unknown client event %q", typ)
	return false
}

func checkSession(raw json.RawMessage) string {
	var sess struct {
		Type  string `json:"type"`
		Audio struct {
			Input struct {
				Format struct {
					Type string `json:"type"`
					Rate int    `json:"rate"`
				} `json:"format"`
				Transcription *struct {
					Model string `json:"model"`
				} `json:"transcription"`
			} `json:"input"`
		} `json:"audio"`
	}
	if err := json.Unmarshal(raw, &sess); err != nil {
		return fmt.Sprintf("session is not an object: %v", err)
	}
	in := sess.Audio.Input
	switch {
	case sess.Type != "transcription":
		return fmt.Sprintf("session.type %q: want transcription", sess.Type)
	case in.Format.Type != "audio/pcm":
		return fmt.Sprintf("format %q: this stand-in takes audio/pcm", in.Format.Type)
	case in.Format.Rate != 24000:
		return fmt.Sprintf("audio/pcm rate %d: only 24000 is accepted", in.Format.Rate)
	case in.Transcription == nil || in.Transcription.Model == "":
		return "audio.input.transcription.model missing"
	}
	return ""
}

// events turns tone decoder events into server VAD and transcription events.
func (s *rtSession) events(evs []tone.Event) bool {
	for _, e := range evs {
		if s.open == 0 {
			s.seq++
			s.open = s.seq
			start := max(0, e.Words[0].Start-300*time.Millisecond)
			if !s.send(map[string]any{"type": "input_audio_buffer.speech_started", "item_id": s.item(), "audio_start_ms": start.Milliseconds()}) {
				return false
			}
		}
		if !e.Final {
			continue
		}
		id := s.item()
		item := map[string]any{"id": id, "type": "message", "status": "completed", "role": "user",
			"content": []map[string]any{{"type": "input_audio", "transcript": nil}}}
		ok := s.send(map[string]any{"type": "input_audio_buffer.speech_stopped", "item_id": id, "audio_end_ms": e.Words[len(e.Words)-1].End.Milliseconds()}) &&
			s.send(map[string]any{"type": "input_audio_buffer.committed", "item_id": id, "previous_item_id": nilIfEmpty(s.prev)}) &&
			s.send(map[string]any{"type": "conversation.item.added", "previous_item_id": nilIfEmpty(s.prev), "item": item}) &&
			s.send(map[string]any{"type": "conversation.item.done", "previous_item_id": nilIfEmpty(s.prev), "item": item})
		for i, w := range e.Words {
			d := w.Text
			if i > 0 {
				d = " " + d
			}
			ok = ok && s.send(map[string]any{"type": "conversation.item.input_audio_transcription.delta", "item_id": id, "content_index": 0, "delta": d})
		}
		done := map[string]any{"type": "conversation.item.input_audio_transcription.completed", "item_id": id, "content_index": 0, "transcript": e.Text(),
			"usage": map[string]any{"type": "duration", "seconds": e.Words[len(e.Words)-1].End.Seconds() - e.Words[0].Start.Seconds()}}
		if s.late {
			s.held = append(s.held, done)
			if len(s.held) >= 2 {
				ok = ok && s.release()
			}
		} else {
			ok = ok && s.send(done)
		}
		if !ok {
			return false
		}
		s.prev, s.open = id, 0
	}
	return true
}

// release sends the held completions, newest first.
func (s *rtSession) release() bool {
	if len(s.held) > 1 {
		s.srv.mu.Lock()
		s.srv.reordered += len(s.held) - 1
		s.srv.mu.Unlock()
	}
	for i := len(s.held) - 1; i >= 0; i-- {
		if !s.send(s.held[i]) {
			return false
		}
	}
	s.held = s.held[:0]
	return true
}

func (s *rtSession) item() string { return fmt.Sprintf("item_%03d", s.open) }

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *rtSession) send(v map[string]any) bool {
	s.sent++
	v["event_id"] = fmt.Sprintf("event_%06d", s.sent)
	b, _ := json.Marshal(v)
	return s.c.Send(b) == nil
}
