package main_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// inside is an HTTP client whose connections are opened in h's network namespace (the
// agent listens on h's own 127.0.0.1).
func inside(h *lab.Host) *http.Client {
	return &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := h.Do(func() (err error) {
				c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	}}
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitHealth polls /healthz until it answers want (the agent runs every second).
func waitHealth(t *testing.T, c *http.Client, want int) string {
	t.Helper()
	var code int
	var body string
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if code, body = get(t, c, "http://127.0.0.1:9716/healthz"); code == want {
			return body
		}
	}
	t.Fatalf("/healthz stayed %d (%s); want %d", code, body, want)
	return ""
}

// TestAgent runs the agent in a namespace: /metrics shows the checks, /healthz follows the
// multicast route going and coming back, a peer's mcast-test gets answers only with the
// key, and SIGTERM stops it within a second.
func TestAgent(t *testing.T) {
	l := lab.New(t)
	a, b := l.AddHost("a", 1), l.AddHost("b", 2)
	a.AddMulticastRoute()
	b.AddMulticastRoute()
	key := l.WriteFile("key", "s3cret-cluster-key\n")
	cfg := l.WriteFile("clusterdoctor.yaml", "iface: cl0\n")
	agent := b.Start(noFirewalld, "agent-b", binary, "agent", "--config", cfg, "--interval", "1s",
		"--key-file", key, "--skip", "ntp.sync,hosts.hostname")
	c := inside(b)

	waitHealth(t, c, http.StatusOK)
	code, metrics := get(t, c, "http://127.0.0.1:9716/metrics")
	for _, want := range []string{
		`clusterdoctor_check_status{check="route.multicast",status="pass"} 1`,
		`clusterdoctor_check_status{check="link.cluster",status="fail"} 0`,
		`clusterdoctor_check_duration_seconds{check="firewall.ports"}`,
		`clusterdoctor_last_run_timestamp_seconds `,
		`process_resident_memory_bytes `,
	} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}

	b.DelMulticastRoute()
	if body := waitHealth(t, c, http.StatusServiceUnavailable); !strings.Contains(body, "route.multicast") {
		t.Errorf("/healthz without the route: %s", body)
	}
	b.AddMulticastRoute()
	waitHealth(t, c, http.StatusOK)

	peer := func(args ...string) run {
		return execute(t, a.Command(lab.Private{}, binary, append([]string{"mcast-test", "--peer", b.Addr.String(),
			"--iface", "cl0", "--count", "10", "--interval", "50ms", "--wait", "1s", "-o", "json"}, args...)...))
	}
	r := peer("--key-file", key)
	if r.code != 0 || !strings.Contains(r.stdout, `"verdict": "ok"`) {
		t.Errorf("mcast-test with the key against the agent: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// An agent answers but never sends to the group: the inbound direction was not tested,
	// and the report must not claim it works.
	if !strings.Contains(r.stdout, `"role": "agent"`) || !strings.Contains(r.stdout, `"notTested": true`) {
		t.Errorf("mcast-test against an agent does not say inbound was not tested:\n%s", r.stdout)
	}
	// A keyed agent answers an unkeyed Hello with "authentication required": told apart
	// from a peer that is not running, and from one with another key.
	for _, c := range []struct {
		args []string
		says string
	}{
		{nil, "the peer requires a key"},
		{[]string{"--key", "another key"}, "the peer has another key"},
	} {
		r := peer(c.args...)
		if r.code != 1 || !strings.Contains(r.stdout, `"verdict": "auth-failed"`) || !strings.Contains(r.stdout, c.says) {
			t.Errorf("mcast-test %v against a keyed agent: exit %d; want 1, auth-failed saying %q\n%s", c.args, r.code, c.says, r.stdout)
		}
	}

	// SIGHUP re-reads the configuration: a wrong interface shows at once, a broken file
	// is not taken, a good one is.
	reload := func(content string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := agent.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	reload("iface: nosuch0\n")
	if body := waitHealth(t, c, http.StatusServiceUnavailable); !strings.Contains(body, "nosuch0") {
		t.Errorf("/healthz after reloading a wrong interface: %s", body)
	}
	reload("iface: [cl0\n")
	time.Sleep(1500 * time.Millisecond)
	if code, body := get(t, c, "http://127.0.0.1:9716/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "nosuch0") {
		t.Errorf("a broken file replaced the configuration: %d %s", code, body)
	}
	reload("iface: cl0\n")
	waitHealth(t, c, http.StatusOK)

	// SIGHUP applies the key too: the responder answers the new one, not the old.
	newKey := "a-new-cluster-key"
	if err := os.WriteFile(key, []byte(newKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reload("iface: cl0\n")
	time.Sleep(500 * time.Millisecond)
	if r := peer("--key", newKey); r.code != 0 || !strings.Contains(r.stdout, `"verdict": "ok"`) {
		t.Errorf("mcast-test with the reloaded key: exit %d\n%s", r.code, r.stdout)
	}
	if r := peer("--key", "s3cret-cluster-key"); r.code != 1 || !strings.Contains(r.stdout, "the peer has another key") {
		t.Errorf("mcast-test with the key replaced by the reload: exit %d\n%s", r.code, r.stdout)
	}
	// responder: false answers no one; the checks still run.
	reload("iface: cl0\nresponder: false\n")
	time.Sleep(500 * time.Millisecond)
	if r := peer("--key", newKey); r.code != 1 || !strings.Contains(r.stdout, `"verdict": "peer-not-running"`) {
		t.Errorf("mcast-test against responder: false: exit %d; want peer-not-running\n%s", r.code, r.stdout)
	}
	waitHealth(t, c, http.StatusOK)

	start := time.Now()
	if err := agent.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := agent.Wait()
	if took := time.Since(start); err != nil || took > time.Second {
		t.Errorf("after SIGTERM: %v after %v", err, took)
	}
	log, _ := os.ReadFile(l.Path("agent-b.log"))
	if !strings.Contains(string(log), "agent stopped") || !strings.Contains(string(log), "configuration kept as it was") {
		t.Errorf("agent log:\n%s", log)
	}
}

// notifySocket is a datagram socket standing for systemd's notify socket, and the
// environment systemd gives a Type=notify service with WatchdogSec=400ms.
func notifySocket(t *testing.T, l *lab.Lab) (*net.UnixConn, lab.Private) {
	t.Helper()
	sock := l.Path("notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	priv := noFirewalld
	priv.Env = append(append([]string{}, priv.Env...), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=400000")
	return conn, priv
}

// TestAgentTalksToSystemd: with NOTIFY_SOCKET and WATCHDOG_USEC set, as systemd sets them
// for a Type=notify service with WatchdogSec=, the agent sends READY=1 after its first
// run, the verdict as STATUS= and watchdog pings.
func TestAgentTalksToSystemd(t *testing.T) {
	l := lab.New(t)
	b := l.AddHost("b", 2)
	b.AddMulticastRoute()
	conn, priv := notifySocket(t, l)
	b.Start(priv, "agent-b", binary, "agent", "--iface", "cl0", "--interval", "1s", "--skip", "ntp.sync,hosts.hostname")
	seen := map[string]string{}
	buf := make([]byte, 4096)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && len(seen) < 3; {
		conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		if err != nil {
			break
		}
		for _, line := range strings.Split(string(buf[:n]), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				seen[k] = v
			}
		}
	}
	if seen["READY"] != "1" || !strings.HasPrefix(seen["STATUS"], "healthy: ") || seen["WATCHDOG"] != "1" {
		t.Errorf("notifications: %v", seen)
	}
}

// TestAgentLogsToTheJournal runs the agent as systemd runs the service, stderr on a
// stream to a real systemd-journald: every run is a structured entry (fields
// CLUSTERDOCTOR_*, priority warning when a check fails), nothing goes out as text.
func TestAgentLogsToTheJournal(t *testing.T) {
	l := lab.New(t)
	b := l.AddHost("b", 2) // no multicast route: route.multicast fails
	j := b.StartJournald()
	agent := j.Service(noFirewalld, "clusterdoctor", binary, "agent", "--iface", "cl0", "--interval", "1s",
		"--skip", "ntp.sync,hosts.hostname")

	var runs []map[string]string
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline) && len(runs) < 2; time.Sleep(200 * time.Millisecond) {
		runs = logged(j, "checks ran ")
	}
	if len(runs) < 2 {
		t.Fatalf("%d runs in the journal; entries:\n%v", len(runs), j.Entries())
	}
	r := runs[0]
	if r["_TRANSPORT"] != "journal" || r["PRIORITY"] != "4" || r["CLUSTERDOCTOR_FAIL"] == "0" ||
		!strings.Contains(r["CLUSTERDOCTOR_FAILING"], "route.multicast") || r["CLUSTERDOCTOR_DURATION_MS"] == "" {
		t.Errorf("run entry: %v", r)
	}
	if err := agent.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := agent.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}
	if got := logged(j, "agent started "); len(got) != 1 || got[0]["CLUSTERDOCTOR_LISTEN"] != "127.0.0.1:9716" {
		t.Errorf("start entries: %v", got)
	}
	if got := logged(j, "agent stopped"); len(got) != 1 {
		t.Errorf("stop entries: %v", got)
	}
	if text := j.Entries("_TRANSPORT=stdout"); len(text) != 0 {
		t.Errorf("the agent wrote text to its journal stream: %v", text)
	}
}

// logged is the agent's journal entries whose message (the text, then key=value pairs)
// starts with prefix.
func logged(j *lab.Journald, prefix string) []map[string]string {
	var out []map[string]string
	for _, e := range j.Entries("SYSLOG_IDENTIFIER=clusterdoctor") {
		if strings.HasPrefix(e["MESSAGE"], prefix) {
			out = append(out, e)
		}
	}
	return out
}

// TestAgentWatchdogFollowsTheCheckLoop: the watchdog is pinged while runs complete and no
// longer once one hangs. The hang is a real one: the Tomcat's server.xml replaced by a
// FIFO that nobody writes, whose open blocks whatever the run's deadline says.
func TestAgentWatchdogFollowsTheCheckLoop(t *testing.T) {
	l := lab.New(t)
	b := l.AddHost("b", 2)
	b.AddMulticastRoute()
	base := l.TomcatBase("wd", tcConf{JvmRoute: "w1"}.files())
	conn, priv := notifySocket(t, l)
	b.Start(priv, "agent-wd", binary, "agent", "--iface", "cl0", "--interval", "1s", "--responder=false",
		"--tomcat", base, "--tomcat-home", lab.TomcatHome, "--skip", "ntp.sync,hosts.hostname")
	pings := func(d time.Duration) int {
		n := 0
		buf := make([]byte, 4096)
		for deadline := time.Now().Add(d); time.Now().Before(deadline); {
			conn.SetReadDeadline(deadline)
			m, err := conn.Read(buf)
			if err != nil {
				break
			}
			n += strings.Count(string(buf[:m]), "WATCHDOG=1")
		}
		return n
	}
	if n := pings(2 * time.Second); n < 5 {
		t.Fatalf("%d watchdog pings in 2 s of a healthy loop; want about 10", n)
	}
	xml := base + "/conf/server.xml"
	os.Remove(xml)
	if err := syscall.Mkfifo(xml, 0o644); err != nil {
		t.Fatal(err)
	}
	defer func() {
		// Let the blocked open finish, so the agent can be stopped cleanly.
		if f, err := os.OpenFile(xml, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}()
	pings(3500 * time.Millisecond) // the next run starts within 1 s and is hung 2 s later
	if n := pings(2 * time.Second); n != 0 {
		t.Errorf("%d watchdog pings while a run hangs; want none (systemd must restart the agent)", n)
	}
	log, _ := os.ReadFile(l.Path("agent-wd.log"))
	if !strings.Contains(string(log), "the check loop is hung") {
		t.Errorf("agent log does not say the loop is hung:\n%s", log)
	}
}
