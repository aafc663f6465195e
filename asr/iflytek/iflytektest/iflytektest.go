// Package iflytektest is a stand-in for iFlytek's real-time transcription service (RTASR
// standard edition) for tests, written from the published protocol:
//
//   - www.xfyun.cn/doc/asr/rtasr/API.html (the doc): 接口要求 (16 kHz PCM only, 1,280
//     bytes every 40 ms), 握手阶段 (appid, ts, signa, lang, pd, punc; the started and
//     error handshake replies), 实时通信阶段 ({"end": true}; result data as a JSON
//     string with cn.st.rt[].ws[].cw[].w, type "0" final and "1" partial, bg/ed in ms).
//   - iFLYTEK-OP/websdk-java @ a8c9a76: RtasrSignature.java:29 (signa),
//     RtasrClient.java:34 (the end tag) and :259-288 (the optional parameters),
//     AbstractRtasrWebSocketListener.java:29-31 and :86-96 (actions started, result,
//     error).
//   - iFLYTEK-OP/websdk-python-demo @ 96b09a8: xfyunsdkdemo/speech/rtasr_test.py:91-115
//     (the result tree and type "1"/"0").
//
// It checks the signature (a bad one is answered with an error message, code 10105, and a
// close, as the doc's 握手失败 example), takes audio only as binary 1,280-byte frames
// (the last before the end tag may be shorter), the end tag as text or binary (the demos
// differ), and closes normally after the last result. It does not enforce the 40 ms pace:
// the kit writes faster than real time, and so does the resilience layer's replay.
// It recognises tone words (package tone); it is a stand-in, not iFlytek's service.
package iflytektest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr/asrtest/standin"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/iflytek"
	"lianxin/asr/internal/pcm"
)

// Server is the stand-in.
type Server struct {
	*standin.Server
	appID, apiKey string
	mu            sync.Mutex
	queries       []url.Values
}

// New starts a stand-in for appID with apiKey.
func New(appID, apiKey string) *Server {
	s := &Server{appID: appID, apiKey: apiKey}
	s.Server = standin.New("iflytek", s.serve, nil)
	return s
}

// URL is the service address to configure the adapter with.
func (s *Server) URL() string { return s.Server.URL("/v1/ws") }

// Queries are the handshake parameters of every connection, in order.
func (s *Server) Queries() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.queries...)
}

type session struct {
	c     *standin.Session
	sid   string
	dec   *tone.Decoder
	seg   int
	short bool // a frame shorter than 1,280 bytes came: only the end tag may follow
}

// send writes one envelope; data, when not nil, is marshalled into the string the doc
// shows ("data":"{\"seg_id\":…}").
func (s *session) send(action, code, desc string, data any) bool {
	d := ""
	if data != nil {
		b, _ := json.Marshal(data)
		d = string(b)
	}
	b, _ := json.Marshal(map[string]string{"action": action, "code": code, "data": d, "desc": desc, "sid": s.sid})
	return s.c.Send(b) == nil
}

func (s *Server) serve(c *standin.Session) {
	q := c.Request.URL.Query()
	s.mu.Lock()
	s.queries = append(s.queries, q)
	n := len(s.queries)
	s.mu.Unlock()
	ss := &session{c: c, sid: fmt.Sprintf("rta%07d@ch0000000000000000", n), dec: tone.NewDecoder(iflytek.Rate)}
	if code, desc := s.handshake(q); code != "" {
		// 握手失败: {"action":"error","code":"10105",…}, then the server closes
		ss.send("error", code, desc, nil)
		ss.close()
		return
	}
	if !ss.send("started", "0", "success", nil) {
		return
	}
	ss.run()
}

// handshake checks the URL as the service would; a non-empty code refuses it.
func (s *Server) handshake(q url.Values) (code, desc string) {
	ts, err := strconv.ParseInt(q.Get("ts"), 10, 64)
	switch {
	case q.Get("appid") != s.appID:
		return "10105", "illegal access|illegal appid"
	case err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute:
		return "10105", "illegal access|illegal ts"
	case q.Get("signa") != iflytek.Signa(s.appID, s.apiKey, q.Get("ts")):
		return "10105", "illegal access|illegal signa"
	}
	switch q.Get("lang") {
	case "", "cn", "en":
	default:
		return "10110", "invalid authorization|no license for lang " + q.Get("lang")
	}
	if p := q.Get("punc"); p != "" && p != "0" && p != "1" {
		return "10107", "illegal parameter|punc"
	}
	return "", ""
}

func (s *session) run() {
	for {
		typ, b, err := s.c.Read()
		if err != nil {
			return
		}
		if string(b) == `{"end": true}` || string(b) == `{"end":true}` {
			if s.c.Ending() {
				return
			}
			if s.results(s.dec.Flush()) {
				s.close()
			}
			return
		}
		if typ != websocket.BinaryMessage {
			s.c.Violation("text message %.40q: only the end tag is text", b)
			return
		}
		switch {
		case s.short:
			s.c.Violation("audio after a short frame: frames are %d bytes, only the last may be shorter", iflytek.FrameBytes)
			return
		case len(b) > iflytek.FrameBytes || len(b)%2 != 0:
			s.c.Violation("audio frame of %d bytes: want %d (40 ms of 16 kHz PCM16)", len(b), iflytek.FrameBytes)
			return
		}
		s.short = len(b) < iflytek.FrameBytes
		samples := pcm.S16LE(b)
		if s.c.Hear(samples, iflytek.Rate) || !s.results(s.dec.Feed(samples)) {
			return
		}
	}
}

// results sends a result per tone event: a partial (type "1") per word, a final (type
// "0") per utterance. seg_id counts messages, as in the API page's example (a sentence's
// partial is seg_id 0 and its final seg_id 1), so it never pairs a partial with its final.
func (s *session) results(evs []tone.Event) bool {
	for _, e := range evs {
		typ := "1"
		if e.Final {
			typ = "0"
		}
		ws := make([]map[string]any, len(e.Words))
		for i, w := range e.Words {
			// Chinese results come word by word with no spaces; a tone word keeps one
			// so that the transcript reads as the kit expects
			text := w.Text
			if i > 0 {
				text = " " + text
			}
			ws[i] = map[string]any{"cw": []map[string]string{{"w": text, "wp": "n"}},
				"wb": w.Start.Milliseconds() / 10, "we": w.End.Milliseconds() / 10}
		}
		data := map[string]any{"seg_id": s.seg, "cn": map[string]any{"st": map[string]any{
			"bg":   strconv.FormatInt(e.Words[0].Start.Milliseconds(), 10),
			"ed":   strconv.FormatInt(e.Words[len(e.Words)-1].End.Milliseconds(), 10),
			"type": typ, "rt": []any{map[string]any{"ws": ws}}}}}
		if !s.send("result", "0", "success", data) {
			return false
		}
		s.seg++
	}
	return true
}

// close ends the session as the service does after the last result: a normal close.
func (s *session) close() {
	if s.c.Hung() {
		return
	}
	_ = s.c.WS.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}
