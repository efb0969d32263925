package main_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
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
	return runMeshWith(t, hosts, nil, extra...)
}

// runMeshWith is runMesh with each host's private files and environment by name.
func runMeshWith(t *testing.T, hosts []*lab.Host, privs map[string]lab.Private, extra ...string) map[string]meshRun {
	return runMeshArgs(t, hosts, privs, nil, extra...)
}

// runMeshPerHost is runMesh with arguments of each host's own (its --tomcat).
func runMeshPerHost(t *testing.T, args map[*lab.Host][]string, extra ...string) map[string]meshRun {
	var hosts []*lab.Host
	per := map[string][]string{}
	for h, a := range args {
		hosts = append(hosts, h)
		per[h.Name] = a
	}
	return runMeshArgs(t, hosts, nil, per, extra...)
}

func runMeshArgs(t *testing.T, hosts []*lab.Host, privs map[string]lab.Private, per map[string][]string, extra ...string) map[string]meshRun {
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
		cmd := h.Command(privs[h.Name], binary, append(append(args, per[h.Name]...), extra...)...)
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
				if path.Duplicates != 0 || path.Inbound.Duplicates != 0 {
					t.Errorf("%s -> %s %s: %d duplicates out, %d in; want none on a clean link (each request handled once)", h.Name, p.Address, name,
						path.Duplicates, path.Inbound.Duplicates)
				}
				if path.Sent != 30 || path.Received != 30 || path.Inbound.Sent != 30 || path.Inbound.Received != 30 {
					t.Errorf("%s -> %s %s: out %d/%d in %d/%d; want 30/30 both ways", h.Name, p.Address, name,
						path.Received, path.Sent, path.Inbound.Received, path.Inbound.Sent)
				}
				if path.RTT.Min <= 0 || path.RTT.Max < path.RTT.Avg || path.RTT.Avg < path.RTT.Min {
					t.Errorf("%s -> %s %s: implausible RTT %+v", h.Name, p.Address, name, path.RTT)
				}
				// The delay is the round trip less the responder's own time, from kernel
				// stamps on both ends: positive and never above the round trip.
				if d := path.Delay; d.Min <= 0 || d.Avg < d.Min || d.Avg > path.RTT.Avg || d.Min > path.RTT.Min {
					t.Errorf("%s -> %s %s: implausible delay %+v beside RTT %+v", h.Name, p.Address, name, d, path.RTT)
				}
			}
			// One kernel clock for all three namespaces: the measured offset is within its
			// own error bound of zero, and that bound is tight.
			if c := p.Clock; c == nil || c.Samples < 20 || math.Abs(c.OffsetMs) > c.ErrorMs+0.05 || c.ErrorMs > 5 {
				t.Errorf("%s -> %s: clock %+v; want an offset of 0 within its error, from at least 20 samples", h.Name, p.Address, c)
			}
			if p.TCP == nil || p.TCP.Outcome != "open" || p.TCP.Inbound != "open" {
				t.Errorf("%s -> %s: TCP %+v; want open both ways", h.Name, p.Address, p.TCP)
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

// TestMeshUnresolvablePeer runs in a lab host: the name goes through files, then DNS,
// and the namespace has no route to any resolver, so no query leaves it.
func TestMeshUnresolvablePeer(t *testing.T) {
	l := lab.New(t)
	a := l.AddHost("a", 1)
	r := execute(t, a.Command(lab.Private{Hosts: "127.0.0.1 localhost\n"}, binary, "mcast-test", "--peer", "no-such-host.invalid"))
	if r.code != 2 || !strings.Contains(r.stderr, `--peer "no-such-host.invalid": does not resolve`) {
		t.Fatalf("exit %d %q; want 2 and a line saying the peer does not resolve", r.code, r.stderr)
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

// nft runs an nft command inside the host's namespace; the table dies with it.
func nft(t *testing.T, h *lab.Host, args ...string) {
	t.Helper()
	if out, err := h.Command(lab.Private{}, "nft", args...).CombinedOutput(); err != nil {
		t.Fatalf("nft %v: %v %s", args, err, out)
	}
}

func TestMeshMulticastDroppedByFirewall(t *testing.T) {
	lab.RequireCommands(t, "nft")
	_, hosts := threeHosts(t)
	b := hosts[1]
	nft(t, b, "add", "table", "inet", "cdtest")
	nft(t, b, "add", "chain", "inet", "cdtest", "in", "{ type filter hook input priority 0; }")
	nft(t, b, "add", "rule", "inet", "cdtest", "in", "ip", "daddr", "228.0.0.4", "udp", "dport", "45564", "drop")
	runs := runMesh(t, hosts, "--count", "20", "--interval", "20ms")

	// b receives no multicast; what b sends arrives: one-way, from both sides' view.
	for _, peer := range []string{"a", "c"} {
		p := peerOf(t, runs[peer], b.Addr.String())
		if p.Verdict != mcast.VerdictOneWay || !strings.Contains(p.Reason, "multicast from here does not reach the peer") || !strings.Contains(p.Reason, "network:") {
			t.Errorf("%s -> b: %s (%s); want one-way, from here, network", peer, p.Verdict, p.Reason)
		}
		if p.Unicast.Received != p.Unicast.Sent || p.Multicast.Inbound.Received != p.Multicast.Inbound.Sent {
			t.Errorf("%s -> b: unicast %d/%d, multicast in %d/%d; want complete", peer, p.Unicast.Received, p.Unicast.Sent, p.Multicast.Inbound.Received, p.Multicast.Inbound.Sent)
		}
	}
	for _, p := range runs["b"].rep.Peers {
		if p.Verdict != mcast.VerdictOneWay || !strings.Contains(p.Reason, "multicast from the peer does not arrive here") {
			t.Errorf("b -> %s: %s (%s); want one-way, from the peer", p.Address, p.Verdict, p.Reason)
		}
	}
	if p := peerOf(t, runs["a"], hosts[2].Addr.String()); p.Verdict != mcast.VerdictOK {
		t.Errorf("a -> c: %s (%s); want ok", p.Verdict, p.Reason)
	}
}

// TestMeshLoss injects 10% random loss on b's input (nftables numgen; this kernel has no
// netem) and expects the measured loss within 3 points of 10% over 1000 probes.
func TestMeshLoss(t *testing.T) {
	lab.RequireCommands(t, "nft")
	l := lab.New(t)
	a, b := l.AddHost("a", 1), l.AddHost("b", 2)
	a.AddMulticastRoute()
	b.AddMulticastRoute()
	nft(t, b, "add", "table", "inet", "cdtest")
	nft(t, b, "add", "chain", "inet", "cdtest", "in", "{ type filter hook input priority 0; }")
	nft(t, b, "add", "rule", "inet", "cdtest", "in", "meta", "l4proto", "udp", "numgen", "random", "mod", "100", "<", "10", "drop")
	runs := runMesh(t, []*lab.Host{a, b}, "--count", "1000", "--interval", "2ms")
	p := peerOf(t, runs["a"], b.Addr.String())
	if p.Verdict != mcast.VerdictLossy {
		t.Errorf("a -> b: %s (%s); want lossy", p.Verdict, p.Reason)
	}
	for name, loss := range map[string]float64{"unicast": p.Unicast.LossPct, "multicast": p.Multicast.LossPct} {
		if loss < 7 || loss > 13 {
			t.Errorf("a -> b %s: measured loss %.2f%%; want 10 +- 3", name, loss)
		}
	}
	if p.Unicast.Inbound.LossPct > 1 {
		t.Errorf("b -> a unicast: %.2f%% loss; a drops nothing", p.Unicast.Inbound.LossPct)
	}
	t.Logf("a -> b: unicast loss %.2f%%, multicast loss %.2f%% (1000 probes each)", p.Unicast.LossPct, p.Multicast.LossPct)
}

// tribesHeartbeat is a real heartbeat of Tomcat 10.1 (probes/mcast/testdata).
const tribesHeartbeat = "5452494245532d420100000000350000000000002" +
	"93b00000fa0ffffffffffffffff040a4d000c00000000000000001bfa42eee82947318f7fd755284a90f7000000005452494245532d450100"

// sendJunk is the helper process of TestMeshIgnoresJunk: until stopped (at most a minute) it sends what
// else may land on the port (real Tomcat heartbeats, random bytes, well-formed packets
// under another key, forged replies and stats from unknown senders) to target and to
// the group.
func sendJunk(target string) {
	dsts := []string{target, "228.0.0.4:45564"}
	conns := make([]net.Conn, 0, 2)
	for _, d := range dsts {
		if c, err := net.Dial("udp4", d); err == nil {
			conns = append(conns, c)
		}
	}
	heartbeat, _ := hex.DecodeString(tribesHeartbeat)
	forged := [][]byte{
		heartbeat,
		[]byte("hello, this is not for you"),
		mcast.Encode(nil, &mcast.Packet{Kind: mcast.KindEcho, Sender: 42, Seq: 1}, []byte("wrong key")),
		mcast.Encode(nil, &mcast.Packet{Kind: mcast.KindReply, Sender: 43, EchoSeq: 1, EchoSent: 1}, nil),
		mcast.Encode(nil, &mcast.Packet{Kind: mcast.KindStats, Sender: 44, Body: []byte{1, 2, 3}}, nil),
		mcast.Encode(nil, &mcast.Packet{Kind: mcast.KindHelloAck, Sender: 45}, nil),
	}
	random := make([]byte, 200)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		rand.Read(random)
		for _, c := range conns {
			for _, f := range forged {
				c.Write(f)
			}
			c.Write(random)
		}
	}
}

func TestMeshIgnoresJunk(t *testing.T) {
	l := lab.New(t)
	a, b, d := l.AddHost("a", 1), l.AddHost("b", 2), l.AddHost("d", 4)
	for _, h := range []*lab.Host{a, b, d} {
		h.AddMulticastRoute()
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if hb, err := hex.DecodeString(tribesHeartbeat); err != nil || len(hb) != 77 || !bytes.HasPrefix(hb, []byte("TRIBES-B")) {
		t.Fatalf("heartbeat constant: %v, %d bytes", err, len(hb))
	}
	d.Start(lab.Private{Env: []string{"CLUSTERDOCTOR_TEST_JUNK=" + a.Addr.String() + ":45564"}}, "junk", self)
	for _, key := range []string{"", "s3cret"} {
		extra := []string{"--count", "30", "--interval", "20ms"}
		if key != "" {
			extra = append(extra, "--key", key)
		}
		runs := runMesh(t, []*lab.Host{a, b}, extra...)
		for _, name := range []string{"a", "b"} {
			r := runs[name]
			p := r.rep.Peers[0]
			if r.code != 0 || p.Verdict != mcast.VerdictOK || p.Unicast.Received != 30 || p.Multicast.Received != 30 || p.Multicast.Inbound.Received != 30 {
				t.Errorf("key %q: %s: exit %d, %s (%s), unicast %d, multicast %d/%d; want ok with exact counts despite junk",
					key, name, r.code, p.Verdict, p.Reason, p.Unicast.Received, p.Multicast.Received, p.Multicast.Inbound.Received)
			}
		}
		if runs["a"].rep.Foreign == 0 {
			t.Errorf("key %q: a counted no foreign datagrams while being sent junk", key)
		}
	}
}

// TestListenSend is the seeds' iperf workflow: --listen on one host, --send on another.
func TestListenSend(t *testing.T) {
	l := lab.New(t)
	a, b := l.AddHost("a", 1), l.AddHost("b", 2)
	a.AddMulticastRoute()
	b.AddMulticastRoute()
	listener := b.Command(lab.Private{}, binary, "mcast-test", "--listen", "--iface", "cl0", "--duration", "3s", "-o", "json")
	var lout bytes.Buffer
	listener.Stdout = &lout
	if err := listener.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // joined before the first packet
	s := execute(t, a.Command(lab.Private{}, binary, "mcast-test", "--send", "--iface", "cl0", "--rate", "5000", "--count", "5000", "--size", "200", "--ttl", "3", "-o", "json"))
	listener.Wait()
	var sent, heard mcast.Report
	if err := json.Unmarshal([]byte(s.stdout), &sent); err != nil || s.code != 0 || sent.Send == nil || sent.Send.Sent != 5000 || sent.Send.Size != 200 {
		t.Fatalf("--send: exit %d, %v, %s", s.code, err, s.stdout)
	}
	if err := json.Unmarshal(lout.Bytes(), &heard); err != nil || len(heard.Senders) != 1 {
		t.Fatalf("--listen: %v, %s", err, lout.String())
	}
	got := heard.Senders[0]
	if got.Sender != a.Addr.String() || got.Received != 5000 || got.Lost != 0 || got.Duplicates != 0 || got.TTL != 3 {
		t.Fatalf("--listen heard %+v; want 5000 from %s, none lost, TTL 3", got, a.Addr)
	}
	if heard.Mode != "listen" || sent.Mode != "send" {
		t.Errorf("modes %q / %q", heard.Mode, sent.Mode)
	}
}

// TestMeshTTLTooLow: the peer is one routed hop away; unicast crosses the router,
// multicast sent with TTL 1 (Java's default) does not.
func TestMeshTTLTooLow(t *testing.T) {
	l := lab.New(t)
	l.EnableRouting()
	a := l.AddHost("a", 1)
	a.AddMulticastRoute()
	a.RouteToPublic()
	far := l.AddRemoteHost("far", 9)
	far.AddMulticastRoute()
	runs := runMesh(t, []*lab.Host{a, far}, "--count", "10", "--interval", "20ms")
	for _, name := range []string{"a", "far"} {
		p := runs[name].rep.Peers[0]
		if p.Verdict != mcast.VerdictTTLTooLow || !strings.Contains(p.Reason, "1 hop away and multicast is sent with TTL 1") {
			t.Errorf("%s: %s (%s); want ttl-too-low, 1 hop", name, p.Verdict, p.Reason)
		}
		if p.Unicast.TTL != 63 || p.Unicast.Hops != 1 || p.Unicast.Received != p.Unicast.Sent {
			t.Errorf("%s: unicast ttl %d hops %d, %d/%d; want 63, 1 hop, all through", name, p.Unicast.TTL, p.Unicast.Hops, p.Unicast.Received, p.Unicast.Sent)
		}
	}
}

// TestMeshSameListEverywhere: every host is given the whole cluster by name, itself
// included, as an inventory gives it: each recognises itself, skips it and says so, and
// tests the two others; preflight's hosts.peers skips itself too.
func TestMeshSameListEverywhere(t *testing.T) {
	_, hosts := threeHosts(t)
	etcHosts := "127.0.0.1\tlocalhost\n10.99.0.1\ta\n10.99.0.2\tb\n10.99.0.3\tc\n"
	var mu sync.Mutex
	var wg sync.WaitGroup
	runs := map[string]meshRun{}
	for _, h := range hosts {
		cmd := h.Command(lab.Private{Hosts: etcHosts, Hostname: h.Name}, binary, "mcast-test", "-o", "json", "--wait", "5s",
			"--count", "50", "--interval", "10ms", "--peer", "a", "--peer", "b", "--peer", "c")
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			start := time.Now()
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			var rep mcast.Report
			json.Unmarshal(stdout.Bytes(), &rep)
			t.Logf("%s: exit %d in %s", h.Name, code, time.Since(start).Round(time.Millisecond))
			mu.Lock()
			runs[h.Name] = meshRun{rep, code, stdout.String()}
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, h := range hosts {
		r := runs[h.Name]
		if r.code != 0 || len(r.rep.Peers) != 2 || len(r.rep.Self) != 1 || !strings.HasPrefix(r.rep.Self[0], h.Name+" (") {
			t.Errorf("%s: exit %d, %d peers, self %v; want 0, the two others, itself skipped:\n%s", h.Name, r.code, len(r.rep.Peers), r.rep.Self, r.raw)
		}
		for _, p := range r.rep.Peers {
			if p.Peer == h.Name || p.Verdict != mcast.VerdictOK {
				t.Errorf("%s -> %s: %s (%s)", h.Name, p.Peer, p.Verdict, p.Reason)
			}
		}
	}
	rep, _ := preflightJSON(t, hosts[0], lab.Private{Hosts: etcHosts, Hostname: "a"}, "--skip", "ntp.sync", "--peer", "a", "--peer", "b", "--peer", "c", "--peer", "10.99.0.1")
	got := check(t, rep, "hosts.peers")
	if got.Status != probes.Pass || !strings.Contains(got.Summary, "2 peers") || !strings.Contains(got.Detail, "skipped, this host: a (the host name a), 10.99.0.1 (10.99.0.1, held by cl0)") {
		t.Errorf("hosts.peers = %s %q (%s); want pass on b and c, a and 10.99.0.1 skipped as this host", got.Status, got.Summary, got.Detail)
	}
}
