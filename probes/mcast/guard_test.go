package mcast

import (
	"net/netip"
	"testing"
	"time"
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

// TestLimiter: a new source starts with a small burst, the table forgets the least
// recently seen source, keeping a fixed size,
// and the global bucket caps a flood of new sources whatever the table does.
func TestLimiter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newLimiter(10, 20, 2, 100, 100, 4, now)
	a := netip.MustParseAddr("10.0.0.1")
	got := 0
	for range 10 {
		if l.allow(a, now) {
			got++
		}
	}
	if got != 2 {
		t.Errorf("a new source got %d answers at once; want its first burst of 2", got)
	}
	if !l.allow(a, now.Add(time.Second)) {
		t.Error("a known source is refused after a second of refill")
	}
	allowed := 0
	for i := range 10_000 {
		src := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		if l.allow(src, now.Add(time.Second)) {
			allowed++
		}
	}
	if allowed > 100 {
		t.Errorf("10 000 new sources in one instant got %d answers; want at most the global burst of 100", allowed)
	}
	if n := l.sources.Len(); n != 4 {
		t.Errorf("the table holds %d sources; want its fixed 4", n)
	}
}
