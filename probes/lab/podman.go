package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RequirePodman skips unless Podman with runc and netavark is installed (the README's test
// command installs them).
func RequirePodman(t testing.TB) {
	t.Helper()
	RequireCommands(t, "podman", "runc", "nsenter")
	if _, err := os.Stat("/usr/lib/podman/netavark"); err != nil {
		t.Skip("skipped: netavark is not installed (the README's test command installs it)")
	}
}

// ContainerSpec is one container run with the machine's own root as an overlay (no image
// is downloaded): a Tomcat's CATALINA_BASE bound at /usr/local/tomcat, as the official
// image keeps it, run by Debian's Tomcat 10.1 as the container's first process.
type ContainerSpec struct {
	Name, Hostname string
	// Base is the CATALINA_BASE (TomcatBase) bound at /usr/local/tomcat.
	Base string
	// Publish is podman's -p (127.0.0.1:8080:8080).
	Publish []string
	// Hosts replaces the container's /etc/hosts (podman's own otherwise).
	Hosts string
	// Binds are more files bound into the container, read-only: path inside -> host path.
	Binds map[string]string
}

// Container is a running container the lab started in a host's network namespace.
type Container struct {
	Name string // podman's name, prefixed with the lab's
	Base string
	PID  int // the JVM, the container's first process
	host *Host
	Log  string
}

// podman runs podman in the host's network namespace, where netavark makes the bridge
// (podman0) and its NAT (`ip netns exec` would remount /sys, where podman then finds no
// cgroup), with the settings this kind of machine needs: runc (crun refuses hybrid
// cgroups), cgroupfs, and no default ulimits above the machine's hard limits.
func (h *Host) podman(args ...string) *exec.Cmd {
	conf := h.lab.Path("containers.conf")
	if _, err := os.Stat(conf); err != nil {
		h.lab.must(os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = []\n"), 0o644), "write containers.conf")
	}
	argv := append([]string{"--net=/run/netns/" + h.name, "podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"}, args...)
	cmd := exec.Command("nsenter", argv...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
	return cmd
}

// StartContainer runs a Tomcat container in the host and waits for its JVM. The lab
// removes the container, by its name, at cleanup.
func (h *Host) StartContainer(spec ContainerSpec) *Container {
	h.lab.t.Helper()
	c := &Container{Name: h.lab.prefix + "-" + spec.Name, Base: spec.Base, host: h, Log: filepath.Join(spec.Base, "logs", "catalina.out")}
	args := []string{"run", "-d", "--name", c.Name, "--hostname", spec.Hostname,
		"--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096",
		"-v", spec.Base + ":/usr/local/tomcat",
		"-e", "CATALINA_HOME=" + TomcatHome, "-e", "CATALINA_BASE=/usr/local/tomcat", "-e", "CATALINA_TMPDIR=/usr/local/tomcat/temp",
		"-e", "JAVA_OPTS=-Xms32m -Xmx128m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true"}
	for _, p := range spec.Publish {
		args = append(args, "-p", p)
	}
	for inside, host := range spec.Binds {
		args = append(args, "-v", host+":"+inside+":ro")
	}
	if spec.Hosts != "" {
		args = append(args, "-v", h.lab.WriteFile(c.Name+"-hosts", spec.Hosts)+":/etc/hosts")
	}
	// every option before --rootfs: its argument is the root, what follows the command
	args = append(args, "--rootfs", "/:O", "/bin/sh", "-c", "exec "+TomcatHome+"/bin/catalina.sh run >>/usr/local/tomcat/logs/catalina.out 2>&1")
	var out bytes.Buffer
	cmd := h.podman(args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	h.lab.t.Cleanup(func() { h.RemoveContainer(c) })
	h.lab.must(cmd.Run(), "podman run %s: %s", c.Name, out.String())
	c.PID = h.containerPID(c.Name)
	return c
}

// containerPID asks podman for the container's first process.
func (h *Host) containerPID(name string) int {
	h.lab.t.Helper()
	var out bytes.Buffer
	cmd := h.podman("inspect", "--format", "{{.State.Pid}}", name)
	cmd.Stdout = &out
	h.lab.must(cmd.Run(), "podman inspect %s", name)
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	h.lab.must(err, "pid of %s: %q", name, out.String())
	return pid
}

// RemoveContainer removes the container by its name (its JVM gets SIGTERM, then SIGKILL
// after 2 s); the bridge goes with the last container.
func (h *Host) RemoveContainer(c *Container) {
	var out bytes.Buffer
	cmd := h.podman("rm", "-f", "-t", "2", c.Name)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil && !strings.Contains(out.String(), "no such container") {
		h.lab.t.Errorf("lab: podman rm %s: %v: %s", c.Name, err, out.String())
	}
}

// WaitLog waits until the container's catalina.out holds every text.
func (c *Container) WaitLog(t testing.TB, timeout time.Duration, texts ...string) string {
	t.Helper()
	return c.waitIn(t, func() string { return c.Log }, timeout, texts...)
}

// WaitFile waits until the newest file of the container's logs/ whose name starts with
// prefix ("localhost." for the host's application log) holds every text, and returns it.
func (c *Container) WaitFile(t testing.TB, prefix string, timeout time.Duration, texts ...string) string {
	t.Helper()
	return c.waitIn(t, func() string { return newestLog(c.Base, prefix) }, timeout, texts...)
}

func (c *Container) waitIn(t testing.TB, file func() string, timeout time.Duration, texts ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(file())
		missing := ""
		for _, s := range texts {
			if !strings.Contains(string(b), s) {
				missing = s
				break
			}
		}
		if missing == "" {
			return string(b)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", c.PID)); err != nil || time.Now().After(deadline) {
			t.Fatalf("container %s: %q not logged in %s:\n%s", c.Name, missing, file(), tail(b, 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Exec runs a command inside the container, in all its namespaces (podman exec), and
// returns what it wrote and its exit code.
func (c *Container) Exec(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := c.host.podman(append([]string{"exec", c.Name}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("podman exec %s %v: %v", c.Name, args, err)
	}
	return out.String(), errb.String(), code
}
