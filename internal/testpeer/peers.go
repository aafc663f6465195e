// Package testpeer runs real SIP peers for tests: baresip as a registered seat phone or
// a caller, and sipp as a caller or load generator, all on loopback.
package testpeer

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireEnv is set to 1 by make test, which installs every peer: a test that would skip
// for a missing part then fails instead, so no end-to-end test is ever skipped silently.
const RequireEnv = "LIANXIN_REQUIRE_PEERS"

// Require stops the test when a peer program is not installed: it fails under make test
// and skips loudly elsewhere.
func Require(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			Unavailable(t, "%s not installed (make test installs it): %v", p, err)
		}
	}
}

// Unavailable stops a test whose real peer or part is missing here: a failure under make
// test (RequireEnv=1), else a skip marked as an end-to-end test not run.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("end-to-end test cannot run: %s", msg)
	}
	t.Skipf("SKIPPED END-TO-END TEST: %s", msg)
}

// portMu keeps two peers of one test binary from picking the same free ports.
var portMu sync.Mutex

// FreeUDPPorts returns n consecutive free UDP ports starting at an even port.
func FreeUDPPorts(t testing.TB, n int) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for try := 0; try < 200; try++ {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		if base+n > 65000 || base < 1024 {
			continue
		}
		ok := true
		var held []net.PacketConn
		for p := base; p < base+n && ok; p++ {
			hc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			held = append(held, hc)
			if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
				l.Close()
			} else {
				ok = false
			}
		}
		for _, h := range held {
			h.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free UDP port range")
	return 0
}

// Baresip is a running baresip softphone.
type Baresip struct {
	Dir  string
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
	once sync.Once
}

// BaresipOptions describe a baresip instance.
type BaresipOptions struct {
	// Gateway is the gateway's SIP address, host:port.
	Gateway string
	// User and Password register a seat (with auto-answer); empty User makes a caller only.
	User, Password string
	// Audio is the WAV it sends (mono PCM16 at SampleRate). baresip hangs up when it ends, so a
	// seat's audio must outlast the call.
	Audio string
	// Dial makes it call this URI at start.
	Dial string
	// Transport is "udp" (default), "tcp" or "tls" (Gateway is then the TLS address).
	Transport string
	// CAFile is the PEM file baresip verifies the gateway's TLS certificate with.
	CAFile string
	// MediaEnc turns SRTP on: "srtp" (offered beside plain RTP, taken when offered) or
	// "srtp-mand" (RTP/SAVP only; a plain offer is refused with 488).
	MediaEnc string
	// Codecs limits the phone's codecs (default "pcmu,pcma"; G.722 is "g722/16000/1").
	Codecs string
	// SampleRate is the rate of Audio and of what it records (default 8000; 16000 for a
	// wideband phone, whose G.722 then carries what 8 kHz cannot).
	SampleRate int
	// Manual leaves incoming calls ringing (no auto-answer): a seat that does not pick up.
	Manual bool
	// Lifetime bounds the process (-t).
	Lifetime time.Duration
	// RTCPMux makes it offer and accept RTCP on the RTP port (RFC 5761); by default it
	// sends RTCP from the port above.
	RTCPMux bool
}

// StartBaresip starts baresip in its own folder; with a User it waits for the
// registration's answer (200 OK, or a failure when the password is wrong).
func StartBaresip(t testing.TB, o BaresipOptions) *Baresip {
	t.Helper()
	Require(t, "baresip")
	// Ports free a moment ago can be taken by another test binary running beside this one
	// (FreeUDPPorts only coordinates this process): start again on others.
	for try := 0; ; try++ {
		b := startBaresip(t, o)
		if try == 4 || !b.portTaken() {
			return b
		}
		t.Logf("baresip: a port was taken by another process; retrying on others")
	}
}

// portTaken waits until baresip is up or has died, and reports whether it died because
// its SIP or RTP port was taken.
func (b *Baresip) portTaken() bool {
	for range 100 {
		log := b.log.String()
		if strings.Contains(log, "baresip is ready") {
			return false
		}
		select {
		case <-b.done:
			return strings.Contains(b.log.String(), "Address already in use")
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

func startBaresip(t testing.TB, o BaresipOptions) *Baresip {
	t.Helper()
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	if err := os.MkdirAll(rec, 0o755); err != nil {
		t.Fatal(err)
	}
	base := FreeUDPPorts(t, 44)
	rate := o.SampleRate
	if rate == 0 {
		rate = 8000
	}
	cfg := fmt.Sprintf(`module_path /usr/lib/baresip/modules
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
audio_source aufile,%s
audio_player aubridge,nil
audio_alert aubridge,nil
ausrc_srate %d
auplay_srate %d
ausrc_channels 1
auplay_channels 1
rtp_ports %d-%d
snd_path %s
module g711.so
module g722.so
module aufile.so
module aubridge.so
module sndfile.so
module_tmp uuid.so
module_tmp account.so
module_app menu.so
statmode_default off
rtcp_mux %s
`, base, o.Audio, rate, rate, base+4, base+42, rec, yesNo(o.RTCPMux))
	if o.MediaEnc != "" {
		cfg += "module srtp.so\n"
	}
	if o.CAFile != "" {
		cfg += "sip_cafile " + o.CAFile + "\n"
	}
	user := o.User
	if user == "" {
		user = "caller"
	}
	codecs := o.Codecs
	if codecs == "" {
		codecs = "pcmu,pcma"
	}
	transport := o.Transport
	if transport == "" {
		transport = "udp"
	}
	acct := fmt.Sprintf("<sip:%s@%s;transport=%s>;audio_codecs=%s", user, o.Gateway, transport, codecs)
	if o.MediaEnc != "" {
		acct += ";mediaenc=" + o.MediaEnc
	}
	if o.User != "" {
		acct += fmt.Sprintf(";auth_user=%s;auth_pass=%s;regint=60;answermode=%s", o.User, o.Password, answerMode(o.Manual))
	} else {
		acct += ";regint=0"
	}
	write(t, filepath.Join(dir, "config"), cfg)
	write(t, filepath.Join(dir, "accounts"), acct+"\n")
	life := o.Lifetime
	if life == 0 {
		life = 60 * time.Second
	}
	args := []string{"-f", dir, "-t", fmt.Sprint(int(life.Seconds()))}
	if o.Dial != "" {
		args = append(args, "-e", "/dial "+o.Dial)
	}
	b := &Baresip{Dir: dir, log: &lockedBuffer{}, done: make(chan struct{})}
	b.cmd = exec.Command("baresip", args...)
	b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	t.Cleanup(b.Stop)
	return b
}

// WaitLog waits until baresip's output contains s.
func (b *Baresip) WaitLog(t testing.TB, s string, within time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if strings.Contains(b.log.String(), s) {
			return true
		}
		select {
		case <-b.done:
			return strings.Contains(b.log.String(), s)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

// Log is everything baresip printed so far.
func (b *Baresip) Log() string { return b.log.String() }

// Done is closed when the process exits.
func (b *Baresip) Done() <-chan struct{} { return b.done }

// Received returns the WAVs baresip recorded of the audio it received (one per call;
// each readable once its call ended).
func (b *Baresip) Received() []string {
	m, _ := filepath.Glob(filepath.Join(b.Dir, "rec", "*-dec.wav"))
	return m
}

// Stop ends baresip (it un-REGISTERs first) and waits for it to exit.
func (b *Baresip) Stop() {
	b.once.Do(func() {
		if b.cmd.Process != nil {
			_ = b.cmd.Process.Signal(os.Interrupt)
		}
		select {
		case <-b.done:
		case <-time.After(5 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.done
		}
	})
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func write(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Sipp runs sipp with args in dir and returns its exit error and combined output.
func Sipp(ctx context.Context, t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	Require(t, "sipp")
	port := FreeUDPPorts(t, 2)
	base := []string{"-i", "127.0.0.1", "-ci", "127.0.0.1", "-cp", fmt.Sprint(port + 1), "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "sipp_err.log")}
	cmd := exec.CommandContext(ctx, "sipp", append(base, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "sipp_err.log"))
		return string(out) + "\n" + string(errs), err
	}
	return string(out), nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func answerMode(manual bool) string {
	if manual {
		return "manual"
	}
	return "auto"
}
