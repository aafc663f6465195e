package openai

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/wsengine"
)

// RealtimeConfig configures the Realtime transcription adapter.
type RealtimeConfig struct {
	// URL of the socket, e.g. wss://api.openai.com/v1/realtime?intent=transcription (the
	// query must say intent=transcription and name no model).
	URL string `yaml:"url"`
	Key string `yaml:"key"`
	// Model transcribes ("gpt-4o-transcribe" default).
	Model string `yaml:"model"`
	// Language default (ISO-639-1 or BCP-47; reduced to ISO-639-1).
	Language string `yaml:"language"`
	Prompt   string `yaml:"prompt"`
	// SilenceMs is server VAD's end-of-turn silence (500).
	SilenceMs int `yaml:"silence_ms"`
	// Chunk is the audio per append event (100 ms).
	Chunk        time.Duration `yaml:"chunk"`
	MaxStreams   int           `yaml:"max_streams"`
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	FlushTimeout time.Duration `yaml:"flush_timeout"`
	Logger       *slog.Logger  `yaml:"-"`
}

// realtimeRate is the only PCM rate the API takes.
const realtimeRate = 24000

// NewRealtime returns the engine, named "openai-realtime".
func NewRealtime(cfg RealtimeConfig) (asr.Engine, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("openai-realtime: url is required")
	}
	if !strings.Contains(cfg.URL, "intent=transcription") {
		return nil, fmt.Errorf("openai-realtime: url %q must carry intent=transcription (a model URL opens a conversation session)", cfg.URL)
	}
	if cfg.Model == "" {
		cfg.Model = "gpt-4o-transcribe"
	}
	if cfg.SilenceMs == 0 {
		cfg.SilenceMs = 500
	}
	if cfg.Chunk == 0 {
		cfg.Chunk = 100 * time.Millisecond
	}
	h := http.Header{}
	if cfg.Key != "" {
		h.Set("Authorization", "Bearer "+cfg.Key)
	}
	return wsengine.New(wsengine.Options{
		Name: "openai-realtime", URL: cfg.URL, Header: h, Rate: realtimeRate, MaxStreams: cfg.MaxStreams,
		DialTimeout: cfg.DialTimeout, FlushTimeout: cfg.FlushTimeout, Logger: cfg.Logger,
		NewProtocol: func(sc asr.StreamConfig) (wsengine.Protocol, error) {
			return &realtime{cfg: cfg, sc: sc, items: map[string]*item{}}, nil
		},
	})
}

type item struct {
	id         int
	prev       string
	committed  bool
	text       strings.Builder
	start, end time.Duration
	done       bool
	result     *asr.Result
}

// realtime folds the event stream into results: deltas accumulate per item, and finals go
// out in commit order (transcriptions finish out of order).
type realtime struct {
	cfg RealtimeConfig
	sc  asr.StreamConfig
	buf []byte

	mu        sync.Mutex // Finish (writer) and Handle (reader) share the flush state
	committed bool       // our final commit was sent
	cleared   bool       // the clear sent after it was answered: the server has caught up

	items   map[string]*item
	order   []string // committed item ids, in the order the server committed them
	emitted int      // finals delivered, a prefix of order
	nextID  int
}

type event struct {
	Type         string `json:"type"`
	ItemID       string `json:"item_id"`
	PreviousItem string `json:"previous_item_id"`
	Delta        string `json:"delta"`
	Transcript   string `json:"transcript"`
	AudioStartMs *int64 `json:"audio_start_ms"`
	AudioEndMs   *int64 `json:"audio_end_ms"`
	Error        *struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Start waits for session.created, configures a transcription session and waits for
// session.updated.
func (p *realtime) Start(c *wsengine.Conn) error {
	if err := p.await(c, "session.created"); err != nil {
		return err
	}
	tr := map[string]any{"model": p.cfg.Model}
	if lang := iso639(p.sc.Language, p.cfg.Language); lang != "" {
		tr["language"] = lang
	}
	if pr := prompt(p.cfg.Prompt, p.sc.Hotwords); pr != "" {
		tr["prompt"] = pr
	}
	err := c.JSON(map[string]any{"type": "session.update", "session": map[string]any{
		"type": "transcription",
		"audio": map[string]any{"input": map[string]any{
			"format":         map[string]any{"type": "audio/pcm", "rate": realtimeRate},
			"transcription":  tr,
			"turn_detection": map[string]any{"type": "server_vad", "silence_duration_ms": p.cfg.SilenceMs, "prefix_padding_ms": 300},
		}},
	}})
	if err != nil {
		return err
	}
	return p.await(c, "session.updated")
}

func (p *realtime) await(c *wsengine.Conn, want string) error {
	for {
		_, b, err := c.Read()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", want, err)
		}
		var e event
		if err := json.Unmarshal(b, &e); err != nil {
			return fmt.Errorf("waiting for %s: %w", want, err)
		}
		switch {
		case e.Type == want:
			return nil
		case e.Type == "error" && e.Error != nil:
			return fmt.Errorf("server: %s: %s", e.Error.Code, e.Error.Message)
		}
	}
}

// Audio sends base64 PCM16 in append events of Chunk.
func (p *realtime) Audio(c *wsengine.Conn, s []int16) error {
	p.buf = pcm.AppendS16LE(p.buf, s)
	if len(p.buf) < int(p.cfg.Chunk*realtimeRate/time.Second)*2 {
		return nil
	}
	return p.append(c)
}

func (p *realtime) append(c *wsengine.Conn) error {
	if len(p.buf) == 0 {
		return nil
	}
	err := c.JSON(map[string]string{"type": "input_audio_buffer.append", "audio": base64.StdEncoding.EncodeToString(p.buf)})
	p.buf = p.buf[:0]
	return err
}

// Finish sends what is batched and commits the buffer. There is no end-of-stream event and
// server VAD commits look like ours, so a clear follows the commit: its "cleared" answer
// comes after everything the earlier audio caused, which marks where waiting for
// transcriptions can end.
func (p *realtime) Finish(c *wsengine.Conn) error {
	if err := p.append(c); err != nil {
		return err
	}
	p.mu.Lock()
	p.committed = true
	p.mu.Unlock()
	if err := c.JSON(map[string]string{"type": "input_audio_buffer.commit"}); err != nil {
		return err
	}
	return c.JSON(map[string]string{"type": "input_audio_buffer.clear"})
}

// Handle folds one event.
func (p *realtime) Handle(c *wsengine.Conn, typ int, b []byte) (bool, error) {
	if typ != websocket.TextMessage {
		return false, fmt.Errorf("unexpected binary message (%d bytes)", len(b))
	}
	var e event
	if err := json.Unmarshal(b, &e); err != nil {
		return false, fmt.Errorf("%w: %.80q", err, b)
	}
	if e.Type == "" {
		return false, fmt.Errorf("event without type: %.80q", b)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Type {
	case "input_audio_buffer.speech_started":
		it := p.item(e.ItemID)
		if e.AudioStartMs != nil {
			it.start = ms(float64(*e.AudioStartMs))
		}
	case "input_audio_buffer.speech_stopped":
		if e.AudioEndMs != nil {
			p.item(e.ItemID).end = ms(float64(*e.AudioEndMs))
		}
	case "input_audio_buffer.committed":
		it := p.item(e.ItemID)
		it.committed, it.prev = true, e.PreviousItem
		p.order = append(p.order, e.ItemID)
	case "input_audio_buffer.cleared":
		p.cleared = p.committed
	case "conversation.item.input_audio_transcription.delta":
		it := p.item(e.ItemID)
		it.text.WriteString(e.Delta)
		if t := strings.TrimSpace(it.text.String()); t != "" && p.sc.Partials && !it.done {
			c.Emit(asr.Result{UtteranceID: it.id, Text: t, Start: it.start, End: max(it.start, it.end, c.Sent()), Confidence: -1})
		}
	case "conversation.item.input_audio_transcription.completed":
		it := p.item(e.ItemID)
		it.done = true
		it.result = &asr.Result{UtteranceID: it.id, Text: strings.TrimSpace(e.Transcript), Final: true, Start: it.start, End: max(it.start, it.end), Confidence: -1}
	case "conversation.item.input_audio_transcription.failed":
		it := p.item(e.ItemID)
		it.done = true
		it.result = &asr.Result{UtteranceID: it.id, Text: "[transcription gap]", Final: true, Gap: true, Start: it.start, End: max(it.start, it.end), Confidence: -1}
	case "error":
		if e.Error != nil && p.committed && strings.Contains(e.Error.Code, "commit_empty") {
			break // nothing was left to commit
		}
		if e.Error == nil {
			return false, fmt.Errorf("error event without error: %.80q", b)
		}
		return false, fmt.Errorf("server: %s %s: %s", e.Error.Type, e.Error.Code, e.Error.Message)
	}
	p.deliver(c)
	return p.cleared && p.emitted == len(p.order), nil
}

func (p *realtime) item(id string) *item {
	it, ok := p.items[id]
	if !ok {
		it = &item{id: p.nextID}
		p.nextID++
		p.items[id] = it
	}
	return it
}

// deliver emits the finals whose earlier items are all final, in commit order.
func (p *realtime) deliver(c *wsengine.Conn) {
	for p.emitted < len(p.order) {
		it := p.items[p.order[p.emitted]]
		if !it.done {
			return
		}
		if it.result.Text != "" || it.text.Len() > 0 {
			c.Emit(*it.result)
		}
		p.emitted++
	}
}

func ms(v float64) time.Duration { return max(0, time.Duration(v*float64(time.Millisecond))) }
