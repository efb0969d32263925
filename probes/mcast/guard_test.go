package mcast

import (
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestCompare(t *testing.T) {
	base := Info{Tomcat: "10.1.60", Membership: "multicast", Group: "228.0.0.4", Port: 45564, JvmRoute: "w1",
		Interceptors: []string{"TcpFailureDetector", "MessageDispatchInterceptor"}, ChannelSendOptions: "8", Manager: "DeltaManager"}
	with := func(mod func(*Info)) Info { i := base; mod(&i); return i }
	for _, tc := range []struct {
		name   string
		there  Info
		what   string // "" for no difference at all
		breaks bool
	}{
		{"same but the route", with(func(i *Info) { i.JvmRoute = "w2" }), "", false},
		{"duplicate jvmRoute", base, "jvmRoute", true},
		{"another group", with(func(i *Info) { i.JvmRoute, i.Group = "w2", "228.0.0.5" }), "group", true},
		{"another port", with(func(i *Info) { i.JvmRoute, i.Port = "w2", 45565 }), "group", true},
		{"static there", with(func(i *Info) { i.JvmRoute, i.Membership = "w2", "static" }), "membership", true},
		{"encrypts only there", with(func(i *Info) { i.JvmRoute, i.Encrypt = "w2", "AES/CBC/PKCS5Padding new" }), "EncryptInterceptor", true},
		{"another major", with(func(i *Info) { i.JvmRoute, i.Tomcat = "w2", "9.0.98" }), "Tomcat", false},
		{"other interceptors", with(func(i *Info) { i.JvmRoute, i.Interceptors = "w2", []string{"TcpFailureDetector"} }), "interceptors", false},
		{"no Tomcat there", Info{Membership: "multicast", Group: "228.0.0.4", Port: 45564}, "", false},
	} {
		d := Compare(base, tc.there)
		switch {
		case tc.what == "" && len(d) != 0:
			t.Errorf("%s: %+v; want no difference", tc.name, d)
		case tc.what != "" && (len(d) != 1 || d[0].What != tc.what || d[0].Breaks != tc.breaks):
			t.Errorf("%s: %+v; want one %s difference (breaks %v)", tc.name, d, tc.what, tc.breaks)
		}
	}
}

// TestCookies: a cookie is bound to the source address and sender id, stays valid for
// the next slot and no longer, and another process's secret never accepts it.
func TestCookies(t *testing.T) {
	c, other := newCookies(), newCookies()
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	now := time.Unix(1_800_000_000, 0)
	v := c.make(a, 7, now)
	for _, tc := range []struct {
		name  string
		ok    bool
		valid bool
	}{
		{"same source, same slot", c.valid(v, a, 7, now), true},
		{"next slot", c.valid(v, a, 7, now.Add(cookieSlot)), true},
		{"two slots later", c.valid(v, a, 7, now.Add(2*cookieSlot)), false},
		{"another address", c.valid(v, b, 7, now), false},
		{"another sender id", c.valid(v, a, 8, now), false},
		{"another process", other.valid(v, a, 7, now), false},
		{"no cookie", c.valid(0, a, 7, now), false},
	} {
		if tc.ok != tc.valid {
			t.Errorf("%s: valid = %v; want %v", tc.name, tc.ok, tc.valid)
		}
	}
}

// TestLimiter: a new source starts with a small burst; a flood of new sources runs dry on
// the newcomers bucket while a source already known keeps its own budget; forgetting a
// source frees nothing (it must come back through the newcomers bucket); the global
// bucket caps everything; the table keeps its fixed size.
func TestLimiter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newLimiter(10, 20, 2, 100, 1000, 64, now)
	peer := netip.MustParseAddr("10.0.0.1")
	got := 0
	for range 10 {
		if l.allow(peer, now) {
			got++
		}
	}
	if got != 2 {
		t.Errorf("a new source got %d answers at once; want its first burst of 2", got)
	}
	now = now.Add(time.Second)
	newcomers := 0
	for i := range 10_000 {
		if l.allow(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), now) {
			newcomers++
		}
		if i == 5000 && !l.allow(peer, now) {
			t.Error("a known source is refused while new sources flood")
		}
	}
	if newcomers > 10 {
		t.Errorf("10 000 new sources in one instant got %d answers; want at most the newcomers burst of 10", newcomers)
	}
	big := newLimiter(10, 20, 2, 1e6, 1e6, 4, now)
	for i := range 1000 {
		big.allow(netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), now)
	}
	if n := big.sources.Len(); n != 4 {
		t.Errorf("the table holds %d sources; want its fixed 4", n)
	}

	g := newLimiter(1000, 1000, 1000, 1000, 50, 4, now)
	total := 0
	for range 1000 {
		if g.allow(peer, now) {
			total++
		}
	}
	if total != 5 {
		t.Errorf("one source got %d answers past a global burst of 5", total)
	}
}

// TestNoAllocationPerRequest: what a responder does for every datagram anyone sends
// (control messages, cookie checks) allocates nothing, so a flood cannot grow the heap.
func TestNoAllocationPerRequest(t *testing.T) {
	c := newCookies()
	a := netip.MustParseAddr("10.0.0.1")
	now := time.Unix(1_800_000_000, 0)
	v := c.make(a, 7, now)
	if n := testing.AllocsPerRun(1000, func() { c.valid(v^2, a, 7, now) }); n != 0 {
		t.Errorf("checking a cookie allocates %.0f times", n)
	}
	var oob []byte
	ts := make([]byte, 16)
	ttl := []byte{64, 0, 0, 0}
	oob = appendCmsg(oob, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, ts)
	oob = appendCmsg(oob, unix.IPPROTO_IP, unix.IP_TTL, ttl)
	var d datagram
	if n := testing.AllocsPerRun(1000, func() { parseOOB(oob, &d) }); n != 0 {
		t.Errorf("reading control messages allocates %.0f times", n)
	}
	if d.ttl != 64 || d.at.IsZero() {
		t.Errorf("parsed %+v; want ttl 64 and a timestamp", d)
	}
}

// appendCmsg appends one control message as the kernel lays it out.
func appendCmsg(b []byte, level, typ int32, data []byte) []byte {
	m := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&m[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(m[unix.CmsgLen(0):], data)
	return append(b, m...)
}
