package main_test

import (
	"net"
	"os/user"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
)

// multicastRoutes lists 224.0.0.0/4 routes in h's main table as "dev proto".
func multicastRoutes(t *testing.T, h *lab.Host) []string {
	t.Helper()
	var out []string
	for _, r := range h.Routes("224.0.0.0/4") {
		l, _ := h.NL().LinkByIndex(r.LinkIndex)
		out = append(out, l.Attrs().Name+" "+r.Protocol.String())
	}
	return out
}

func TestFixRouteInLab(t *testing.T) {
	l := lab.New(t)
	a, b := l.AddHost("a", 1), l.AddHost("b", 2)
	a.AddPublic() // default route on pub0, no multicast route: the classic failure
	b.AddMulticastRoute()

	before := runMesh(t, []*lab.Host{a, b}, "--count", "10", "--interval", "10ms")
	if v := before["a"].rep.Peers[0].Verdict; v != mcast.VerdictMulticastBlocked {
		t.Fatalf("before the fix: %s; want multicast-blocked", v)
	}

	dry := execute(t, a.Command(lab.Private{}, binary, "fix", "route", "--iface", "cl0", "--dry-run"))
	if !strings.Contains(dry.stdout, "ip route replace 224.0.0.0/4 dev cl0 scope link proto 205") || !strings.Contains(dry.stdout, "nothing was changed") {
		t.Errorf("--dry-run printed %q", dry.stdout)
	}
	if got := multicastRoutes(t, a); len(got) != 0 {
		t.Fatalf("--dry-run changed the table: %v", got)
	}

	first := execute(t, a.Command(lab.Private{}, binary, "fix", "route", "--iface", "cl0"))
	second := execute(t, a.Command(lab.Private{}, binary, "fix", "route", "--iface", "cl0"))
	if first.code != 0 || !strings.Contains(first.stdout, "check: route.multicast pass") {
		t.Errorf("first run: exit %d %q %q", first.code, first.stdout, first.stderr)
	}
	if second.code != 0 || !strings.Contains(second.stdout, "already in place") || strings.Contains(second.stdout, "\nip route replace") {
		t.Errorf("second run: exit %d %q; want already in place and no change", second.code, second.stdout)
	}
	if got := multicastRoutes(t, a); len(got) != 1 || got[0] != "cl0 205" {
		t.Fatalf("routes after two runs: %v; want exactly one, on cl0, proto 205", got)
	}

	after := runMesh(t, []*lab.Host{a, b}, "--count", "10", "--interval", "10ms")
	for _, name := range []string{"a", "b"} {
		if p := after[name].rep.Peers[0]; p.Verdict != mcast.VerdictOK {
			t.Errorf("after the fix, %s: %s (%s); want ok", name, p.Verdict, p.Reason)
		}
	}
}

func TestFixRouteMovesAWrongRoute(t *testing.T) {
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddPublic()
	pub, _ := a.NL().LinkByName("pub0")
	_, dst, _ := net.ParseCIDR("224.0.0.0/4")
	if err := a.NL().RouteReplace(&netlink.Route{LinkIndex: pub.Attrs().Index, Dst: dst, Scope: netlink.SCOPE_LINK}); err != nil {
		t.Fatal(err)
	}
	r := execute(t, a.Command(lab.Private{}, binary, "fix", "route", "--iface", "cl0"))
	if r.code != 0 || !strings.Contains(r.stdout, "routed via pub0 now; it is moved to cl0") {
		t.Errorf("exit %d %q", r.code, r.stdout)
	}
	if got := multicastRoutes(t, a); len(got) != 1 || got[0] != "cl0 205" {
		t.Fatalf("routes: %v; want the one route moved to cl0", got)
	}
}

func TestFixRouteNeedsRoot(t *testing.T) {
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("skipped: no user nobody")
	}
	lab.RequireCommands(t, "setpriv")
	l := lab.New(t)
	a := l.AddHost("a", 1)
	r := execute(t, a.Command(lab.Private{}, "setpriv", "--reuid="+nobody.Uid, "--regid="+nobody.Gid, "--clear-groups", binary, "fix", "route", "--iface", "cl0"))
	if r.code != 2 || !strings.Contains(r.stderr, "needs root") || len(multicastRoutes(t, a)) != 0 {
		t.Fatalf("as nobody: exit %d %q; want 2, needs root, nothing changed", r.code, r.stderr)
	}
	bad := execute(t, a.Command(lab.Private{}, binary, "fix", "route", "--iface", "cl0", "--net", "10.0.0.0/8"))
	if bad.code != 2 || !strings.Contains(bad.stderr, `--net "10.0.0.0/8": not an IPv4 multicast prefix`) {
		t.Fatalf("--net 10.0.0.0/8: exit %d %q", bad.code, bad.stderr)
	}
}

// routeShow is `ip route show table main 224.0.0.0/4` in the host: every attribute a
// rollback must restore.
func routeShow(t *testing.T, h *lab.Host) string {
	t.Helper()
	out, err := h.Command(lab.Private{}, "ip", "-d", "route", "show", "table", "main", "224.0.0.0/4").CombinedOutput()
	if err != nil {
		t.Fatalf("ip route show: %v %s", err, out)
	}
	return string(out)
}

// TestFixRouteMovesRoutesOfAnyMetric: 224.0.0.0/4 on pub0 with metric 0 and with metric
// 100 (a NetworkManager profile's) are both moved, leaving the cluster interface's route
// alone; when the persistent step then fails, the rollback puts back exactly what was there.
func TestFixRouteMovesRoutesOfAnyMetric(t *testing.T) {
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddPublic()
	pub, _ := a.NL().LinkByName("pub0")
	_, dst, _ := net.ParseCIDR("224.0.0.0/4")
	for _, m := range []int{0, 100} {
		if err := a.NL().RouteAdd(&netlink.Route{LinkIndex: pub.Attrs().Index, Dst: dst, Scope: netlink.SCOPE_LINK, Priority: m, Protocol: 4}); err != nil {
			t.Fatal(err)
		}
	}
	before := routeShow(t, a)

	root := t.TempDir()
	dir := root + "/etc/sysconfig/network-scripts"
	writeTree(t, root, map[string]string{"/etc/sysconfig/network-scripts/ifcfg-cl0": "DEVICE=cl0\n"})
	r := execute(t, a.Command(lab.Private{Setup: []string{"mount --bind " + dir + " " + dir, "mount -o remount,bind,ro " + dir}},
		binary, "fix", "route", "--iface", "cl0", "--persist", "--root", root))
	if r.code != 3 || !strings.Contains(r.stderr, "rolled back") {
		t.Fatalf("fix with a read-only configuration: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if after := routeShow(t, a); after != before {
		t.Fatalf("the rollback did not restore the routes:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	r = execute(t, a.Command(lab.Private{}, binary, "fix", "route", "--iface", "cl0"))
	if r.code != 0 || !strings.Contains(r.stdout, "ip route del 224.0.0.0/4 dev pub0 metric 100") {
		t.Fatalf("fix: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := multicastRoutes(t, a); len(got) != 1 || got[0] != "cl0 205" {
		t.Fatalf("routes after the fix: %v; want only cl0's\n%s", got, routeShow(t, a))
	}
}
