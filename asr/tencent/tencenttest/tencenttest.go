// Package tencenttest is a stand-in for Tencent Cloud real-time speech recognition
// (WebSocket API v2) for tests, written from the published protocol:
//
//   - cloud.tencent.com/document/product/1093/48982 (= /454/18853, the doc): 接口要求
//     (8 or 16 kHz, 40 ms packets: 640 or 1,280 bytes of PCM), 握手阶段 (the URL's
//     parameters and the signature over the sorted, unencoded parameters; the reply
//     {"code":0,…} or a non-zero code and a close), 识别阶段 (result.slice_type 0/1/2,
//     index, start_time/end_time in ms, voice_text_str; {"type":"end"}; final:1), and its
//     error table (4001 parameters, 4002 authentication, 4010 unknown text message).
//   - TencentCloud/tencentcloud-speech-sdk-go @ b5b8e32, asr/speechrecognizer.go:
//     SpeechRecognitionResponse (l.35-61), buildURL (l.419-491), genSignature
//     (l.494-501), the end message (l.321) and the receive loop (l.351-416).
//
// It checks the signature, timestamp/expired, a voice_id new to it, voice_format 1 (PCM)
// and the engine_model_type, whose rate prefix sets the rate it decodes at (audio at
// another rate decodes to the wrong words). Audio must be binary 40 ms packets (the last
// may be shorter); text other than {"type":"end"} gets 4010. It does not enforce the
// 1:1 real-time pace the doc asks for: the kit writes faster than real time, and so does
// the resilience layer's replay. It recognises tone words (package tone); it is a
// stand-in, not Tencent's service.
package tencenttest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr/asrtest/standin"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/tencent"
)

// Models are the engine_model_type values the stand-in knows (a subset of the doc's).
var Models = []string{"8k_zh", "8k_en", "8k_zh_finance", "16k_zh", "16k_en", "16k_yue", "16k_ja", "16k_ko", "16k_zh_dialect"}

// Server is the stand-in.
type Server struct {
	*standin.Server
	appID, secretID, secretKey string
	mu                         sync.Mutex
	queries                    []url.Values
	voiceIDs                   map[string]bool
}

// New starts a stand-in for appID with that key pair.
func New(appID, secretID, secretKey string) *Server {
	s := &Server{appID: appID, secretID: secretID, secretKey: secretKey, voiceIDs: map[string]bool{}}
	s.Server = standin.New("tencent", s.serve, nil)
	return s
}

// URL is the service address (with /asr/v2/<appid>) to configure the adapter with.
func (s *Server) URL() string { return s.Server.URL("/asr/v2/" + s.appID) }

// Queries are the handshake parameters of every connection, in order.
func (s *Server) Queries() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.queries...)
}

type session struct {
	c       *standin.Session
	voiceID string
	rate    int
	dec     *tone.Decoder
	index   int
	begun   bool // the current sentence has had its slice_type 0
	n       int  // messages sent
	short   bool
}

func (s *session) send(m map[string]any) bool {
	m["voice_id"], m["message_id"] = s.voiceID, fmt.Sprintf("%s_%d_0", s.voiceID, s.n)
	s.n++
	if _, ok := m["code"]; !ok {
		m["code"], m["message"] = 0, "success"
	}
	b, _ := json.Marshal(m)
	return s.c.Send(b) == nil
}

// fail answers a non-zero code and closes, as the service does on an error.
func (s *session) fail(code int, msg string) {
	s.send(map[string]any{"code": code, "message": msg})
	s.close()
}

func (s *Server) serve(c *standin.Session) {
	q := c.Request.URL.Query()
	s.mu.Lock()
	s.queries = append(s.queries, q)
	fresh := q.Get("voice_id") != "" && !s.voiceIDs[q.Get("voice_id")]
	s.voiceIDs[q.Get("voice_id")] = true
	s.mu.Unlock()
	ss := &session{c: c, voiceID: q.Get("voice_id")}
	if code, msg := s.handshake(c.Request.Host+c.Request.URL.Path, q, fresh); code != 0 {
		ss.fail(code, msg)
		return
	}
	ss.rate = 8000
	if strings.HasPrefix(q.Get("engine_model_type"), "16k_") {
		ss.rate = 16000
	}
	ss.dec = tone.NewDecoder(ss.rate)
	if ss.send(map[string]any{}) {
		ss.run()
	}
}

// handshake checks the URL as the service would; a non-zero code refuses it.
func (s *Server) handshake(hostPath string, q url.Values, fresh bool) (int, string) {
	now := time.Now().Unix()
	ts, err1 := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	exp, err2 := strconv.ParseInt(q.Get("expired"), 10, 64)
	switch {
	case hostPath != strings.TrimPrefix(strings.TrimPrefix(s.URL(), "ws://"), "wss://"):
		return 4002, "appid in the path is not this account's"
	case q.Get("secretid") != s.secretID:
		return 4002, "鉴权失败: unknown secretid"
	case err1 != nil || err2 != nil || exp < now || ts > now+300:
		return 4002, "鉴权失败: timestamp or expired out of range"
	case q.Get("nonce") == "":
		return 4001, "nonce is required"
	case q.Get("signature") != tencent.Sign(s.secretKey, hostPath, q):
		return 4002, "鉴权失败: signature mismatch"
	case !fresh:
		return 4001, "voice_id is empty or was used before"
	case q.Get("voice_format") != "1":
		return 4001, "voice_format " + q.Get("voice_format") + ": this stand-in takes PCM (1) only"
	}
	for _, m := range Models {
		if q.Get("engine_model_type") == m {
			return 0, ""
		}
	}
	return 4001, "engine_model_type " + q.Get("engine_model_type") + " is not supported"
}

func (s *session) run() {
	packet := s.rate / 25 * 2 // 40 ms
	for {
		typ, b, err := s.c.Read()
		if err != nil {
			return
		}
		if typ == websocket.TextMessage {
			if string(b) != `{"type":"end"}` {
				s.send(map[string]any{"code": 4010, "message": "unknown text message"})
				s.c.Violation("text message %.40q: only {\"type\":\"end\"}", b)
				return
			}
			if s.c.Ending() {
				return
			}
			if s.results(s.dec.Flush()) && s.send(map[string]any{"final": 1}) {
				s.close()
			}
			return
		}
		switch {
		case s.short:
			s.c.Violation("audio after a short packet: packets are 40 ms (%d bytes), only the last may be shorter", packet)
			return
		case len(b) > packet || len(b)%2 != 0:
			s.c.Violation("audio packet of %d bytes: want 40 ms, %d bytes at %d Hz", len(b), packet, s.rate)
			return
		}
		s.short = len(b) < packet
		samples := pcm.S16LE(b)
		if s.c.Hear(samples, s.rate) || !s.results(s.dec.Feed(samples)) {
			return
		}
	}
}

// results sends slice_type 0 with a sentence's first word, 1 with each further word and
// 2 with the sentence's end, all under the sentence's index.
func (s *session) results(evs []tone.Event) bool {
	for _, e := range evs {
		slice := 1
		switch {
		case e.Final:
			slice = 2
		case !s.begun:
			slice, s.begun = 0, true
		}
		r := map[string]any{"slice_type": slice, "index": s.index,
			"start_time": e.Words[0].Start.Milliseconds(), "end_time": e.Words[len(e.Words)-1].End.Milliseconds(),
			"voice_text_str": e.Text(), "word_size": 0, "word_list": []any{}}
		if !s.send(map[string]any{"result": r}) {
			return false
		}
		if e.Final {
			s.index++
			s.begun = false
		}
	}
	return true
}

func (s *session) close() {
	if s.c.Hung() {
		return
	}
	_ = s.c.WS.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}
