package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"lianxin/asr"
	"lianxin/asr/engines"
	"lianxin/asr/pocketsphinx"
	"lianxin/config"
)

// transcribeLine is one result of `gateway transcribe`, one JSON object per line.
type transcribeLine struct {
	File        string           `json:"file"`
	Final       bool             `json:"final"`
	Text        string           `json:"text"`
	StartMS     int64            `json:"start_ms"`
	EndMS       int64            `json:"end_ms"`
	UtteranceID int              `json:"utterance_id"`
	Confidence  *float64         `json:"confidence"` // null when the engine does not say
	Language    string           `json:"language,omitempty"`
	Engine      string           `json:"engine"`
	Words       []transcribeWord `json:"words,omitempty"`
	Gap         bool             `json:"gap,omitempty"`
}

type transcribeWord struct {
	Text       string   `json:"text"`
	StartMS    int64    `json:"start_ms"`
	EndMS      int64    `json:"end_ms"`
	Confidence *float64 `json:"confidence,omitempty"`
}

func toLine(file, engine string, r asr.Result) transcribeLine {
	l := transcribeLine{File: file, Final: r.Final, Text: r.Text, StartMS: r.Start.Milliseconds(), EndMS: r.End.Milliseconds(),
		UtteranceID: r.UtteranceID, Language: r.Language, Engine: engine, Gap: r.Gap}
	if r.Confidence >= 0 {
		c := r.Confidence
		l.Confidence = &c
	}
	for _, w := range r.Words {
		tw := transcribeWord{Text: w.Text, StartMS: w.Start.Milliseconds(), EndMS: w.End.Milliseconds()}
		if w.Confidence >= 0 {
			c := w.Confidence
			tw.Confidence = &c
		}
		l.Words = append(l.Words, tw)
	}
	return l
}

// transcribeParallel is how many files run at once: one decoder per core on the 2-core
// reference machine.
const transcribeParallel = 2

// Transcribe is `gateway transcribe`: WAV files through the streaming path a live call
// uses, one JSON line per result.
func Transcribe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("transcribe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("asr", "", "recogniser: pocketsphinx (alias embedded), or an engine of --config (default: its asr.default)")
	configPath := fs.String("config", "", "a gateway config: its network engines run as on a live call, behind the resilience wrapper")
	lang := fs.String("language", "", "BCP-47 language of the speech (engine default when empty)")
	partials := fs.Bool("partials", true, "include partial results")
	var hotwords []string
	fs.Func("hotword", "a phrase to bias recognition towards (repeatable)", func(v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("empty hotword")
		}
		hotwords = append(hotwords, v)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gateway transcribe [--config FILE] [--asr NAME] [--language TAG] [--partials=false] [--hotword PHRASE]… FILE.wav…")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	files := fs.Args()
	if len(files) == 0 {
		fs.Usage()
		return 2
	}
	// warnings only (a hotword the dictionary cannot say); results own stdout
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	reg, def, err := transcribeRegistry(*configPath, min(len(files), transcribeParallel), hotwords, log)
	if err != nil {
		fmt.Fprintf(stderr, "gateway transcribe: %v\n", err)
		return 1
	}
	defer reg.Close()
	if *name == "" {
		*name = def.engine
		if *lang == "" {
			*lang = def.language
		}
	}
	if *name == "embedded" {
		*name = pocketsphinx.Name
	}
	eng, err := reg.Get(*name)
	if err != nil {
		fmt.Fprintf(stderr, "gateway transcribe: %v\n", err)
		return 2
	}
	cfg := asr.StreamConfig{Language: *lang, Partials: *partials, Channel: "file", Hotwords: hotwords}
	if failed := transcribeFiles(ctx, eng, files, cfg, stdout, stderr); failed > 0 {
		fmt.Fprintf(stderr, "gateway transcribe: %d of %d files failed\n", failed, len(files))
		return 1
	}
	return 0
}

// transcribeFiles runs the files through eng, a few at a time, writing results as JSON lines
// (each file's in arrival order) and errors to stderr; it returns how many files failed.
func transcribeFiles(ctx context.Context, eng asr.Engine, files []string, cfg asr.StreamConfig, stdout, stderr io.Writer) int {
	var mu sync.Mutex // serialises output lines and the failure count
	failed := 0
	enc := json.NewEncoder(stdout)
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range min(len(files), transcribeParallel) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				err := asr.TranscribeFile(ctx, eng, f, cfg, func(r asr.Result) {
					mu.Lock()
					defer mu.Unlock()
					_ = enc.Encode(toLine(f, eng.Name(), r))
				})
				if err != nil {
					mu.Lock()
					failed++
					fmt.Fprintf(stderr, "gateway transcribe: %v\n", err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, f := range files {
		select {
		case jobs <- f:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	return failed
}

// transcribeDefaults are the engine and language a config chooses.
type transcribeDefaults struct{ engine, language string }

// transcribeRegistry is the set of engines `gateway transcribe` can choose from: the
// embedded engine in its file configuration, and with a config file its network engines,
// built exactly as `gateway serve` builds them (resilience wrapper included).
func transcribeRegistry(configPath string, maxStreams int, hotwords []string, log *slog.Logger) (*asr.Registry, transcribeDefaults, error) {
	def := transcribeDefaults{engine: pocketsphinx.Name}
	reg := asr.NewRegistry()
	if configPath != "" {
		cfg := config.Default()
		if err := config.ReadFile(configPath, &cfg); err != nil {
			return nil, def, err
		}
		if cfg.ASR.Engines[cfg.ASR.Default] != nil {
			def = transcribeDefaults{engine: cfg.ASR.Default, language: cfg.ASR.Language}
		}
		cfg.ASR.Default, cfg.Lines = "none", nil // only the network engines: the file engine is added below
		var err error
		if reg, err = engines.Build(cfg.ASR, nil, prometheus.NewRegistry(), log); err != nil {
			return nil, def, err
		}
	}
	eng, err := engines.NewFile(maxStreams, hotwords, log)
	if err != nil {
		_ = reg.Close()
		return nil, def, err
	}
	if err := reg.Add(eng); err != nil {
		eng.Close()
		_ = reg.Close()
		return nil, def, err
	}
	return reg, def, nil
}
