package main

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

// networkEngine builds the engine an engines section describes, and reads the section's
// resilient block for its wrapper.
func networkEngine(name string, section map[string]any) (asr.Engine, resilient.Config, error) {
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

// buildASR makes the recognisers config names: the embedded engine (unless the default is
// "none" and no line asks for it) and every configured network engine, with the default
// and the per-line choices set.
func buildASR(cfg Config, reg prometheus.Registerer, log *slog.Logger) (*asr.Registry, error) {
	if err := checkEngineNames(cfg); err != nil {
		return nil, err
	}
	r := asr.NewRegistry()
	wantEmbedded := cfg.ASR.Default == embeddedName || cfg.ASR.Default == "embedded"
	for _, l := range cfg.Lines {
		wantEmbedded = wantEmbedded || l.ASR == embeddedName || l.ASR == "embedded"
	}
	if wantEmbedded {
		eng, err := newEmbeddedEngine(cfg.ASR.MaxStreams, cfg.ASR.Hotwords, log, reg)
		if err != nil {
			return nil, fmt.Errorf("asr: embedded engine: %w", err)
		}
		if err := r.Add(eng); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(cfg.ASR.Engines))
	for n := range cfg.ASR.Engines {
		names = append(names, n)
	}
	sort.Strings(names)
	var metrics *resilient.Metrics
	for _, name := range names {
		inner, rc, err := networkEngine(name, cfg.ASR.Engines[name])
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
	if def := cfg.ASR.Default; def != "none" && def != "" {
		if def == "embedded" {
			def = embeddedName
		}
		if err := r.SetDefault(def); err != nil {
			return nil, err
		}
	}
	for _, l := range cfg.Lines {
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
func checkEngineNames(cfg Config) error {
	configured := make([]string, 0, len(cfg.ASR.Engines))
	for n := range cfg.ASR.Engines {
		configured = append(configured, n)
	}
	sort.Strings(configured)
	check := func(where, name string) error {
		if name == "" || name == "none" || name == "embedded" || name == embeddedName || cfg.ASR.Engines[name] != nil {
			return nil
		}
		have := "none are configured under asr.engines"
		if len(configured) > 0 {
			have = "configured under asr.engines: " + strings.Join(configured, ", ")
		}
		return fmt.Errorf("%s: unknown recogniser %q: choose %s (the embedded engine), none, or a network engine (%s)",
			where, name, embeddedName, have)
	}
	if err := check("asr.default", cfg.ASR.Default); err != nil {
		return err
	}
	for _, l := range cfg.Lines {
		if err := check("lines["+l.Number+"].asr", l.ASR); err != nil {
			return err
		}
	}
	return nil
}

// liveASR reports whether calls get live transcription.
func (c Config) liveASR() bool {
	if c.ASR.Default != "none" && c.ASR.Default != "" {
		return true
	}
	for _, l := range c.Lines {
		if l.ASR != "" && l.ASR != "none" {
			return true
		}
	}
	return false
}

// embeddedName is the embedded recogniser's registry name ("embedded" is accepted too).
const embeddedName = pocketsphinx.Name
