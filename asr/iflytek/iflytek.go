// Package iflytek speaks iFlytek's real-time transcription service (实时语音转写, RTASR
// standard edition), as published in www.xfyun.cn/doc/asr/rtasr/API.html and iFlytek's
// Java SDK (iFLYTEK-OP/websdk-java @ a8c9a76): a URL signed with the APIKey
// (appid, ts, signa = Base64(HmacSHA1(APIKey, hex(MD5(appid+ts))))), an
// {"action":"started"} handshake, binary PCM16 at 16 kHz only in 1,280-byte (40 ms)
// frames, {"end": true} to finish, "result" messages whose data is a JSON string holding
// cn.st.rt[].ws[].cw[].w (type "1" partial, "0" final, per seg_id), "error" messages with
// string codes, and the server's close after the last result.
//
// Tested against the stand-in in iflytek/iflytektest; no iFlytek service runs here.
package iflytek

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/wsengine"
)

// DefaultURL is the public endpoint.
const DefaultURL = "wss://rtasr.xfyun.cn/v1/ws"

// Rate is the only rate the service takes (the doc's 音频属性: 16k, 16 bit, mono).
const Rate = 16000

// FrameBytes is the audio per message the doc asks for: 1,280 bytes, 40 ms at 16 kHz.
const FrameBytes = 1280

// Config configures the adapter.
type Config struct {
	// URL of the service (DefaultURL when empty).
	URL string `yaml:"url"`
	// AppID and APIKey from the console's 实时语音转写 page.
	AppID  string `yaml:"appid"`
	APIKey string `yaml:"api_key"`
	// Lang, when set, is sent as lang whatever the line's language ("cn", "en", or a
	// dialect code the console shows once it is added).
	Lang string `yaml:"lang"`
	// Languages maps more BCP-47 tags to lang codes (e.g. "yue": "cn_cantonese");
	// zh-* and en-* are built in.
	Languages map[string]string `yaml:"languages"`
	// PD is the vertical domain (court, edu, finance, medical, tech); empty is general.
	PD string `yaml:"pd"`
	// NoPunctuation sends punc=0, which filters punctuation out of the results.
	NoPunctuation bool          `yaml:"no_punctuation"`
	MaxStreams    int           `yaml:"max_streams"`
	DialTimeout   time.Duration `yaml:"dial_timeout"`
	FlushTimeout  time.Duration `yaml:"flush_timeout"`
	Logger        *slog.Logger  `yaml:"-"`
	// Now is the clock the signature's ts comes from (time.Now when nil).
	Now func() time.Time `yaml:"-"`
}

// New returns the engine, named "iflytek".
func New(cfg Config) (asr.Engine, error) {
	if cfg.AppID == "" || cfg.APIKey == "" {
		return nil, fmt.Errorf("iflytek: appid and api_key are required")
	}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return wsengine.New(wsengine.Options{
		Name: "iflytek", URL: cfg.URL, Rate: Rate, MaxStreams: cfg.MaxStreams,
		DialTimeout: cfg.DialTimeout, FlushTimeout: cfg.FlushTimeout, Logger: cfg.Logger,
		Dial: func(sc asr.StreamConfig) (string, http.Header, error) {
			u, err := SignedURL(cfg, sc.Language, cfg.Now())
			return u, nil, err
		},
		NewProtocol: func(sc asr.StreamConfig) (wsengine.Protocol, error) {
			return &protocol{sc: sc}, nil
		},
	})
}

// Signa is the handshake signature: Base64(HmacSHA1(apiKey, hex(MD5(appid+ts)))), as in
// the doc's 数字签名 section and websdk-java RtasrSignature.java:29.
func Signa(appID, apiKey, ts string) string {
	sum := md5.Sum([]byte(appID + ts))
	m := hmac.New(sha1.New, []byte(apiKey))
	m.Write([]byte(hex.EncodeToString(sum[:])))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// SignedURL is the URL for a stream in language at now: appid, ts and signa, then the
// optional parameters (RtasrClient.java getLinkParam).
func SignedURL(cfg Config, language string, now time.Time) (string, error) {
	lang, err := Lang(cfg, language)
	if err != nil {
		return "", err
	}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	q := url.Values{"appid": {cfg.AppID}, "ts": {ts}, "signa": {Signa(cfg.AppID, cfg.APIKey, ts)}}
	if lang != "" {
		q.Set("lang", lang)
	}
	if cfg.PD != "" {
		q.Set("pd", cfg.PD)
	}
	if cfg.NoPunctuation {
		q.Set("punc", "0")
	}
	sep := "?"
	if strings.Contains(cfg.URL, "?") {
		sep = "&"
	}
	return cfg.URL + sep + q.Encode(), nil
}

// Lang is the lang parameter for a BCP-47 language: the configured Lang, else the
// Languages map, else "cn" for Chinese (Mandarin, and Mandarin mixed with English) and
// "en" for English; "" (the service's default, Chinese) when the line names none. Any
// other language is an error: its code exists only once it is added in the console.
func Lang(cfg Config, language string) (string, error) {
	if cfg.Lang != "" {
		return cfg.Lang, nil
	}
	if language == "" {
		return "", nil
	}
	if l, ok := cfg.Languages[language]; ok {
		return l, nil
	}
	base := strings.ToLower(strings.SplitN(language, "-", 2)[0])
	if l, ok := cfg.Languages[base]; ok {
		return l, nil
	}
	switch base {
	case "zh", "cmn":
		return "cn", nil
	case "en":
		return "en", nil
	}
	return "", fmt.Errorf("no lang code for %q: add it in the console and map it under languages", language)
}

type protocol struct {
	sc  asr.StreamConfig
	buf []byte
	// The service speaks one sentence at a time: partials (type 1) revise the open
	// sentence and a final (type 0) closes it. seg_id is not used to pair them, because
	// it numbers result messages, so a sentence's partials and its final carry different
	// ones (the API page's own example does).
	open, shown bool // a sentence is open; a partial of it was emitted
	unfinal     bool // the latest result was a partial: a sentence is in progress
	cur, next   int  // the open sentence's utterance id; the next one's
	finishing   atomic.Bool
}

// Start waits for the handshake's {"action":"started"}; an "error" there (bad signature,
// no licence for lang, too many connections) fails the stream with the server's code.
func (p *protocol) Start(c *wsengine.Conn) error {
	_, b, err := c.Read()
	if err != nil {
		return fmt.Errorf("waiting for the started handshake: %w", err)
	}
	m, err := parse(b)
	if err != nil {
		return fmt.Errorf("waiting for the started handshake: %w", err)
	}
	if err := m.err(); err != nil {
		return err
	}
	if m.Action != "started" {
		return fmt.Errorf("got action %q, want started", m.Action)
	}
	return nil
}

// Audio sends whole 1,280-byte frames; the rest waits for the next write or Finish.
func (p *protocol) Audio(c *wsengine.Conn, s []int16) error {
	p.buf = pcm.AppendS16LE(p.buf, s)
	n := 0
	for ; len(p.buf)-n >= FrameBytes; n += FrameBytes {
		if err := c.Binary(p.buf[n : n+FrameBytes]); err != nil {
			return err
		}
	}
	p.buf = append(p.buf[:0], p.buf[n:]...)
	return nil
}

// endTag is the end of audio, byte for byte as RtasrClient.java:34 and the doc's demo
// send it (the demos send it as a binary frame).
const endTag = `{"end": true}`

// Finish sends the short last frame and the end tag. From here on a normal close is the
// service's end of results (a failed send fails the stream anyway).
func (p *protocol) Finish(c *wsengine.Conn) error {
	p.finishing.Store(true)
	if len(p.buf) > 0 {
		if err := c.Binary(p.buf); err != nil {
			return err
		}
		p.buf = p.buf[:0]
	}
	return c.Binary([]byte(endTag))
}

// message is the envelope of every server message; code is a string ("0" is success).
type message struct {
	Action string `json:"action"`
	Code   string `json:"code"`
	Data   string `json:"data"`
	Desc   string `json:"desc"`
	SID    string `json:"sid"`
}

func parse(b []byte) (message, error) {
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %.80q", err, b)
	}
	if m.Action == "" {
		return m, fmt.Errorf("message without action: %.80q", b)
	}
	return m, nil
}

// err is the failure an "error" message (or a non-zero code) reports.
func (m message) err() error {
	if m.Action == "error" || m.Code != "" && m.Code != "0" {
		return &ServerError{Code: m.Code, Desc: m.Desc, SID: m.SID}
	}
	return nil
}

// result is the data of a "result" message, a JSON document inside the string.
type result struct {
	SegID int    `json:"seg_id"`
	Biz   string `json:"biz"` // "trans" on translation results, which are not transcripts
	CN    struct {
		ST struct {
			BG   string `json:"bg"`
			ED   string `json:"ed"`
			Type string `json:"type"`
			RT   []struct {
				WS []struct {
					CW []struct {
						W  string `json:"w"`
						WP string `json:"wp"`
					} `json:"cw"`
				} `json:"ws"`
			} `json:"rt"`
		} `json:"st"`
	} `json:"cn"`
}

// text joins the best candidate of every word, punctuation included.
func (r result) text() string {
	var sb strings.Builder
	for _, rt := range r.CN.ST.RT {
		for _, ws := range rt.WS {
			if len(ws.CW) > 0 {
				sb.WriteString(ws.CW[0].W)
			}
		}
	}
	return strings.TrimSpace(sb.String())
}

// Handle turns results into partials and finals; an error message fails the stream.
func (p *protocol) Handle(c *wsengine.Conn, typ int, b []byte) (bool, error) {
	if typ != websocket.TextMessage {
		return false, fmt.Errorf("unexpected binary message (%d bytes)", len(b))
	}
	m, err := parse(b)
	if err != nil {
		return false, err
	}
	if err := m.err(); err != nil {
		return false, err
	}
	if m.Action != "result" {
		return false, nil // a late "started", or an action this adapter does not use
	}
	var r result
	if err := json.Unmarshal([]byte(m.Data), &r); err != nil {
		return false, fmt.Errorf("result data: %w: %.80q", err, m.Data)
	}
	if r.Biz == "trans" {
		return false, nil
	}
	st := r.CN.ST
	start := msField(st.BG)
	end := max(start, msField(st.ED))
	text := r.text()
	switch st.Type {
	case "1":
		if text != "" && p.sc.Partials {
			c.Emit(asr.Result{UtteranceID: p.sentence(), Text: text, Start: start, End: end, Confidence: -1})
			p.shown, p.unfinal = true, true
		}
	case "0":
		if text != "" || p.shown {
			c.Emit(asr.Result{UtteranceID: p.sentence(), Text: text, Final: true, Start: start, End: end, Confidence: -1})
		}
		p.open, p.shown, p.unfinal = false, false, false
	default:
		return false, fmt.Errorf("result type %q: want \"0\" or \"1\"", st.Type)
	}
	return false, nil
}

// Closed ends the flush at the server's normal close after the end tag: the service has
// no last-result marker, it pushes what is left and closes. Its last result before that
// close is a final (type "0"), so a close right after a partial is a service that ended
// without its final: an error, so that the resilience layer replays the audio.
func (p *protocol) Closed(_ *wsengine.Conn, code int) bool {
	return code == websocket.CloseNormalClosure && p.finishing.Load() && !p.unfinal
}

// sentence is the utterance id of the open sentence, opening one when none is.
func (p *protocol) sentence() int {
	if !p.open {
		p.cur, p.open = p.next, true
		p.next++
	}
	return p.cur
}

// msField reads the doc's millisecond strings ("820"); garbage or negatives are 0.
func msField(s string) time.Duration {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0
	}
	return time.Duration(v) * time.Millisecond
}

// ServerError is an error message from the service, with its code.
type ServerError struct {
	Code, Desc, SID string
}

// Error says the code, the service's text and the session id to quote to support.
func (e *ServerError) Error() string {
	return fmt.Sprintf("server error %s: %s (sid %s)", e.Code, e.Desc, e.SID)
}

// Hint is the likely cause of the error, for an operator: the meanings of the codes in
// the doc's 错误码 table that a gateway can cause or fix.
func (e *ServerError) Hint() string {
	switch e.Code {
	case "10105":
		return "access refused: wrong appid or api_key (bad signature), a clock off by minutes, or this host's IP not in the console's whitelist"
	case "10106", "10107":
		return "a URL parameter is invalid (lang, pd or punc)"
	case "10110":
		return "no licence: the service, or the lang asked for, is not enabled for this appid"
	case "10800":
		return "too many connections for this appid (the licensed concurrency is used up)"
	case "37005":
		return "no audio for 15 s: the gateway sent nothing (a stalled leg)"
	case "10700", "16003":
		return "engine error on iFlytek's side: retry"
	}
	return ""
}
