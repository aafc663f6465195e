// Command psbench measures the embedded recogniser: WER and real-time factor on a fixture
// set, and live behaviour (streams fed in real time: end-of-speech → final latency, drops,
// memory). scripts/bench-asr.sh runs it; docs/asr.md has the figures.
//
//	psbench wer  [flags] DIR      DIR has refs.tsv and the WAVs named by -set (ID.wav)
//	psbench live [flags] FILE.wav…  -streams N concurrent real-time streams
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"lianxin/asr/pocketsphinx"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: psbench wer|live [flags] …")
		return 2
	}
	fs := flag.NewFlagSet("psbench "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	lm := fs.String("lm", "mixed", "language model: mixed, general or domain")
	w := fs.Float64("w", 0, "domain LM weight (0: engine default)")
	wide := fs.Bool("wide", false, "default (wide) beams instead of the narrow ones")
	band := fs.String("band", "auto", "auto, telephone or wideband")
	extra := fs.String("extra", "", "extra pocketsphinx flags, separated by spaces or commas")
	streams := fs.Int("streams", 1, "decoders, and for live the concurrent streams")
	set := fs.String("set", "wav16", "wer: the subdirectory of DIR with the WAVs")
	secs := fs.Int("secs", 30, "live: seconds of audio per stream")
	wbcmn := fs.String("wbcmn", "", "wideband cepstral-mean start value, comma separated")
	tcmn := fs.String("tcmn", "", "telephone cepstral-mean start value, comma separated")
	vocab := fs.Int("vocab", 0, "general words kept in the dictionary (0: engine default, -1: all)")
	second := fs.Bool("second", false, "flat-lexicon second pass at endpoints (as gateway transcribe)")
	verbose := fs.Bool("v", false, "wer: print each hypothesis")
	cases := fs.Int("cases", 0, "weight of the case sentences in the domain LM (0: engine default, -1: none)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg := pocketsphinx.Config{DomainWeight: *w, WideBeams: *wide, MaxStreams: *streams, Vocabulary: *vocab, SecondPass: *second, CasesWeight: *cases}
	switch *lm {
	case "general":
		cfg.LM = pocketsphinx.LMGeneral
	case "domain":
		cfg.LM = pocketsphinx.LMDomain
	}
	switch *band {
	case "telephone":
		cfg.Band = pocketsphinx.BandTelephone
	case "wideband":
		cfg.Band = pocketsphinx.BandWideband
	}
	var err error
	if cfg.WidebandCMN, err = floats(*wbcmn); err != nil {
		fmt.Fprintln(stderr, "psbench: -wbcmn:", err)
		return 2
	}
	if cfg.TelephoneCMN, err = floats(*tcmn); err != nil {
		fmt.Fprintln(stderr, "psbench: -tcmn:", err)
		return 2
	}
	if *extra != "" {
		cfg.Extra = strings.FieldsFunc(*extra, func(r rune) bool { return r == ' ' || r == ',' })
	}
	switch args[0] {
	case "wer":
		err = werBench(ctx, cfg, fs.Args(), *set, *verbose, stdout)
	case "live":
		err = liveBench(ctx, cfg, fs.Args(), *streams, *secs, stdout)
	default:
		err = fmt.Errorf("unknown mode %q", args[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "psbench:", err)
		return 1
	}
	return 0
}

func floats(s string) ([]float32, error) {
	var out []float32
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		v, err := strconv.ParseFloat(f, 32)
		if err != nil {
			return nil, err
		}
		out = append(out, float32(v))
	}
	return out, nil
}
