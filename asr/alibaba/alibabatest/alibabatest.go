// Package alibabatest is a stand-in Alibaba NLS real-time transcription gateway
// (SpeechTranscriber) for tests. It demands the token (X-NLS-Token header or ?token=),
// a StartTranscription first with the documented header (namespace, name, appkey,
// 32-hex task_id and message_id) and a pcm payload at 8 or 16 kHz, answers
// TranscriptionStarted, then SentenceBegin, TranscriptionResultChanged (when intermediate
// results were asked for) and SentenceEnd per tone-word sentence (package tone), and on
// StopTranscription for the same task flushes and answers TranscriptionCompleted. A bad
// token or appkey gets TaskFailed. It is a stand-in, not Alibaba's service.
package alibabatest

import (
	"encoding/json"
	"regexp"

	"github.com/gorilla/websocket"

	"lianxin/asr/asrtest/standin"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/internal/pcm"
)

// Server is the stand-in.
type Server struct {
	*standin.Server
}

// New starts a stand-in accepting token and appkey.
func New(token, appkey string) *Server {
	return NewWith(func(t string) bool { return t == token }, appkey)
}

// NewWith starts a stand-in accepting the tokens valid says are (those of a TokenServer).
func NewWith(valid func(token string) bool, appkey string) *Server {
	s := &Server{}
	s.Server = standin.New("alibaba", func(c *standin.Session) { serve(c, valid, appkey) }, nil)
	return s
}

// URL is the gateway address to configure the adapter with.
func (s *Server) URL() string { return s.Server.URL("/ws/v1") }

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

type header struct {
	MessageID  string `json:"message_id"`
	TaskID     string `json:"task_id"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	AppKey     string `json:"appkey,omitempty"`
	Status     int    `json:"status"`
	StatusText string `json:"status_text"`
}

type command struct {
	Header  *header `json:"header"`
	Payload *struct {
		Format       string `json:"format"`
		SampleRate   int    `json:"sample_rate"`
		Intermediate bool   `json:"enable_intermediate_result"`
		Words        bool   `json:"enable_words"`
	} `json:"payload"`
}

type session struct {
	c       *standin.Session
	task    string
	msgIDs  map[string]bool
	rate    int
	partial bool
	words   bool
	dec     *tone.Decoder
	index   int // current sentence (1-based), 0 between sentences
	count   int
}

func serve(c *standin.Session, valid func(string) bool, appkey string) {
	s := &session{c: c, msgIDs: map[string]bool{}}
	r := c.Request
	if !valid(r.Header.Get("X-NLS-Token")) && !valid(r.URL.Query().Get("token")) {
		s.fail("", 40000001, "Gateway:ACCESS_DENIED:The token is invalid!")
		return
	}
	if !s.start(appkey) {
		return
	}
	for {
		typ, b, err := c.Read()
		if err != nil {
			return
		}
		if typ == websocket.BinaryMessage {
			if len(b)%2 != 0 {
				c.Violation("audio of %d bytes is not whole PCM16 samples", len(b))
				return
			}
			samples := pcm.S16LE(b)
			if c.Hear(samples, s.rate) || !s.events(s.dec.Feed(samples)) {
				return
			}
			continue
		}
		var cmd command
		if err := json.Unmarshal(b, &cmd); err != nil || cmd.Header == nil {
			c.Violation("command is not {\"header\": …}: %.60q", b)
			return
		}
		if !s.checkHeader(cmd.Header, "StopTranscription", appkey) || c.Ending() {
			return
		}
		if s.events(s.dec.Flush()) {
			s.send("TranscriptionCompleted", nil)
		}
	}
}

func (s *session) start(appkey string) bool {
	typ, b, err := s.c.Read()
	if err != nil {
		return false
	}
	var cmd command
	if typ != websocket.TextMessage || json.Unmarshal(b, &cmd) != nil || cmd.Header == nil || cmd.Payload == nil {
		s.c.Violation("first message must be StartTranscription with header and payload: %.60q", b)
		return false
	}
	s.task = cmd.Header.TaskID
	if !s.checkHeader(cmd.Header, "StartTranscription", appkey) {
		return false
	}
	p := cmd.Payload
	if p.Format != "pcm" || (p.SampleRate != 8000 && p.SampleRate != 16000) {
		s.c.Violation("payload format %q at %d Hz: want pcm at 8000 or 16000", p.Format, p.SampleRate)
		return false
	}
	s.rate, s.partial, s.words = p.SampleRate, p.Intermediate, p.Words
	s.dec = tone.NewDecoder(s.rate)
	return s.send("TranscriptionStarted", nil)
}

func (s *session) checkHeader(h *header, name, appkey string) bool {
	switch {
	case h.Namespace != "SpeechTranscriber" || h.Name != name:
		s.c.Violation("header %s/%s: want SpeechTranscriber/%s", h.Namespace, h.Name, name)
	case !hex32.MatchString(h.TaskID) || h.TaskID != s.task:
		s.c.Violation("task_id %q: want the session's 32 hex digits", h.TaskID)
	case !hex32.MatchString(h.MessageID) || s.msgIDs[h.MessageID]:
		s.c.Violation("message_id %q: want 32 hex digits, new for each command", h.MessageID)
	case h.AppKey != appkey:
		s.fail(h.TaskID, 40020105, "Meta:APPKEY_NOT_EXIST:Appkey not exist!")
	default:
		s.msgIDs[h.MessageID] = true
		return true
	}
	return false
}

func (s *session) events(evs []tone.Event) bool {
	for _, e := range evs {
		if s.index == 0 {
			s.count++
			s.index = s.count
			if !s.send("SentenceBegin", map[string]any{"index": s.index, "time": e.Words[0].Start.Milliseconds()}) {
				return false
			}
		}
		end := e.Words[len(e.Words)-1].End.Milliseconds()
		if !e.Final {
			if s.partial && !s.send("TranscriptionResultChanged", map[string]any{"index": s.index, "time": end, "result": e.Text()}) {
				return false
			}
			continue
		}
		pl := map[string]any{"index": s.index, "time": end, "begin_time": e.Words[0].Start.Milliseconds(),
			"result": e.Text(), "confidence": 0.9, "status": 0, "words": []any{}}
		if s.words {
			ws := make([]map[string]any, len(e.Words))
			for i, w := range e.Words {
				ws[i] = map[string]any{"text": w.Text, "startTime": w.Start.Milliseconds(), "endTime": w.End.Milliseconds()}
			}
			pl["words"] = ws
		}
		if !s.send("SentenceEnd", pl) {
			return false
		}
		s.index = 0
	}
	return true
}

func (s *session) send(name string, payload any) bool {
	m := map[string]any{"header": header{MessageID: "00000000000000000000000000000000", TaskID: s.task,
		Namespace: "SpeechTranscriber", Name: name, Status: 20000000, StatusText: "Gateway:SUCCESS:Success."}}
	if payload != nil {
		m["payload"] = payload
	}
	b, _ := json.Marshal(m)
	return s.c.Send(b) == nil
}

// fail answers TaskFailed and closes, as the gateway does.
func (s *session) fail(task string, status int, text string) {
	b, _ := json.Marshal(map[string]any{"header": header{TaskID: task, Namespace: "Default", Name: "TaskFailed", Status: status, StatusText: text}})
	_ = s.c.Send(b)
}
