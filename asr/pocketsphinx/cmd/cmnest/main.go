// Command cmnest estimates a cepstral-mean start value (pocketsphinx -cmninit) from WAV
// files of the kind of speech a line carries; estimate.sh runs it on synthetic telephone-band
// speech of the domain corpus. Files of any rate are resampled to 16 kHz first, as the engine
// does.
//
//	cmnest FILE.wav…
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"lianxin/asr/internal/resample"
	"lianxin/asr/internal/wavfile"
	"lianxin/asr/pocketsphinx"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cmnest:", err)
		os.Exit(1)
	}
}

func run(files []string, out io.Writer) error {
	if len(files) == 0 {
		return errors.New("usage: cmnest FILE.wav…")
	}
	var utts [][]int16
	for _, p := range files {
		pcm, err := load16k(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		utts = append(utts, pcm)
	}
	v, err := pocketsphinx.EstimateCMN(pocketsphinx.Config{}, utts)
	if err != nil {
		return err
	}
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.2f", x)
	}
	fmt.Fprintln(out, strings.Join(s, ", "))
	return nil
}

func load16k(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := wavfile.NewReader(f)
	if err != nil {
		return nil, err
	}
	rs, err := resample.New(r.Rate, 16000)
	if err != nil {
		return nil, err
	}
	var out []int16
	buf := make([]int16, 4096)
	for {
		n, err := r.Read(buf)
		out = append(out, rs.Process(buf[:n])...)
		if errors.Is(err, io.EOF) {
			return append(out, rs.Flush()...), nil
		}
		if err != nil {
			return nil, err
		}
	}
}
