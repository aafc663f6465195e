// Package alibaba speaks Alibaba Cloud NLS real-time speech transcription
// (SpeechTranscriber, help.aliyun.com/document_detail/324262.html and
// aliyun/alibabacloud-nls-python-sdk): a token in X-NLS-Token, StartTranscription
// (header + payload) answered by TranscriptionStarted, binary PCM16, partials from
// TranscriptionResultChanged, a final per sentence from SentenceEnd, StopTranscription
// answered by TranscriptionCompleted. The appkey's project fixes language and rate.
//
// Tested against the stand-in in alibaba/alibabatest; no NLS gateway runs here.
package alibaba

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/internal/lang"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/wsengine"
)

// Config configures the adapter.
type Config struct {
	// URL of the gateway: wss://nls-gateway-cn-shanghai.aliyuncs.com/ws/v1 (public),
	// the -internal VPC host, or a private-cloud deployment.
	URL string `yaml:"url"`
	// Token from the CreateToken API, fixed (it expires: give an AccessKey pair instead to
	// have the adapter make and renew tokens itself).
	Token string `yaml:"token"`
	// AccessKeyID and AccessKeySecret make tokens with CreateToken at TokenURL (default
	// https://nls-meta.cn-shanghai.aliyuncs.com/, region Region, default cn-shanghai),
	// renewed before they expire.
	AccessKeyID     string `yaml:"access_key_id"`
	AccessKeySecret string `yaml:"access_key_secret"`
	TokenURL        string `yaml:"token_url"`
	Region          string `yaml:"region"`
	// AppKey picks the project (language, dialect, 8 or 16 kHz model); "default" on
	// private-cloud deployments.
	AppKey string `yaml:"appkey"`
	// AppKeys picks the project by the line's language: a BCP-47 tag, or its primary
	// subtag, to the appkey of a project whose model speaks it (zh-CN → a Mandarin
	// 8 kHz project, en-US → an English one). NLS takes no language parameter: the
	// project's model fixes it, so this is the engine's form of the language; an
	// unlisted language uses AppKey.
	AppKeys map[string]string `yaml:"appkeys"`
	// SampleRate of the appkey's model: 8000 (telephone, default) or 16000.
	SampleRate int `yaml:"sample_rate"`
	// VocabularyID selects a server-side hotword list; CustomizationID a custom model.
	VocabularyID    string `yaml:"vocabulary_id"`
	CustomizationID string `yaml:"customization_id"`
	// MaxSentenceSilence ends a sentence after this much silence, ms (0: server default).
	MaxSentenceSilence int `yaml:"max_sentence_silence"`
	// NoPunctuation and NoITN turn those off (both on by default).
	NoPunctuation bool          `yaml:"no_punctuation"`
	NoITN         bool          `yaml:"no_itn"`
	Chunk         time.Duration `yaml:"chunk"` // audio per message (100 ms)
	MaxStreams    int           `yaml:"max_streams"`
	DialTimeout   time.Duration `yaml:"dial_timeout"`
	FlushTimeout  time.Duration `yaml:"flush_timeout"`
	Logger        *slog.Logger  `yaml:"-"`
}

// New returns the engine, named "alibaba".
func New(cfg Config) (asr.Engine, error) {
	if cfg.AppKey == "" || (cfg.Token == "" && (cfg.AccessKeyID == "" || cfg.AccessKeySecret == "")) {
		return nil, fmt.Errorf("alibaba: appkey and a token (or access_key_id and access_key_secret) are required")
	}
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 8000
	}
	if cfg.SampleRate != 8000 && cfg.SampleRate != 16000 {
		return nil, fmt.Errorf("alibaba: sample_rate %d: want 8000 or 16000", cfg.SampleRate)
	}
	if cfg.Chunk == 0 {
		cfg.Chunk = 100 * time.Millisecond
	}
	h := http.Header{}
	h.Set("X-NLS-Token", cfg.Token)
	var dial func(asr.StreamConfig) (string, http.Header, error)
	if cfg.Token == "" {
		ts := &tokenSource{id: cfg.AccessKeyID, secret: cfg.AccessKeySecret, endpoint: cfg.TokenURL, region: cfg.Region,
			client: &http.Client{Timeout: 10 * time.Second}, now: time.Now}
		if ts.endpoint == "" {
			ts.endpoint = "https://nls-meta.cn-shanghai.aliyuncs.com/"
		}
		if ts.region == "" {
			ts.region = "cn-shanghai"
		}
		// each connection (a stream, or the resilience layer's reconnect) takes a token
		// with life left in it
		dial = func(asr.StreamConfig) (string, http.Header, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tok, err := ts.get(ctx)
			if err != nil {
				return "", nil, err
			}
			h := http.Header{}
			h.Set("X-NLS-Token", tok)
			return cfg.URL, h, nil
		}
	}
	return wsengine.New(wsengine.Options{
		Name: "alibaba", URL: cfg.URL, Header: h, Dial: dial, Rate: cfg.SampleRate, MaxStreams: cfg.MaxStreams,
		DialTimeout: cfg.DialTimeout, FlushTimeout: cfg.FlushTimeout, Logger: cfg.Logger,
		NewProtocol: func(sc asr.StreamConfig) (wsengine.Protocol, error) {
			c := cfg
			if k, ok := lang.Lookup(cfg.AppKeys, sc.Language); ok {
				c.AppKey = k
			}
			return &protocol{cfg: c, sc: sc, task: newID(), begin: map[int]time.Duration{}, shown: map[int]bool{}}, nil
		},
	})
}

// newID is a 32-hex-digit id, as task_id and message_id must be.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type protocol struct {
	cfg   Config
	sc    asr.StreamConfig
	task  string
	buf   []byte
	begin map[int]time.Duration // sentence index → begin time
	shown map[int]bool          // sentences with a partial out
	ids   map[int]int
	next  int
}

type header struct {
	MessageID  string `json:"message_id"`
	TaskID     string `json:"task_id"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	AppKey     string `json:"appkey,omitempty"`
	Status     *int   `json:"status,omitempty"`
	StatusText string `json:"status_text,omitempty"`
}

func (p *protocol) header(name string) header {
	return header{MessageID: newID(), TaskID: p.task, Namespace: "SpeechTranscriber", Name: name, AppKey: p.cfg.AppKey}
}

// Start sends StartTranscription and waits for TranscriptionStarted.
func (p *protocol) Start(c *wsengine.Conn) error {
	payload := map[string]any{
		"format": "pcm", "sample_rate": p.cfg.SampleRate,
		"enable_intermediate_result":        p.sc.Partials,
		"enable_punctuation_prediction":     !p.cfg.NoPunctuation,
		"enable_inverse_text_normalization": !p.cfg.NoITN,
		"enable_words":                      true,
	}
	if p.cfg.VocabularyID != "" {
		payload["vocabulary_id"] = p.cfg.VocabularyID
	}
	if p.cfg.CustomizationID != "" {
		payload["customization_id"] = p.cfg.CustomizationID
	}
	if p.cfg.MaxSentenceSilence > 0 {
		payload["max_sentence_silence"] = p.cfg.MaxSentenceSilence
	}
	if err := c.JSON(map[string]any{"header": p.header("StartTranscription"), "payload": payload}); err != nil {
		return err
	}
	_, b, err := c.Read()
	if err != nil {
		return fmt.Errorf("waiting for TranscriptionStarted: %w", err)
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("waiting for TranscriptionStarted: %w: %.80q", err, b)
	}
	if err := m.err(); err != nil {
		return err
	}
	if m.Header.Name != "TranscriptionStarted" {
		return fmt.Errorf("got %s, want TranscriptionStarted", m.Header.Name)
	}
	return nil
}

// Audio sends PCM16 in Chunk-sized messages.
func (p *protocol) Audio(c *wsengine.Conn, s []int16) error {
	p.buf = pcm.AppendS16LE(p.buf, s)
	if len(p.buf) < int(p.cfg.Chunk*time.Duration(p.cfg.SampleRate)/time.Second)*2 {
		return nil
	}
	err := c.Binary(p.buf)
	p.buf = p.buf[:0]
	return err
}

// Finish sends what is batched and StopTranscription.
func (p *protocol) Finish(c *wsengine.Conn) error {
	if len(p.buf) > 0 {
		if err := c.Binary(p.buf); err != nil {
			return err
		}
		p.buf = p.buf[:0]
	}
	return c.JSON(map[string]any{"header": p.header("StopTranscription")})
}

type word struct {
	Text      string `json:"text"`
	StartTime int64  `json:"startTime"`
	EndTime   int64  `json:"endTime"`
}

type message struct {
	Header  header `json:"header"`
	Payload struct {
		Index      int      `json:"index"`
		Time       int64    `json:"time"`
		BeginTime  int64    `json:"begin_time"`
		Result     string   `json:"result"`
		Confidence *float64 `json:"confidence"`
		Words      []word   `json:"words"`
	} `json:"payload"`
}

// err is the failure a message reports: TaskFailed, or any status but 20000000 (a
// missing status is success).
func (m message) err() error {
	if m.Header.Name == "TaskFailed" || m.Header.Status != nil && *m.Header.Status != 20000000 {
		e := &ServerError{Name: m.Header.Name, Text: m.Header.StatusText, TaskID: m.Header.TaskID}
		if m.Header.Status != nil {
			e.Status = *m.Header.Status
		}
		return e
	}
	return nil
}

// ServerError is a failure the gateway reported (TaskFailed, or an event whose status is
// not 20000000), with its status code.
type ServerError struct {
	Name   string
	Status int
	Text   string
	TaskID string
}

// Error names the event, the status and the gateway's text, as support quotes them.
func (e *ServerError) Error() string {
	return fmt.Sprintf("server: %s %d %s", e.Name, e.Status, e.Text)
}

// Hint is the likely cause, for an operator: the meaning of the status codes a gateway
// can cause or fix (aliyun/alibabacloud-nls-cpp-sdk nlsGlobal.h, NlsErrorCode).
func (e *ServerError) Hint() string {
	switch e.Status {
	case 40000001:
		return "access denied: the token is invalid or expired (a fixed token expires: give access_key_id and access_key_secret to have tokens made and renewed), or the account lacks the service"
	case 40000002:
		return "the gateway refused a malformed message: report it with the task id"
	case 40000003:
		return "a parameter is invalid: the appkey, or a sample_rate or format the appkey's model does not take (8000 or 16000, as the project)"
	case 40000004:
		return "the task was idle for 10 s: no audio reached the service (a leg on hold, a stalled media path)"
	case 40000005:
		return "too many requests: the account's concurrency or requests per second is used up; raise it in the console or lower max_streams"
	case 40000010:
		return "the free trial has expired: enable the commercial service"
	case 40020105:
		return "the appkey does not exist in this account or region"
	case 40020106:
		return "the appkey belongs to another account than the token or AccessKey"
	}
	if e.Status >= 50000000 {
		return "the service failed on its side (retried by the resilience layer)"
	}
	return ""
}

// Handle turns events into results.
func (p *protocol) Handle(c *wsengine.Conn, typ int, b []byte) (bool, error) {
	if typ != websocket.TextMessage {
		return false, fmt.Errorf("unexpected binary message (%d bytes)", len(b))
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return false, fmt.Errorf("%w: %.80q", err, b)
	}
	if m.Header.Name == "" {
		return false, fmt.Errorf("event without header name: %.80q", b)
	}
	if err := m.err(); err != nil {
		return false, err
	}
	pl := m.Payload
	switch m.Header.Name {
	case "SentenceBegin":
		p.begin[pl.Index] = ms(pl.Time)
	case "TranscriptionResultChanged":
		if t := strings.TrimSpace(pl.Result); t != "" && p.sc.Partials {
			start := p.begin[pl.Index]
			c.Emit(asr.Result{UtteranceID: p.id(pl.Index), Text: t, Start: start, End: max(start, ms(pl.Time)), Confidence: -1})
			p.shown[pl.Index] = true
		}
	case "SentenceEnd":
		start := ms(pl.BeginTime)
		r := asr.Result{UtteranceID: p.id(pl.Index), Text: strings.TrimSpace(pl.Result), Final: true, Start: start, End: max(start, ms(pl.Time)), Confidence: -1}
		// NLS sends confidence 0.0 when it computed none (the SDKs' SentenceEnd without
		// enable_confidence), so 0 means "not given", never "certainly wrong".
		if pl.Confidence != nil && *pl.Confidence > 0 {
			r.Confidence = min(1, *pl.Confidence)
		}
		for _, w := range pl.Words {
			ws := ms(w.StartTime)
			r.Words = append(r.Words, asr.Word{Text: w.Text, Start: ws, End: max(ws, ms(w.EndTime)), Confidence: -1})
		}
		if r.Text != "" || p.shown[pl.Index] {
			c.Emit(r)
		}
		delete(p.begin, pl.Index)
		delete(p.shown, pl.Index)
	case "TranscriptionCompleted":
		return true, nil
	}
	return false, nil
}

// id maps the server's sentence index to a stream utterance id.
func (p *protocol) id(index int) int {
	if p.ids == nil {
		p.ids = map[int]int{}
	}
	id, ok := p.ids[index]
	if !ok {
		id = p.next
		p.next++
		p.ids[index] = id
	}
	return id
}

func ms(v int64) time.Duration { return max(0, time.Duration(v)*time.Millisecond) }
