package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"lianxin/asr"
	"lianxin/asr/engines"
	"lianxin/config"
	"lianxin/media"
)

// probeClip is the built-in test clip: "你好，我要反映路灯坏了。" said by espeak-ng (voice
// cmn, 175 wpm), 8 kHz mono PCM16 with 0.3 s lead and 0.6 s tail silence — telephone
// audio, as a line delivers it, made with
// `espeak-ng -v cmn -s 175 -w zh.wav "…" && sox -D zh.wav -r 8000 -c 1 -b 16 -e signed-integer probe-clip.wav pad 0.3 0.6`.
//
//go:embed probe-clip.wav
var probeClip []byte

// probeUsage is the asr command's help.
const probeUsage = `usage: gateway asr probe --config FILE [--asr ENGINE] [--clip FILE.wav] [--language TAG]

Connects each configured network engine (or the one named), completes its handshake,
streams a short test clip and prints one verdict line per engine. Exit status 0 only when
every engine probed works.
`

// ASR is the asr command: today only its probe subcommand.
func ASR(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "probe" {
		fmt.Fprint(stderr, probeUsage)
		return 2
	}
	return runProbe(ctx, args[1:], stdout, stderr)
}

// probeOptions are the probe's flags.
type probeOptions struct {
	config, only, clip, language string
	timeout                      time.Duration
	realtime                     bool
}

func parseProbeFlags(args []string, stderr io.Writer) (probeOptions, error) {
	var o probeOptions
	fs := flag.NewFlagSet("asr probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "YAML config file with asr.engines (required)")
	fs.StringVar(&o.only, "asr", "", "probe only this engine (default: every configured one)")
	fs.StringVar(&o.clip, "clip", "", "mono PCM16 WAV to stream instead of the built-in Mandarin clip")
	fs.StringVar(&o.language, "language", "", "BCP-47 language of the clip (default: the config's asr.language, else zh-CN for the built-in clip)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "limit per engine")
	fs.BoolVar(&o.realtime, "realtime", true, "send the clip at real-time pace, as a call does (some services refuse faster)")
	fs.Usage = func() { fmt.Fprint(stderr, probeUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.config == "" || fs.NArg() > 0 {
		fs.Usage()
		return o, flag.ErrHelp
	}
	return o, nil
}

func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseProbeFlags(args, stderr)
	if err != nil {
		return 2
	}
	engines, language, err := probeConfig(o.config)
	if err != nil {
		fmt.Fprintf(stderr, "gateway asr probe: %v\n", err)
		return 2
	}
	names := make([]string, 0, len(engines))
	for n := range engines {
		if o.only == "" || n == o.only {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		fmt.Fprintf(stderr, "gateway asr probe: no engine %q under asr.engines in %s\n", o.only, o.config)
		return 2
	}
	clip, rate, err := loadClip(o.clip)
	if err != nil {
		fmt.Fprintf(stderr, "gateway asr probe: %v\n", err)
		return 2
	}
	if o.language == "" {
		o.language = language
	}
	if o.language == "" && o.clip == "" {
		o.language = "zh-CN"
	}
	failed := 0
	for _, n := range names {
		v := probeEngine(ctx, n, engines[n], clip, rate, o)
		fmt.Fprintln(stdout, v)
		if !v.ok() {
			failed++
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// probeConfig reads the engines and the default language from a gateway config file.
func probeConfig(path string) (map[string]map[string]any, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("config: %w", err)
	}
	cfg := config.Default()
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, "", fmt.Errorf("config %s: %w", path, err)
	}
	if len(cfg.ASR.Engines) == 0 {
		return nil, "", fmt.Errorf("config %s: no network engine under asr.engines", path)
	}
	// only a language the file sets: the built-in default (en-US) would mislabel the
	// Mandarin clip
	var set struct {
		ASR struct {
			Language string `yaml:"language"`
		} `yaml:"asr"`
	}
	_ = yaml.Unmarshal(b, &set)
	return cfg.ASR.Engines, set.ASR.Language, nil
}

// loadClip returns the samples and rate of a mono PCM16 WAV (the built-in clip when path
// is empty).
func loadClip(path string) ([]int16, int, error) {
	b := probeClip
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return nil, 0, err
		}
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("clip %s: not a WAV file", path)
	}
	var rate int
	for p := 12; p+8 <= len(b); {
		id, n := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8 : min(len(b), p+8+n)]
		switch id {
		case "fmt ":
			if len(body) < 16 || binary.LittleEndian.Uint16(body) != 1 || binary.LittleEndian.Uint16(body[2:]) != 1 || binary.LittleEndian.Uint16(body[14:]) != 16 {
				return nil, 0, fmt.Errorf("clip %s: want mono 16-bit PCM", path)
			}
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			if rate == 0 {
				return nil, 0, fmt.Errorf("clip %s: data before fmt", path)
			}
			s := make([]int16, len(body)/2)
			for i := range s {
				s[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return s, rate, nil
		}
		p += 8 + n + n%2
	}
	return nil, 0, fmt.Errorf("clip %s: no audio", path)
}

// verdict is what the probe found out about one engine.
type verdict struct {
	name, typ             string
	connect, handshake    time.Duration
	firstPartial, firstFi time.Duration // since the first frame; 0: none came
	finalLag              time.Duration // first final's arrival after its speech was sent
	text                  string
	stage                 string // where it failed: "url", "connect", "handshake", "stream", "result"
	err                   error
	cause                 string
}

func (v verdict) ok() bool { return v.err == nil }

// String is the verdict line.
func (v verdict) String() string {
	var parts []string
	add := func(format string, a ...any) { parts = append(parts, fmt.Sprintf(format, a...)) }
	if v.connect > 0 {
		add("connect %s", ms(v.connect))
	}
	if v.handshake > 0 {
		add("handshake %s", ms(v.handshake))
	}
	if v.firstPartial > 0 {
		add("first partial %s", ms(v.firstPartial))
	}
	if v.firstFi > 0 && v.finalLag > 0 {
		add("first final %s (%s after its speech)", ms(v.firstFi), ms(v.finalLag))
	} else if v.firstFi > 0 {
		add("first final %s", ms(v.firstFi))
	}
	if v.ok() || v.text != "" {
		add("text %q", v.text)
	}
	if !v.ok() {
		f := fmt.Sprintf("%s failed: %v", v.stage, v.err)
		if v.cause != "" {
			f += "; likely cause: " + v.cause
		}
		parts = append(parts, f)
	}
	state := "OK  "
	if !v.ok() {
		state = "FAIL"
	}
	return fmt.Sprintf("%s %s (%s): %s", state, v.name, v.typ, strings.Join(parts, ", "))
}

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// probeEngine runs the clip through one engine, bare (no resilience wrapper: the probe
// wants the first failure as the server sent it, not a reconnect).
func probeEngine(ctx context.Context, name string, section map[string]any, clip []int16, rate int, o probeOptions) verdict {
	typ, _ := section["type"].(string)
	raw, _ := section["url"].(string)
	v := verdict{name: name, typ: typ}
	fail := func(stage string, err error) verdict {
		v.stage, v.err, v.cause = stage, err, likelyCause(err, raw)
		return v
	}
	if err := checkScheme(typ, raw); err != nil {
		return fail("url", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if raw != "" {
		d, err := engines.Dial(ctx, raw)
		if err != nil {
			return fail("connect", err)
		}
		v.connect = d
	}
	eng, _, err := engines.Network(name, section)
	if err != nil {
		return fail("config", err)
	}
	defer eng.Close()
	start := time.Now()
	st, err := eng.NewStream(ctx, asr.StreamConfig{Language: o.language, SampleRate: rate, Partials: true, Channel: "probe"})
	if err != nil {
		return fail("handshake", err)
	}
	v.handshake = time.Since(start)
	return v.stream(ctx, st, clip, rate, o.realtime, raw)
}

// stream sends the clip in 20 ms frames, closes (the flush) and reads every result.
func (v verdict) stream(ctx context.Context, st asr.Stream, clip []int16, rate int, realtime bool, raw string) verdict {
	type arrival struct {
		r  asr.Result
		at time.Time
	}
	got := make(chan []arrival, 1)
	go func() {
		var rs []arrival
		for r := range st.Results() {
			rs = append(rs, arrival{r, time.Now()})
		}
		got <- rs
	}()
	n := rate / 50
	t0 := time.Now()
	var werr error
	for off := 0; off < len(clip) && werr == nil && ctx.Err() == nil; off += n {
		f := media.Frame{Samples: clip[off:min(off+n, len(clip))], Rate: rate, Offset: time.Duration(off) * time.Second / time.Duration(rate)}
		if realtime {
			time.Sleep(time.Until(t0.Add(f.Offset)))
		}
		werr = st.Write(f)
	}
	cerr := st.Close()
	var rs []arrival
	select {
	case rs = <-got:
	case <-ctx.Done():
	}
	var finals []string
	for _, a := range rs {
		since := a.at.Sub(t0)
		switch {
		case a.r.Final && v.firstFi == 0:
			v.firstFi = since
			if realtime {
				v.finalLag = max(0, since-a.r.End)
			}
		case !a.r.Final && v.firstPartial == 0:
			v.firstPartial = since
		}
		if a.r.Final && strings.TrimSpace(a.r.Text) != "" {
			finals = append(finals, strings.TrimSpace(a.r.Text))
		}
	}
	v.text = strings.Join(finals, " ")
	err := werr // the first failure; Close then reports the same one
	if err == nil {
		err = cerr
	}
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("no end of results: %w", ctx.Err())
	}
	if err != nil {
		v.stage, v.err, v.cause = "stream", err, likelyCause(err, raw)
		return v
	}
	if v.text == "" {
		v.stage, v.err = "result", errors.New("the clip gave no final text")
		v.cause = "the engine hears the audio wrongly: a sample_rate that does not match the model, or a model for another language"
	}
	return v
}

// checkScheme catches a URL whose scheme the engine type cannot speak.
func checkScheme(typ, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	want := []string{"ws", "wss"}
	if typ == "openai" {
		want = []string{"http", "https"}
	}
	for _, s := range want {
		if u.Scheme == s {
			return nil
		}
	}
	return fmt.Errorf("wrong URL scheme %q for engine type %s: use %s://", u.Scheme, typ, strings.Join(want, ":// or "))
}

// hinter is implemented by engine errors that know their likely cause (the iFlytek and
// Tencent adapters' ServerError).
type hinter interface{ Hint() string }

// likelyCause names the probable reason for err, for an operator: typed errors first,
// then the messages of the adapters and libraries that have no types for them.
func likelyCause(err error, raw string) string {
	var h hinter
	var rec tls.RecordHeaderError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var dns *net.DNSError
	msg := err.Error()
	switch {
	case errors.As(err, &h) && h.Hint() != "":
		return h.Hint()
	case strings.Contains(msg, "wrong URL scheme"):
		return "the url's scheme: WebSocket engines take ws:// or wss://, the HTTP engine http:// or https://"
	case errors.As(err, &rec) || strings.Contains(msg, "first record does not look like a TLS handshake"):
		return "TLS: the server speaks plain ws://; use ws:// (or start it with TLS)"
	case strings.Contains(msg, "malformed HTTP response"):
		return "TLS: the server speaks TLS; use wss:// (FunASR's runtime enables SSL by default)"
	case errors.As(err, &ua), errors.As(err, &hn), strings.Contains(msg, "certificate"):
		return "TLS: the server's certificate is not trusted (self-signed: set insecure_skip_verify, or use the right host name)"
	case errors.As(err, &dns):
		return "the host name does not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing listens at that host and port (engine down, or the wrong port)"
	case errors.Is(err, context.DeadlineExceeded), strings.Contains(msg, "i/o timeout"):
		return "no answer in time: a firewall, an IP whitelist, or the wrong port"
	case strings.Contains(msg, "HTTP 401"), strings.Contains(msg, "HTTP 403"),
		strings.Contains(msg, "40000001"), strings.Contains(msg, "token"):
		return "token expired or bad key: refresh the token / check the key"
	case strings.Contains(msg, "APPKEY_NOT_EXIST"):
		return "the appkey does not exist in this region or account"
	case strings.Contains(msg, "HTTP 404"), strings.Contains(msg, "model"):
		return "model not found, or the wrong path in the url"
	case strings.Contains(msg, "bad handshake"):
		return "not a WebSocket endpoint at that path: check the url's path"
	case strings.Contains(msg, "closed the connection early"), strings.Contains(msg, "connection lost"):
		return "the server ended the session before the flush: it refused the audio (format or sample rate), hit a stream limit, or crashed"
	case strings.Contains(msg, "flush timeout"), strings.Contains(msg, "no reply from the server"):
		return "the server stopped answering: the wrong protocol mode for this server, or it is overloaded"
	}
	if raw == "" {
		return ""
	}
	return "see the engine's section in docs/asr-engines.md"
}
