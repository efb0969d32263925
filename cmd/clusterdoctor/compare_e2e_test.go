package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
)

// skewedNode runs an mcast-test node with the clock seam of its Config shifted: spec is
// "PEER OFFSET" (10.99.0.1 5s). The machine's clock is shared by every namespace and is
// never touched; only this node's reading of it moves. It prints its peers' results as JSON.
func skewedNode(spec string) {
	peer, shift, _ := strings.Cut(spec, " ")
	offset, err := time.ParseDuration(shift)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skewed node:", err)
		os.Exit(2)
	}
	cfg := mcast.Config{Group: netip.MustParseAddr("228.0.0.4"), Port: 45564, TTL: 1, Iface: "cl0",
		Peers: []mcast.Peer{{Name: peer, Addr: netip.MustParseAddr(peer)}}, Interval: 20 * time.Millisecond, Count: 20,
		Wait: 5 * time.Second, MaxLoss: 1, Now: func() time.Time { return time.Now().Add(offset) }}
	n, err := mcast.Listen(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skewed node:", err)
		os.Exit(3)
	}
	defer n.Close()
	json.NewEncoder(os.Stdout).Encode(n.Mesh(context.Background()))
}

// TestMeshNamesTheClockOffset: one node reads the clock 5 s ahead (through its clock
// seam): the real mcast-test on the other host measures that offset from the echo
// timestamps, NTP style, and names it a problem above --max-skew.
func TestMeshNamesTheClockOffset(t *testing.T) {
	l := lab.New(t)
	a, b := l.AddHost("a", 1), l.AddHost("b", 2)
	a.AddMulticastRoute()
	b.AddMulticastRoute()
	self, _ := os.Executable()
	b.Start(lab.Private{Env: []string{"CLUSTERDOCTOR_TEST_SKEWED_NODE=10.99.0.1 5s"}}, "skewed", self)
	p, r := soloRun(t, a, b, lab.Private{}, "--wait", "5s", "--count", "20", "--interval", "20ms")
	c := p.Clock
	if c == nil || c.OffsetMs < 4900 || c.OffsetMs > 5100 || c.ErrorMs > 50 {
		t.Fatalf("clock %+v; want +5000 ms within its error bound\n%s", c, r.stdout)
	}
	if probs := strings.Join(p.Problems, "\n"); r.code != 1 || !strings.Contains(probs, "the peer's clock is ") || !strings.Contains(probs, "limit 1s") {
		t.Errorf("exit %d, problems %q; want the offset named against --max-skew 1s", r.code, p.Problems)
	}
	if p, r := soloRun(t, a, b, lab.Private{}, "--wait", "5s", "--count", "20", "--interval", "20ms", "--max-skew", "10s"); len(p.Problems) != 0 {
		t.Errorf("--max-skew 10s: exit %d, problems %q; want none", r.code, p.Problems)
	}
}

// TestMeshComparesTheTomcats: each host's mcast-test reads its own Tomcat's server.xml and
// the two exchange what they read: the same jvmRoute on both, and another group on one,
// are each named as problems of the peer, with both values.
func TestMeshComparesTheTomcats(t *testing.T) {
	lab.RequireTomcat(t)
	for _, tc := range []struct {
		name     string
		confA    tcConf
		confB    tcConf
		what     string
		here     string
		there    string
		saysWhat string
	}{
		{"duplicate jvmRoute", tcConf{JvmRoute: "w1"}, tcConf{JvmRoute: "w1"}, "jvmRoute", "w1", "w1", "both Engines have this jvmRoute"},
		{"another group", tcConf{JvmRoute: "w1"}, tcConf{JvmRoute: "w2", Membership: `<Membership className="org.apache.catalina.tribes.membership.McastService"
                        address="228.0.0.5" port="45564" frequency="500" dropTime="3000"/>`}, "group", "228.0.0.4:45564", "228.0.0.5:45564", "never hear each other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(t)
			a, b := l.AddHost("a", 1), l.AddHost("b", 2)
			a.AddMulticastRoute()
			b.AddMulticastRoute()
			baseA, baseB := l.TomcatBase("a", tc.confA.files()), l.TomcatBase("b", tc.confB.files())
			runs := runMeshPerHost(t, map[*lab.Host][]string{
				a: {"--tomcat", baseA, "--tomcat-home", lab.TomcatHome},
				b: {"--tomcat", baseB, "--tomcat-home", lab.TomcatHome},
			}, "--count", "10", "--interval", "20ms")
			pa := peerOf(t, runs["a"], b.Addr.String())
			var found *mcast.Difference
			for i := range pa.Differences {
				if pa.Differences[i].What == tc.what {
					found = &pa.Differences[i]
				}
			}
			if found == nil || !found.Breaks || found.Here != tc.here || found.There != tc.there ||
				!strings.Contains(strings.Join(pa.Problems, "\n"), tc.saysWhat) || runs["a"].code != 1 {
				t.Errorf("a -> b: exit %d, differences %+v, problems %q; want %s here %s there %s", runs["a"].code, pa.Differences, pa.Problems, tc.what, tc.here, tc.there)
			}
			if pa.Settings == nil || pa.Settings.Tomcat == "" || pa.Settings.JvmRoute != tc.confB.JvmRoute {
				t.Errorf("a's view of b's settings: %+v; want its Tomcat version and jvmRoute", pa.Settings)
			}
		})
	}
}
