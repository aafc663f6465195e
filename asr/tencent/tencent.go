// Package tencent speaks Tencent Cloud real-time speech recognition (实时语音识别,
// WebSocket API v2), as published in cloud.tencent.com/document/product/1093/48982 (the
// same page as /454/18853) and Tencent's Go SDK (TencentCloud/tencentcloud-speech-sdk-go
// @ b5b8e32, asr/speechrecognizer.go): a URL wss://asr.cloud.tencent.com/asr/v2/<appid>
// whose sorted parameters are signed with HMAC-SHA1 under the SecretKey, a handshake
// reply {"code":0,…}, binary PCM (voice_format 1) in 40 ms packets, results with
// result.slice_type 0 (sentence begins), 1 (changing) and 2 (sentence final) per
// result.index, {"type":"end"} to finish, {"final":1} when all is recognised, and
// code/message errors. The line's language picks the engine_model_type (8k_zh, 16k_en…).
//
// Tested against the stand-in in tencent/tencenttest; no Tencent service runs here.
package tencent

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/wsengine"
)

// DefaultHost is the public endpoint; the path adds /asr/v2/<appid>.
const DefaultHost = "wss://asr.cloud.tencent.com"

// Config configures the adapter.
type Config struct {
	// URL of the service including /asr/v2/<appid> (DefaultHost + "/asr/v2/" + AppID
	// when empty).
	URL string `yaml:"url"`
	// AppID, SecretID and SecretKey from the API key page.
	AppID     string `yaml:"appid"`
	SecretID  string `yaml:"secret_id"`
	SecretKey string `yaml:"secret_key"`
	// SampleRate of the model: 8000 (telephone, default) or 16000.
	SampleRate int `yaml:"sample_rate"`
	// EngineModelType, when set, is sent whatever the line's language (e.g.
	// 8k_zh_finance); otherwise it is made from the rate and the language (8k_zh).
	EngineModelType string `yaml:"engine_model_type"`
	// Languages maps more BCP-47 tags to the model's language part (e.g. "zh-SC":
	// "zh_dialect"); zh, en, yue, ja and ko are built in.
	Languages map[string]string `yaml:"languages"`
	// NoVAD turns the server's sentence splitting off (needvad=0); it is on by default,
	// as a call is longer than the 60 s the service allows without it.
	NoVAD bool `yaml:"no_vad"`
	// VADSilenceTime is the silence that ends a sentence, ms (150–2000; 0: default).
	VADSilenceTime int `yaml:"vad_silence_time"`
	// HotwordID and CustomizationID select server-side lists and models; the stream's
	// hotwords go in hotword_list.
	HotwordID       string        `yaml:"hotword_id"`
	CustomizationID string        `yaml:"customization_id"`
	MaxStreams      int           `yaml:"max_streams"`
	DialTimeout     time.Duration `yaml:"dial_timeout"`
	FlushTimeout    time.Duration `yaml:"flush_timeout"`
	Logger          *slog.Logger  `yaml:"-"`
	// Now is the clock of timestamp and expired (time.Now when nil).
	Now func() time.Time `yaml:"-"`
}

// New returns the engine, named "tencent".
func New(cfg Config) (asr.Engine, error) {
	if cfg.AppID == "" || cfg.SecretID == "" || cfg.SecretKey == "" {
		return nil, fmt.Errorf("tencent: appid, secret_id and secret_key are required")
	}
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 8000
	}
	if cfg.SampleRate != 8000 && cfg.SampleRate != 16000 {
		return nil, fmt.Errorf("tencent: sample_rate %d: want 8000 or 16000", cfg.SampleRate)
	}
	if cfg.URL == "" {
		cfg.URL = DefaultHost + "/asr/v2/" + cfg.AppID
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return wsengine.New(wsengine.Options{
		Name: "tencent", URL: cfg.URL, Rate: cfg.SampleRate, MaxStreams: cfg.MaxStreams,
		DialTimeout: cfg.DialTimeout, FlushTimeout: cfg.FlushTimeout, Logger: cfg.Logger,
		Dial: func(sc asr.StreamConfig) (string, http.Header, error) {
			u, err := SignedURL(cfg, sc, newVoiceID(), cfg.Now())
			return u, nil, err
		},
		NewProtocol: func(sc asr.StreamConfig) (wsengine.Protocol, error) {
			return &protocol{sc: sc, rate: cfg.SampleRate, ids: map[int]int{}, shown: map[int]bool{}}, nil
		},
	})
}

// newVoiceID is a fresh id per connection: the doc voids a voice_id with its connection.
func newVoiceID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ModelType is the engine_model_type for a stream: the configured one, else the rate
// prefix and the language (8k_zh; a line with no language is Mandarin). Only zh and en
// have telephone (8k) models.
func ModelType(cfg Config, language string) (string, error) {
	if cfg.EngineModelType != "" {
		return cfg.EngineModelType, nil
	}
	rate := "8k_"
	if cfg.SampleRate == 16000 {
		rate = "16k_"
	}
	lang, ok := cfg.Languages[language]
	if !ok {
		base := strings.ToLower(strings.SplitN(language, "-", 2)[0])
		if lang, ok = cfg.Languages[base]; !ok {
			lang, ok = map[string]string{"": "zh", "zh": "zh", "cmn": "zh", "en": "en", "yue": "yue", "ja": "ja", "ko": "ko"}[base]
		}
		if base == "zh" && (strings.HasSuffix(language, "-HK") || strings.HasSuffix(language, "-MO")) {
			lang = "yue"
		}
	}
	switch {
	case !ok:
		return "", fmt.Errorf("no engine model for %q: set engine_model_type or map it under languages", language)
	case rate == "8k_" && lang != "zh" && lang != "en" && !strings.HasPrefix(lang, "zh_"):
		return "", fmt.Errorf("no 8 kHz model for %q (%s): set sample_rate: 16000", language, lang)
	}
	return rate + lang, nil
}

// SignedURL is the URL of one connection: every parameter but signature, sorted by name,
// forms "host/path?k=v&…" with the raw values, signed with HMAC-SHA1 under the SecretKey
// and Base64-encoded (speechrecognizer.go buildURL l.419-491, genSignature l.494-501).
func SignedURL(cfg Config, sc asr.StreamConfig, voiceID string, now time.Time) (string, error) {
	model, err := ModelType(cfg, sc.Language)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return "", err
	}
	nonce, _ := rand.Int(rand.Reader, big.NewInt(1e9))
	p := map[string]string{
		"secretid": cfg.SecretID, "timestamp": strconv.FormatInt(now.Unix(), 10),
		"expired": strconv.FormatInt(now.Add(24*time.Hour).Unix(), 10), "nonce": strconv.FormatInt(nonce.Int64()+1, 10),
		"engine_model_type": model, "voice_id": voiceID, "voice_format": "1", "needvad": "1",
	}
	if cfg.NoVAD {
		p["needvad"] = "0"
	}
	if cfg.VADSilenceTime > 0 {
		p["vad_silence_time"] = strconv.Itoa(cfg.VADSilenceTime)
	}
	if cfg.HotwordID != "" {
		p["hotword_id"] = cfg.HotwordID
	}
	if cfg.CustomizationID != "" {
		p["customization_id"] = cfg.CustomizationID
	}
	if hw := hotwordList(sc.Hotwords); hw != "" {
		p["hotword_list"] = hw
	}
	q := url.Values{}
	for k, v := range p {
		q.Set(k, v)
	}
	q.Set("signature", Sign(cfg.SecretKey, u.Host+u.Path, q))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Sign is the signature of a URL's host and path with its parameters (signature left out).
func Sign(secretKey, hostPath string, q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var sb strings.Builder
	sb.WriteString(hostPath + "?")
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(k + "=" + q.Get(k))
	}
	m := hmac.New(sha1.New, []byte(secretKey))
	m.Write([]byte(sb.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// hotwordList is the doc's "词|权重,词|权重" with the default weight 10; "|" and "," in
// a phrase would break the list, so such phrases are left out.
func hotwordList(hs []string) string {
	var out []string
	for _, h := range hs {
		h = strings.TrimSpace(h)
		if h != "" && !strings.ContainsAny(h, "|,") {
			out = append(out, h+"|10")
		}
	}
	return strings.Join(out, ",")
}

type protocol struct {
	sc    asr.StreamConfig
	rate  int
	buf   []byte
	ids   map[int]int  // result.index → utterance id
	shown map[int]bool // sentences with a partial out
	next  int
}

// message is every server message (SpeechRecognitionResponse in the SDK).
type message struct {
	Code      *int   `json:"code"`
	Message   string `json:"message"`
	VoiceID   string `json:"voice_id"`
	MessageID string `json:"message_id"`
	Final     int    `json:"final"`
	Result    *struct {
		SliceType int    `json:"slice_type"`
		Index     int    `json:"index"`
		StartTime int64  `json:"start_time"`
		EndTime   int64  `json:"end_time"`
		Text      string `json:"voice_text_str"`
		WordList  []struct {
			Word      string `json:"word"`
			StartTime int64  `json:"start_time"`
			EndTime   int64  `json:"end_time"`
		} `json:"word_list"`
	} `json:"result"`
}

func parse(b []byte) (message, error) {
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %.80q", err, b)
	}
	if m.Code == nil {
		return m, fmt.Errorf("message without code: %.80q", b)
	}
	if *m.Code != 0 {
		return m, &ServerError{Code: *m.Code, Message: m.Message, VoiceID: m.VoiceID}
	}
	return m, nil
}

// Start waits for the handshake reply; a non-zero code (bad signature, service not
// enabled, too many connections) fails the stream with it.
func (p *protocol) Start(c *wsengine.Conn) error {
	_, b, err := c.Read()
	if err != nil {
		return fmt.Errorf("waiting for the handshake reply: %w", err)
	}
	_, err = parse(b)
	return err
}

// Audio sends 40 ms packets, as the doc asks (640 bytes at 8 kHz, 1,280 at 16 kHz).
func (p *protocol) Audio(c *wsengine.Conn, s []int16) error {
	p.buf = pcm.AppendS16LE(p.buf, s)
	size := p.rate / 25 * 2
	n := 0
	for ; len(p.buf)-n >= size; n += size {
		if err := c.Binary(p.buf[n : n+size]); err != nil {
			return err
		}
	}
	p.buf = append(p.buf[:0], p.buf[n:]...)
	return nil
}

// Finish sends the short last packet and {"type":"end"} (speechrecognizer.go l.321).
func (p *protocol) Finish(c *wsengine.Conn) error {
	if len(p.buf) > 0 {
		if err := c.Binary(p.buf); err != nil {
			return err
		}
		p.buf = p.buf[:0]
	}
	return c.Text(`{"type":"end"}`)
}

// Handle turns results into partials and finals; final:1 ends the flush, as in the
// SDK's receive loop (l.382-416).
func (p *protocol) Handle(c *wsengine.Conn, typ int, b []byte) (bool, error) {
	if typ != websocket.TextMessage {
		return false, fmt.Errorf("unexpected binary message (%d bytes)", len(b))
	}
	m, err := parse(b)
	if err != nil {
		return false, err
	}
	if m.Final == 1 {
		return true, nil
	}
	r := m.Result
	if r == nil {
		return false, nil
	}
	start := ms(r.StartTime)
	res := asr.Result{UtteranceID: p.id(r.Index), Text: strings.TrimSpace(r.Text), Start: start, End: max(start, ms(r.EndTime)), Confidence: -1}
	switch r.SliceType {
	case 0, 1:
		if res.Text != "" && p.sc.Partials {
			c.Emit(res)
			p.shown[r.Index] = true
		}
	case 2:
		res.Final = true
		for _, w := range r.WordList {
			ws := ms(w.StartTime)
			res.Words = append(res.Words, asr.Word{Text: w.Word, Start: ws, End: max(ws, ms(w.EndTime)), Confidence: -1})
		}
		if res.Text != "" || p.shown[r.Index] {
			c.Emit(res)
		}
		delete(p.shown, r.Index)
	default:
		return false, fmt.Errorf("slice_type %d: want 0, 1 or 2", r.SliceType)
	}
	return false, nil
}

func (p *protocol) id(index int) int {
	id, ok := p.ids[index]
	if !ok {
		id = p.next
		p.next++
		p.ids[index] = id
	}
	return id
}

func ms(v int64) time.Duration { return max(0, time.Duration(v)*time.Millisecond) }

// ServerError is a message with a non-zero code.
type ServerError struct {
	Code    int
	Message string
	VoiceID string
}

// Error says the code, the service's text and the session id to quote to support.
func (e *ServerError) Error() string {
	return fmt.Sprintf("server error %d: %s (voice_id %s)", e.Code, e.Message, e.VoiceID)
}

// Hint is the likely cause, for an operator: the doc's error table as far as a gateway
// can cause or fix it.
func (e *ServerError) Hint() string {
	switch e.Code {
	case 4001:
		return "a parameter is invalid (engine_model_type for this rate, voice_format, vad_silence_time)"
	case 4002:
		return "authentication failed: wrong appid, secret_id or secret_key (bad signature), an expired signature (clock), or a sub-account without ASR permission"
	case 4003:
		return "the ASR service is not enabled for this appid"
	case 4004, 4005:
		return "no quota: the free package is used up or the account is in arrears"
	case 4006:
		return "too many concurrent connections for this account"
	case 4007:
		return "audio decoding failed: the audio does not match voice_format or the model's sample rate"
	case 4008:
		return "no audio for 15 s: the gateway sent nothing (a stalled leg)"
	case 4010:
		return "the server got a text message it does not know"
	}
	if e.Code >= 5000 {
		return "engine error on Tencent's side: retry"
	}
	return ""
}
