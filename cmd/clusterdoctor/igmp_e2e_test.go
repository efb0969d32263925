package main_test

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// joinGroup makes h a member of the membership group on cl0 until the test ends.
func joinGroup(t *testing.T, h *lab.Host) {
	t.Helper()
	err := h.Do(func() error {
		c, err := net.ListenPacket("udp4", "0.0.0.0:45564")
		if err != nil {
			return err
		}
		t.Cleanup(func() { c.Close() })
		ifi, err := net.InterfaceByName("cl0")
		if err != nil {
			return err
		}
		return ipv4.NewPacketConn(c).JoinGroup(ifi, &net.UDPAddr{IP: net.IPv4(228, 0, 0, 4)})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// answersQueries sends an IGMPv2 general query from querier (as a snooping switch's
// querier would) and reports whether member answers with a membership report within
// the query's 1 s response time: whether its firewall lets IGMP in.
func answersQueries(t *testing.T, querier, member *lab.Host) bool {
	t.Helper()
	var p *ipv4.PacketConn
	err := querier.Do(func() error {
		c, err := net.ListenPacket("ip4:igmp", "0.0.0.0")
		if err != nil {
			return err
		}
		p = ipv4.NewPacketConn(c)
		ifi, err := net.InterfaceByName("cl0")
		if err != nil {
			return err
		}
		// Reports go to the group: the querier listens there (a switch sees all of them).
		if err := p.JoinGroup(ifi, &net.IPAddr{IP: net.IPv4(228, 0, 0, 4)}); err != nil {
			return err
		}
		if err := p.SetMulticastInterface(ifi); err != nil {
			return err
		}
		p.SetMulticastLoopback(false)
		return p.SetMulticastTTL(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	query := []byte{0x11, 10, 0, 0, 0, 0, 0, 0} // general query, max response 1 s
	sum := ^uint16(0x11<<8 | 10)
	query[2], query[3] = byte(sum>>8), byte(sum)
	buf := make([]byte, 1500)
	// A querier repeats its query; three tries ride out a freshly built bridge that has
	// not yet learned where the querier is.
	for try := 0; try < 3; try++ {
		if _, err := p.WriteTo(query, nil, &net.IPAddr{IP: net.IPv4(224, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(1200 * time.Millisecond); ; {
			p.SetReadDeadline(deadline)
			n, _, src, err := p.ReadFrom(buf)
			if err != nil {
				break
			}
			from, _ := netip.AddrFromSlice(src.(*net.IPAddr).IP.To4())
			if from == member.Addr && n >= 8 && (buf[0] == 0x16 || buf[0] == 0x22) {
				return true
			}
		}
	}
	return false
}

// TestFirewallIGMPMatchesTheKernel: firewall.igmp's verdict against what a real firewalld
// does with a real IGMP query, before and after fix firewall.
func TestFirewallIGMPMatchesTheKernel(t *testing.T) {
	l := lab.New(t)
	switchQuerier, b := l.AddHost("q", 1), l.AddHost("b", 2)
	switchQuerier.AddMulticastRoute()
	b.AddMulticastRoute()
	joinGroup(t, b)
	if !answersQueries(t, switchQuerier, b) {
		t.Fatal("without a firewall b does not answer the query: the test cannot tell anything")
	}
	bus := b.StartSystemBus()
	b.StartFirewalld(bus, nil)
	priv := lab.Private{Env: []string{"DBUS_SYSTEM_BUS_ADDRESS=" + bus}}

	rep, _ := preflightJSON(t, b, priv, "--iface", "cl0")
	c := check(t, rep, "firewall.igmp")
	heard := answersQueries(t, switchQuerier, b)
	if c.Status != "warn" || heard {
		t.Errorf("default public zone: firewall.igmp = %s (%s); b answered the query: %v", c.Status, c.Summary, heard)
	}

	bad := execute(t, b.Command(priv, binary, "fix", "firewall", "--iface", "cl0", "--zone", "nosuch"))
	if bad.code != 2 || strings.Count(strings.TrimSpace(bad.stderr), "\n") != 0 || !strings.Contains(bad.stderr, "--zone nosuch") {
		t.Errorf("--zone nosuch: exit %d, stderr %q", bad.code, bad.stderr)
	}

	fix := execute(t, b.Command(priv, binary, "fix", "firewall", "--iface", "cl0"))
	if fix.code != 0 {
		t.Fatalf("fix firewall: %d\n%s%s", fix.code, fix.stdout, fix.stderr)
	}
	rep, _ = preflightJSON(t, b, priv, "--iface", "cl0")
	c = check(t, rep, "firewall.igmp")
	heard = answersQueries(t, switchQuerier, b)
	if c.Status != "pass" || !heard {
		t.Errorf("after fix firewall: firewall.igmp = %s (%s); b answered the query: %v\n%s", c.Status, c.Summary, heard, fix.stdout)
	}
}
