package lab

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// NtpsecDir is where the test set-up (.ci/deps) unpacks ntpsec, which Debian will not
// install beside chrony.
const NtpsecDir = "/opt/clusterdoctor-test/ntpsec"

// NtpdPath finds an ntpd binary: on PATH, else the unpacked ntpsec; "" if neither.
func NtpdPath() string {
	if p, err := exec.LookPath("ntpd"); err == nil {
		return p
	}
	if p := NtpsecDir + "/usr/sbin/ntpd"; fileExists(p) {
		return p
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// StartNtpd runs ntpd (ntpsec or ntp) on h as a client of server. ntpd has no "never
// touch the clock" switch that still lets it synchronise (with "disable ntp" it never
// leaves leap=11, and it still writes the kernel's discipline flags), so it runs without
// CAP_SYS_TIME: it disciplines as usual and the kernel refuses every change to the clock
// shared with the real host (ntpd logs "Operation not permitted"). It returns once ntpd
// listens on 127.0.0.1:123, where mode 6 queries go.
func (h *Host) StartNtpd(server string) *exec.Cmd {
	l := h.lab
	l.t.Helper()
	bin := NtpdPath()
	if bin == "" {
		l.t.Skip("skipped: no ntpd (make deps unpacks ntpsec into " + NtpsecDir + ")")
	}
	dir := l.Path("ntpd-" + h.Name)
	l.must(os.MkdirAll(dir, 0o700), "mkdir %s", dir)
	conf := strings.Join([]string{
		fmt.Sprintf("server %s iburst minpoll 0 maxpoll 0", server),
		"restrict default", "restrict 127.0.0.1",
		"disable kernel",
		"driftfile " + dir + "/drift", ""}, "\n")
	l.must(os.WriteFile(dir+"/ntp.conf", []byte(conf), 0o644), "write ntp.conf")
	logFile := dir + "/ntpd.log"
	cmd := h.Start(Private{NoClock: true}, "ntpd-"+h.Name, bin, "-n", "-c", dir+"/ntp.conf", "-p", dir+"/ntpd.pid", "-l", logFile)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, _ := os.ReadFile(logFile); strings.Contains(string(b), "127.0.0.1:123") {
			l.requireNoClock(cmd)
			return cmd
		}
	}
	log, _ := os.ReadFile(logFile)
	l.t.Fatalf("lab: ntpd on %s does not listen on 127.0.0.1:123: %s", h.Name, log)
	return nil
}
