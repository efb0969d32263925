package main_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/cluster"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/report"
)

// renderInChromium loads page in Debian's headless Chromium, in a network namespace of
// its own with nothing but loopback, and returns the DOM it built. Any console message
// (a script error, a resource the page's Content-Security-Policy refused: the page must
// fetch nothing) fails the test. The screenshot is kept as name.png in
// $CLUSTERDOCTOR_ARTIFACTS where that is set (CI keeps them), else in a directory the test
// removes.
func renderInChromium(t *testing.T, page []byte, name string) string {
	t.Helper()
	lab.RequireCommands(t, "chromium", "unshare")
	dir := t.TempDir()
	file := filepath.Join(dir, name+".html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("CLUSTERDOCTOR_ARTIFACTS")
	if shots == "" {
		shots = dir
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--net", "chromium", "--headless", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
		"--window-size=1280,1800", "--screenshot="+filepath.Join(shots, name+".png"), "--dump-dom", "file://"+file)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) } // chromium's own children too
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", name, err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("chromium's console on %s: %s", name, line)
		}
	}
	if fi, err := os.Stat(filepath.Join(shots, name+".png")); err != nil || fi.Size() < 10_000 {
		t.Errorf("chromium's screenshot of %s: %v", name, err)
	}
	if !strings.Contains(stdout.String(), "</svg>") {
		t.Fatalf("chromium's DOM of %s has no drawing:\n%s", name, stdout.String())
	}
	return stdout.String()
}

// wantPicture checks the rendered DOM of a cluster page: every host drawn, and the paths
// that fail exactly those named ("kind-from-to" with a word of their cause), all others ok.
func wantPicture(t *testing.T, dom string, rep *cluster.Report, failing map[string]string) {
	t.Helper()
	for _, h := range rep.Hosts {
		if !strings.Contains(dom, `id="host-`+h.Name+`"`) {
			t.Errorf("host %s is not in the rendered page", h.Name)
		}
	}
	edges := regexp.MustCompile(`<g class="edge (\w+) (\w+)" id="edge-([^"]+)"[^>]*>(?:<title>([^<]*)</title>)?`).FindAllStringSubmatch(dom, -1)
	if len(edges) == 0 {
		t.Errorf("no path is drawn")
	}
	seen := map[string]bool{}
	for _, e := range edges {
		outcome, id, title := e[1], e[3], e[4]
		cause, fails := failing[id]
		seen[id] = true
		switch {
		case fails && (outcome != "fail" || !strings.Contains(title, cause)):
			t.Errorf("path %s: %s %q; want fail, caused by %s", id, outcome, title, cause)
		case !fails && outcome != "ok":
			t.Errorf("path %s: %s %q; want ok", id, outcome, title)
		}
	}
	for id := range failing {
		if !seen[id] {
			t.Errorf("path %s is not drawn", id)
		}
	}
}

// clusterPage renders rep as `cluster -o html` does.
func clusterPage(t *testing.T, rep *cluster.Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := report.ClusterHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
