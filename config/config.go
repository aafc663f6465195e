// Package config is the gateway's configuration file: its sections, the built-in defaults,
// reading and checking it (with errors in the file's own words), the serve flags that
// override it, and each package's own config made from it.
package config

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"lianxin/asr/engines"
	"lianxin/desk"
	"lianxin/media"
	"lianxin/sip"
)

// Config is the gateway's configuration file. Flags override it; with no file the
// built-in defaults run a 60-seat gateway on loopback.
type Config struct {
	SIP      SIPConfig      `yaml:"sip"`
	HTTP     HTTPConfig     `yaml:"http"`
	DataDir  string         `yaml:"data_dir"`
	Seats    SeatsConfig    `yaml:"seats"`
	ACD      ACDConfig      `yaml:"acd"`
	Lines    []LineConfig   `yaml:"lines"`
	Trunks   []TrunkConfig  `yaml:"trunks"` // carriers and PBXs that deliver calls
	Media    MediaConfig    `yaml:"media"`
	ASR      engines.Config `yaml:"asr"`
	Dispatch DispatchConfig `yaml:"dispatch"`
	Desk     DeskConfig     `yaml:"desk"`
	WebRTC   WebRTCConfig   `yaml:"webrtc"`
	Survey   SurveyConfig   `yaml:"survey"`
	// WorkOrder is the hand-off of submitted work orders; LLM the optional language model
	// that writes their summaries.
	WorkOrder WorkOrderConfig `yaml:"workorder"`
	LLM       LLMConfig       `yaml:"llm"`
	// Reports are the analysis reports: their schedule, folder and robot.
	Reports  ReportsConfig `yaml:"reports"`
	LogLevel string        `yaml:"log_level"`
}

// WorkOrderConfig is where submitted work orders go. Without a URL drafts are still built
// and shown, and nothing is delivered.
type WorkOrderConfig struct {
	URL string `yaml:"url"`
	// Secret signs each delivery (HMAC-SHA256); the receiver holds the same one.
	Secret  string        `yaml:"secret"`
	Timeout time.Duration `yaml:"timeout"` // per attempt; default 10s
	// MaxAge is how long an undelivered order is retried before it becomes a dead letter;
	// default 24h.
	MaxAge time.Duration `yaml:"max_age"`
	// Redact masks callers' personal numbers (caller and callback numbers, ID and bank
	// card numbers in the text) in what is delivered, for a system that must not hold them.
	Redact bool `yaml:"redact"`
}

// LLMConfig is an OpenAI-compatible chat-completions endpoint on the hotline's network
// (Qwen on vLLM or Ollama). Empty URL: summaries are extractive.
type LLMConfig struct {
	URL     string        `yaml:"url"`
	Model   string        `yaml:"model"`
	APIKey  string        `yaml:"api_key"`
	Timeout time.Duration `yaml:"timeout"` // per request; default 5s
}

// SurveyConfig is the satisfaction survey (满意度回访) a caller hears when the agent hangs up
// first.
type SurveyConfig struct {
	Enabled bool `yaml:"enabled"`
	// Question and Thanks are 8 kHz mono PCM16 WAVs; empty plays the built-in Mandarin ones.
	Question string `yaml:"question"`
	Thanks   string `yaml:"thanks"`
	// Timeout is the wait for a key after the question (asked twice at most).
	Timeout time.Duration `yaml:"timeout"`
}

// SIPConfig is the signalling listener.
type SIPConfig struct {
	Listen   string `yaml:"listen"`
	Realm    string `yaml:"realm"`
	MaxCalls int    `yaml:"max_calls"`
	// TrustedSources (addresses or prefixes: a carrier trunk, the office NAT that the seat
	// phones share) are exempt from the per-source limits below.
	TrustedSources []string `yaml:"trusted_sources"`
	// Each source address's token buckets for new INVITEs and for REGISTERs (per second,
	// at once); over them the answer is 503 with Retry-After. Zero takes the default
	// (INVITE 5/s and 30, REGISTER 10/s and 120); a negative rate turns a limit off.
	InviteRate    float64 `yaml:"invite_rate"`
	InviteBurst   int     `yaml:"invite_burst"`
	RegisterRate  float64 `yaml:"register_rate"`
	RegisterBurst int     `yaml:"register_burst"`
	// NonceTTL is a digest nonce's life (default 30s).
	NonceTTL time.Duration `yaml:"nonce_ttl"`
	// AuthMaxFailures wrong digest answers from one address within a minute block its
	// REGISTERs for AuthBlock (defaults 20 and 5m).
	AuthMaxFailures int           `yaml:"auth_max_failures"`
	AuthBlock       time.Duration `yaml:"auth_block"`
	// TCPIdleTimeout closes SIP TCP connections idle this long (default 2m) unless a
	// registration uses them; TCPMaxConnsPerSource bounds one address's (default 256).
	TCPIdleTimeout       time.Duration `yaml:"tcp_idle_timeout"`
	TCPMaxConnsPerSource int           `yaml:"tcp_max_conns_per_source"`
	// Open takes calls from any source on every line. Unset: open while no trunk is
	// configured; once one is, only trunks and open lines take calls.
	Open *bool `yaml:"open"`
	// TLSListen serves SIP over TLS too, e.g. 127.0.0.1:5061 (empty: none). TLSCert and
	// TLSKey are its PEM pair; without them the first start makes a self-signed one in
	// the data dir, used at every later start.
	TLSListen string `yaml:"tls_listen"`
	TLSCert   string `yaml:"tls_cert"`
	TLSKey    string `yaml:"tls_key"`
	// CallerSecurity is what callers of lines without a security of their own must use.
	CallerSecurity SecurityConfig `yaml:"caller_security"`
}

// security is the SIP layer's per-source limits.
func (c SIPConfig) security() (sip.Security, error) {
	trusted, err := parsePrefixes(c.TrustedSources)
	if err != nil {
		return sip.Security{}, fmt.Errorf("sip: trusted_sources: %w", err)
	}
	return sip.Security{InviteRate: sip.RateLimit{Rate: c.InviteRate, Burst: c.InviteBurst},
		RegisterRate: sip.RateLimit{Rate: c.RegisterRate, Burst: c.RegisterBurst}, NonceTTL: c.NonceTTL,
		AuthMaxFailures: c.AuthMaxFailures, AuthBlock: c.AuthBlock, TCPIdleTimeout: c.TCPIdleTimeout,
		TCPMaxConnsPerSource: c.TCPMaxConnsPerSource, Trusted: trusted}, nil
}

// HTTPConfig is the HTTP listener (metrics, API, screens, WebSocket).
type HTTPConfig struct {
	Listen string `yaml:"listen"`
	// ReadTimeout bounds reading a request with its body, WriteTimeout writing its
	// response, IdleTimeout a kept-alive connection's wait for the next request (a
	// WebSocket is free of them once upgraded). MaxBodyBytes bounds a request body.
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	IdleTimeout  time.Duration `yaml:"idle_timeout"`
	MaxBodyBytes int64         `yaml:"max_body_bytes"`
	// MetricsToken, when set, is the bearer token /metrics wants (Prometheus'
	// authorization: {credentials: …}); the page shows every seat's state.
	MetricsToken string `yaml:"metrics_token"`
	// MetricsListen, when set, serves /metrics (and /healthz) on this address only, e.g. an
	// address of the monitoring network, instead of beside the screens.
	MetricsListen string `yaml:"metrics_listen"`
}

// SeatsConfig names the seats and their digest credentials.
type SeatsConfig struct {
	// Count seats named seat-01 … seat-NN.
	Count int `yaml:"count"`
	// Password is one digest password for every seat (a quick start).
	Password string `yaml:"password"`
	// Credentials sets per-seat passwords; they win over Password.
	Credentials map[string]string `yaml:"credentials"`
	// Security is how seat phones must be reached: "default" for all, and per seat.
	Security map[string]SecurityConfig `yaml:"security"`
}

// ACDConfig is the queue and routing behaviour.
type ACDConfig struct {
	RingTimeout time.Duration `yaml:"ring_timeout"`
	WrapUp      time.Duration `yaml:"wrap_up"`
	MaxWait     time.Duration `yaml:"max_wait"`
	// MaxQueue bounds the waiting callers: 0 is 5× the seats, negative is no bound.
	MaxQueue int `yaml:"max_queue"`
	// ProbeInterval is how often a queued caller who sends no RTP is asked, with an
	// OPTIONS in its dialog, whether its phone is still there; two unanswered in a row
	// end the call. 0 is 20 s; negative never probes.
	ProbeInterval time.Duration `yaml:"probe_interval"`
	// HoldMusic is a WAV (any rate, mono PCM16) played to queued callers as early media;
	// empty plays the built-in tone pattern.
	HoldMusic string `yaml:"hold_music"`
}

// LineConfig maps a dialled number to the seats that serve it and its recogniser.
type LineConfig struct {
	Number   string   `yaml:"number"`
	Name     string   `yaml:"name"`
	Seats    []string `yaml:"seats"`
	ASR      string   `yaml:"asr"`
	Language string   `yaml:"language"`
	// Survey turns the satisfaction survey on or off for this line (default: survey.enabled).
	Survey *bool `yaml:"survey"`
	// Open takes this line's calls from any source, trunk or not.
	Open bool `yaml:"open"`
	// Security is what this line's callers must use (default: sip.caller_security).
	Security SecurityConfig `yaml:"security"`
}

// surveyed reports whether a line's callers get the satisfaction survey.
func (c Config) surveyed(line string) bool {
	for _, l := range c.Lines {
		if l.Number == line && l.Survey != nil {
			return *l.Survey
		}
	}
	return c.Survey.Enabled
}

// MediaConfig is the RTP side.
type MediaConfig struct {
	IP                string        `yaml:"ip"`
	PortMin           int           `yaml:"port_min"`
	PortMax           int           `yaml:"port_max"`
	InactivityTimeout time.Duration `yaml:"inactivity_timeout"`
	Jitter            time.Duration `yaml:"jitter"`
	Record            *bool         `yaml:"record"`
	// G722 offers seat phones G.722 first (default on): a wideband desk phone then gives
	// the recogniser the agent at 16 kHz.
	G722 *bool `yaml:"g722"`
	// RTCPInterval is the mean time between each leg's RTCP reports, and between ratings
	// of a call's audio; PoorMOS and PoorLoss flag a call (and, by its agent's leg, the
	// seat) on the wallboard: an E-model MOS below PoorMOS or more than PoorLoss of the
	// packets lost over one interval.
	RTCPInterval time.Duration `yaml:"rtcp_interval"`
	PoorMOS      float64       `yaml:"poor_mos"`
	PoorLoss     float64       `yaml:"poor_loss"`
}

// DispatchConfig is the department classifier.
type DispatchConfig struct {
	Taxonomy string `yaml:"taxonomy"`
	Model    string `yaml:"model"`
	// HotspotWindow and HotspotThreshold: how many similar calls at one place within the
	// window raise a hotspot alert.
	HotspotWindow    time.Duration `yaml:"hotspot_window"`
	HotspotThreshold int           `yaml:"hotspot_threshold"`
	// HotspotWebhook is the group robot each raised hotspot alert is posted to.
	HotspotWebhook WebhookConfig `yaml:"hotspot_webhook"`
}

// DeskConfig is the agent screens' login.
type DeskConfig struct {
	// Admins maps admin user names to passwords, plain or as bcrypt hashes ("$2…"); plain
	// ones are hashed when the file is read. They replace the built-in admin: with none, the
	// first start makes one with a random password (see deskAdmins).
	Admins   map[string]string `yaml:"admins"`
	TokenTTL time.Duration     `yaml:"token_ttl"`
	// TrustedProxies are reverse proxies (addresses or CIDR prefixes) in front of the
	// screens; only from them is ClientIPHeader (e.g. X-Forwarded-For) believed, so that the
	// login throttle counts each client rather than the proxy.
	TrustedProxies []string `yaml:"trusted_proxies"`
	ClientIPHeader string   `yaml:"client_ip_header"`
	// PIIReveal names the admins who hold pii:reveal: they may read transcripts with
	// callers' personal numbers unmasked (every reveal is audited).
	PIIReveal []string `yaml:"pii_reveal"`
}

// DefaultSeatPassword is the quick-start seat password, known to anyone who read the README:
// fine on loopback, refused on any other HTTP listener (see validate).
const DefaultSeatPassword = "lianxin"

// adminFile, in the data dir, keeps the hash of the admin made at first start.
const adminFile = "admin.passwd"

// Default is the built-in configuration: a 60-seat gateway on loopback.
func Default() Config {
	return Config{
		SIP:     SIPConfig{Listen: "127.0.0.1:5060", Realm: "lianxin", MaxCalls: 2000},
		HTTP:    HTTPConfig{Listen: "127.0.0.1:8080", ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxBodyBytes: 1 << 20},
		DataDir: "./data",
		Seats:   SeatsConfig{Count: 60, Password: DefaultSeatPassword},
		ACD:     ACDConfig{RingTimeout: 15 * time.Second, WrapUp: 5 * time.Second, MaxWait: 3 * time.Minute},
		Media: MediaConfig{PortMin: 20000, PortMax: 39999, InactivityTimeout: 30 * time.Second, Jitter: 60 * time.Millisecond,
			RTCPInterval: media.DefaultRTCPInterval, PoorMOS: 3.5, PoorLoss: 0.05},
		ASR:      engines.Config{Default: "pocketsphinx", Language: "en-US", MaxStreams: 10},
		Dispatch: DispatchConfig{HotspotWindow: 2 * time.Hour, HotspotThreshold: 3},
		Survey:   SurveyConfig{Enabled: true, Timeout: 5 * time.Second},
		Desk:     DeskConfig{TokenTTL: 12 * time.Hour},
		LogLevel: "info",
	}
}

// ReadFile reads a YAML config over cfg; unknown keys are refused.
func ReadFile(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, explainConfigError(err))
	}
	return nil
}

// ParseServeFlags reads the config file (if any) and applies the flags over it.
func ParseServeFlags(args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML config file (built-in defaults when empty)")
	sipListen := fs.String("sip-listen", "", "SIP address, UDP and TCP (default 127.0.0.1:5060); more after commas, e.g. 127.0.0.1:5060,[::1]:5060")
	httpListen := fs.String("http-listen", "", "HTTP address (default 127.0.0.1:8080)")
	dataDir := fs.String("data-dir", "", "data directory: recordings, database (default ./data)")
	asrName := fs.String("asr", "", "default recogniser (default: the embedded engine)")
	seats := fs.Int("seats", 0, "number of seats seat-01 … seat-NN (default 60)")
	seatPassword := fs.String("seat-password", "", "one digest password for every seat")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	cfg := Default()
	if *configPath != "" {
		if err := ReadFile(*configPath, &cfg); err != nil {
			return Config{}, err
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["sip-listen"] {
		cfg.SIP.Listen = *sipListen
	}
	if set["http-listen"] {
		cfg.HTTP.Listen = *httpListen
	}
	if set["data-dir"] {
		cfg.DataDir = *dataDir
	}
	if set["asr"] {
		cfg.ASR.Default = *asrName
	}
	if set["seats"] {
		cfg.Seats.Count = *seats
	}
	if set["seat-password"] {
		cfg.Seats.Password = *seatPassword
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	// hashed as soon as read, so no plain admin password stays in memory
	admins, err := desk.HashPasswords(cfg.Desk.Admins)
	if err != nil {
		return cfg, fmt.Errorf("desk: admins: %w", err)
	}
	cfg.Desk.Admins = admins
	return cfg, nil
}

// Validate checks what the file and flags say before anything starts.
func (c Config) Validate() error {
	var errs []error
	if c.Seats.Count < 1 || c.Seats.Count > 999 {
		errs = append(errs, fmt.Errorf("seats: count %d out of range 1–999", c.Seats.Count))
	}
	if c.Media.PortMin <= 0 || c.Media.PortMax <= c.Media.PortMin || c.Media.PortMax > 65535 {
		errs = append(errs, fmt.Errorf("media: bad RTP port range %d-%d", c.Media.PortMin, c.Media.PortMax))
	}
	if c.Media.Jitter < 0 || c.Media.Jitter > 60*time.Millisecond {
		errs = append(errs, fmt.Errorf("media: jitter window %s must be 0–60ms", c.Media.Jitter))
	}
	errs = append(errs, c.Media.validateQuality()...)
	if c.ACD.RingTimeout <= 0 {
		errs = append(errs, errors.New("acd: ring_timeout must be positive"))
	}
	if err := c.WorkOrder.validate(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.ForReports(); err != nil {
		errs = append(errs, err)
	}
	if err := c.checkExposedPasswords(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.SIP.security(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.inbound(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.checkSecurity()...)
	if _, err := parsePrefixes(c.Desk.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("desk: trusted_proxies: %w", err))
	}
	ids := map[string]bool{}
	for _, id := range c.seatIDs() {
		ids[id] = true
	}
	for _, l := range c.Lines {
		if l.Number == "" {
			errs = append(errs, errors.New("lines: a line without a number"))
		}
		for _, s := range l.Seats {
			if !ids[s] {
				errs = append(errs, fmt.Errorf("lines: %s names unknown seat %q", l.Number, s))
			}
		}
	}
	return errors.Join(errs...)
}

// validate refuses a delivery that could not be verified or could not be sent.
func (w WorkOrderConfig) validate() error {
	if w.URL == "" {
		return nil
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("workorder: url %q is not an http(s) URL", w.URL)
	}
	if len(w.Secret) < 16 {
		return errors.New("workorder: secret must be at least 16 characters: the receiver verifies each delivery with it")
	}
	if w.Timeout < 0 || w.MaxAge < 0 {
		return errors.New("workorder: timeout and max_age must not be negative")
	}
	return nil
}

// checkExposedPasswords refuses the built-in seat password on an HTTP listener that other
// machines can reach: with it anyone could log in to a seat's screen (and register its phone).
func (c Config) checkExposedPasswords() error {
	if loopbackListen(c.HTTP.Listen) {
		return nil
	}
	var weak []string
	for _, id := range c.seatIDs() {
		if p, ok := c.SeatPassword(id); ok && p == DefaultSeatPassword {
			weak = append(weak, id)
		}
	}
	if len(weak) == 0 {
		return nil
	}
	return fmt.Errorf("http: listening on %s (not loopback) while %d seats (%s…) still have the built-in password %q: "+
		"set seats.password or seats.credentials in the config, or --seat-password", c.HTTP.Listen, len(weak), weak[0], DefaultSeatPassword)
}

// loopbackListen reports whether addr (host:port) accepts connections from this machine
// only. An empty host, a wildcard or a name other than localhost counts as exposed.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// ForDesk is the desk's own configuration, less CheckSeat, which needs the ACD.
func (c Config) ForDesk(log *slog.Logger) (desk.Config, error) {
	admins, err := c.deskAdmins(log)
	if err != nil {
		return desk.Config{}, err
	}
	proxies, err := parsePrefixes(c.Desk.TrustedProxies)
	if err != nil {
		return desk.Config{}, fmt.Errorf("desk: trusted_proxies: %w", err)
	}
	for _, u := range c.Desk.PIIReveal {
		if _, ok := admins[u]; !ok {
			return desk.Config{}, fmt.Errorf("desk: pii_reveal names %q, who is not an admin", u)
		}
	}
	loc, err := c.Location()
	if err != nil {
		return desk.Config{}, fmt.Errorf("reports: %w", err)
	}
	dc := desk.Config{Users: admins, TokenTTL: c.Desk.TokenTTL, TrustedProxies: proxies,
		ClientIPHeader: c.Desk.ClientIPHeader, PIIReveal: c.Desk.PIIReveal, Location: loc}
	if c.recording() {
		dc.RecordDir = filepath.Join(c.DataDir, "recordings")
	}
	return dc, nil
}

// validateQuality checks the RTCP and call-quality keys.
func (m MediaConfig) validateQuality() []error {
	var errs []error
	if m.RTCPInterval < 500*time.Millisecond || m.RTCPInterval > time.Minute {
		errs = append(errs, fmt.Errorf("media: rtcp_interval %s must be 500ms–1m", m.RTCPInterval))
	}
	if m.PoorMOS < 1 || m.PoorMOS > 4.5 {
		errs = append(errs, fmt.Errorf("media: poor_mos %g must be 1–4.5", m.PoorMOS))
	}
	if m.PoorLoss <= 0 || m.PoorLoss >= 1 {
		errs = append(errs, fmt.Errorf("media: poor_loss %g must be a fraction above 0 and below 1", m.PoorLoss))
	}
	return errs
}

// recording reports whether calls are recorded (media.record, on by default).
func (c Config) recording() bool { return c.Media.Record == nil || *c.Media.Record }

// g722 reports whether seats are offered G.722 (media.g722, default on).
func (c Config) g722() bool { return c.Media.G722 == nil || *c.Media.G722 }

// parsePrefixes reads addresses ("10.0.0.5") and prefixes ("10.0.0.0/8").
func parsePrefixes(ss []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		if ip, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a prefix", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// deskAdmins are the screens' admins: those of the config when it names any; else the one
// kept in the data dir, made with a random password at first start. That password is logged
// once, at the start that made it, the way Jenkins shows its first admin password; the file
// keeps only its hash, and later starts log nothing.
func (c Config) deskAdmins(log *slog.Logger) (map[string]string, error) {
	if len(c.Desk.Admins) > 0 {
		return desk.HashPasswords(c.Desk.Admins)
	}
	path := filepath.Join(c.DataDir, adminFile)
	user, hash, password, err := desk.FirstAdmin(path)
	if err != nil {
		return nil, err
	}
	if password != "" {
		// shown once and never again: a log level that hides warnings must not swallow it
		level := slog.LevelWarn
		if !log.Enabled(context.Background(), level) {
			level = slog.LevelError
		}
		log.Log(context.Background(), level, "desk: no admins in the config, so an admin was made with this password; "+
			"it is shown only now, its hash is kept in the file (delete the file to make a new one, or set desk.admins)",
			"user", user, "password", password, "file", path)
	}
	return map[string]string{user: hash}, nil
}

// maxQueue is the ACD's queue bound: by default five callers per seat, so a flood
// cannot queue without end; 0 for the ACD means no bound.
func (c Config) maxQueue() int {
	switch {
	case c.ACD.MaxQueue == 0:
		return 5 * c.Seats.Count
	case c.ACD.MaxQueue < 0:
		return 0
	}
	return c.ACD.MaxQueue
}

// seatIDs are seat-01 … seat-NN (two digits at least).
func (c Config) seatIDs() []string {
	out := make([]string, c.Seats.Count)
	for i := range out {
		out[i] = fmt.Sprintf("seat-%02d", i+1)
	}
	return out
}

// SeatPassword is a seat's digest password: its own, else the shared one.
func (c Config) SeatPassword(id string) (string, bool) {
	if p, ok := c.Seats.Credentials[id]; ok {
		return p, true
	}
	if c.Seats.Password == "" {
		return "", false
	}
	return c.Seats.Password, true
}
