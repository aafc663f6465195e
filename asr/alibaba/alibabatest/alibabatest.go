// Package alibabatest is a stand-in Alibaba NLS real-time transcription gateway
// (SpeechTranscriber) for tests, written from Alibaba's NLS SDKs and public captures of
// the gateway's messages:
//
//   - the commands and their fields: aliyun/alibabacloud-nls-python-sdk @ 9d459a0,
//     nls/speech_transcriber.py l.244-268 (StartTranscription: a 32-hex task_id for the
//     task, a fresh 32-hex message_id per command, header namespace/name/appkey,
//     payload format/sample_rate/booleans) and l.290-307 (StopTranscription, header
//     only); aliyun/alibabacloud-nls-go-sdk @ d28aea1, st.go l.28-42 (the names),
//     l.44-64 (the payload and its defaults) and utils.go l.47 (the X-NLS-Token header);
//   - the events' fields and types: aliyun/alibabacloud-nls-cpp-sdk @ f29517c,
//     nlsCppSdk/framework/common/nlsEventInner.cpp l.212-247 (header name, status an
//     int, task_id) and l.277-388 (payload index, time, begin_time ints; confidence a
//     double; words [{text, startTime, endTime}]; stash_result);
//   - the status codes and texts: the same SDK's nlsGlobal.h l.330-420 (40000001
//     ACCESS_DENIED, 40000002 MESSAGE_INVALID, 40000003 PARAMETER_INVALID, 40000004
//     IDLE_TIMEOUT, 40000005 TOO_MANY_REQUESTS, 40020105 APPKEY_NOT_EXIST), TaskFailed
//     in namespace "Default", and the idle timeout's 10 s from Alibaba's SDK FAQ;
//   - whole sessions: an nls-sdk-java 2.2.13 session log quoted in a public README
//     (StartTranscription → TranscriptionStarted → SentenceBegin → SentenceEnd →
//     StopTranscription → TranscriptionCompleted, every event with its own message_id),
//     a FreeSWITCH ali_asr_ws log of 2024 (SentenceEnd with fixed_result, unfixed_result
//     and stash_result) and isdom/fs_mod_asr_alinls's README (TranscriptionResultChanged
//     and SentenceEnd with payload status 20000000).
//
// It demands the token (X-NLS-Token header or ?token=) and a StartTranscription first,
// answers TranscriptionStarted, then SentenceBegin, TranscriptionResultChanged (when
// intermediate results were asked for) and SentenceEnd per tone-word sentence (package
// tone), and on StopTranscription flushes and answers TranscriptionCompleted. A bad token
// or appkey, a malformed command, too many tasks or a task idle for IdleTimeout gets
// TaskFailed with the gateway's status and text, then a close. It is a stand-in, not
// Alibaba's service.
package alibabatest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"regexp"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr/asrtest/standin"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/internal/pcm"
)

// Options configure a stand-in.
type Options struct {
	// Valid says whether a token is good (a TokenServer's Valid, or one fixed token).
	Valid func(token string) bool
	// AppKey is the project's appkey.
	AppKey string
	// IdleTimeout fails a task that receives nothing for this long (10 s, the gateway's).
	IdleTimeout time.Duration
	// MaxTasks, when set, fails tasks beyond that many at once with TOO_MANY_REQUESTS
	// (an account's concurrency).
	MaxTasks int
}

// Server is the stand-in.
type Server struct {
	*standin.Server
	o     Options
	mu    sync.Mutex
	tasks int
}

// New starts a stand-in accepting token and appkey.
func New(token, appkey string) *Server {
	return NewWithOptions(Options{Valid: func(t string) bool { return t == token }, AppKey: appkey})
}

// NewWith starts a stand-in accepting the tokens valid says are (those of a TokenServer).
func NewWith(valid func(token string) bool, appkey string) *Server {
	return NewWithOptions(Options{Valid: valid, AppKey: appkey})
}

// NewWithOptions starts a stand-in as o says.
func NewWithOptions(o Options) *Server {
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 10 * time.Second
	}
	s := &Server{o: o}
	s.Server = standin.New("alibaba", s.serve, nil)
	return s
}

// URL is the gateway address to configure the adapter with.
func (s *Server) URL() string { return s.Server.URL("/ws/v1") }

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Status codes and texts of the gateway (nlsGlobal.h l.330-420).
const (
	statusOK          = 20000000
	accessDenied      = 40000001
	messageInvalid    = 40000002
	parameterInvalid  = 40000003
	idleTimeout       = 40000004
	tooManyRequests   = 40000005
	appkeyNotExist    = 40020105
	successText       = "Gateway:SUCCESS:Success."
	tooManyText       = "Gateway:TOO_MANY_REQUESTS:Too many requests!"
	appkeyMissingText = "Meta:APPKEY_NOT_EXIST:Appkey not exist!"
)

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
	srv     *Server
	token   string
	task    string
	msgIDs  map[string]bool
	rate    int
	partial bool
	words   bool
	dec     *tone.Decoder
	index   int // current sentence (1-based), 0 between sentences
	count   int
	last    string // the last directive, for the idle timeout's text
}

func (s *Server) serve(c *standin.Session) {
	r := c.Request
	tok := r.Header.Get("X-NLS-Token")
	if tok == "" {
		tok = r.URL.Query().Get("token")
	}
	ss := &session{c: c, srv: s, token: tok, msgIDs: map[string]bool{}}
	if !ss.start() {
		return
	}
	defer s.release()
	for {
		_ = c.WS.SetReadDeadline(time.Now().Add(s.o.IdleTimeout))
		typ, b, err := c.Read()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			ss.fail(idleTimeout, "Gateway:IDLE_TIMEOUT:Websocket session is idle for too long time, the last directive is '"+ss.last+"'!")
			return
		}
		if err != nil {
			return
		}
		if typ == websocket.BinaryMessage {
			if len(b)%2 != 0 {
				c.Violation("audio of %d bytes is not whole PCM16 samples", len(b))
				return
			}
			samples := pcm.S16LE(b)
			if c.Hear(samples, ss.rate) || !ss.events(ss.dec.Feed(samples)) {
				return
			}
			continue
		}
		var cmd command
		if err := json.Unmarshal(b, &cmd); err != nil || cmd.Header == nil {
			ss.invalid(messageInvalid, "Gateway:MESSAGE_INVALID:Missing message header!", "command is not {\"header\": …}: %.60q", b)
			return
		}
		if !ss.checkHeader(cmd.Header, "StopTranscription") || c.Ending() {
			return
		}
		ss.last = "StopTranscription"
		if ss.events(ss.dec.Flush()) {
			ss.send("TranscriptionCompleted", nil)
		}
		// the SDKs close after TranscriptionCompleted (speech_transcriber.py l.179-187)
	}
}

// start reads StartTranscription and answers it: TranscriptionStarted, or TaskFailed.
func (s *session) start() bool {
	_ = s.c.WS.SetReadDeadline(time.Now().Add(s.srv.o.IdleTimeout))
	typ, b, err := s.c.Read()
	if err != nil {
		return false
	}
	var cmd command
	if typ != websocket.TextMessage || json.Unmarshal(b, &cmd) != nil || cmd.Header == nil || cmd.Payload == nil {
		s.invalid(messageInvalid, "Gateway:MESSAGE_INVALID:Missing message header!", "first message must be StartTranscription with header and payload: %.60q", b)
		return false
	}
	s.task, s.last = cmd.Header.TaskID, "StartTranscription"
	if !s.srv.o.Valid(s.token) {
		s.fail(accessDenied, "Meta:ACCESS_DENIED:The token '"+s.token+"' is invalid!")
		return false
	}
	if !s.checkHeader(cmd.Header, "StartTranscription") {
		return false
	}
	p := cmd.Payload
	if p.Format != "pcm" || (p.SampleRate != 8000 && p.SampleRate != 16000) {
		s.invalid(parameterInvalid, "Gateway:PARAMETER_INVALID:Invalid sample rate or format!", "payload format %q at %d Hz: want pcm at 8000 or 16000", p.Format, p.SampleRate)
		return false
	}
	if !s.srv.acquire() {
		s.fail(tooManyRequests, tooManyText)
		return false
	}
	s.rate, s.partial, s.words = p.SampleRate, p.Intermediate, p.Words
	s.dec = tone.NewDecoder(s.rate)
	if s.send("TranscriptionStarted", nil) {
		return true
	}
	s.srv.release()
	return false
}

func (s *Server) acquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.o.MaxTasks > 0 && s.tasks >= s.o.MaxTasks {
		return false
	}
	s.tasks++
	return true
}

func (s *Server) release() {
	s.mu.Lock()
	s.tasks--
	s.mu.Unlock()
}

func (s *session) checkHeader(h *header, name string) bool {
	switch {
	case h.Namespace != "SpeechTranscriber" || h.Name != name:
		s.invalid(messageInvalid, "Gateway:MESSAGE_INVALID:Invalid namespace or name!", "header %s/%s: want SpeechTranscriber/%s", h.Namespace, h.Name, name)
	case !hex32.MatchString(h.TaskID) || h.TaskID != s.task:
		s.invalid(messageInvalid, "Gateway:MESSAGE_INVALID:Invalid task id '"+h.TaskID+"'!", "task_id %q: want the session's 32 hex digits", h.TaskID)
	case !hex32.MatchString(h.MessageID) || s.msgIDs[h.MessageID]:
		s.invalid(messageInvalid, "Gateway:MESSAGE_INVALID:Invalid message id '"+h.MessageID+"'!", "message_id %q: want 32 hex digits, new for each command", h.MessageID)
	case h.AppKey != s.srv.o.AppKey:
		s.fail(appkeyNotExist, appkeyMissingText)
	default:
		s.msgIDs[h.MessageID] = true
		return true
	}
	return false
}

// events turns tone events into the gateway's sentence events, shaped as the 2024
// FreeSWITCH capture's: SentenceBegin {index, time}; TranscriptionResultChanged {index,
// time, result, confidence, words, status, fixed_result, unfixed_result}; SentenceEnd
// with begin_time, gender, stash_result (the next sentence's preview), audio_extra_info,
// sentence_id and gender_score.
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
			if s.partial && !s.send("TranscriptionResultChanged", map[string]any{"index": s.index, "time": end, "result": e.Text(),
				"confidence": 0.603, "words": []any{}, "status": 0, "fixed_result": "", "unfixed_result": ""}) {
				return false
			}
			continue
		}
		words := []any{}
		if s.words {
			for _, w := range e.Words {
				words = append(words, map[string]any{"text": w.Text, "startTime": w.Start.Milliseconds(), "endTime": w.End.Milliseconds()})
			}
		}
		pl := map[string]any{"index": s.index, "time": end, "result": e.Text(), "confidence": 0.858, "words": words, "status": 0,
			"gender": "", "begin_time": e.Words[0].Start.Milliseconds(), "fixed_result": "", "unfixed_result": "",
			"stash_result": map[string]any{"sentenceId": s.index + 1, "beginTime": end, "text": "", "fixedText": "", "unfixedText": "",
				"currentTime": end, "words": []any{}},
			"audio_extra_info": "", "sentence_id": newID(), "gender_score": 0.0}
		if !s.send("SentenceEnd", pl) {
			return false
		}
		s.index = 0
	}
	return true
}

// send writes an event: every one has a message_id of its own (the Java SDK log).
func (s *session) send(name string, payload any) bool {
	m := map[string]any{"header": header{MessageID: newID(), TaskID: s.task, Namespace: "SpeechTranscriber", Name: name,
		Status: statusOK, StatusText: successText}}
	if payload != nil {
		m["payload"] = payload
	}
	b, _ := json.Marshal(m)
	return s.c.Send(b) == nil
}

// fail answers TaskFailed, in the Default namespace, and closes, as the gateway does.
func (s *session) fail(status int, text string) {
	b, _ := json.Marshal(map[string]any{"header": header{MessageID: newID(), TaskID: s.task, Namespace: "Default", Name: "TaskFailed",
		Status: status, StatusText: text}})
	_ = s.c.Send(b)
	_ = s.c.WS.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}

// invalid is a command the gateway refuses: the client broke the protocol, so besides
// the gateway's TaskFailed it is recorded as a violation.
func (s *session) invalid(status int, text, format string, a ...any) {
	b, _ := json.Marshal(map[string]any{"header": header{MessageID: newID(), TaskID: s.task, Namespace: "Default", Name: "TaskFailed",
		Status: status, StatusText: text}})
	_ = s.c.Send(b)
	s.c.Violation(format, a...)
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
