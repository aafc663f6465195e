package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"lianxin/asr"
	"lianxin/asr/internal/wavfile"
	"lianxin/asr/pocketsphinx"
	"lianxin/media"
)

func loadPCM(path string) ([]int16, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	r, err := wavfile.NewReader(f)
	if err != nil {
		return nil, 0, err
	}
	var out []int16
	buf := make([]int16, 4096)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, r.Rate, nil
		}
		if err != nil {
			return nil, 0, err
		}
	}
}

// loadAll concatenates the files, which must share a sample rate.
func loadAll(files []string) ([]int16, int, error) {
	if len(files) == 0 {
		return nil, 0, fmt.Errorf("live: no WAV files given")
	}
	var audio []int16
	rate := 0
	for _, p := range files {
		pcm, r, err := loadPCM(p)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", p, err)
		}
		if rate != 0 && r != rate {
			return nil, 0, fmt.Errorf("%s: %d Hz, the others %d Hz", p, r, rate)
		}
		rate = r
		audio = append(audio, pcm...)
	}
	return audio, rate, nil
}

// rssMB reads the process's resident memory.
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.Atoi(strings.Fields(l)[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

// liveBench feeds n streams in real time (one 20 ms frame per tick each) with the files
// played back to back, and measures end of speech → final: the wall time a final arrives
// minus the wall time its last word's audio was written.
func liveBench(ctx context.Context, cfg pocketsphinx.Config, files []string, n, secs int, out io.Writer) error {
	audio, rate, err := loadAll(files)
	if err != nil {
		return err
	}
	ends := speechEnds(audio, rate)
	before := rssMB()
	eng, err := pocketsphinx.New(cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	after := rssMB()
	per := rate / 50
	total := secs * 50
	var mu sync.Mutex
	var lat []float64
	var dropped int64
	finals := 0
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range n {
		st, err := eng.NewStream(ctx, asr.StreamConfig{SampleRate: rate, Partials: true, Channel: fmt.Sprint("s", i)})
		if err != nil {
			return err
		}
		start := time.Now()
		off := (i * len(audio) / n) / per * per
		flushing := make(chan struct{}) // finals after this come from Close, not an endpoint
		wg.Add(2)
		go func() {
			defer wg.Done()
			for r := range st.Results() {
				select {
				case <-flushing:
					continue
				default:
				}
				if r.Final {
					// the true end of speech nearest the recogniser's last word
					end := nearestEnd(ends, r.End, dur(len(audio)-per, rate), dur(off, rate))
					l := time.Since(start.Add(end)).Seconds()
					mu.Lock()
					lat = append(lat, l)
					finals++
					mu.Unlock()
				}
			}
		}()
		go func() {
			defer wg.Done()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			// streams start staggered into the audio so their endpoints do not all coincide
			for k := range total {
				<-tick.C
				p := (off + k*per) % (len(audio) - per)
				_ = st.Write(media.Frame{Samples: audio[p : p+per], Rate: rate, Offset: time.Duration(k) * 20 * time.Millisecond})
			}
			if d, ok := st.(interface{ Dropped() int64 }); ok {
				mu.Lock()
				dropped += d.Dropped()
				mu.Unlock()
			}
			close(flushing)
			st.Close()
		}()
	}
	peak := rssMB()
	wg.Wait()
	sort.Float64s(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Fprintf(out, "streams=%d rate=%d secs=%d wall=%.1fs finals=%d dropped_frames=%d latency_p50=%.0fms p95=%.0fms max=%.0fms mem_per_decoder=%.0fMB rss=%.0fMB\n",
		n, rate, secs, time.Since(t0).Seconds(), finals, dropped, 1000*q(0.5), 1000*q(0.95), 1000*q(1), (after-before)/float64(max(cfg.MaxStreams, 1)), peak)
	return nil
}

// speechEnds finds where speech stops in the (clean, synthetic) audio: the ends of 10 ms
// frames above a low energy threshold that are followed by at least 300 ms below it.
func speechEnds(pcm []int16, rate int) []time.Duration {
	fr := rate / 100
	var ends []time.Duration
	last, quiet := -1, 0
	for i := 0; i+fr <= len(pcm); i += fr {
		var e float64
		for _, v := range pcm[i : i+fr] {
			e += float64(v) * float64(v)
		}
		if e/float64(fr) > 200*200 {
			last, quiet = i+fr, 0
			continue
		}
		quiet++
		if quiet == 30 && last >= 0 {
			ends = append(ends, time.Duration(last)*time.Second/time.Duration(rate))
		}
	}
	return ends
}

// nearestEnd maps a result's end (stream time) to the nearest true end of speech, given
// that the stream plays the audio in a loop of length period, starting at off into it.
func nearestEnd(ends []time.Duration, end, period, off time.Duration) time.Duration {
	best, bestD := end, time.Duration(1<<62)
	for loop := time.Duration(0); loop <= end+2*period; loop += period {
		for _, e := range ends {
			d := e - off + loop
			if diff := (d - end).Abs(); d >= 0 && diff < bestD {
				best, bestD = d, diff
			}
		}
	}
	return best
}

func dur(samples, rate int) time.Duration {
	return time.Duration(samples) * time.Second / time.Duration(rate)
}
