package main_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
)

// meshRun is one host's mcast-test: its report and exit code.
type meshRun struct {
	rep  mcast.Report
	code int
	raw  string
}

// runMesh starts mcast-test on every host at once, each naming all the others, and
// returns each host's report by name.
func runMesh(t *testing.T, hosts []*lab.Host, extra ...string) map[string]meshRun {
	t.Helper()
	var mu sync.Mutex
	out := map[string]meshRun{}
	var wg sync.WaitGroup
	for _, h := range hosts {
		args := []string{"mcast-test", "-o", "json", "--iface", "cl0", "--wait", "5s"}
		for _, p := range hosts {
			if p != h {
				args = append(args, "--peer", p.Addr.String())
			}
		}
		cmd := h.Command(lab.Private{}, binary, append(args, extra...)...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			var rep mcast.Report
			if jerr := json.Unmarshal(stdout.Bytes(), &rep); jerr != nil {
				t.Errorf("%s: exit %d, not JSON: %v\n%s\n%s", h.Name, code, jerr, stdout.String(), stderr.String())
			}
			mu.Lock()
			out[h.Name] = meshRun{rep, code, stdout.String()}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func peerOf(t *testing.T, r meshRun, addr string) mcast.PeerResult {
	t.Helper()
	for _, p := range r.rep.Peers {
		if p.Address == addr {
			return p
		}
	}
	t.Fatalf("no peer %s in %s", addr, r.raw)
	return mcast.PeerResult{}
}

func threeHosts(t *testing.T) (*lab.Lab, []*lab.Host) {
	l := lab.New(t)
	hosts := []*lab.Host{l.AddHost("a", 1), l.AddHost("b", 2), l.AddHost("c", 3)}
	for _, h := range hosts {
		h.AddMulticastRoute()
	}
	return l, hosts
}

func TestMeshAllOK(t *testing.T) {
	_, hosts := threeHosts(t)
	runs := runMesh(t, hosts, "--count", "30", "--interval", "20ms")
	for _, h := range hosts {
		r := runs[h.Name]
		if r.code != 0 || len(r.rep.Peers) != 2 {
			t.Errorf("%s: exit %d, %d peers; want 0 and 2:\n%s", h.Name, r.code, len(r.rep.Peers), r.raw)
		}
		for _, p := range r.rep.Peers {
			if p.Verdict != mcast.VerdictOK {
				t.Errorf("%s -> %s: %s (%s); want ok", h.Name, p.Address, p.Verdict, p.Reason)
			}
			for name, path := range map[string]mcast.PathResult{"unicast": p.Unicast, "multicast": p.Multicast} {
				if path.Sent != 30 || path.Received != 30 || path.Inbound.Sent != 30 || path.Inbound.Received != 30 {
					t.Errorf("%s -> %s %s: out %d/%d in %d/%d; want 30/30 both ways", h.Name, p.Address, name,
						path.Received, path.Sent, path.Inbound.Received, path.Inbound.Sent)
				}
				if path.RTT.Min <= 0 || path.RTT.Max < path.RTT.Avg || path.RTT.Avg < path.RTT.Min {
					t.Errorf("%s -> %s %s: implausible RTT %+v", h.Name, p.Address, name, path.RTT)
				}
			}
			if p.Multicast.TTL != 1 || p.Multicast.Hops != 0 || p.Unicast.TTL != 64 {
				t.Errorf("%s -> %s: multicast ttl %d hops %d, unicast ttl %d; want 1, 0, 64", h.Name, p.Address, p.Multicast.TTL, p.Multicast.Hops, p.Unicast.TTL)
			}
		}
	}
}

// TestMeshMissingRoute: host a has no 224.0.0.0/4 route and its default route on pub0
// (the classic case): its multicast leaves by pub0 and its membership sits there.
func TestMeshMissingRoute(t *testing.T) {
	_, hosts := threeHosts(t)
	a := hosts[0]
	a.DelMulticastRoute()
	a.AddPublic()
	runs := runMesh(t, hosts, "--count", "20", "--interval", "20ms")

	for _, p := range runs["a"].rep.Peers {
		if p.Verdict != mcast.VerdictMulticastBlocked || !strings.HasPrefix(p.Reason, "route: here the group leaves via pub0") {
			t.Errorf("a -> %s: %s (%s); want multicast-blocked, route via pub0", p.Address, p.Verdict, p.Reason)
		}
		if p.Multicast.Explicit == nil || p.Multicast.Explicit.Received == 0 {
			t.Errorf("a -> %s: the explicit-interface pass got nothing through: %+v", p.Address, p.Multicast.Explicit)
		}
		if p.Unicast.Received != p.Unicast.Sent || p.Unicast.Sent == 0 {
			t.Errorf("a -> %s: unicast %d/%d; want all", p.Address, p.Unicast.Received, p.Unicast.Sent)
		}
	}
	for _, name := range []string{"b", "c"} {
		r := runs[name]
		if r.code != 1 {
			t.Errorf("%s: exit %d; want 1", name, r.code)
		}
		pa := peerOf(t, r, a.Addr.String())
		if pa.Verdict != mcast.VerdictMulticastBlocked || !strings.Contains(pa.Reason, "route: on the peer the group leaves via pub0") {
			t.Errorf("%s -> a: %s (%s); want multicast-blocked naming a's route", name, pa.Verdict, pa.Reason)
		}
		other := peerOf(t, r, map[string]string{"b": "10.99.0.3", "c": "10.99.0.2"}[name])
		if other.Verdict != mcast.VerdictOK {
			t.Errorf("%s -> %s: %s (%s); want ok", name, other.Address, other.Verdict, other.Reason)
		}
	}
}

func TestMeshPeerNotRunning(t *testing.T) {
	l := lab.New(t)
	a, b := l.AddHost("a", 1), l.AddHost("b", 2)
	a.AddMulticastRoute()
	b.AddMulticastRoute()
	r := execute(t, a.Command(lab.Private{}, binary, "mcast-test", "-o", "json", "--iface", "cl0", "--peer", b.Addr.String(), "--wait", "1s", "--count", "5", "--interval", "10ms"))
	var rep mcast.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v %s %s", err, r.stdout, r.stderr)
	}
	if r.code != 1 || len(rep.Peers) != 1 || rep.Peers[0].Verdict != mcast.VerdictNotRunning || !strings.Contains(rep.Peers[0].Reason, "nothing listens on udp/45564") {
		t.Fatalf("exit %d, %+v; want 1 and peer-not-running (refused)", r.code, rep.Peers)
	}
}
