package firewall

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

func TestResultNamesPeersAndDecider(t *testing.T) {
	was2 := resolve.Peer{Name: "was2", Addr: netip.MustParseAddr("10.0.0.12")}
	was3 := resolve.Peer{Name: "was3", Addr: netip.MustParseAddr("10.0.0.13")}
	zone := "firewalld zone public (the default zone)"
	open := Verdict{Open: true, Why: "rich rule", By: zone}
	closed := Verdict{Why: "zone public (target default) does not allow it", By: zone}
	nftDrop := Verdict{Why: "rule handle 3 of chain input (table inet guard)", By: "nftables table inet guard"}
	for _, tc := range []struct {
		name   string
		cov    []Coverage
		status probes.Status
		says   []string
		not    []string
		state  string
	}{
		{"a rule admits one of two peers", []Coverage{
			{Need: membership, From: was2, Runtime: open, Permanent: open},
			{Need: membership, From: was3, Runtime: closed, Permanent: closed},
		}, probes.Fail, []string{zone + " blocks 45564/udp from was3 (10.0.0.13)"}, []string{"was2 ("}, "missing"},
		{"both peers admitted", []Coverage{
			{Need: membership, From: was2, Runtime: open, Permanent: open},
			{Need: membership, From: was3, Runtime: open, Permanent: open},
		}, probes.Pass, []string{"lets in 45564/udp from was2, was3"}, nil, "open"},
		{"both refused: no peer list in the summary", []Coverage{
			{Need: membership, From: was2, Runtime: closed, Permanent: closed},
			{Need: membership, From: was3, Runtime: closed, Permanent: closed},
		}, probes.Fail, []string{zone + " blocks 45564/udp"}, []string{"from was"}, "missing"},
		{"a table beside firewalld drops what the zone lets in", []Coverage{
			{Need: membership, Runtime: open, Permanent: open, Beside: &nftDrop},
		}, probes.Fail, []string{"nftables table inet guard blocks 45564/udp"}, []string{zone}, "missing"},
		{"runtime-only in one zone", []Coverage{
			{Need: membership, Runtime: open, Permanent: closed},
		}, probes.Warn, []string{zone + " lets in 45564/udp now only"}, nil, "runtime-only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Assessment{Guard: "firewalld", Where: "zone public (the default zone)", Zone: "public", PermZone: "public",
				HasRuntime: true, HasPermanent: true, Coverage: tc.cov, Peers: []resolve.Peer{was2, was3}}
			r := a.Result("firewall.ports", "cl0")
			ports := r.Evidence["ports"].(map[string]any)
			if r.Status != tc.status || ports["45564/udp"] != tc.state {
				t.Errorf("status %s %v, want %s %s: %s", r.Status, ports, tc.status, tc.state, r.Summary)
			}
			for _, s := range tc.says {
				if !strings.Contains(r.Summary, s) {
					t.Errorf("summary %q does not say %q", r.Summary, s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(r.Summary, s) {
					t.Errorf("summary %q says %q", r.Summary, s)
				}
			}
		})
	}
}
