package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"lianxin/asr/openai/openaitest"
)

// A model the OpenAI-compatible server lacks is the integrator's first question: the
// probe names it, the models the server has, and what to change.
func TestProbeNamesARefusedModel(t *testing.T) {
	srv := openaitest.NewHTTPWith(openaitest.HTTPOptions{Dialect: openaitest.Speaches})
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "gateway.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`asr:
  engines:
    whisper:
      type: openai
      url: "`+srv.URL()+`"
      model: Systran/faster-whisper-large-v3
`), 0o600))
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"asr", "probe", "--config", cfg, "--clip", toneClip(t), "--realtime=false", "--timeout", "10s"}, nil, &out, &errb)
	line := strings.TrimSpace(out.String())
	require.Equal(t, 1, code, "%s\n%s", line, errb.String())
	t.Log(line)
	require.True(t, strings.HasPrefix(line, "FAIL whisper (openai): connect "), line)
	require.Contains(t, line, `handshake failed: openai: model "Systran/faster-whisper-large-v3" is not served at `+srv.URL()+
		" (it serves: Systran/faster-whisper-small, istupakov/parakeet-tdt-0.6b-v2-onnx)")
	require.Contains(t, line, "is not installed locally", "the server's own words")
	require.Contains(t, line, "likely cause: set model: to one the server serves")
}
