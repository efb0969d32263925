package lab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// JournaldPath is systemd-journald's binary on Debian.
const JournaldPath = "/lib/systemd/systemd-journald"

// Journald is a real systemd-journald for one host. It runs in a mount namespace of its
// own whose /run is the directory Run, so its sockets (/run/systemd/journal/...) and its
// volatile journal (/run/log/journal) are reachable from the test and from the commands
// started by Service, and the machine's /run and /var/log/journal stay untouched.
type Journald struct {
	Run string
	h   *Host
}

// journaldConf keeps everything in memory and reads nothing of the machine: no kernel
// log, no audit, nothing forwarded to syslog, the console or wall.
const journaldConf = `[Journal]
Storage=volatile
ReadKMsg=no
Audit=no
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
`

// StartJournald runs systemd-journald in the host and waits for its stdout socket. It
// skips the test when systemd-journald is not installed.
func (h *Host) StartJournald() *Journald {
	l := h.lab
	l.t.Helper()
	if !fileExists(JournaldPath) {
		l.t.Skip("skipped: no " + JournaldPath + " (install systemd)")
	}
	RequireCommands(l.t, "journalctl")
	// Not under the test's temp dir: socket paths must stay below 108 bytes.
	run, err := os.MkdirTemp("", "cd-run-")
	l.must(err, "make a /run for journald")
	l.t.Cleanup(func() { os.RemoveAll(run) })
	conf := l.WriteFile("journald-"+h.Name+".conf", journaldConf)
	cmd := h.Start(Private{NoClock: true, Setup: []string{
		"mount --bind " + run + " /run",
		"mkdir -p /run/systemd/journal",
		strings.Join(cgroupMounts(), "\n"),
		"mount --bind " + conf + " /etc/systemd/journald.conf",
		"if [ -d /var/log/journal ]; then mount -t tmpfs lab-journal /var/log/journal; fi",
	}}, "journald-"+h.Name, JournaldPath)
	j := &Journald{Run: run, h: h}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("unix", j.stdoutSocket()); err == nil { // bound and listening
			c.Close()
			l.requireNoClock(cmd)
			return j
		}
	}
	log, _ := os.ReadFile(l.Path("journald-" + h.Name + ".log"))
	l.t.Fatalf("lab: systemd-journald for %s did not start:\n%s", h.Name, log)
	return nil
}

// cgroupMounts gives a command back the cgroup tree `ip netns exec` takes away (its fresh
// sysfs has none, and journald does not start without one: "failed to acquire cgroup root
// path"): the machine's own hierarchies, mounted again in the command's mount namespace.
func cgroupMounts() []string {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return []string{"mount -t cgroup2 lab-cgroup2 /sys/fs/cgroup"}
	}
	m := []string{"mount -t tmpfs lab-cgroup /sys/fs/cgroup", "mkdir /sys/fs/cgroup/systemd",
		"mount -t cgroup -o none,name=systemd lab-cgroup /sys/fs/cgroup/systemd"}
	if fileExists("/sys/fs/cgroup/unified") {
		m = append(m, "mkdir /sys/fs/cgroup/unified", "mount -t cgroup2 lab-cgroup2 /sys/fs/cgroup/unified")
	}
	return m
}

func (j *Journald) stdoutSocket() string { return j.Run + "/systemd/journal/stdout" }

// Service runs a command in the host the way systemd runs a service with
// StandardOutput=journal: stdout and stderr on one stream connection to journald opened
// with the identifier, JOURNAL_STREAM naming that connection's device and inode, and
// /run shared with journald so /run/systemd/journal/socket is there. The lab stops the
// command at cleanup.
func (j *Journald) Service(priv Private, identifier, name string, args ...string) *exec.Cmd {
	j.h.lab.t.Helper()
	priv.Setup = append([]string{"mount --bind " + j.Run + " /run"}, priv.Setup...)
	return j.start(j.h.Command(priv, name, args...), priv, identifier, "")
}

// Unit is Service for a command that runs as systemd unit: the stream names the unit, and
// the process is moved into the unit's cgroup (system.slice/UNIT, removed at cleanup), as
// systemd places a service, so /proc/PID/cgroup names it.
func (j *Journald) Unit(cmd func(Private) *exec.Cmd, priv Private, identifier, unit string) *exec.Cmd {
	l := j.h.lab
	l.t.Helper()
	priv.Setup = append([]string{"mount --bind " + j.Run + " /run"}, priv.Setup...)
	c := j.start(cmd(priv), priv, identifier, unit)
	dir := "/sys/fs/cgroup/systemd/system.slice/" + unit
	if !fileExists("/sys/fs/cgroup/systemd") {
		dir = "/sys/fs/cgroup/system.slice/" + unit
	}
	l.must(os.MkdirAll(dir, 0o755), "make cgroup %s", dir)
	l.t.Cleanup(func() {
		stop(c)
		for i := 0; i < 50 && os.Remove(dir) != nil; i++ { // empty once the process is reaped
			time.Sleep(20 * time.Millisecond)
		}
		os.Remove(filepath.Dir(dir)) // system.slice, if this made it and nothing else is in it
	})
	l.must(os.WriteFile(dir+"/cgroup.procs", []byte(fmt.Sprint(c.Process.Pid)), 0o644), "move pid %d into %s", c.Process.Pid, dir)
	return c
}

// start runs cmd with stdout and stderr on a new journal stream.
func (j *Journald) start(cmd *exec.Cmd, priv Private, identifier, unit string) *exec.Cmd {
	l := j.h.lab
	l.t.Helper()
	stream, err := j.stream(identifier, unit)
	l.must(err, "open a journal stream")
	defer stream.Close()
	var st syscall.Stat_t
	l.must(syscall.Fstat(int(stream.Fd()), &st), "stat the journal stream")
	cmd.Env = append(os.Environ(), fmt.Sprintf("JOURNAL_STREAM=%d:%d", st.Dev, st.Ino))
	cmd.Stdout, cmd.Stderr = stream, stream
	l.must(cmd.Start(), "start %v", cmd.Args)
	j.h.procs = append(j.h.procs, cmd)
	return cmd
}

// stream connects to journald's stdout socket and sends the header systemd sends for a
// service (sd_journal_stream_fd): identifier, unit, priority, level prefix, and no
// forwarding to syslog, kmsg or the console.
func (j *Journald) stream(identifier, unit string) (*os.File, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "journal-stream")
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: j.stdoutSocket()}); err != nil {
		f.Close()
		return nil, fmt.Errorf("connect %s: %w", j.stdoutSocket(), err)
	}
	if err := syscall.Shutdown(fd, syscall.SHUT_RD); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.WriteString(identifier + "\n" + unit + "\n6\n1\n0\n0\n0\n"); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Entries reads the journal as `journalctl -D /run/log/journal -o json MATCH...` does,
// each entry as field -> value (binary and repeated fields are left out).
func (j *Journald) Entries(matches ...string) []map[string]string {
	l := j.h.lab
	l.t.Helper()
	args := append([]string{"-D", j.Run + "/log/journal", "-o", "json", "--no-pager"}, matches...)
	out, err := exec.Command("journalctl", args...).Output()
	l.must(err, "journalctl %v", args)
	var entries []map[string]string
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var raw map[string]any
		l.must(dec.Decode(&raw), "decode journalctl output")
		e := map[string]string{}
		for k, v := range raw {
			if s, ok := v.(string); ok {
				e[k] = s
			}
		}
		entries = append(entries, e)
	}
	return entries
}
