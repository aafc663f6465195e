package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return rc, out.String(), errb.String()
}

func decodeLines(t *testing.T, out string) []classifyOut {
	t.Helper()
	var res []classifyOut
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var o classifyOut
		require.NoError(t, json.Unmarshal([]byte(line), &o), line)
		res = append(res, o)
	}
	return res
}

func TestClassifyArgsAndStdin(t *testing.T) {
	rc, out, _ := runCLI(t, "", "classify", "--top", "2", "我们这条路停水了", "my pension has not arrived")
	require.Equal(t, 0, rc)
	res := decodeLines(t, out)
	require.Len(t, res, 2)
	require.Equal(t, "我们这条路停水了", res[0].Text)
	require.Len(t, res[0].Departments, 2)
	require.Equal(t, "water-supply", res[0].Departments[0].ID)
	require.Equal(t, "hr-social-security", res[1].Departments[0].ID)
	require.GreaterOrEqual(t, res[0].Departments[0].Score, res[0].Departments[1].Score)

	long := strings.Repeat("停电了", 35000) // ~100 KB on one line
	stdin := "楼上邻居半夜吵\n\n" + long + "\n😀😀\n停水\xff\xfe了\r\nmixed 宽带 broadband down 😡"
	rc, out, _ = runCLI(t, stdin, "classify")
	require.Equal(t, 0, rc)
	res = decodeLines(t, out)
	require.Len(t, res, 6, "one answer per input line")
	require.Equal(t, "public-security", res[0].Departments[0].ID)
	require.Empty(t, res[1].Departments)
	require.NotNil(t, res[1].Departments, "an empty list, not null")
	require.Equal(t, "power-supply", res[2].Departments[0].ID)
	require.Empty(t, res[3].Departments)
	require.Equal(t, "water-supply", res[4].Departments[0].ID)
	require.Equal(t, "telecom", res[5].Departments[0].ID)
}

func TestClassifyLineLimit(t *testing.T) {
	stdin := strings.Repeat("停", maxClassifyLine) + "\n停电了\n"
	rc, out, _ := runCLI(t, stdin, "classify", "--top", "1")
	require.Equal(t, 0, rc)
	res := decodeLines(t, out)
	require.Len(t, res, 2)
	require.True(t, res[0].Truncated)
	require.Equal(t, "power-supply", res[1].Departments[0].ID)
}

func TestClassifyErrors(t *testing.T) {
	rc, _, errs := runCLI(t, "", "classify", "--top", "0", "x")
	require.Equal(t, 2, rc)
	require.Contains(t, errs, "--top")
	bad := filepath.Join(t.TempDir(), "bad.model")
	require.NoError(t, os.WriteFile(bad, []byte("not a model"), 0o644))
	rc, _, errs = runCLI(t, "", "classify", "--model", bad, "x")
	require.Equal(t, 1, rc)
	require.Contains(t, errs, "corrupt")
	rc, _, _ = runCLI(t, "", "dispatch")
	require.Equal(t, 2, rc)
	rc, _, _ = runCLI(t, "", "dispatch", "fly")
	require.Equal(t, 2, rc)
	rc, _, errs = runCLI(t, "", "dispatch", "retrain", "--data", "x", "--out", "y")
	require.Equal(t, 2, rc)
	require.Contains(t, errs, "--feedback")
}

func TestDispatchTrainRetrainEval(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.model")
	data := filepath.Join("..", "testdata", "dispatch")
	rc, out, errs := runCLI(t, "", "dispatch", "train", "--data", filepath.Join(data, "train"), "--out", model, "--epochs", "10")
	require.Equal(t, 0, rc, errs)
	require.Contains(t, out, "trained lr+nb")

	fb := filepath.Join(dir, "feedback.jsonl")
	require.NoError(t, os.WriteFile(fb, []byte(`{"lang":"zh","text":"海鸥计划补贴怎么申请","label":"agriculture-rural","decision":"override"}`+"\n"), 0o644))
	rc, out, errs = runCLI(t, "", "dispatch", "retrain", "--data", filepath.Join(data, "train"), "--feedback", fb, "--out", model, "--epochs", "10")
	require.Equal(t, 0, rc, errs)
	require.Contains(t, out, "(1 feedback)")

	rc, out, errs = runCLI(t, "", "dispatch", "eval", "--data", filepath.Join(data, "heldout"), "--model", model)
	require.Equal(t, 0, rc, errs)
	require.Contains(t, out, "| zh |")

	rc, out, _ = runCLI(t, "", "classify", "--model", model, "--top", "1", "公积金怎么提取")
	require.Equal(t, 0, rc)
	require.Contains(t, out, "housing-fund")
}

// TestClassifyLLM runs classify against a stand-in for an OpenAI-compatible server (no
// model runs in tests): its answer is used, and when it fails the local classifier answers.
func TestClassifyLLM(t *testing.T) {
	answer := `{"departments":[{"id":"gas-supply","score":0.9,"evidence":["漏气"]}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]string{"role": "assistant", "content": answer}}}})
	}))
	defer srv.Close()
	rc, out, errs := runCLI(t, "", "classify", "--llm-url", srv.URL+"/v1", "厨房好像漏气了")
	require.Equal(t, 0, rc, errs)
	res := decodeLines(t, out)
	require.Equal(t, "llm", res[0].Backend)
	require.Equal(t, "gas-supply", res[0].Departments[0].ID)

	rc, out, errs = runCLI(t, "", "classify", "--llm-url", srv.URL+"/broken", "厨房好像漏气了")
	require.Equal(t, 0, rc, errs)
	res = decodeLines(t, out)
	require.Equal(t, "local", res[0].Backend)
	require.Equal(t, "gas-supply", res[0].Departments[0].ID)
}
