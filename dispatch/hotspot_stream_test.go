package dispatch

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// streamCall is a line of a labelled hotspot stream: a call at a minute of the day and the
// cluster (one issue at one place) it belongs to, if any.
type streamCall struct {
	ID      string  `json:"id"`
	Minute  float64 `json:"minute"`
	Text    string  `json:"text"`
	Cluster *string `json:"cluster"`
}

func readStream(t *testing.T, path string) []streamCall {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []streamCall
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c streamCall
		require.NoError(t, json.Unmarshal(sc.Bytes(), &c), path)
		out = append(out, c)
	}
	require.NoError(t, sc.Err())
	return out
}

// TestHotspotStreams replays the labelled streams of testdata/dispatch/hotspots — paraphrased
// calls, ASR slips in place names, near misses — and scores them as the contract check does:
// every cluster has an alert holding at least 75% of its calls, at least 90% of that alert
// from it, raised by the cluster's fourth call; no alert is mostly calls of no cluster.
func TestHotspotStreams(t *testing.T) {
	paths, err := filepath.Glob("../testdata/dispatch/hotspots/*.jsonl")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			calls := readStream(t, path)
			t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
			h := newTestHotspots(t, HotspotConfig{}, &fakeClock{t: t0})
			last, raised := map[string]Alert{}, map[string]time.Time{}
			for _, c := range calls {
				at := t0.Add(time.Duration(c.Minute * float64(time.Minute)))
				a, err := h.Add(Call{ID: c.ID, At: at, Text: c.Text})
				require.NoError(t, err)
				if a != nil {
					last[a.ID] = *a
					if _, ok := raised[a.ID]; !ok {
						raised[a.ID] = a.At
					}
				}
			}
			scoreStream(t, calls, last, raised, t0)
		})
	}
}

func scoreStream(t *testing.T, calls []streamCall, last map[string]Alert, raised map[string]time.Time, t0 time.Time) {
	clusterOf := map[string]string{}
	members := map[string][]streamCall{}
	for _, c := range calls {
		if c.Cluster != nil {
			clusterOf[c.ID] = *c.Cluster
			members[*c.Cluster] = append(members[*c.Cluster], c)
		}
	}
	require.NotEmpty(t, members, "a stream without clusters tests nothing")
	for _, a := range last {
		n := map[string]int{}
		for _, id := range a.CallIDs {
			n[clusterOf[id]]++
		}
		top := ""
		for cl, k := range n {
			if k > n[top] || top == "" {
				top = cl
			}
		}
		require.True(t, top != "" && float64(n[top]) >= 0.9*float64(len(a.CallIDs)), "false alarm: %s %s %v", a.Place, a.Issue, a.CallIDs)
	}
	for cl, ms := range members {
		ids := map[string]bool{}
		for _, m := range ms {
			ids[m.ID] = true
		}
		var best Alert
		bestN := 0
		for _, a := range last {
			k := 0
			for _, id := range a.CallIDs {
				if ids[id] {
					k++
				}
			}
			if k > bestN {
				best, bestN = a, k
			}
		}
		require.Positive(t, bestN, "%s: no alert", cl)
		require.GreaterOrEqual(t, float64(bestN), 0.75*float64(len(ms)), "%s: recall (%v)", cl, best.CallIDs)
		require.GreaterOrEqual(t, float64(bestN), 0.9*float64(len(best.CallIDs)), "%s: precision (%v)", cl, best.CallIDs)
		if len(ms) >= 4 {
			minutes := make([]float64, len(ms))
			for i, m := range ms {
				minutes[i] = m.Minute
			}
			sort.Float64s(minutes)
			fourth := t0.Add(time.Duration(minutes[3] * float64(time.Minute)))
			require.False(t, raised[best.ID].After(fourth), "%s: raised after its fourth call", cl)
		}
		t.Logf("%s: %d/%d calls, alert %s %s @ %s", cl, bestN, len(ms), best.ID, best.Issue, best.Place)
	}
}

// TestHotspotNoFalseAlarms replays every Chinese utterance of the department data (train,
// held-out, dev, fresh) as one busy stream, a call a minute. They are unrelated calls, so
// any alert is a false alarm: in practice, words that are not names read as places (我家孩子
// 被学校 → 孩子) and matched across calls.
func TestHotspotNoFalseAlarms(t *testing.T) {
	var texts []string
	for _, dir := range []string{"train", "heldout", "dev", "fresh"} {
		exs, err := LoadExamples(filepath.Join("../testdata/dispatch", dir))
		require.NoError(t, err)
		for _, ex := range exs {
			if ex.Lang == "zh" {
				texts = append(texts, ex.Text)
			}
		}
	}
	require.Greater(t, len(texts), 1500)
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	h := newTestHotspots(t, HotspotConfig{}, &fakeClock{t: t0})
	for i, text := range texts {
		a, err := h.Add(Call{ID: fmt.Sprint(i), At: t0.Add(time.Duration(i) * time.Minute), Text: text})
		require.NoError(t, err)
		if a != nil {
			var calls []string
			for _, id := range a.CallIDs {
				var k int
				fmt.Sscan(id, &k)
				calls = append(calls, texts[k])
			}
			t.Fatalf("false alarm %s @ %s: %q", a.Issue, a.Place, calls)
		}
	}
}
