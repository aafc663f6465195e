package openaitest

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strings"

	"lianxin/asr/asrtest/tone"
	"lianxin/asr/internal/pcm"
)

// The four servers' answers to a transcription request. Sources, read at:
//   - whisper.cpp: ggml-org/whisper.cpp @ 233fe1f, examples/server/server.cpp and
//     examples/common-whisper.cpp;
//   - speaches: speaches-ai/speaches @ 870e1e1, src/speaches/routers/stt.py,
//     routers/utils.py, routers/models.py, executors/whisper.py, executors/parakeet.py,
//     dependencies.py;
//   - vLLM: vllm-project/vllm, vllm/entrypoints/openai/speech_to_text/speech_to_text.py
//     @ 024e077 (OpenAISpeechToText._create_speech_to_text), speech_to_text/protocol.py
//     @ 0cca7f6 (TranscriptionResponse, TranscriptionResponseVerbose),
//     models/serving.py @ 00153c8 (OpenAIModelRegistry.check_model);
//   - OpenAI: the API reference and the error bodies users quote (openai/openai-dotnet
//     issue 401, zachlatta/freeflow pull request 218, groq/groq-python issue 48).

var iso639 = regexp.MustCompile(`^[a-z]{2}$`)

// openAI answers as api.openai.com.
func (s *HTTPServer) openAI(w http.ResponseWriter, q request) {
	switch {
	case q.model == "":
		s.refuse(w, http.StatusBadRequest, "you must provide a model parameter")
		return
	case !s.serves(q.model):
		s.violate("model %q not served", q.model)
		writeJSON(w, http.StatusNotFound, openAIError(fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", q.model),
			"invalid_request_error", "", "model_not_found"))
		return
	case q.has("language") && !iso639.MatchString(q.language):
		s.refuse(w, http.StatusBadRequest, "language %q is not ISO-639-1", q.language)
		return
	case q.format == "verbose_json" && s.jsonOnly(q.model):
		s.violate("verbose_json for %s", q.model)
		writeJSON(w, http.StatusBadRequest, openAIError(fmt.Sprintf("response_format 'verbose_json' is not compatible with model '%s'. Use 'json' or 'text' instead.", q.model),
			"invalid_request_error", "response_format", "unsupported_value"))
		return
	case q.has("timestamp_granularities[]") && q.format != "verbose_json":
		s.refuse(w, http.StatusBadRequest, "timestamp_granularities requires response_format verbose_json")
		return
	case q.format != "" && q.format != "json" && q.format != "verbose_json":
		s.refuse(w, http.StatusBadRequest, "response_format %q not supported here", q.format)
		return
	}
	text := tone.Join(q.words)
	if q.format != "verbose_json" {
		writeJSON(w, http.StatusOK, map[string]any{"text": text})
		return
	}
	lang := q.language
	if lang == "" {
		lang = "en" // detected: tone words are "English"
	}
	resp := map[string]any{"task": "transcribe", "language": fullName(lang), "duration": seconds(len(q.samples), q.rate), "text": text}
	if contains(q.granularity, "word") {
		ws := make([]map[string]any, len(q.words))
		for i, w := range q.words {
			ws[i] = map[string]any{"word": w.Text, "start": w.Start.Seconds(), "end": w.End.Seconds()}
		}
		resp["words"] = ws
	}
	if len(q.granularity) == 0 || contains(q.granularity, "segment") {
		resp["segments"] = plainSegments(q, true)
	}
	writeJSON(w, http.StatusOK, resp)
}

// whisperCPP answers as whisper.cpp's examples/server.
func (s *HTTPServer) whisperCPP(w http.ResponseWriter, q request) {
	// get_req_parameters (l.478-639) reads no "model": one model is loaded
	lang := "en" // l.113: the server's -l, English unless the request names one (l.558-561)
	if q.has("language") {
		lang = q.language
	}
	if s.o.EnglishOnly {
		lang = "en" // l.900-906: an English-only model ignores the language asked for
	}
	if lang != "auto" && !whisperLanguages[lang] {
		// whisper_full refuses an unknown language; l.1008-1011
		s.violate("language %q unknown to whisper", lang)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "failed to process audio"})
		return
	}
	if lang == "auto" {
		lang = "en"
	}
	segs := segments(q.samples, q.rate)
	var out strings.Builder // output_str (l.454-470): each segment's text and a newline
	for _, seg := range segs {
		out.WriteString(" " + tone.Join(seg) + "\n")
	}
	switch q.format {
	case "verbose_json":
		// l.1065-1157
		writeJSON(w, http.StatusOK, map[string]any{"task": "transcribe", "language": fullName(lang),
			"duration": seconds(len(q.samples), q.rate), "text": out.String(), "segments": whisperSegments(segs),
			"detected_language": fullName(lang), "detected_language_probability": 0.97,
			"language_probabilities": map[string]float64{lang: 0.97}})
	case "text":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(out.String()))
	default:
		// l.117 json by default; l.1159-1168 any other format gets json too
		writeJSON(w, http.StatusOK, map[string]any{"text": out.String()})
	}
}

// whisperSegments are verbose_json's segments, word times nested in each (l.1090-1156):
// times in hundredths of a second scaled by 0.01, words with their leading space,
// t_dtw and probability.
func whisperSegments(segs [][]tone.Word) []map[string]any {
	out := make([]map[string]any, len(segs))
	for i, seg := range segs {
		words := make([]map[string]any, len(seg))
		tokens := make([]int, len(seg))
		for j, w := range seg {
			words[j] = map[string]any{"word": " " + w.Text, "start": centis(w.Start.Seconds()), "end": centis(w.End.Seconds()),
				"t_dtw": -1, "probability": 0.9}
			tokens[j] = 50364 + j
		}
		out[i] = map[string]any{"id": i, "text": " " + tone.Join(seg), "start": centis(seg[0].Start.Seconds()),
			"end": centis(seg[len(seg)-1].End.Seconds()), "tokens": tokens, "words": words,
			"temperature": 0.0, "avg_logprob": -0.2, "no_speech_prob": 0.01}
	}
	return out
}

// speaches answers as speaches' POST /v1/audio/transcriptions (routers/stt.py l.120-173).
func (s *HTTPServer) speaches(w http.ResponseWriter, q request) {
	switch {
	case !q.has("model"):
		// model: Annotated[ModelId, Form()] (l.128) has no default: FastAPI's 422
		s.violate("no model field")
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []map[string]any{
			{"type": "missing", "loc": []string{"body", "model"}, "msg": "Field required", "input": nil}}})
		return
	case q.format != "" && !contains([]string{"text", "json", "verbose_json", "srt", "vtt"}, q.format):
		// ResponseFormat Literal (l.41)
		s.violate("response_format %q", q.format)
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []map[string]any{
			{"type": "literal_error", "loc": []string{"body", "response_format"}, "msg": "Input should be 'text', 'json', 'verbose_json', 'srt' or 'vtt'"}}})
		return
	case !s.serves(q.model):
		// get_model_card_data_or_raise (routers/utils.py l.22-28)
		s.violate("model %q not installed", q.model)
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": fmt.Sprintf(
			"Model '%s' is not installed locally. You can download the model using `POST /v1/models`", q.model)})
		return
	case q.format == "verbose_json" && s.jsonOnly(q.model):
		// executors/parakeet.py l.126-129 raises ValueError, which nothing catches
		s.violate("verbose_json for %s", q.model)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("Internal Server Error"))
		return
	}
	// timestamp_granularities[] without verbose_json is only logged (l.143-147)
	text := tone.Join(q.words)
	if q.format != "verbose_json" {
		writeJSON(w, http.StatusOK, map[string]any{"text": text})
		return
	}
	lang := q.language
	if lang == "" {
		lang = "en" // faster-whisper's detection: TranscriptionInfo.language, a code
	}
	// executors/whisper.py l.279-309: words at the top level, only with "word"
	var words any
	if contains(q.granularity, "word") {
		ws := make([]map[string]any, len(q.words))
		for i, w := range q.words {
			ws[i] = map[string]any{"start": w.Start.Seconds(), "end": w.End.Seconds(), "word": " " + w.Text}
		}
		words = ws
	}
	writeJSON(w, http.StatusOK, map[string]any{"language": lang, "duration": seconds(len(q.samples), q.rate), "text": text,
		"segments": plainSegments(q, false), "words": words})
}

// vllm answers as vLLM's OpenAISpeechToText._create_speech_to_text.
func (s *HTTPServer) vllm(w http.ResponseWriter, q request) {
	model := q.model
	if model == "" {
		model = s.o.Models[0] // the model is optional: the served one
	}
	switch {
	case !s.serves(model):
		// OpenAIModelRegistry.check_model
		s.violate("model %q not served", model)
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"message": fmt.Sprintf("The model `%s` does not exist.", model),
			"type": "NotFoundError", "param": "model", "code": 404}})
		return
	case q.format != "" && !contains([]string{"text", "json", "verbose_json"}, q.format):
		s.refuse(w, http.StatusBadRequest, "Currently only support response_format: `text`, `json` or `verbose_json`")
		return
	case q.format == "verbose_json" && s.jsonOnly(model):
		// the model class lacks supports_segment_timestamp
		s.refuse(w, http.StatusBadRequest, "Currently do not support verbose_json for %s", model)
		return
	}
	lang := q.language
	if lang == "" {
		lang = "en" // Whisper's validate_language: no language is English, with a warning
	}
	text := " " + tone.Join(q.words)
	if q.format != "verbose_json" {
		writeJSON(w, http.StatusOK, map[string]any{"text": text,
			"usage": map[string]any{"type": "duration", "seconds": int(math.Ceil(seconds(len(q.samples), q.rate)))}})
		return
	}
	// TranscriptionResponseVerbose: duration a string, the language as asked, segments
	// from timestamp tokens, and no word times
	writeJSON(w, http.StatusOK, map[string]any{"duration": fmt.Sprint(seconds(len(q.samples), q.rate)), "language": lang,
		"text": text, "segments": plainSegments(q, false), "words": nil})
}

// plainSegments are segments without word times (OpenAI, speaches, vLLM).
func plainSegments(q request, openAI bool) []map[string]any {
	segs := segments(q.samples, q.rate)
	out := make([]map[string]any, len(segs))
	for i, seg := range segs {
		m := map[string]any{"id": i, "seek": 0, "start": seg[0].Start.Seconds(), "end": seg[len(seg)-1].End.Seconds(),
			"text": " " + tone.Join(seg), "tokens": []int{50364}, "temperature": 0.0, "avg_logprob": -0.2,
			"compression_ratio": 1.1, "no_speech_prob": 0.01}
		if openAI {
			delete(m, "seek")
		}
		out[i] = m
	}
	return out
}

func seconds(n, rate int) float64 { return pcm.Duration(n, rate).Seconds() }

// centis rounds to whisper's 10 ms timestamp resolution.
func centis(s float64) float64 { return math.Round(s*100) / 100 }

// whisperLanguages are the codes whisper.cpp knows (g_lang in src/whisper.cpp).
var whisperLanguages = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(`en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro
		da hu ta no th ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr
		pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw
		su yue`) {
		m[c] = true
	}
	return m
}()
