package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"lianxin/asr"
	"lianxin/asr/internal/wavfile"
	"lianxin/asr/pocketsphinx"
)

var nonWord = regexp.MustCompile(`[^a-z0-9' ]+`)

func norm(s string) []string {
	return strings.Fields(nonWord.ReplaceAllString(strings.ToLower(s), " "))
}

// align is the word-level Levenshtein distance between ref and hyp, and which hypothesis
// words a minimal alignment matches.
func align(ref, hyp []string) (int, []bool) {
	d := make([][]int, len(ref)+1)
	for i := range d {
		d[i] = make([]int, len(hyp)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ref); i++ {
		for j := 1; j <= len(hyp); j++ {
			sub := d[i-1][j-1]
			if ref[i-1] != hyp[j-1] {
				sub++
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, sub)
		}
	}
	ok := make([]bool, len(hyp))
	for i, j := len(ref), len(hyp); i > 0 && j > 0; {
		switch {
		case ref[i-1] == hyp[j-1] && d[i][j] == d[i-1][j-1]:
			ok[j-1] = true
			i, j = i-1, j-1
		case d[i][j] == d[i-1][j-1]+1:
			i, j = i-1, j-1
		case d[i][j] == d[i-1][j]+1:
			i--
		default:
			j--
		}
	}
	return d[len(ref)][len(hyp)], ok
}

// calibration counts words by confidence (below 0.5 or not) and how many were wrong.
type calibration struct{ low, lowWrong, high, highWrong int }

// add counts the words of one file, given the hypothesis they should spell and which of
// its words the alignment matched.
func (c *calibration) add(words []asr.Word, hyp []string, correct []bool) {
	if len(words) != len(hyp) || len(words) == 0 || words[0].Confidence < 0 {
		return // no confidences, or words that do not spell the hypothesis: not counted
	}
	for i, w := range words {
		if n := norm(w.Text); len(n) != 1 || n[0] != hyp[i] {
			return
		}
	}
	for i, ok := range correct {
		if words[i].Confidence < 0.5 {
			c.low++
			c.lowWrong += map[bool]int{false: 1}[ok]
		} else {
			c.high++
			c.highWrong += map[bool]int{false: 1}[ok]
		}
	}
}

func (c calibration) String() string {
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }
	return fmt.Sprintf("conf<0.5: %d words, %.0f%% wrong; conf>=0.5: %d words, %.0f%% wrong",
		c.low, pct(c.lowWrong, c.low), c.high, pct(c.highWrong, c.high))
}

func readRefs(path string) (map[string]string, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	refs := map[string]string{}
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id, text, ok := strings.Cut(sc.Text(), "\t")
		if ok && !strings.HasPrefix(id, "#") {
			refs[id] = text
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return refs, ids, sc.Err()
}

func audioSeconds(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r, err := wavfile.NewReader(f)
	if err != nil {
		return 0, err
	}
	buf := make([]int16, 4096)
	n := 0
	for {
		k, err := r.Read(buf)
		n += k
		if err != nil {
			break
		}
	}
	return float64(n) / float64(r.Rate), nil
}

// werBench transcribes each directory's files through asr.TranscribeFile (the path of
// `gateway transcribe`) on one decoder and prints WER and the real-time factor.
func werBench(ctx context.Context, cfg pocketsphinx.Config, dirs []string, set string, verbose bool, out io.Writer) error {
	cfg.MaxStreams = 1
	t0 := time.Now()
	eng, err := pocketsphinx.New(cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	fmt.Fprintf(out, "init %.2fs\n", time.Since(t0).Seconds())
	for _, dir := range dirs {
		refs, ids, err := readRefs(filepath.Join(dir, "refs.tsv"))
		if err != nil {
			return err
		}
		var errs, words int
		var audio, wall float64
		var cal calibration
		for _, id := range ids {
			path := filepath.Join(dir, set, id+".wav")
			secs, err := audioSeconds(path)
			if err != nil {
				return err
			}
			var finals []string
			var hypWords []asr.Word
			start := time.Now()
			err = asr.TranscribeFile(ctx, eng, path, asr.StreamConfig{Partials: true}, func(r asr.Result) {
				if r.Final {
					finals = append(finals, r.Text)
					hypWords = append(hypWords, r.Words...)
				}
			})
			if err != nil {
				return err
			}
			wall += time.Since(start).Seconds()
			audio += secs
			ref, hyp := norm(refs[id]), norm(strings.Join(finals, " "))
			e, correct := align(ref, hyp)
			cal.add(hypWords, hyp, correct)
			errs += e
			words += len(ref)
			if verbose {
				fmt.Fprintf(out, "%s\t%d/%d\t%s\n", id, e, len(ref), strings.Join(hyp, " "))
			}
		}
		fmt.Fprintf(out, "%s/%s\tfiles=%d\twords=%d\tWER=%.1f%%\tRTF=%.3f\t%s\n", dir, set, len(ids), words, 100*float64(errs)/float64(max(words, 1)), wall/audio, cal)
	}
	return nil
}
