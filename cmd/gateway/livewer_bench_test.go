package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/config"
	"lianxin/internal/testpeer"
	"lianxin/store"
)

// BenchmarkLiveVsFileWER measures what the live call path costs in accuracy: each sentence
// of testdata/asr (telephone band) is spoken by a real sipp caller through the gateway to a
// baresip seat, and the caller leg's live transcript is scored; the same engine
// configuration then transcribes the same files directly. Run:
//
//	go test -run '^$' -bench LiveVsFileWER -benchtime 1x ./cmd/gateway
func BenchmarkLiveVsFileWER(b *testing.B) {
	testpeer.Require(b, "sox")
	refs := readRefs(b, fixture("asr/refs.tsv"))
	g := startGateway(b, func(c *config.Config) { c.ASR.Default = "pocketsphinx"; c.ASR.MaxStreams = 2 })
	g.seat(b, "seat-01", func(o *testpeer.BaresipOptions) { o.Audio, o.Lifetime = silence(b, 30*time.Second), 10*time.Minute })
	for b.Loop() {
		var liveEdits, fileEdits, words float64
		for _, id := range sortedKeys(refs) {
			wav := pcm16(b, fixture("asr/wav/"+id+".wav"))
			want := strings.Fields(refs[id])
			live := g.liveTranscript(b, wav)
			file := fileTranscript(b, g.app, wav)
			words += float64(len(want))
			liveEdits += asrtest.WER(want, strings.Fields(live)) * float64(len(want))
			fileEdits += asrtest.WER(want, strings.Fields(file)) * float64(len(want))
			b.Logf("%s\n  ref:  %s\n  live: %s\n  file: %s", id, refs[id], live, file)
		}
		b.ReportMetric(100*liveEdits/words, "live-WER-%")
		b.ReportMetric(100*fileEdits/words, "file-WER-%")
	}
}

// liveTranscript places one call speaking wav and returns the caller leg's finals.
func (g *testGateway) liveTranscript(b *testing.B, wav string) string {
	before, err := g.app.store.Calls(context.Background(), store.CallFilter{Limit: 1000})
	require.NoError(b, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := g.sippCallWAV(ctx, b, "caller.xml", wav)
	require.NoError(b, err, out)
	require.Eventually(b, func() bool { return g.app.sip.ActiveCalls() == 0 }, 20*time.Second, 50*time.Millisecond)
	calls, err := g.app.store.Calls(context.Background(), store.CallFilter{Limit: 1000})
	require.NoError(b, err)
	require.Len(b, calls, len(before)+1)
	var detail store.CallDetail
	require.Eventually(b, func() bool {
		detail, err = g.app.store.Call(context.Background(), calls[0].ID)
		return err == nil && detail.EndedAt != nil
	}, 20*time.Second, 50*time.Millisecond)
	var text []string
	for _, u := range detail.Utterances {
		if u.Channel == "caller" {
			text = append(text, u.Text)
		}
	}
	return strings.Join(text, " ")
}

// fileTranscript feeds the file to the gateway's own engine, outside any call.
func fileTranscript(b *testing.B, a *App, wav string) string {
	eng, err := a.asr.ForLine("12345")
	require.NoError(b, err)
	var text []string
	err = asr.TranscribeFile(context.Background(), eng, wav, asr.StreamConfig{Language: "en-US", Channel: "caller"},
		func(r asr.Result) {
			if r.Final {
				text = append(text, r.Text)
			}
		})
	require.NoError(b, err)
	return strings.Join(text, " ")
}

func readRefs(b *testing.B, path string) map[string]string {
	f, err := os.Open(path)
	require.NoError(b, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id, text, ok := strings.Cut(sc.Text(), "\t"); ok {
			out[id] = text
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// pcm16 converts a G.711 WAV to the 8 kHz PCM16 WAV sipp's pcap is made from.
func pcm16(b *testing.B, src string) string {
	out := filepath.Join(b.TempDir(), filepath.Base(src))
	cmd := exec.Command("sox", "-D", src, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", out)
	msg, err := cmd.CombinedOutput()
	require.NoError(b, err, string(msg))
	return out
}

func silence(b *testing.B, d time.Duration) string {
	out := filepath.Join(b.TempDir(), fmt.Sprintf("silence-%s.wav", d))
	require.NoError(b, testpeer.WriteWAV(out, make([]int16, int(d.Seconds()*8000)), 8000, 1))
	return out
}
