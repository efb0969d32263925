package mcast

import (
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes/reach"
)

func dir(sent, recv uint32) Direction { return direction(sent, Inbound{FirstSeq: 1}, recv) }

func TestDecide(t *testing.T) {
	ok := peerFacts{acked: true, outUni: dir(30, 30), inUni: dir(30, 30), outMc: dir(30, 30), inMc: dir(30, 30), ttl: 1, maxLoss: 1}
	with := func(mod func(*peerFacts)) peerFacts { f := ok; mod(&f); return f }
	tests := []struct {
		name    string
		f       peerFacts
		verdict string
		says    string
	}{
		{"all fine", ok, VerdictOK, "both ways"},
		{"refused", peerFacts{hsErr: fmt.Errorf("read: %w", syscall.ECONNREFUSED)}, VerdictNotRunning, "nothing listens on udp/45564"},
		{"silence", peerFacts{}, VerdictDropped, "silently dropped"},
		{"silence, own firewall", peerFacts{extra: extraFacts{blocked: "nftables table inet filter blocks 45564/udp"}}, VerdictDropped, "this host's own firewall keeps the peer's packets out: nftables table inet filter"},
		{"silence, no ARP", peerFacts{extra: extraFacts{arpFailed: true}}, VerdictUnreachable, "no answer to ARP"},
		{"no route to host", peerFacts{hsErr: fmt.Errorf("write: %w", syscall.EHOSTUNREACH)}, VerdictUnreachable, "no answer to ARP"},
		{"admin prohibited", peerFacts{icmp: &icmpReport{Origin: unix.SO_EE_ORIGIN_ICMP, Type: 3, Code: 13, From: netip.MustParseAddr("10.0.0.2")}},
			VerdictRejected, "rejected by a firewall on 10.0.0.2 (10.0.0.2 reports ICMP communication administratively prohibited)"},
		{"host prohibited by a router", peerFacts{icmp: &icmpReport{Origin: unix.SO_EE_ORIGIN_ICMP, Type: 3, Code: 10, From: netip.MustParseAddr("10.0.0.254")}},
			VerdictRejected, "on 10.0.0.254"},
		{"port unreachable", peerFacts{icmp: &icmpReport{Origin: unix.SO_EE_ORIGIN_ICMP, Type: 3, Code: 3, From: netip.MustParseAddr("10.0.0.2")}},
			VerdictNotRunning, "port unreachable"},
		{"host unreachable from a router", peerFacts{icmp: &icmpReport{Origin: unix.SO_EE_ORIGIN_ICMP, Type: 3, Code: 1, From: netip.MustParseAddr("10.0.0.254")}},
			VerdictUnreachable, "10.0.0.254 reports ICMP host unreachable"},
		{"ARP failed, said locally", peerFacts{icmp: &icmpReport{Origin: unix.SO_EE_ORIGIN_LOCAL, Errno: syscall.EHOSTUNREACH}}, VerdictUnreachable, "no answer to ARP"},
		{"key required", peerFacts{auth: authKeyed}, VerdictAuthFailed, "requires a key"},
		{"other key", peerFacts{auth: authKeyed, keyed: true}, VerdictAuthFailed, "another key"},
		{"peer without a key", peerFacts{auth: authUnkeyed, keyed: true}, VerdictAuthFailed, "without a key"},
		{"agent: inbound not tested", with(func(f *peerFacts) { f.responder, f.inMc, f.inUni = true, dir(0, 0), dir(0, 0) }), VerdictOK, "not tested"},
		{"agent: multicast out fails", with(func(f *peerFacts) { f.responder, f.outMc, f.inMc = true, dir(30, 0), dir(0, 0) }), VerdictMulticastBlocked, "other way is not tested"},
		{"inbound blocked by this host's firewall", with(func(f *peerFacts) {
			f.inMc, f.extra.blocked = dir(30, 0), "firewalld zone public blocks 45564/udp"
		}), VerdictOneWay, "this host's firewall keeps it out: firewalld zone public"},
		{"the peer never reaches this host: own firewall", with(func(f *peerFacts) {
			f.remoteKnown, f.inMc, f.inUni, f.extra.blocked = true, dir(0, 0), dir(0, 0), "firewalld zone public blocks 45564/udp"
		}), VerdictOneWay, "its own packets never arrive here: this host's firewall keeps them out: firewalld zone public"},
		{"the peer sent nothing, no cause here", with(func(f *peerFacts) { f.remoteKnown, f.inMc, f.inUni = true, dir(0, 0), dir(0, 0) }),
			VerdictOK, "the direction from it was not tested"},
		{"TCP dropped", with(func(f *peerFacts) {
			f.tcpPort, f.tcp = 4000, &reach.Result{Outcome: reach.Dropped, Elapsed: 1500 * time.Millisecond}
		}), VerdictTCPBlocked, "silently dropped"},
		{"TCP rejected", with(func(f *peerFacts) {
			f.tcpPort, f.tcp = 4000, &reach.Result{Outcome: reach.Rejected, ICMP: &reach.ICMP{Type: 3, Code: 13, From: netip.MustParseAddr("10.0.0.2")}}
		}), VerdictTCPBlocked, "rejected by a firewall on 10.0.0.2"},
		{"the peer's TCP to us refused", with(func(f *peerFacts) { f.ourPort, f.peerTCP = 4000, reach.Refused }), VerdictTCPBlocked, "receiver port 4000 was refused"},
		{"TCP open", with(func(f *peerFacts) { f.tcpPort, f.tcp, f.peerTCP = 4000, &reach.Result{Outcome: reach.Open}, reach.Open }), VerdictOK, "TCP to the peer's receiver"},
		{"unicast dies after handshake", with(func(f *peerFacts) { f.outUni, f.inUni = dir(30, 0), dir(30, 0) }), VerdictUnreachable, "handshake worked"},
		{"blocked, network", with(func(f *peerFacts) { f.outMc, f.inMc = dir(30, 0), dir(30, 0) }), VerdictMulticastBlocked, "network:"},
		{"blocked, my route", with(func(f *peerFacts) {
			f.outMc, f.inMc, f.local = dir(30, 0), dir(30, 0), RouteState{Code: RouteWrong, Egress: "pub0"}
			f.outEx = dir(20, 20)
		}), VerdictMulticastBlocked, "route: here the group leaves via pub0; with the interface set explicitly 20 of 20 arrived"},
		{"blocked, peer's route", with(func(f *peerFacts) {
			f.outMc, f.inMc, f.remote, f.remoteKnown = dir(30, 0), dir(30, 0), RouteState{Code: RouteNone}, true
		}), VerdictMulticastBlocked, "route: on the peer there is no route"},
		{"blocked, explicit works", with(func(f *peerFacts) { f.outMc, f.inMc, f.outEx = dir(30, 0), dir(30, 0), dir(20, 19) }), VerdictMulticastBlocked, "19 of 20 arrived"},
		{"one way out", with(func(f *peerFacts) { f.outMc = dir(30, 0) }), VerdictOneWay, "from here does not reach the peer"},
		{"one way in", with(func(f *peerFacts) { f.inMc = dir(30, 0) }), VerdictOneWay, "from the peer does not arrive here"},
		{"peer sent nothing yet", with(func(f *peerFacts) { f.inMc = dir(0, 0) }), VerdictOK, ""},
		{"ttl too low", with(func(f *peerFacts) { f.outMc, f.inMc, f.uniHops = dir(30, 0), dir(30, 0), 2 }), VerdictTTLTooLow, "2 hops away"},
		{"lossy", with(func(f *peerFacts) { f.outUni = dir(100, 90) }), VerdictLossy, "10.0% loss"},
		{"loss at the limit", with(func(f *peerFacts) { f.outUni = dir(100, 99) }), VerdictOK, ""},
		{"loss before the first multicast packet is forgiven", with(func(f *peerFacts) {
			f.outMc = direction(30, Inbound{FirstSeq: 6}, 25)
		}), VerdictOK, ""},
	}
	for _, tt := range tests {
		v, why := decide(tt.f, 45564)
		if v != tt.verdict || !strings.Contains(why, tt.says) {
			t.Errorf("%s: decide = %s %q; want %s saying %q", tt.name, v, why, tt.verdict, tt.says)
		}
	}
}

func TestDirection(t *testing.T) {
	d := direction(100, Inbound{FirstSeq: 11, Duplicates: 2, Reordered: 1}, 80)
	if d.LossPct != 20 || d.LossAfterFirstPct != 11.11 || d.Duplicates != 2 || d.Reordered != 1 {
		t.Fatalf("direction = %+v", d)
	}
	if d := direction(0, Inbound{}, 0); d.LossPct != 0 {
		t.Fatalf("nothing sent: %+v", d)
	}
}

func TestWindow(t *testing.T) {
	var w window
	want := []seen{seenNew, seenNew, seenDuplicate, seenNew, seenNew, seenInvalid}
	for i, seq := range []uint32{1, 2, 2, 4, 3, 0} {
		if got := w.add(seq, 1); got != want[i] {
			t.Errorf("add(%d) = %d, want %d", seq, got, want[i])
		}
	}
	if w.in.Received != 4 || w.in.Duplicates != 1 || w.in.Reordered != 1 || w.in.FirstSeq != 1 || w.in.MaxSeq != 4 {
		t.Fatalf("window = %+v", w.in)
	}
	if got := w.countUpTo(3); got != 3 {
		t.Fatalf("countUpTo(3) = %d", got)
	}
	// A claimed seq far ahead slides the window instead of growing anything; what fell
	// out of it is stale, not a new packet.
	if got := w.add(1<<31, 1); got != seenNew || w.ones() != 1 {
		t.Fatalf("jump: %d, %d bits set", got, w.ones())
	}
	if got := w.add(5, 1); got != seenStale {
		t.Fatalf("seq behind the window: %d", got)
	}
	if got := w.add(1<<31-10, 1); got != seenNew || w.in.Reordered != 2 {
		t.Fatalf("late seq inside the window: %d %+v", got, w.in)
	}
	// countUpTo over a run that went on past the window
	var long window
	for seq := uint32(1); seq <= 3*windowBits; seq++ {
		if seq%10 != 0 {
			long.add(seq, 1)
		}
	}
	max := uint32(3*windowBits - 100)
	if got, want := long.countUpTo(max), max-max/10; got != want {
		t.Fatalf("countUpTo(%d) = %d, want %d", max, got, want)
	}
}

func TestClockFromSamples(t *testing.T) {
	// The peer's clock is 3 s ahead; the network takes 100 µs each way and the peer
	// holds the request 50 µs. A slower sample must not win.
	var l replyLog
	base := int64(1_000_000_000_000)
	shift := int64(3 * time.Second)
	for _, extra := range []int64{400_000, 0, 200_000} {
		t1 := base
		t2 := t1 + 100_000 + extra + shift
		t3 := t2 + 50_000
		t4 := t3 - shift + 100_000
		l.add(sample{t1, t2, t3, t4})
		base += int64(time.Second)
	}
	c := clockOf(&l, time.Second)
	if c.OffsetMs != 3000 || c.ErrorMs != 0.1 || c.Samples != 3 || !c.Skewed() {
		t.Fatalf("clock = %+v", c)
	}
	if d := l.best.delay(); d != 200*time.Microsecond {
		t.Fatalf("best delay %s", d)
	}
}

func TestStatsRoundTrip(t *testing.T) {
	s := Stats{Done: true, Route: RouteState{Code: RouteWrong, Egress: "pub0"}, TCP: tcpCode(reach.Dropped)}
	s.In[Multicast] = Inbound{Received: 5, Duplicates: 1, Reordered: 2, FirstSeq: 3, MaxSeq: 9, TTL: 1}
	s.Sent[Unicast], s.Sent[Explicit] = 30, 20
	got, err := decodeStats(appendStats(nil, &s))
	if err != nil || got != s {
		t.Fatalf("round trip %+v, %v; want %+v", got, err, s)
	}
	if _, err := decodeStats(appendStats(nil, &s)[:10]); err == nil {
		t.Fatal("truncated stats decoded")
	}
}

func TestRTTStats(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	r := rttStats(ds)
	if r.Min != 1 || r.Max != 100 || r.Avg != 50.5 || r.P99 != 99 || r.Stddev < 28.8 || r.Stddev > 28.9 {
		t.Fatalf("rttStats = %+v", r)
	}
}
