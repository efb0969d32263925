// Package packaging holds no code: its test builds the packages with make packages'
// script and installs the .deb on this machine for real.
package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestPackages builds the .deb and .rpm for amd64 and arm64, checks the .rpm's file list
// with rpm -qpl, installs this machine's .deb with dpkg -i, runs what it installed
// (clusterdoctor --help, man clusterdoctor, systemd-analyze verify on its units) and
// purges it, after which none of its files is left.
func TestPackages(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: installs the package with dpkg -i")
	}
	for _, tool := range []string{"dpkg", "rpm", "man", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (make deps installs it)", tool)
		}
	}
	if err := exec.Command("dpkg-query", "-W", "clusterdoctor").Run(); err == nil {
		t.Skip("a clusterdoctor package is installed on this machine: not touching it")
	}
	dist := t.TempDir()
	build := exec.Command("./packaging/build.sh")
	build.Dir = ".."
	build.Env = append(os.Environ(), "DIST="+dist, "VERSION=1.2.3")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	want := []string{"/usr/bin/clusterdoctor", "/usr/share/man/man1/clusterdoctor.1.gz",
		"/usr/share/man/man1/clusterdoctor-preflight.1.gz", "/usr/share/bash-completion/completions/clusterdoctor",
		"/usr/share/zsh/vendor-completions/_clusterdoctor", "/usr/share/fish/vendor_completions.d/clusterdoctor.fish",
		"/usr/lib/systemd/system/clusterdoctor-agent.service", "/usr/lib/systemd/system/clusterdoctor-preflight.timer",
		"/etc/clusterdoctor/clusterdoctor.yaml", "/usr/share/doc/clusterdoctor/examples/prometheus-alerts.yml",
		"/usr/share/doc/clusterdoctor/examples/ansible/clusterdoctor.yml"}
	for _, rpm := range []string{"clusterdoctor-1.2.3-1.x86_64.rpm", "clusterdoctor-1.2.3-1.aarch64.rpm"} {
		list := run(t, "rpm", "-qpl", filepath.Join(dist, "packages", rpm))
		for _, f := range want {
			if !strings.Contains(list, f+"\n") {
				t.Errorf("%s lacks %s:\n%s", rpm, f, list)
			}
		}
	}
	deb := filepath.Join(dist, "packages", "clusterdoctor_1.2.3_"+runtime.GOARCH+".deb")
	t.Cleanup(func() { exec.Command("dpkg", "--purge", "clusterdoctor").Run() })
	run(t, "dpkg", "-i", deb)
	var files []string
	for _, f := range strings.Split(strings.TrimSpace(run(t, "dpkg", "-L", "clusterdoctor")), "\n") {
		if st, err := os.Stat(f); err != nil {
			t.Errorf("dpkg -L lists %s: %v", f, err)
		} else if !st.IsDir() {
			files = append(files, f)
		}
	}
	for _, f := range want {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	if out := run(t, "/usr/bin/clusterdoctor", "--help"); !strings.Contains(out, "preflight") {
		t.Errorf("clusterdoctor --help:\n%s", out)
	}
	if out := run(t, "/usr/bin/clusterdoctor", "version"); !strings.Contains(out, "1.2.3") {
		t.Errorf("version: %s", out)
	}
	for page, want := range map[string]string{"clusterdoctor": "clusterdoctor-mcast-test(1)", "clusterdoctor-preflight": "--textfile"} {
		man := exec.Command("man", page)
		man.Env = append(os.Environ(), "MANPAGER=cat", "MANWIDTH=100")
		if out, err := man.CombinedOutput(); err != nil || !strings.Contains(string(out), want) {
			t.Errorf("man %s: %v\n%.400s", page, err, out)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		units, _ := filepath.Glob("/usr/lib/systemd/system/clusterdoctor-*")
		if out, err := exec.Command("systemd-analyze", append([]string{"verify"}, units...)...).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify %v: %v\n%s", units, err, out)
		}
	} else {
		t.Log("systemd-analyze not found: units not verified")
	}
	// The shipped configuration is read by default: it must parse (a usage error is 2).
	pf := exec.Command("/usr/bin/clusterdoctor", "preflight", "-o", "json", "--skip", "ntp.sync")
	if out, err := pf.CombinedOutput(); pf.ProcessState.ExitCode() >= 2 {
		t.Errorf("preflight with the shipped configuration: %v\n%s", err, out)
	}

	run(t, "dpkg", "--purge", "clusterdoctor")
	for _, f := range append(files, "/etc/clusterdoctor") {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("left behind after dpkg --purge: %s", f)
		}
	}
}

// TestAlertRules: the example alert rules load in Prometheus (promtool check rules, from
// Debian's prometheus package that .ci/deps unpacks).
func TestAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		promtool = "/opt/clusterdoctor-test/prometheus/usr/bin/promtool"
	}
	if _, err := os.Stat(promtool); err != nil {
		t.Skip("promtool not found (make deps unpacks Debian's)")
	}
	out, err := exec.Command(promtool, "check", "rules", "examples/prometheus-alerts.yml").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS: 7 rules found") {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
}
