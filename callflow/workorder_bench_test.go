package callflow

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"lianxin/desk"
	"lianxin/dispatch"
	"lianxin/workorder"
)

// completions records when each call's complete draft is published.
type completions struct {
	mu      sync.Mutex
	at      map[string]time.Time
	sources map[string]int
	done    chan struct{}
	want    int
}

func (c *completions) Publish(_ context.Context, ev desk.Event) (desk.Event, error) {
	if d, ok := ev.Data.(workorder.Draft); ok && d.Complete {
		c.mu.Lock()
		c.at[d.CallID] = time.Now()
		c.sources[d.SummarySource]++
		if len(c.at) == c.want {
			close(c.done)
		}
		c.mu.Unlock()
	}
	return ev, nil
}

// BenchmarkDraftsAt60Calls ends 60 calls at once and measures, per call, the time from its
// end to its complete draft: extractive, and with a language-model stand-in answering
// after 1 s.
func BenchmarkDraftsAt60Calls(b *testing.B) {
	const calls = 60
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		select {
		case <-time.After(time.Second): // the model's latency
		case <-r.Context().Done():
			return
		}
		content, _ := json.Marshal(map[string]string{"who": "市民", "where": "", "what": "停水", "want": "尽快恢复",
			"summary": "市民来电反映：小区停水。诉求：尽快恢复供水。"})
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]string{"role": "assistant", "content": string(content)}}}})
	}))
	defer llm.Close()
	clf, err := dispatch.NewDefault()
	if err != nil {
		b.Fatal(err)
	}
	said := []string{"喂你好 我想反映一下", "我们阳光花园三号楼从昨天晚上十点多就停水了", "到现在还没来水 家里老人孩子都没法用",
		"物业说是管子坏了但是一直没人来修", "你们赶紧派人过来看一下", "我电话是幺三八 零五八零 幺二三四"}
	for _, mode := range []string{"extractive", "llm-1s"} {
		b.Run(mode, func(b *testing.B) {
			cfg := workorder.Config{Classifier: clf}
			if mode == "llm-1s" {
				l, err := workorder.NewLLM(workorder.LLMConfig{URL: llm.URL + "/v1"}, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: calls}})
				if err != nil {
					b.Fatal(err)
				}
				cfg.Summarizer = l
			}
			builder, err := workorder.NewBuilder(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var lat []time.Duration
			for i := 0; i < b.N; i++ {
				lat = append(lat, draftRound(b, builder, said, i, calls, mode == "llm-1s")...)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
		})
	}
}

// draftRound ends calls calls at once and returns, per call, the time from its end to its
// complete draft.
func draftRound(b *testing.B, builder *workorder.Builder, said []string, round, calls int, llm bool) []time.Duration {
	pub := &completions{at: map[string]time.Time{}, sources: map[string]int{}, done: make(chan struct{}), want: calls}
	wo := NewWorkOrders(WorkOrdersConfig{Builder: builder, Publisher: pub})
	infos := make([]*Info, calls)
	for c := range infos {
		infos[c] = &Info{ID: fmt.Sprintf("c%d-%d", round, c), From: "sip:13905801111@gw", Seat: fmt.Sprintf("seat-%02d", c+1)}
		wo.begin(infos[c])
		for n := range said {
			wo.heard(infos[c], said[:n+1], "")
		}
	}
	ended := make([]time.Time, calls)
	for c, ci := range infos {
		ended[c] = time.Now()
		wo.end(ci, said, "")
	}
	<-pub.done
	if want := map[bool]string{true: workorder.SourceLLM, false: workorder.SourceExtractive}[llm]; pub.sources[want] != calls {
		b.Fatalf("summaries by source %v, want all %s", pub.sources, want)
	}
	lat := make([]time.Duration, 0, calls)
	for c, ci := range infos {
		lat = append(lat, pub.at[ci.ID].Sub(ended[c]))
	}
	if err := wo.Close(); err != nil {
		b.Fatal(err)
	}
	return lat
}
