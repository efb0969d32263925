package main_test

import (
	"bytes"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
)

// TestRPFilterAsTheKernelDecides: strict reverse-path filtering on a host with two NICs is
// a finding only for a peer whose route back leaves by the other NIC, and then the kernel
// really drops its multicast; a peer in the cluster subnet passes, and so do its packets.
func TestRPFilterAsTheKernelDecides(t *testing.T) {
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddPublic() // the default route via pub0
	a.AddMulticastRoute()
	near := l.AddHost("near", 2) // 10.99.0.2, in cl0's subnet
	near.AddMulticastRoute()
	far := l.AddHost("far", 5) // on the cluster LAN, but addressed in another subnet
	readdress(t, far, "10.99.0.5/24", "10.98.0.5/24")
	far.AddMulticastRoute()
	sysctl := func(v string) {
		for _, k := range []string{"net.ipv4.conf.all.rp_filter", "net.ipv4.conf.cl0.rp_filter"} {
			if out, err := a.Command(lab.Private{}, "sysctl", "-qw", k+"="+v).CombinedOutput(); err != nil {
				t.Fatalf("sysctl %s=%s: %v %s", k, v, err, out)
			}
		}
	}
	heard := func() map[string]uint32 {
		listener := a.Command(lab.Private{}, binary, "mcast-test", "--listen", "--iface", "cl0", "--duration", "1500ms", "-o", "json")
		var out bytes.Buffer
		listener.Stdout = &out
		if err := listener.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		for _, h := range []*lab.Host{near, far} {
			execute(t, h.Command(lab.Private{}, binary, "mcast-test", "--send", "--iface", "cl0", "--count", "20", "--interval", "10ms"))
		}
		listener.Wait()
		var rep mcast.Report
		json.Unmarshal(out.Bytes(), &rep)
		got := map[string]uint32{}
		for _, s := range rep.Senders {
			got[s.Sender] = s.Received
		}
		return got
	}
	verdict := func(want probes.Status, says string) {
		t.Helper()
		rep, _ := preflightJSON(t, a, lab.Private{}, "--iface", "cl0", "--skip", "ntp.sync", "--peer", "10.99.0.2", "--peer", "10.98.0.5")
		got := check(t, rep, "sysctl.rp_filter")
		if got.Status != want || !strings.Contains(got.Summary, says) {
			t.Errorf("sysctl.rp_filter = %s %q; want %s saying %q", got.Status, got.Summary, want, says)
		}
	}

	sysctl("1")
	if got := heard(); got["10.99.0.2"] != 20 || got["10.98.0.5"] != 0 {
		t.Fatalf("with rp_filter=1 the kernel delivered %v; the test expects 20 from 10.99.0.2 and none from 10.98.0.5", got)
	}
	verdict(probes.Warn, "drops what 10.98.0.5 (10.98.0.5) sends: the route back to it leaves via pub0")

	sysctl("2")
	if got := heard(); got["10.99.0.2"] != 20 || got["10.98.0.5"] != 20 {
		t.Fatalf("with rp_filter=2 the kernel delivered %v; the test expects 20 from each", got)
	}
	verdict(probes.Pass, "loose")
}

// readdress moves a lab host's cl0 from one address to another.
func readdress(t *testing.T, h *lab.Host, from, to string) {
	t.Helper()
	cl0, err := h.NL().LinkByName("cl0")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		cidr string
		add  bool
	}{{from, false}, {to, true}} {
		ip, n, _ := net.ParseCIDR(p.cidr)
		a := &netlink.Addr{IPNet: &net.IPNet{IP: ip, Mask: n.Mask}}
		if p.add {
			err = h.NL().AddrAdd(cl0, a)
		} else {
			err = h.NL().AddrDel(cl0, a)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", h.Name, p.cidr, err)
		}
	}
}
