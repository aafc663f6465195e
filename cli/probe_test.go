package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr/asrtest/standin"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/iflytek/iflytektest"
	"lianxin/asr/tencent/tencenttest"
)

// toneClip writes a WAV the stand-ins recognise ("hello water", then "street light").
func toneClip(t *testing.T) string {
	t.Helper()
	s, err := tone.Synth(8000, 300*time.Millisecond, 600*time.Millisecond, []string{"hello", "water"}, []string{"street", "light"})
	require.NoError(t, err)
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 2*len(s)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		le(v)
	}
	b.WriteString("data")
	le(uint32(2 * len(s)))
	le(s)
	p := filepath.Join(t.TempDir(), "tones.wav")
	require.NoError(t, os.WriteFile(p, b.Bytes(), 0o600))
	return p
}

type probeRig struct {
	ifly *iflytektest.Server
	tc   *tencenttest.Server
	clip string
}

func newProbeRig(t *testing.T) *probeRig {
	r := &probeRig{ifly: iflytektest.New("595f23df", "key"), tc: tencenttest.New("1259228442", "AKIDtest", "secret"), clip: toneClip(t)}
	t.Cleanup(r.ifly.Close)
	t.Cleanup(r.tc.Close)
	return r
}

// config writes a gateway config with both engines; edit changes the YAML first.
func (r *probeRig) config(t *testing.T, edit func(string) string) string {
	y := `asr:
  language: zh-CN
  engines:
    hotline-ifly:
      type: iflytek
      url: "` + r.ifly.URL() + `"
      appid: "595f23df"
      api_key: "key"
      flush_timeout: 2s
    hotline-tc:
      type: tencent
      url: "` + r.tc.URL() + `"
      appid: "1259228442"
      secret_id: "AKIDtest"
      secret_key: "secret"
      flush_timeout: 2s
`
	if edit != nil {
		y = edit(y)
	}
	p := filepath.Join(t.TempDir(), "gateway.yaml")
	require.NoError(t, os.WriteFile(p, []byte(y), 0o600))
	return p
}

func (r *probeRig) probe(t *testing.T, cfg string, extra ...string) (int, []string, string) {
	var out, errb bytes.Buffer
	args := append([]string{"asr", "probe", "--config", cfg, "--clip", r.clip, "--realtime=false", "--timeout", "10s"}, extra...)
	code := run(context.Background(), args, nil, &out, &errb)
	return code, strings.Split(strings.TrimSpace(out.String()), "\n"), errb.String()
}

func TestProbeWorkingEngines(t *testing.T) {
	r := newProbeRig(t)
	code, lines, stderr := r.probe(t, r.config(t, nil))
	require.Equal(t, 0, code, "%s\n%s", lines, stderr)
	t.Log("\n" + strings.Join(lines, "\n"))
	require.Len(t, lines, 2)
	for i, name := range []string{"hotline-ifly (iflytek)", "hotline-tc (tencent)"} {
		require.True(t, strings.HasPrefix(lines[i], "OK   "+name+": connect "), lines[i])
		require.Contains(t, lines[i], "handshake ")
		require.Contains(t, lines[i], "first partial ")
		require.Contains(t, lines[i], "first final ")
		require.Contains(t, lines[i], `text "hello water street light"`)
	}
	// the config's language reached both services in their own forms
	require.Equal(t, "cn", r.ifly.Queries()[0].Get("lang"))
	require.Equal(t, "8k_zh", r.tc.Queries()[0].Get("engine_model_type"))
}

func TestProbeOneEngineByName(t *testing.T) {
	r := newProbeRig(t)
	code, lines, _ := r.probe(t, r.config(t, nil), "--asr", "hotline-tc")
	require.Equal(t, 0, code)
	require.Len(t, lines, 1)
	require.Contains(t, lines[0], "hotline-tc (tencent)")
	require.Empty(t, r.ifly.Queries())

	code, _, stderr := r.probe(t, r.config(t, nil), "--asr", "nosuch")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `no engine "nosuch"`)
}

func TestProbeFailures(t *testing.T) {
	r := newProbeRig(t)
	for name, c := range map[string]struct {
		edit       func(string) string
		prep       func()
		stage, why string
		args       []string
	}{
		"wrong URL scheme": {edit: func(y string) string { return strings.Replace(y, `url: "ws://`, `url: "http://`, 1) },
			stage: "url failed", why: "the url's scheme"},
		"wss to a plain server": {edit: func(y string) string { return strings.Replace(y, `url: "ws://`, `url: "wss://`, 1) },
			stage: "connect failed", why: "TLS: the server speaks plain ws://"},
		"nothing listening": {edit: func(y string) string {
			return strings.Replace(y, strings.TrimPrefix(r.ifly.URL(), "ws://"), "127.0.0.1:1/v1/ws", 1)
		}, stage: "connect failed", why: "nothing listens"},
		"bad key": {edit: func(y string) string { return strings.Replace(y, `api_key: "key"`, `api_key: "stale"`, 1) },
			stage: "handshake failed: iflytek: start: server error 10105", why: "bad signature"},
		// at real-time pace, so that the close comes mid-stream and not after the end tag
		// (where a normal close is how the service ends a session)
		"server closes early": {prep: func() { r.ifly.Fail(standin.Plan{Fault: standin.CloseEarly, After: 500 * time.Millisecond}) },
			stage: "stream failed", why: "ended the session before the flush", args: []string{"--realtime"}},
	} {
		t.Run(name, func(t *testing.T) {
			if c.prep != nil {
				c.prep()
			}
			code, lines, stderr := r.probe(t, r.config(t, c.edit), append([]string{"--asr", "hotline-ifly"}, c.args...)...)
			require.Equal(t, 1, code, "%s\n%s", lines, stderr)
			t.Log(lines[0])
			require.Len(t, lines, 1)
			require.True(t, strings.HasPrefix(lines[0], "FAIL hotline-ifly (iflytek):"), lines[0])
			require.Contains(t, lines[0], c.stage)
			require.Contains(t, lines[0], "; likely cause: ")
			require.Contains(t, lines[0], c.why)
		})
	}
}

// A clip the engine hears nothing in (here: silence, as a wrong sample rate makes it)
// is a failure, not a pass with empty text.
func TestProbeNoTextFails(t *testing.T) {
	r := newProbeRig(t)
	silent := filepath.Join(t.TempDir(), "silence.wav")
	b, err := os.ReadFile(r.clip)
	require.NoError(t, err)
	clear(b[44:])
	require.NoError(t, os.WriteFile(silent, b, 0o600))
	r.clip = silent
	code, lines, _ := r.probe(t, r.config(t, nil), "--asr", "hotline-tc")
	require.Equal(t, 1, code)
	require.Contains(t, lines[0], "result failed: the clip gave no final text")
	require.Contains(t, lines[0], "sample_rate")
}

func TestProbeBuiltInClipIsTelephoneAudio(t *testing.T) {
	s, rate, err := loadClip("")
	require.NoError(t, err)
	require.Equal(t, 8000, rate)
	require.Greater(t, len(s), 3*rate, "at least 3 s")
	peak := 0
	for _, v := range s {
		peak = max(peak, int(v), -int(v))
	}
	require.Greater(t, peak, 3000, "speech, not silence")
}

func TestProbeUsage(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 2, run(context.Background(), []string{"asr"}, nil, &out, &errb))
	require.Contains(t, errb.String(), "gateway asr probe --config FILE")
	require.Equal(t, 2, run(context.Background(), []string{"asr", "probe"}, nil, &out, &errb))
}
