// Package engines builds the recognisers a gateway config names (the embedded engine and the
// network engines of asr.engines, each behind the resilience wrapper) and watches whether
// the network engines can be reached.
package engines

import (
	"bytes"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"lianxin/asr"
	"lianxin/asr/alibaba"
	"lianxin/asr/funasr"
	"lianxin/asr/iflytek"
	"lianxin/asr/openai"
	"lianxin/asr/pocketsphinx"
	"lianxin/asr/resilient"
	"lianxin/asr/sherpa"
	"lianxin/asr/tencent"
	"lianxin/asr/vosk"
)

// Config is the `asr:` block of a gateway config: which recognisers there are and which
// one each line uses.
type Config struct {
	// Default engine name; "pocketsphinx" is the embedded one, "none" turns live
	// transcription off.
	Default string `yaml:"default"`
	// Language for streams on lines that do not set one.
	Language string `yaml:"language"`
	// Engines configures network engines by name: {type: funasr|vosk|…, url: …}.
	Engines map[string]map[string]any `yaml:"engines"`
	// Hotwords bias engines that take them (place names, department names, 12345 jargon).
	Hotwords []string `yaml:"hotwords"`
	// MaxStreams bounds the embedded engine's concurrent streams.
	MaxStreams int `yaml:"max_streams"`
}

// Line is a line's own choice of recogniser (empty: the default).
type Line struct{ Number, ASR string }

// engineTypes builds a network engine of each type from its config section. Every one is
// wrapped in the resilience layer (reconnect, replay, rotation) before it is registered,
// tuned by the section's own resilient block.
var engineTypes = map[string]func(section []byte) (asr.Engine, error){
	"funasr":          build(funasr.New),
	"vosk":            build(vosk.New),
	"openai":          build(openai.New),
	"openai-realtime": build(openai.NewRealtime),
	"sherpa":          build(sherpa.New),
	"alibaba":         build(alibaba.New),
	"iflytek":         build(iflytek.New),
	"tencent":         build(tencent.New),
}

func build[C any](newEngine func(C) (asr.Engine, error)) func([]byte) (asr.Engine, error) {
	return func(section []byte) (asr.Engine, error) {
		var c C
		dec := yaml.NewDecoder(bytes.NewReader(section))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			return nil, err
		}
		return newEngine(c)
	}
}

// Network builds the engine an engines section describes, and reads the section's
// resilient block for its wrapper.
func Network(name string, section map[string]any) (asr.Engine, resilient.Config, error) {
	typ, _ := section["type"].(string)
	mk, ok := engineTypes[typ]
	if !ok {
		return nil, resilient.Config{}, fmt.Errorf("asr: engine %q: unknown type %q (have funasr, vosk, openai, openai-realtime, sherpa, alibaba, iflytek, tencent)", name, typ)
	}
	rest := map[string]any{}
	for k, v := range section {
		if k != "type" && k != "resilient" {
			rest[k] = v
		}
	}
	rc, err := resilience(section["resilient"])
	if err != nil {
		return nil, rc, fmt.Errorf("asr: engine %q: resilient: %w", name, err)
	}
	raw, err := yaml.Marshal(rest)
	if err != nil {
		return nil, rc, err
	}
	inner, err := mk(raw)
	if err != nil {
		return nil, rc, fmt.Errorf("asr: engine %q: %w", name, err)
	}
	return inner, rc, nil
}

// resilience reads an engine section's resilient block (ring, queue, backoff, attempts,
// max_session, rotate_early); absent, the wrapper's defaults apply.
func resilience(block any) (resilient.Config, error) {
	var c resilient.Config
	if block == nil {
		return c, nil
	}
	raw, err := yaml.Marshal(block)
	if err != nil {
		return c, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true) // a misspelt key must not silently leave a default in place
	err = dec.Decode(&c)
	return c, err
}

// named gives an engine the name the config chose for it ("mandarin" for a FunASR server).
type named struct {
	asr.Engine
	name string
}

func (n named) Name() string { return n.name }

// Build makes the recognisers c names: the embedded engine (unless the default is "none"
// and no line asks for it) and every configured network engine, with the default and the
// per-line choices set.
func Build(c Config, lines []Line, reg prometheus.Registerer, log *slog.Logger) (*asr.Registry, error) {
	if err := checkEngineNames(c, lines); err != nil {
		return nil, err
	}
	r := asr.NewRegistry()
	wantEmbedded := c.Default == embeddedName || c.Default == "embedded"
	for _, l := range lines {
		wantEmbedded = wantEmbedded || l.ASR == embeddedName || l.ASR == "embedded"
	}
	if wantEmbedded {
		eng, err := newEmbeddedEngine(c.MaxStreams, c.Hotwords, log, reg)
		if err != nil {
			return nil, fmt.Errorf("asr: embedded engine: %w", err)
		}
		if err := r.Add(eng); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(c.Engines))
	for n := range c.Engines {
		names = append(names, n)
	}
	sort.Strings(names)
	var metrics *resilient.Metrics
	for _, name := range names {
		inner, rc, err := Network(name, c.Engines[name])
		if err != nil {
			return nil, err
		}
		if metrics == nil {
			if metrics, err = resilient.NewMetrics(reg); err != nil {
				return nil, err
			}
		}
		rc.Metrics = metrics
		wrapped, err := resilient.Wrap(inner, rc)
		if err != nil {
			return nil, fmt.Errorf("asr: engine %q: %w", name, err)
		}
		if err := r.Add(named{wrapped, name}); err != nil {
			return nil, err
		}
	}
	if def := c.Default; def != "none" && def != "" {
		if def == "embedded" {
			def = embeddedName
		}
		if err := r.SetDefault(def); err != nil {
			return nil, err
		}
	}
	for _, l := range lines {
		if l.ASR != "" {
			name := l.ASR
			if name == "embedded" {
				name = embeddedName
			}
			if err := r.SetLine(l.Number, name); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// checkEngineNames refuses a recogniser name that names nothing, listing what can be
// chosen, before anything starts.
func checkEngineNames(c Config, lines []Line) error {
	configured := make([]string, 0, len(c.Engines))
	for n := range c.Engines {
		configured = append(configured, n)
	}
	sort.Strings(configured)
	check := func(where, name string) error {
		if name == "" || name == "none" || name == "embedded" || name == embeddedName || c.Engines[name] != nil {
			return nil
		}
		have := "none are configured under asr.engines"
		if len(configured) > 0 {
			have = "configured under asr.engines: " + strings.Join(configured, ", ")
		}
		return fmt.Errorf("%s: unknown recogniser %q: choose %s (the embedded engine), none, or a network engine (%s)",
			where, name, embeddedName, have)
	}
	if err := check("asr.default", c.Default); err != nil {
		return err
	}
	for _, l := range lines {
		if err := check("lines["+l.Number+"].asr", l.ASR); err != nil {
			return err
		}
	}
	return nil
}

// embeddedName is the embedded recogniser's registry name ("embedded" is accepted too).
const embeddedName = pocketsphinx.Name

// newEmbeddedEngine builds the embedded recogniser for live calls with maxStreams decoders,
// created now and reused. It uses the hotline language model alone: on telephone-band
// hotline speech it scored better than the interpolated general+hotline model (26% vs 36%
// WER) at a fifth of the CPU and ~7 MB per decoder (12 live streams at p95 0.56–0.65 s end of
// speech → final on 2 cores), at the price of a closed ~770-word vocabulary (docs/asr.md). Built without cgo it returns an engine whose streams fail with
// asr.ErrUnavailable. Telephone or wideband settings follow each stream's sample rate.
func newEmbeddedEngine(maxStreams int, hotwords []string, log *slog.Logger, reg prometheus.Registerer) (*pocketsphinx.Engine, error) {
	return pocketsphinx.New(pocketsphinx.Config{MaxStreams: maxStreams, LM: pocketsphinx.LMDomain, Hotwords: hotwords, Logger: log, Registerer: reg})
}

// NewFile builds the embedded recogniser for files and recordings: the open-vocabulary
// general+hotline model with the second search pass at each endpoint (the most accurate
// setting measured; too slow for more than one live stream per core).
func NewFile(maxStreams int, hotwords []string, log *slog.Logger) (*pocketsphinx.Engine, error) {
	return pocketsphinx.New(pocketsphinx.Config{MaxStreams: maxStreams, Hotwords: hotwords, Logger: log, SecondPass: true})
}
