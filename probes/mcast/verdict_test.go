package mcast

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
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
		{"silence", peerFacts{}, VerdictNotRunning, "or a firewall drops udp/45564"},
		{"no route to host", peerFacts{hsErr: fmt.Errorf("write: %w", syscall.EHOSTUNREACH)}, VerdictUnreachable, "unicast to the peer fails"},
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

func TestTracker(t *testing.T) {
	var tr tracker
	for _, seq := range []uint32{1, 2, 2, 4, 3, 0, maxTracked + 5} {
		tr.add(seq, 1)
	}
	if tr.in.Received != 4 || tr.in.Duplicates != 1 || tr.in.Reordered != 1 || tr.in.FirstSeq != 1 || tr.in.MaxSeq != 4 {
		t.Fatalf("tracker = %+v", tr.in)
	}
	if got := tr.countUpTo(3); got != 3 {
		t.Fatalf("countUpTo(3) = %d", got)
	}
}

func TestStatsRoundTrip(t *testing.T) {
	s := Stats{Done: true, Route: RouteState{Code: RouteWrong, Egress: "pub0"}}
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
