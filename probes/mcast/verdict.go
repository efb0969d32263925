package mcast

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// Verdicts, stable API.
const (
	VerdictOK               = "ok"
	VerdictNotRunning       = "peer-not-running"
	VerdictUnreachable      = "unreachable"
	VerdictMulticastBlocked = "multicast-blocked"
	VerdictOneWay           = "one-way"
	VerdictLossy            = "lossy"
	VerdictTTLTooLow        = "ttl-too-low"
)

// PeerResult is the outcome for one peer (the JSON "peers" entries).
type PeerResult struct {
	Peer      string     `json:"peer"`
	Address   string     `json:"address"`
	Verdict   string     `json:"verdict"`
	Reason    string     `json:"reason"`
	Unicast   PathResult `json:"unicast"`
	Multicast PathResult `json:"multicast"`
}

// PathResult is one path to and from a peer. The top-level counts are our requests to
// the peer (sent by us, received by it); Inbound is the peer's requests to us. TTL and
// Hops are what we saw on the peer's packets.
type PathResult struct {
	Direction           // our requests: sent by us, received by the peer
	RTT       RTTStats  `json:"rttMs"`
	TTL       int       `json:"ttl"`
	Hops      int       `json:"hops"`
	Inbound   Direction `json:"inbound"`
	// Explicit is the diagnosis pass with the interface set, when one ran.
	Explicit *Direction `json:"explicit,omitempty"`
}

// Direction is the counts of one direction of a path.
type Direction struct {
	Sent              uint32  `json:"sent"`
	Received          uint32  `json:"received"`
	LossPct           float64 `json:"lossPct"`
	LossAfterFirstPct float64 `json:"lossAfterFirstPct"`
	Duplicates        uint32  `json:"duplicates"`
	Reordered         uint32  `json:"reordered"`
}

// RTTStats are round-trip times in milliseconds.
type RTTStats struct {
	Min    float64 `json:"min"`
	Avg    float64 `json:"avg"`
	Max    float64 `json:"max"`
	Stddev float64 `json:"stddev"`
	P99    float64 `json:"p99"`
}

// peerFacts are the numbers a verdict is decided on.
type peerFacts struct {
	acked                bool
	hsErr                error
	outUni, outMc, outEx Direction
	inUni, inMc          Direction
	local, remote        RouteState
	remoteKnown          bool
	uniHops, ttl         int
	maxLoss              float64
}

func direction(sent uint32, in Inbound, received uint32) Direction {
	d := Direction{Sent: sent, Received: received, Duplicates: in.Duplicates, Reordered: in.Reordered}
	if sent > 0 {
		d.LossPct = pct(sent-min(received, sent), sent)
		if in.FirstSeq > 0 && sent >= in.FirstSeq {
			after := sent - in.FirstSeq + 1
			d.LossAfterFirstPct = pct(after-min(received, after), after)
		}
	}
	return d
}

func pct(a, b uint32) float64 { return math.Round(float64(a)/float64(b)*10000) / 100 }

// facts gathers both directions of both paths for ps. Called with n.mu held.
func (n *Node) facts(ps *peerState) peerFacts {
	f := peerFacts{acked: ps.acked, hsErr: ps.hsErr, local: n.route, ttl: n.cfg.TTL, maxLoss: n.cfg.MaxLoss}
	var theirs Stats
	if ps.stats != nil {
		theirs, f.remote, f.remoteKnown = *ps.stats, ps.stats.Route, true
	}
	f.outUni = direction(ps.sentUni, theirs.In[Unicast], theirs.In[Unicast].Received)
	f.outMc = direction(n.sentMc[Multicast], theirs.In[Multicast], theirs.In[Multicast].Received)
	f.outEx = direction(n.sentMc[Explicit], theirs.In[Explicit], theirs.In[Explicit].Received)
	if t := n.senders[ps.id]; t != nil && ps.id != 0 {
		f.inUni = direction(theirs.Sent[Unicast], t[Unicast].in, t[Unicast].countUpTo(theirs.Sent[Unicast]))
		f.inMc = direction(theirs.Sent[Multicast], t[Multicast].in, t[Multicast].countUpTo(theirs.Sent[Multicast]))
		if ttl := int(t[Unicast].in.TTL); ttl > 0 {
			f.uniHops = unicastTTL - ttl
		}
	} else {
		f.inUni = direction(theirs.Sent[Unicast], Inbound{}, 0)
		f.inMc = direction(theirs.Sent[Multicast], Inbound{}, 0)
	}
	return f
}

// result builds the reported PeerResult. Called with n.mu held.
func (n *Node) result(ps *peerState) PeerResult {
	f := n.facts(ps)
	verdict, reason := decide(f, n.cfg.Port)
	r := PeerResult{Peer: ps.Name, Address: ps.Addr.String(), Verdict: verdict, Reason: reason}
	t := n.senders[ps.id]
	for _, pr := range []struct {
		out  *PathResult
		path Path
		dir  Direction
		in   Direction
		ttl0 int
	}{{&r.Unicast, Unicast, f.outUni, f.inUni, unicastTTL}, {&r.Multicast, Multicast, f.outMc, f.inMc, n.cfg.TTL}} {
		*pr.out = PathResult{Direction: pr.dir, RTT: rttStats(ps.replies[pr.path].rtt), Inbound: pr.in}
		if t != nil && ps.id != 0 && t[pr.path].in.TTL > 0 {
			pr.out.TTL = int(t[pr.path].in.TTL)
			pr.out.Hops = pr.ttl0 - pr.out.TTL
		}
	}
	if f.outEx.Sent > 0 {
		ex := f.outEx
		r.Multicast.Explicit = &ex
	}
	return r
}

// decide turns the facts into a verdict and a reason that says why.
func decide(f peerFacts, port int) (string, string) {
	if !f.acked {
		switch {
		case errors.Is(f.hsErr, unix.EHOSTUNREACH) || errors.Is(f.hsErr, unix.ENETUNREACH):
			return VerdictUnreachable, fmt.Sprintf("unicast to the peer fails: %v", errors.Unwrap(f.hsErr))
		case errors.Is(f.hsErr, unix.ECONNREFUSED):
			return VerdictNotRunning, fmt.Sprintf("the host answers but nothing listens on udp/%d: start clusterdoctor mcast-test (or agent) there", port)
		}
		return VerdictNotRunning, fmt.Sprintf("no answer on udp/%d: clusterdoctor is not running there, or a firewall drops udp/%d", port, port)
	}
	if f.outUni.Sent > 0 && f.outUni.Received == 0 && f.inUni.Received == 0 {
		return VerdictUnreachable, "the handshake worked but no unicast request got through afterwards"
	}
	outOK, inOK := f.outMc.Received > 0, f.inMc.Received > 0 || f.inMc.Sent == 0
	if !outOK || !inOK {
		why := multicastWhy(f)
		switch {
		case !outOK && !inOK && f.uniHops >= f.ttl && f.uniHops > 0:
			hops := "hops"
			if f.uniHops == 1 {
				hops = "hop"
			}
			return VerdictTTLTooLow, fmt.Sprintf("the peer is %d %s away and multicast is sent with TTL %d: raise McastService ttl (and --ttl)", f.uniHops, hops, f.ttl)
		case !outOK && !inOK:
			return VerdictMulticastBlocked, why
		case !outOK:
			return VerdictOneWay, "multicast from here does not reach the peer; the other way works: " + why
		default:
			return VerdictOneWay, "multicast from the peer does not arrive here; the other way works: " + why
		}
	}
	worst := max(f.outUni.LossPct, f.inUni.LossPct, f.outMc.LossAfterFirstPct, f.inMc.LossAfterFirstPct)
	if worst > f.maxLoss {
		return VerdictLossy, fmt.Sprintf("%.1f%% loss (limit %.1f%%): unicast out %.1f%% in %.1f%%, multicast out %.1f%% in %.1f%% after the first packet",
			worst, f.maxLoss, f.outUni.LossPct, f.inUni.LossPct, f.outMc.LossAfterFirstPct, f.inMc.LossAfterFirstPct)
	}
	return VerdictOK, "unicast and multicast work both ways"
}

// multicastWhy names the host and the cause: a route on either side, else the network.
func multicastWhy(f peerFacts) string {
	switch {
	case f.local.Code != RouteOK:
		s := "route: here " + f.local.String()
		if f.outEx.Sent > 0 && f.outEx.Received > 0 {
			s += fmt.Sprintf("; with the interface set explicitly %d of %d arrived, so the route is at fault", f.outEx.Received, f.outEx.Sent)
		}
		return s + " (clusterdoctor preflight shows the fix)"
	case f.remoteKnown && f.remote.Code != RouteOK:
		return "route: on the peer " + f.remote.String() + " (run clusterdoctor preflight there)"
	case f.outEx.Sent > 0 && f.outEx.Received > 0:
		return fmt.Sprintf("route: with the interface set explicitly %d of %d arrived; the kernel's route for the group is at fault", f.outEx.Received, f.outEx.Sent)
	}
	return "network: unicast works but multicast is dropped on the way (a firewall on either host, the switch, IGMP snooping without a querier)"
}

func rttStats(ds []time.Duration) RTTStats {
	if len(ds) == 0 {
		return RTTStats{}
	}
	ms := make([]float64, len(ds))
	var sum float64
	for i, d := range ds {
		ms[i] = float64(d) / float64(time.Millisecond)
		sum += ms[i]
	}
	sort.Float64s(ms)
	avg := sum / float64(len(ms))
	var sq float64
	for _, v := range ms {
		sq += (v - avg) * (v - avg)
	}
	idx := int(math.Ceil(0.99*float64(len(ms)))) - 1
	r3 := func(v float64) float64 { return math.Round(v*1000) / 1000 }
	return RTTStats{Min: r3(ms[0]), Avg: r3(avg), Max: r3(ms[len(ms)-1]), Stddev: r3(math.Sqrt(sq / float64(len(ms)))), P99: r3(ms[max(0, idx)])}
}
