package desk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/store"
)

// Said by the caller: a mobile and an ID number, and words to search by.
const (
	saidPII  = "我手机号是幺三八，零五八零，幺二三四，身份证330902198503120018，路灯坏了"
	maskedPI = "我手机号是*************，身份证******************，路灯坏了"
)

func transcriptText(t *testing.T, ev wireEvent) string {
	t.Helper()
	var td TranscriptData
	require.NoError(t, json.Unmarshal(ev.Data, &td))
	return td.Text
}

// startCall offers and answers callID on seat-01 and publishes one final utterance.
func (e *env) startCall(callID, text string) {
	e.offer(callID, "seat-01")
	e.publish(Event{Type: TypeAnswered, CallID: callID, Seat: "seat-01", Data: CallAnsweredData{}})
	e.publish(Event{Type: TypeFinal, CallID: callID, Seat: "seat-01", Data: TranscriptData{Channel: "caller",
		UtteranceID: "u1", Text: text, EndMS: 3000, Confidence: 0.9}})
	e.publish(Event{Type: TypeSuggested, CallID: callID, Seat: "seat-01", Data: SuggestedData{
		Departments: []Department{{ID: "roads", Score: 0.8, Evidence: []string{"路灯", "13805801234"}}}}})
}

func (e *env) endCall(callID string) {
	e.publish(Event{Type: TypeEnded, CallID: callID, Seat: "seat-01", Data: CallEndedData{Reason: "bye"}})
}

func TestLivePushMasksForAdminsOnly(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	seat := e.connect(e.login("seat-01", seatPass), -1)
	adm := e.connect(e.login("admin", "adminpw"), -1)
	e.offer("c1", "seat-01")
	require.Equal(t, TypeOffered, seat.next().Type)
	require.Equal(t, TypeOffered, adm.next().Type)

	for _, typ := range []string{TypePartial, TypeFinal} {
		e.publish(Event{Type: typ, CallID: "c1", Seat: "seat-01", Data: TranscriptData{Channel: "caller", UtteranceID: "u1", Text: saidPII}})
		s, a := seat.next(), adm.next()
		require.Equal(t, saidPII, transcriptText(t, s), "the call's own agent hears it as said: "+typ)
		require.Equal(t, maskedPI, transcriptText(t, a), typ)
		require.Equal(t, s.Seq, a.Seq)
	}
	// A transcript made from the recording after the call is masked for the seat too.
	e.publish(Event{Type: TypeFinal, CallID: "c1", Seat: "seat-01", Data: TranscriptData{Channel: "agent", UtteranceID: "u2", Text: saidPII, Delayed: true}})
	require.Equal(t, maskedPI, transcriptText(t, seat.next()))
	require.Equal(t, maskedPI, transcriptText(t, adm.next()))
	// Text without personal numbers is one shared frame, unchanged.
	e.publish(Event{Type: TypeFinal, CallID: "c1", Seat: "seat-01", Data: TranscriptData{Channel: "caller", UtteranceID: "u3", Text: "3号楼1502室"}})
	require.Equal(t, "3号楼1502室", transcriptText(t, adm.next()))
	require.Equal(t, "3号楼1502室", transcriptText(t, seat.next()))
}

func TestReplayIsOriginalOnlyForOwnCallInProgress(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	seatTok, admTok := e.login("seat-01", seatPass), e.login("admin", "adminpw")
	e.startCall("c1", saidPII)
	finalText := func(w *wsClient) (string, []string) {
		for {
			ev := w.next()
			if ev.Type == TypeSuggested {
				var sd SuggestedData
				require.NoError(t, json.Unmarshal(ev.Data, &sd))
				return "", sd.Departments[0].Evidence
			}
			if ev.Type == TypeFinal {
				return transcriptText(t, ev), nil
			}
		}
	}
	seat := e.connect(seatTok, 0)
	text, _ := finalText(seat)
	require.Equal(t, saidPII, text, "the agent reloads the screen mid-call")
	_, evidence := finalText(seat)
	require.Equal(t, []string{"路灯", "13805801234"}, evidence)
	adm := e.connect(admTok, 0)
	text, _ = finalText(adm)
	require.Equal(t, maskedPI, text)
	_, evidence = finalText(adm)
	require.Equal(t, []string{"路灯", "***********"}, evidence)

	e.endCall("c1")
	text, _ = finalText(e.connect(seatTok, 0))
	require.Equal(t, maskedPI, text, "after the call, the agent reads it masked")
}

func TestCallDetailAndSearchMasked(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	seatTok, admTok := e.login("seat-01", seatPass), e.login("admin", "adminpw")
	e.startCall("c1", saidPII)
	detail := func(tok string) store.CallDetail {
		code, body := e.do("GET", "/api/calls/c1", tok, nil)
		require.Equal(t, http.StatusOK, code, string(body))
		var c store.CallDetail
		require.NoError(t, json.Unmarshal(body, &c))
		return c
	}
	search := func(tok, q string) []store.Utterance {
		code, body := e.do("GET", "/api/transcripts?q="+q, tok, nil)
		require.Equal(t, http.StatusOK, code, string(body))
		var res struct{ Results []store.Utterance }
		require.NoError(t, json.Unmarshal(body, &res))
		return res.Results
	}
	require.Equal(t, saidPII, detail(seatTok).Utterances[0].Text)
	c := detail(admTok)
	require.Equal(t, maskedPI, c.Utterances[0].Text)
	require.Equal(t, []string{"路灯", "***********"}, c.Suggestions[0].Departments[0].Evidence)
	require.Equal(t, saidPII, search(seatTok, "路灯坏了")[0].Text)
	require.Equal(t, maskedPI, search(admTok, "路灯坏了")[0].Text)
	require.Empty(t, search(admTok, "330902198503120018"), "the index holds no personal number")

	e.endCall("c1")
	require.Equal(t, maskedPI, detail(seatTok).Utterances[0].Text)
	require.Equal(t, maskedPI, search(seatTok, "路灯坏了")[0].Text)
}

func auditEntries(t *testing.T, e *env, tok string) []store.AuditEntry {
	t.Helper()
	code, body := e.do("GET", "/api/audit", tok, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	var out []store.AuditEntry
	require.NoError(t, json.Unmarshal(body, &out))
	return out
}

func TestRevealNeedsPermissionAndIsAudited(t *testing.T) {
	users := map[string]string{"admin": adminHash, "auditor": adminHash}
	e := newEnv(t, Config{Users: users, PIIReveal: []string{"auditor"}}, Options{})
	admTok, audTok, seatTok := e.login("admin", "adminpw"), e.login("auditor", "adminpw"), e.login("seat-01", seatPass)
	e.startCall("c1", saidPII)
	e.endCall("c1")

	for _, tok := range []string{admTok, seatTok} {
		code, body := e.do("GET", "/api/calls/c1/original", tok, nil)
		require.Equal(t, http.StatusForbidden, code)
		require.JSONEq(t, `{"error":"pii:reveal permission required"}`, string(body))
	}
	require.Empty(t, auditEntries(t, e, admTok), "a refused reveal shows nothing and records nothing")

	code, body := e.do("GET", "/api/calls/nope/original", audTok, nil)
	require.Equal(t, http.StatusNotFound, code, string(body))
	code, body = e.do("GET", "/api/calls/c1/original?reason=%E5%B7%A5%E5%8D%95%E5%A4%8D%E6%A0%B8", audTok, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	var c store.CallDetail
	require.NoError(t, json.Unmarshal(body, &c))
	require.Equal(t, saidPII, c.Utterances[0].Text)

	log := auditEntries(t, e, admTok)
	require.Len(t, log, 1)
	require.Equal(t, store.AuditEntry{ID: log[0].ID, At: e.clock.Now().UTC().Truncate(time.Millisecond), User: "auditor",
		Action: store.AuditReveal, CallID: "c1", Detail: "1 utterances; reason: 工单复核", Remote: "127.0.0.1"}, log[0])
	code, _ = e.do("GET", "/api/audit", seatTok, nil)
	require.Equal(t, http.StatusForbidden, code)
}

// failingAudit is the real store whose audit log refuses writes.
type failingAudit struct{ *store.SQLite }

func (failingAudit) Audit(context.Context, store.AuditEntry) (store.AuditEntry, error) {
	return store.AuditEntry{}, errors.New("disk full")
}

// noAudit is a store without an audit log.
type noAudit struct{ store.Store }

func TestRevealRefusedWithoutAudit(t *testing.T) {
	for name, wrap := range map[string]func(store.Store) store.Store{
		"audit fails": func(s store.Store) store.Store { return failingAudit{s.(*store.SQLite)} },
		"no audit":    func(s store.Store) store.Store { return noAudit{s} },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnvWith(t, Config{PIIReveal: []string{"admin"}}, Options{}, wrap)
			tok := e.login("admin", "adminpw")
			e.startCall("c1", saidPII)
			code, body := e.do("GET", "/api/calls/c1/original", tok, nil)
			require.Equal(t, http.StatusInternalServerError, code)
			require.NotContains(t, string(body), "幺三八", "nothing is shown that is not recorded")
		})
	}
}

func TestRecordingDownloadIsAudited(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, Config{RecordDir: dir}, Options{})
	seatTok, seat2Tok, admTok := e.login("seat-01", seatPass), e.login("seat-02", seatPass), e.login("admin", "adminpw")
	e.startCall("c1", "你好")
	e.startCall("c2", "你好") // no recording on disk
	wav := []byte("RIFF....WAVEfmt fake recording")
	day := filepath.Join(dir, e.clock.Now().Format(time.DateOnly))
	require.NoError(t, os.MkdirAll(day, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(day, "c1.wav"), wav, 0o600))

	code, body := e.do("GET", "/api/calls/c1/recording", seatTok, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, wav, body)
	code, body = e.do("GET", "/api/calls/c1/recording", admTok, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	code, _ = e.do("GET", "/api/calls/c1/recording", seat2Tok, nil)
	require.Equal(t, http.StatusForbidden, code)
	code, body = e.do("GET", "/api/calls/c2/recording", admTok, nil)
	require.Equal(t, http.StatusNotFound, code)
	require.Contains(t, string(body), "no recording")

	log := auditEntries(t, e, admTok)
	require.Len(t, log, 2, "one entry per download served, none for refusals")
	for _, en := range log {
		require.Equal(t, store.AuditRecording, en.Action)
		require.Equal(t, "c1", en.CallID)
	}
	require.ElementsMatch(t, []string{"seat-01", "admin"}, []string{log[0].User, log[1].User})

	off := newEnv(t, Config{}, Options{})
	code, body = off.do("GET", "/api/calls/c1/recording", off.login("admin", "adminpw"), nil)
	require.Equal(t, http.StatusNotFound, code)
	require.Contains(t, string(body), "not kept")
}

// A call id is a file name, never a path: "../../secret" would name dir/secret.wav.
func TestOpenRecordingRefusesPaths(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	rec := filepath.Join(dir, "rec")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret.wav"), []byte("x"), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(rec, now.Format(time.DateOnly)), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(rec, now.Format(time.DateOnly), "c1.wav"), []byte("x"), 0o600))
	f, _, err := openRecording(rec, "c1", now)
	require.NoError(t, err)
	f.Close()
	for _, id := range []string{"", "../../secret", ".", "..", `a\b`, "x/../../../secret", ".hidden"} {
		_, _, err := openRecording(rec, id, now)
		require.ErrorIs(t, err, os.ErrNotExist, id)
	}
}
