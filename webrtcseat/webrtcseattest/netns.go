package webrtcseattest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"lianxin/internal/testpeer"
)

// netnsEnv marks the run of a test inside its loopback-only network namespace.
const netnsEnv = "LIANXIN_LOOPBACK_NETNS"

// LoopbackNamespace runs the calling top-level test again, in a child process inside a
// network namespace of its own with only loopback up (unshare -n, then ip link set lo up),
// and reports whether the caller is that child. A browser gathers ICE candidates on every
// interface it sees; in that namespace there is none but loopback, so no test packet can
// leave the host. Use it as the first line of a test:
//
//	if !webrtcseattest.LoopbackNamespace(t) {
//		return // the child ran the test; its result is this test's
//	}
func LoopbackNamespace(t *testing.T) bool {
	t.Helper()
	if os.Getenv(netnsEnv) == "1" {
		return true
	}
	for _, p := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(p); err != nil {
			testpeer.Unavailable(t, "needs %s (util-linux, iproute2) for a loopback-only network namespace", p)
		}
	}
	if probe := exec.Command("unshare", "-n", "true"); probe.Run() != nil {
		testpeer.Unavailable(t, "cannot create a network namespace (unshare -n needs root or user namespaces)")
	}
	args := []string{"-n", "--", "sh", "-c", `ip link set lo up && exec "$@"`, "sh", os.Args[0],
		"-test.run", "^" + t.Name() + "$", "-test.count=1", "-test.v"}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in a loopback-only network namespace:\n%s", out)
	switch {
	case err != nil:
		t.Fatalf("the test failed in its network namespace: %v", err)
	case strings.Contains(string(out), "--- SKIP: "+t.Name()):
		t.Skip("skipped in its network namespace (see the log)")
	case !strings.Contains(string(out), "--- PASS: "+t.Name()):
		t.Fatalf("the test did not run in its network namespace")
	}
	return false
}
