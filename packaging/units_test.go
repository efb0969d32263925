package packaging

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// unitCaps reads a unit's CapabilityBoundingSet as setpriv's bounding-set argument.
func unitCaps(t *testing.T, unit string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("systemd", unit))
	if err != nil {
		t.Fatal(err)
	}
	caps := ""
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "ProtectClock=") && !strings.HasSuffix(line, "no") {
			t.Errorf("%s sets %s: its seccomp filter refuses adjtimex even read-only, and ntp.sync loses its kernel fallback", unit, line)
		}
		if v, ok := strings.CutPrefix(line, "CapabilityBoundingSet="); ok {
			for _, c := range strings.Fields(v) {
				caps += ",+" + strings.ToLower(strings.TrimPrefix(c, "CAP_"))
			}
		}
	}
	if caps == "" || strings.Contains(caps, "sys_time") {
		t.Fatalf("%s: capability bounding set %q; want one without sys_time", unit, caps)
	}
	return "-all" + caps, string(b)
}

// TestUnitsKeepEveryCheckKnown: run with exactly the capabilities the shipped units give
// it, on a host without an NTP daemon, preflight still reads the kernel's clock state; and
// the units' capabilities cannot change the clock.
func TestUnitsKeepEveryCheckKnown(t *testing.T) {
	lab.RequireCommands(t, "setpriv", "go")
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddMulticastRoute()
	bin := buildStatic(t)
	for _, unit := range []string{"clusterdoctor-agent.service", "clusterdoctor-preflight.service"} {
		bounding, _ := unitCaps(t, unit)
		out, _ := a.Command(lab.Private{}, "setpriv", "--bounding-set", bounding, bin, "preflight", "-o", "json", "--iface", "cl0").Output()
		var rep struct {
			Checks []struct{ ID, Status, Summary string }
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("%s: %v\n%s", unit, err, out)
		}
		for _, c := range rep.Checks {
			if c.ID == "ntp.sync" && (c.Status == "unknown" || !strings.Contains(c.Summary, "kernel clock")) {
				t.Errorf("%s: ntp.sync = %s %q; want the kernel clock's state read", unit, c.Status, c.Summary)
			}
		}
		// never tried for real: the clock is the machine's. The bounding set, read back
		// from the kernel, has no CAP_SYS_TIME (bit 25).
		status, err := a.Command(lab.Private{}, "setpriv", "--bounding-set", bounding, "grep", "CapBnd", "/proc/self/status").Output()
		var mask uint64
		if _, serr := fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(string(status), "CapBnd:")), "%x", &mask); err != nil || serr != nil || mask&(1<<25) != 0 || mask == 0 {
			t.Errorf("%s: CapBnd %q (%v); want a set without CAP_SYS_TIME", unit, status, err)
		}
	}
}

// buildStatic builds the binary as the packages ship it (static) into a temp dir.
func buildStatic(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "clusterdoctor")
	build := exec.Command("go", "build", "-o", bin, "../cmd/clusterdoctor")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// unitValue returns the value of key= in a unit file.
func unitValue(text, key string) string {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestAgentUnitLimitsFitTheAgent: the agent unit's MemoryMax= and TasksMax= leave at least
// four times what the agent really uses: it runs here in a namespace for a few runs of its
// checks, and its peak RSS (VmHWM) and thread count are read from the kernel.
func TestAgentUnitLimitsFitTheAgent(t *testing.T) {
	lab.RequireCommands(t, "go")
	_, text := unitCaps(t, "clusterdoctor-agent.service")
	var memMB, tasks int
	if _, err := fmt.Sscanf(unitValue(text, "MemoryMax"), "%dM", &memMB); err != nil {
		t.Fatalf("MemoryMax=%q: %v; want a value in M", unitValue(text, "MemoryMax"), err)
	}
	if _, err := fmt.Sscanf(unitValue(text, "TasksMax"), "%d", &tasks); err != nil {
		t.Fatalf("TasksMax=%q: %v", unitValue(text, "TasksMax"), err)
	}
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddMulticastRoute()
	bin := buildStatic(t)
	agent := a.Start(lab.Private{}, "agent", bin, "agent", "--iface", "cl0", "--interval", "1s", "--listen", "127.0.0.1:9717")
	time.Sleep(4 * time.Second)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", agent.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	var hwmKB, threads int
	for _, line := range strings.Split(string(status), "\n") {
		fmt.Sscanf(line, "VmHWM: %d kB", &hwmKB)
		fmt.Sscanf(line, "Threads: %d", &threads)
	}
	if hwmKB == 0 || threads == 0 {
		t.Fatalf("no VmHWM or Threads in /proc/PID/status:\n%s", status)
	}
	t.Logf("agent: VmHWM %d kB, %d threads; unit: MemoryMax=%dM TasksMax=%d", hwmKB, threads, memMB, tasks)
	if memMB*1024 < 4*hwmKB || tasks < 4*threads {
		t.Errorf("unit limits MemoryMax=%dM TasksMax=%d leave less than 4x the agent's %d kB and %d threads", memMB, tasks, hwmKB, threads)
	}
}
