package igmp

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func query(src string, version int, qqi time.Duration) Packet {
	m, _ := Parse(Query(version, time.Second, qqi))
	return Packet{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr("224.0.0.1"), Message: m}
}

func TestTrackerIntervals(t *testing.T) {
	tr := NewTracker(0)
	t0 := time.Unix(1000, 0)
	tr.Heard(query("10.0.0.9", 2, 0), t0)
	tr.Heard(query("10.0.0.9", 2, 0), t0.Add(30*time.Second))
	tr.Heard(query("10.0.0.5", 3, 20*time.Second), t0.Add(31*time.Second))
	qs := tr.Queriers()
	if len(qs) != 2 || qs[0].Addr.String() != "10.0.0.5" {
		t.Fatalf("queriers %+v", qs)
	}
	v3, v2 := qs[0], qs[1]
	if v2.Version != 2 || v2.Interval != 30*time.Second || !v2.Measured || v2.Queries != 2 {
		t.Errorf("IGMPv2 querier: %+v; want its interval measured as 30s", v2)
	}
	if v3.Version != 3 || v3.Interval != 20*time.Second || v3.Measured {
		t.Errorf("IGMPv3 querier: %+v; want its announced 20s", v3)
	}
	// The lowest address present is elected; once it is quiet (2 × 20 s + 0.5 s), the other.
	if q, ok := Elected(qs, t0.Add(40*time.Second)); !ok || q.Addr != v3.Addr {
		t.Errorf("elected %v %v, want 10.0.0.5", q.Addr, ok)
	}
	if q, ok := Elected(qs, t0.Add(80*time.Second)); !ok || q.Addr != v2.Addr {
		t.Errorf("elected %v %v after 10.0.0.5 went quiet, want 10.0.0.9", q.Addr, ok)
	}
	if _, ok := Elected(qs, t0.Add(time.Hour)); ok {
		t.Error("a querier is elected an hour after the last query")
	}
	if !strings.Contains(presence(v3), "40.5s (2 × 20s + 1s/2)") {
		t.Errorf("presence %q", presence(v3))
	}
}

func TestTrackerIgnoresAllButGeneralQueries(t *testing.T) {
	tr := NewTracker(0)
	specific := query("10.0.0.9", 2, 0)
	specific.Group = netip.MustParseAddr("228.0.0.4")
	report, _ := Parse(withSum([]byte{0x16, 0, 0, 0, 228, 0, 0, 4}))
	tr.Heard(specific, time.Now())
	tr.Heard(Packet{Src: netip.MustParseAddr("10.0.0.2"), Message: report}, time.Now())
	if qs := tr.Queriers(); len(qs) != 0 {
		t.Errorf("tracked %+v from a group-specific query and a report", qs)
	}
}

// TestTrackerBounded: forged queries from 5,000 sources leave at most Max tracked, and a
// querier that goes on asking stays.
func TestTrackerBounded(t *testing.T) {
	tr := NewTracker(0)
	t0 := time.Unix(1000, 0)
	real := query("10.0.0.1", 3, 125*time.Second)
	for i := 0; i < 5000; i++ {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		if i%100 == 0 {
			tr.Heard(real, at)
		}
		tr.Heard(query(netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}).String(), 2, 0), at)
	}
	qs := tr.Queriers()
	if len(qs) != MaxQueriers || tr.Dropped() != 5001-MaxQueriers {
		t.Errorf("%d tracked, %d dropped; want %d and %d", len(qs), tr.Dropped(), MaxQueriers, 5001-MaxQueriers)
	}
	if qs[0].Addr != real.Src || qs[0].Queries != 50 {
		t.Errorf("the real querier was let go: first is %+v", qs[0])
	}
}

func TestKernelQuerierVersion(t *testing.T) {
	const procNetIGMP = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n" +
		"1\tlo        :     1      V3\n\t\t\t\t010000E0     1 0:00000000\t\t0\n" +
		"2\tcl0       :     2      V2\n\t\t\t\t040000E4     1 0:00000000\t\t1\n\t\t\t\t010000E0     1 0:00000000\t\t0\n"
	for iface, want := range map[string]string{"cl0": "V2", "lo": "V3", "eth9": ""} {
		if got := KernelQuerierVersion(strings.NewReader(procNetIGMP), iface); got != want {
			t.Errorf("%s: %q, want %q", iface, got, want)
		}
	}
}

func TestJudgeBridge(t *testing.T) {
	def := Bridge{Name: "br0", Snooping: true, Membership: 260 * time.Second, OtherQuerier: 255 * time.Second,
		QueryInterval: 125 * time.Second, QueryResponse: 10 * time.Second}
	short := def
	short.Membership = 10 * time.Second
	own := short
	own.Querier, own.QueryInterval, own.QueryResponse = true, 2*time.Second, time.Second
	late := own
	late.QueryInterval = 9 * time.Second
	off := def
	off.Snooping = false
	cases := []struct {
		name string
		b    Bridge
		want string
		text string
	}{
		{"defaults leave no gap", def, "pass", "leaves no gap"},
		{"short membership, no own querier", short, "warn", "up to 4m5s"},
		{"own querier in time", own, "pass", "own querier"},
		{"own querier too slow", late, "warn", "between its queries"},
		{"snooping off", off, "pass", "floods"},
	}
	for _, c := range cases {
		r := judgeBridge(c.b)
		if string(r.Status) != c.want || !strings.Contains(r.Summary, c.text) {
			t.Errorf("%s: %s %q; want %s with %q", c.name, r.Status, r.Summary, c.want, c.text)
		}
	}
}
