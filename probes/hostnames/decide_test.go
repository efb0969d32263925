package hostnames

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

func ans(addrs ...string) resolve.Answer {
	a := resolve.Answer{Source: "files"}
	for _, s := range addrs {
		a.Addrs = append(a.Addrs, netip.MustParseAddr(s))
	}
	return a
}

func TestDecideHostname(t *testing.T) {
	cl := netip.MustParseAddr("10.0.0.1")
	tests := []struct {
		name string
		f    hostnameFacts
		want probes.Status
		says string
	}{
		{"loopback", hostnameFacts{ans: ans("127.0.0.1"), holder: "lo"}, probes.Fail, "loopback 127.0.0.1"},
		{"debian 127.0.1.1", hostnameFacts{ans: ans("127.0.1.1"), holder: ""}, probes.Fail, "loopback 127.0.1.1"},
		{"myhostname fallback", hostnameFacts{ans: ans("127.0.0.2")}, probes.Fail, "loopback"},
		{"not local", hostnameFacts{ans: ans("10.0.0.9")}, probes.Fail, "no local interface holds"},
		{"other iface", hostnameFacts{ans: ans("192.168.0.5"), holder: "eth0"}, probes.Warn, "on eth0, not on the cluster interface cl0"},
		{"cluster iface", hostnameFacts{ans: ans("10.0.0.1"), holder: "cl0"}, probes.Pass, "resolves to 10.0.0.1 on cl0"},
		{"v4 first", hostnameFacts{ans: ans("10.0.0.1", "fd00::1"), holder: "cl0"}, probes.Pass, "10.0.0.1"},
		{"unknown host", hostnameFacts{err: fmt.Errorf("x: %w", resolve.ErrNotFound)}, probes.Fail, "UnknownHostException"},
		{"resolver broken", hostnameFacts{err: errors.New("boom")}, probes.Unknown, "cannot resolve"},
	}
	for _, tt := range tests {
		tt.f.name, tt.f.iface, tt.f.clusterAddr = "was1", "cl0", cl
		got := decideHostname(tt.f)
		if got.Status != tt.want || !strings.Contains(got.Summary, tt.says) {
			t.Errorf("%s: = %s %q; want %s saying %q", tt.name, got.Status, got.Summary, tt.want, tt.says)
		}
		if got.Status == probes.Fail && !strings.Contains(got.Remediation, "10.0.0.1 was1") {
			t.Errorf("%s: remediation %q does not give the line to write", tt.name, got.Remediation)
		}
	}
}

func TestDecidePeers(t *testing.T) {
	pf := func(name string, addr string, egress string) peerFacts {
		return peerFacts{name: name, addrs: []netip.Addr{netip.MustParseAddr(addr)}, egress: egress}
	}
	tests := []struct {
		name      string
		facts     []peerFacts
		conflicts []string
		want      probes.Status
		says      string
	}{
		{"all fine", []peerFacts{pf("was2", "10.0.0.2", "cl0"), pf("was3", "10.0.0.3", "cl0")}, nil, probes.Pass, "2 peers resolve to distinct addresses via cl0"},
		{"one peer", []peerFacts{pf("was2", "10.0.0.2", "cl0")}, nil, probes.Pass, "1 peer resolves to an address via cl0: was2=10.0.0.2"},
		{"unresolvable", []peerFacts{{name: "was9", err: resolve.ErrNotFound}}, nil, probes.Fail, "was9 does not resolve"},
		{"loopback", []peerFacts{pf("was2", "127.0.1.1", "lo")}, nil, probes.Fail, "loopback"},
		{"duplicate", []peerFacts{pf("was2", "10.0.0.2", "cl0"), pf("was3", "10.0.0.2", "cl0")}, nil, probes.Fail, "both resolve to 10.0.0.2"},
		{"wrong egress", []peerFacts{pf("was2", "192.168.0.2", "eth0")}, nil, probes.Warn, "leaves via eth0"},
		{"hosts conflict", []peerFacts{pf("was2", "10.0.0.2", "cl0")}, []string{"was2 -> 10.0.0.2, 192.168.0.2 (lines 3, 9)"}, probes.Warn, "lines 3, 9"},
	}
	for _, tt := range tests {
		got := decidePeers("cl0", tt.facts, tt.conflicts)
		if got.Status != tt.want || !strings.Contains(got.Summary, tt.says) {
			t.Errorf("%s: = %s %q; want %s saying %q", tt.name, got.Status, got.Summary, tt.want, tt.says)
		}
	}
}
