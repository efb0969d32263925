package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Where the tests find Tomcat: Debian's CATALINA_HOME (libtomcat10-java and
// tomcat10-common) and the stock configuration of the tomcat10 package, which .ci/deps
// unpacks (installing it would need systemd) into TomcatTemplates.
const (
	TomcatHome      = "/usr/share/tomcat10"
	TomcatTemplates = "/opt/clusterdoctor-test/tomcat10/usr/share/tomcat10/etc"
)

// RequireTomcat skips unless Tomcat 10 and its configuration templates are installed.
func RequireTomcat(t testing.TB) {
	t.Helper()
	RequireCommands(t, "java")
	for _, p := range []string{TomcatHome + "/bin/catalina.sh", TomcatHome + "/lib/catalina-ha.jar", TomcatTemplates + "/server.xml"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("skipped: %s is missing (the README's test command installs Tomcat 10)", p)
		}
	}
}

// TomcatSpec is one Tomcat instance: a CATALINA_BASE built from Debian's templates with
// the files given (paths relative to the base: "conf/server.xml",
// "webapps/ROOT/WEB-INF/web.xml", "bin/setenv.sh"), run with its own host name and hosts
// file.
type TomcatSpec struct {
	Name     string
	Files    map[string]string
	Hostname string
	Hosts    string
	// JavaOpts are added to JAVA_OPTS, after the lab's own (a small heap).
	JavaOpts string
	// Env adds variables to the JVM's environment (NAME=value); Nameserver, when set, is
	// its resolv.conf's name server (a lab host's DNS server), else 127.0.0.1.
	Env        []string
	Nameserver string
}

// Tomcat is a running instance started by the lab.
type Tomcat struct {
	Base string
	Cmd  *exec.Cmd
	Log  string // catalina.out: everything catalina.sh run writes
	Priv Private
	host *Host
}

// StartTomcat builds the CATALINA_BASE and starts "catalina.sh run" in the host, with a
// private /etc/hosts, host name and resolv.conf (no DNS query leaves the lab). The lab
// stops it by its PID at cleanup.
func (h *Host) StartTomcat(spec TomcatSpec) *Tomcat {
	h.lab.t.Helper()
	tc := h.tomcat(spec)
	cmd := h.Command(tc.Priv, TomcatHome+"/bin/catalina.sh", "run")
	f, err := os.Create(tc.Log)
	h.lab.must(err, "create %s", tc.Log)
	cmd.Stdout, cmd.Stderr = f, f
	h.lab.must(cmd.Start(), "start tomcat %s", spec.Name)
	f.Close()
	h.procs = append(h.procs, cmd)
	tc.Cmd = cmd
	return tc
}

// StartTomcatUnit starts the instance as systemd runs Debian's tomcat10.service: in the
// unit's cgroup with stdout and stderr to the journal, so it writes no catalina.out.
func (h *Host) StartTomcatUnit(j *Journald, unit string, spec TomcatSpec) *Tomcat {
	h.lab.t.Helper()
	tc := h.tomcat(spec)
	tc.Cmd = j.Unit(func(p Private) *exec.Cmd { return h.Command(p, TomcatHome+"/bin/catalina.sh", "run") }, tc.Priv, "tomcat", unit)
	return tc
}

// tomcat builds an instance's CATALINA_BASE and the private view it runs in.
func (h *Host) tomcat(spec TomcatSpec) *Tomcat {
	base := h.lab.TomcatBase(spec.Name, spec.Files)
	ns := spec.Nameserver
	if ns == "" {
		ns = "127.0.0.1"
	}
	resolv := h.lab.WriteFile("resolv-"+spec.Name, "nameserver "+ns+"\noptions timeout:1 attempts:1\n")
	opts := strings.TrimSpace("-Xms32m -Xmx128m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true " + spec.JavaOpts)
	priv := Private{Hosts: spec.Hosts, Hostname: spec.Hostname, Binds: map[string]string{"/etc/resolv.conf": resolv},
		Env: append([]string{"CATALINA_HOME=" + TomcatHome, "CATALINA_BASE=" + base, "CATALINA_TMPDIR=" + base + "/temp", "JAVA_OPTS=" + opts}, spec.Env...)}
	return &Tomcat{Base: base, Log: filepath.Join(base, "logs", "catalina.out"), Priv: priv, host: h}
}

// TomcatBase writes a CATALINA_BASE under the lab directory: Debian's stock conf files,
// then the given ones over them.
func (l *Lab) TomcatBase(name string, files map[string]string) string {
	l.t.Helper()
	base := l.Path("tomcat-" + name)
	for _, d := range []string{"conf", "logs", "temp", "work", "webapps", "bin", "lib"} {
		l.must(os.MkdirAll(filepath.Join(base, d), 0o755), "mkdir")
	}
	for _, f := range []string{"web.xml", "context.xml", "catalina.properties", "tomcat-users.xml", "jaspic-providers.xml", "logging.properties"} {
		b, err := os.ReadFile(filepath.Join(TomcatTemplates, f))
		l.must(err, "read template %s", f)
		l.must(os.WriteFile(filepath.Join(base, "conf", f), b, 0o644), "write %s", f)
	}
	for rel, content := range files {
		p := filepath.Join(base, rel)
		l.must(os.MkdirAll(filepath.Dir(p), 0o755), "mkdir %s", filepath.Dir(p))
		l.must(os.WriteFile(p, []byte(content), 0o644), "write %s", p)
	}
	return base
}

// WaitLog waits until catalina.out holds every text, or the process ends, or timeout;
// it fails the test with the log's tail when one never shows.
func (tc *Tomcat) WaitLog(t testing.TB, timeout time.Duration, texts ...string) string {
	t.Helper()
	return tc.WaitFile(t, "catalina.out", timeout, texts...)
}

// WaitFile is WaitLog for the newest log whose name starts with prefix ("localhost."
// for the host's log, where applications' exceptions go).
func (tc *Tomcat) WaitFile(t testing.TB, prefix string, timeout time.Duration, texts ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(newestLog(tc.Base, prefix))
		log := string(b)
		missing := ""
		for _, s := range texts {
			if !strings.Contains(log, s) {
				missing = s
				break
			}
		}
		if missing == "" {
			return log
		}
		if tc.Cmd.ProcessState != nil || time.Now().After(deadline) || exited(tc.Cmd) {
			t.Fatalf("tomcat %s: %q not logged in %s (%s):\n%s", tc.Base, missing, prefix, statusOf(tc.Cmd), tail([]byte(log), 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// newestLog is the last-modified file of base's logs/ whose name starts with prefix.
func newestLog(base, prefix string) string {
	ents, _ := os.ReadDir(filepath.Join(base, "logs"))
	best, bestTime := filepath.Join(base, "logs", prefix), time.Time{}
	for _, e := range ents {
		if info, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), prefix) && info.ModTime().After(bestTime) {
			best, bestTime = filepath.Join(base, "logs", e.Name()), info.ModTime()
		}
	}
	return best
}

// Started waits for "Server startup in" and returns the log.
func (tc *Tomcat) Started(t testing.TB) string {
	t.Helper()
	return tc.WaitLog(t, 90*time.Second, "Server startup in")
}

// Stop ends the instance with SIGTERM, as systemd does, and waits for it.
func (tc *Tomcat) Stop() { stop(tc.Cmd) }

// Kill ends the instance with SIGKILL: no shutdown, no goodbye to the cluster.
func (tc *Tomcat) Kill() {
	if tc.Cmd.Process != nil {
		tc.Cmd.Process.Kill()
		tc.Cmd.Wait()
	}
}

// PID is the JVM's process ID (ip netns exec, unshare, sh and catalina.sh all exec).
func (tc *Tomcat) PID() int { return tc.Cmd.Process.Pid }

// exited reports whether the process is gone (or a zombie), without reaping it.
func exited(c *exec.Cmd) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.Process.Pid))
	if err != nil {
		return true
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] == "Z"
}

func statusOf(c *exec.Cmd) string {
	if exited(c) {
		return "the JVM exited"
	}
	return "timed out"
}
