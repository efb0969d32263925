package tomcat

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// TestReadableBy: a file the service account's token lives in, judged against a real
// process of another user (nobody, started with setpriv) by its mode.
func TestReadableBy(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root to start a process as another user")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	private, public := filepath.Join(dir, "token"), filepath.Join(dir, "ca.crt")
	os.WriteFile(private, []byte("t"), 0o600)
	os.WriteFile(public, []byte("c"), 0o644)
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skipf("skipped: setpriv: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	env := &probes.Env{Root: "/"}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) { // until setpriv has changed its user
		if b, _ := env.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid), 64<<10); strings.Contains(string(b), "\nUid:\t65534") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("setpriv did not become uid 65534")
		}
	}
	if ok, why := readableBy(env, cmd.Process.Pid, private); ok || !strings.Contains(why, "uid 65534") {
		t.Errorf("a 0600 root file: readable %v (%s); want not, naming uid 65534", ok, why)
	}
	if ok, _ := readableBy(env, cmd.Process.Pid, public); !ok {
		t.Error("a 0644 file: not readable")
	}
	if ok, _ := readableBy(env, os.Getpid(), private); !ok {
		t.Error("root cannot read a 0600 root file")
	}
}
