package network

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

func TestDecideRoute(t *testing.T) {
	mc := &coveringRoute{dst: netip.MustParsePrefix("224.0.0.0/4"), iface: "cl0"}
	tests := []struct {
		name string
		f    routeFacts
		want probes.Status
		says string
	}{
		{"route on cluster iface", routeFacts{kernelEgress: "cl0", socketEgress: "cl0", covering: mc}, probes.Pass, "leaves via cl0 (route 224.0.0.0/4 dev cl0)"},
		{"default route elsewhere", routeFacts{kernelEgress: "pub0", socketEgress: "pub0", defaultIface: "pub0"}, probes.Fail, "via pub0 (default route), not the cluster interface cl0"},
		{"multicast route on the wrong iface", routeFacts{kernelEgress: "eth1", covering: &coveringRoute{netip.MustParsePrefix("224.0.0.0/4"), "eth1"}}, probes.Fail, "via eth1 (route 224.0.0.0/4)"},
		{"no route", routeFacts{kernelErr: unix.ENETUNREACH, socketErr: unix.ENETUNREACH}, probes.Fail, "No such device"},
		{"netlink broken", routeFacts{kernelErr: errors.New("EPERM")}, probes.Unknown, "failed"},
		{"default route on cluster iface", routeFacts{kernelEgress: "cl0", socketEgress: "cl0", defaultIface: "cl0"}, probes.Warn, "only because the default route does"},
		{"source from another iface", routeFacts{kernelEgress: "cl0", socketEgress: "eth0", covering: mc}, probes.Warn, "unbound socket would send from eth0"},
	}
	for _, tt := range tests {
		tt.f.iface, tt.f.group = "cl0", "228.0.0.4"
		got := decideRoute(tt.f)
		if got.Status != tt.want || !strings.Contains(got.Summary, tt.says) {
			t.Errorf("%s: decideRoute = %s %q; want %s saying %q", tt.name, got.Status, got.Summary, tt.want, tt.says)
		}
		if (got.Status == probes.Fail || got.Status == probes.Warn) && got.Remediation == "" {
			t.Errorf("%s: no remediation for a %s", tt.name, got.Status)
		}
	}
}

func TestDecideRPFilter(t *testing.T) {
	drop := []rpDrop{{peer: "was3", addr: netip.MustParseAddr("10.98.0.5"), egress: "pub0"}}
	tests := []struct {
		all, dev int
		drops    []rpDrop
		want     probes.Status
		says     string
	}{
		{1, 1, drop, probes.Warn, "drops what was3 (10.98.0.5) sends: the route back to it leaves via pub0"},
		{0, 1, drop, probes.Warn, "strict"}, // max(all, dev) = 1
		{1, 1, nil, probes.Pass, "the kernel lets in what each of the 2 peers sends"},
		{1, 2, nil, probes.Pass, "loose"},
		{0, 0, nil, probes.Pass, "off"},
	}
	for _, tt := range tests {
		got := decideRPFilter("cl0", tt.all, tt.dev, tt.drops, 2)
		if got.Status != tt.want || !strings.Contains(got.Summary, tt.says) {
			t.Errorf("decideRPFilter(all=%d, cl0=%d, %v) = %s %q; want %s saying %q", tt.all, tt.dev, tt.drops, got.Status, got.Summary, tt.want, tt.says)
		}
	}
}
