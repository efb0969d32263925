package reach

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// TestTCPInLab: each way a connection attempt can end, made for real between two
// namespaces, is told apart and named.
func TestTCPInLab(t *testing.T) {
	lab.RequireCommands(t, "nft")
	l := lab.New(t)
	a, b := l.AddHost("a", 1), l.AddHost("b", 2)
	b.Listen("10.99.0.2:4000")
	b.Nft(`table inet t {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 4001 reject with icmpx admin-prohibited
    tcp dport 4002 drop
    tcp dport 4003 reject with icmp port-unreachable
    tcp dport 4004 reject with tcp reset
  }
}`)
	cases := []struct {
		to   string
		want Outcome
		says string
		icmp int // ICMP code expected, -1 none
	}{
		{"10.99.0.2:4000", Open, "accepts TCP", -1},
		{"10.99.0.2:4009", Refused, "TCP reset", -1},
		{"10.99.0.2:4001", Rejected, "rejected by a firewall on 10.99.0.2 (ICMP communication administratively prohibited)", 13},
		{"10.99.0.2:4002", Dropped, "silently dropped", -1},
		{"10.99.0.2:4003", Rejected, "ICMP port unreachable", 3},
		{"10.99.0.2:4004", Refused, "TCP reset", -1},
		{"10.99.0.77:4000", Unreachable, "no answer to ARP", -1},
		{"10.98.0.1:4000", Unreachable, "no route", -1},
	}
	for _, c := range cases {
		t.Run(c.to, func(t *testing.T) {
			var r Result
			a.Do(func() error {
				r = TCP(context.Background(), netip.MustParseAddrPort(c.to), 1500*time.Millisecond)
				return nil
			})
			if r.Outcome != c.want || !strings.Contains(r.Text(), c.says) {
				t.Fatalf("TCP(%s) = %s %q (err %v); want %s saying %q", c.to, r.Outcome, r.Text(), r.Err, c.want, c.says)
			}
			if c.icmp >= 0 && (r.ICMP == nil || r.ICMP.Code != c.icmp) {
				t.Errorf("TCP(%s) ICMP = %+v; want code %d", c.to, r.ICMP, c.icmp)
			}
			if c.icmp < 0 && r.ICMP != nil {
				t.Errorf("TCP(%s) ICMP = %+v; want none", c.to, r.ICMP)
			}
		})
	}
}

func TestParseICMPIgnoresOthers(t *testing.T) {
	if _, ok := parseICMP([]byte{0x45, 0, 0}, nil); ok {
		t.Fatal("a short packet parsed")
	}
}
