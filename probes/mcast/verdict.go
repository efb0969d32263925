package mcast

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes/reach"
)

// Verdicts, stable API.
const (
	VerdictOK               = "ok"
	VerdictNotRunning       = "peer-not-running"
	VerdictUnreachable      = "unreachable"
	VerdictRejected         = "rejected"
	VerdictDropped          = "dropped"
	VerdictAuthFailed       = "auth-failed"
	VerdictMulticastBlocked = "multicast-blocked"
	VerdictOneWay           = "one-way"
	VerdictLossy            = "lossy"
	VerdictTTLTooLow        = "ttl-too-low"
	VerdictTCPBlocked       = "tcp-blocked"
	// VerdictMulticastStopped: multicast worked, then stopped while unicast went on
	// (IGMP snooping that forgot the group's members).
	VerdictMulticastStopped = "multicast-stopped"
)

// PeerResult is the outcome for one peer (the JSON "peers" entries).
type PeerResult struct {
	Peer    string `json:"peer"`
	Address string `json:"address"`
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	// Role is what answered there: "mcast-test", or "agent" (it answers but sends
	// nothing of its own, so the direction from it is not tested); empty: nothing did.
	Role      string     `json:"role,omitempty"`
	Unicast   PathResult `json:"unicast"`
	Multicast PathResult `json:"multicast"`
	// TCP is the path to the peer's replication receiver, both ways.
	TCP *TCPResult `json:"tcp,omitempty"`
	// ICMP is the last ICMP error the kernel reported about our packets to the peer.
	ICMP *ICMPResult `json:"icmp,omitempty"`
	// Clock is the peer's clock against ours, from the echo timestamps.
	Clock *ClockResult `json:"clock,omitempty"`
	// Settings is the peer's settings summary; Differences what differs from ours.
	Settings    *Info        `json:"settings,omitempty"`
	Differences []Difference `json:"differences,omitempty"`
	// Problems are what is wrong beside the paths: a clock too far off, settings that
	// break clustering.
	Problems []string `json:"problems,omitempty"`
}

// ICMPResult is an ICMP error as the kernel reported it (IP_RECVERR).
type ICMPResult struct {
	Type int    `json:"type"`
	Code int    `json:"code"`
	From string `json:"from"`
	Text string `json:"text"`
}

// PathResult is one path to and from a peer. The top-level counts are our requests to
// the peer (sent by us, received by it); Inbound is the peer's requests to us. TTL and
// Hops are what we saw on the peer's packets.
type PathResult struct {
	Direction          // our requests: sent by us, received by the peer
	RTT       RTTStats `json:"rttMs"`
	// Delay is the round trip without the time the peer held the request (its receive
	// and send timestamps): the network's share, comparable with ping's.
	Delay   RTTStats  `json:"delayMs"`
	TTL     int       `json:"ttl"`
	Hops    int       `json:"hops"`
	Inbound Direction `json:"inbound"`
	// Explicit is the diagnosis pass with the interface set, when one ran.
	Explicit *Direction `json:"explicit,omitempty"`
	// Stopped: the path worked, then stopped while unicast went on.
	Stopped *StopResult `json:"stopped,omitempty"`
}

// Direction is the counts of one direction of a path.
type Direction struct {
	Sent              uint32  `json:"sent"`
	Received          uint32  `json:"received"`
	LossPct           float64 `json:"lossPct"`
	LossAfterFirstPct float64 `json:"lossAfterFirstPct"`
	Duplicates        uint32  `json:"duplicates"`
	Reordered         uint32  `json:"reordered"`
	// NotTested: nothing was sent this way (the peer is an agent).
	NotTested bool `json:"notTested,omitempty"`
}

// RTTStats are times in milliseconds.
type RTTStats struct {
	Min    float64 `json:"min"`
	Avg    float64 `json:"avg"`
	Max    float64 `json:"max"`
	Stddev float64 `json:"stddev"`
	P99    float64 `json:"p99"`
}

// peerFacts are the numbers a verdict is decided on.
type peerFacts struct {
	acked, responder     bool
	hsErr                error
	icmp                 *icmpReport
	auth                 uint8
	keyed                bool
	outUni, outMc, outEx Direction
	inUni, inMc          Direction
	local, remote        RouteState
	remoteKnown          bool
	uniHops, ttl         int
	maxLoss              float64
	tcp                  *reach.Result
	tcpPort              int
	tcpOwner             uint8
	peerTCP              reach.Outcome // the peer's attempt to our port, as it said
	ourPort              int
	extra                extraFacts
	peer                 netip.Addr
	stop                 *StopResult
}

// extraFacts are learnt from the kernel after the run: why a silent peer is silent.
type extraFacts struct {
	blocked   string // this host's firewall keeps udp/port from the peer out
	arpFailed bool
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
	f := peerFacts{acked: ps.acked, responder: ps.responder, hsErr: ps.hsErr, icmp: ps.icmp, auth: ps.auth,
		keyed: len(n.cfg.Key) > 0, local: n.route, ttl: n.cfg.TTL, maxLoss: n.cfg.MaxLoss, tcp: ps.tcp,
		tcpPort: ps.tcpPort, tcpOwner: ps.tcpOwner, ourPort: n.tcpPort, peer: ps.Addr}
	var theirs Stats
	if ps.stats != nil {
		theirs, f.remote, f.remoteKnown = *ps.stats, ps.stats.Route, true
		f.peerTCP = tcpOutcome(ps.stats.TCP)
	}
	f.outUni = direction(ps.sentUni, theirs.In[Unicast], theirs.In[Unicast].Received)
	f.outMc = direction(n.sentMc[Multicast], theirs.In[Multicast], theirs.In[Multicast].Received)
	f.outEx = direction(n.sentMc[Explicit], theirs.In[Explicit], theirs.In[Explicit].Received)
	if st, ok := n.senders.Peek(ps.id); ok && ps.id != 0 {
		f.inUni = direction(theirs.Sent[Unicast], st.paths[Unicast].in, st.paths[Unicast].countUpTo(theirs.Sent[Unicast]))
		f.inMc = direction(theirs.Sent[Multicast], st.paths[Multicast].in, st.paths[Multicast].countUpTo(theirs.Sent[Multicast]))
		if ttl := int(st.paths[Unicast].in.TTL); ttl > 0 {
			f.uniHops = unicastTTL - ttl
		}
	} else {
		f.inUni = direction(theirs.Sent[Unicast], Inbound{}, 0)
		f.inMc = direction(theirs.Sent[Multicast], Inbound{}, 0)
	}
	if ps.responder {
		f.inUni.NotTested, f.inMc.NotTested = true, true
	}
	st, _ := n.senders.Peek(ps.id)
	if ps.id == 0 {
		st = nil
	}
	f.stop = n.stopped(ps, st)
	return f
}

// result builds the reported PeerResult. Called with n.mu held.
func (n *Node) result(ps *peerState, extra extraFacts) PeerResult {
	f := n.facts(ps)
	f.extra = extra
	verdict, reason := decide(f, n.cfg.Port)
	r := PeerResult{Peer: ps.Name, Address: ps.Addr.String(), Verdict: verdict, Reason: reason}
	if ps.acked {
		r.Role = "mcast-test"
		if ps.responder {
			r.Role = "agent"
		}
	}
	st, _ := n.senders.Peek(ps.id)
	for _, pr := range []struct {
		out  *PathResult
		path Path
		dir  Direction
		in   Direction
		ttl0 int
	}{{&r.Unicast, Unicast, f.outUni, f.inUni, unicastTTL}, {&r.Multicast, Multicast, f.outMc, f.inMc, n.cfg.TTL}} {
		log := &ps.replies[pr.path]
		*pr.out = PathResult{Direction: pr.dir, RTT: rttStats(log.rtt), Delay: rttStats(log.delay), Inbound: pr.in}
		if st != nil && ps.id != 0 && st.paths[pr.path].in.TTL > 0 {
			pr.out.TTL = int(st.paths[pr.path].in.TTL)
			pr.out.Hops = pr.ttl0 - pr.out.TTL
		}
	}
	if f.outEx.Sent > 0 {
		ex := f.outEx
		r.Multicast.Explicit = &ex
	}
	r.Multicast.Stopped = f.stop
	if ps.tcpPort > 0 || f.peerTCP != "" {
		t := &TCPResult{Port: ps.tcpPort, Owner: ownerName(ps.tcpOwner), Inbound: f.peerTCP}
		if ps.tcp != nil {
			t.Outcome, t.Reason = ps.tcp.Outcome, ps.tcp.Text()
		}
		r.TCP = t
	}
	if m := ps.icmp; m != nil {
		r.ICMP = &ICMPResult{Type: int(m.Type), Code: int(m.Code), From: m.From.String(), Text: icmpWords(m)}
	}
	r.Clock = clockOf(&ps.replies[Unicast], n.cfg.MaxSkew)
	if r.Clock.Skewed() {
		r.Problems = append(r.Problems, fmt.Sprintf("the peer's clock is %s off this host's (±%s; limit %s): session expiry and logs disagree between the nodes (clusterdoctor preflight's ntp.sync shows why)",
			fmtMs(r.Clock.OffsetMs), fmtMs(r.Clock.ErrorMs), fmtMs(r.Clock.MaxSkewMs)))
	}
	if ps.info != nil {
		in := *ps.info
		r.Settings = &in
		r.Differences = Compare(n.cfg.Info, in)
		for _, d := range r.Differences {
			if d.Breaks {
				r.Problems = append(r.Problems, fmt.Sprintf("%s: here %s, there %s: %s", d.What, d.Here, d.There, d.Why))
			}
		}
	}
	return r
}

func fmtMs(ms float64) string {
	return time.Duration(ms * float64(time.Millisecond)).Round(time.Microsecond).String()
}

// decide turns the facts into a verdict and a reason that says why.
func decide(f peerFacts, port int) (string, string) {
	if !f.acked {
		return decideSilent(f, port)
	}
	if f.outUni.Sent > 0 && f.outUni.Received == 0 && f.inUni.Received == 0 && !f.responder {
		why := "the handshake worked but no unicast request got through afterwards"
		if f.icmp != nil {
			why += ": " + icmpWords(f.icmp)
		}
		return VerdictUnreachable, why
	}
	if v, why := decideMute(f); v != "" {
		return v, why
	}
	outOK, inOK := f.outMc.Received > 0, f.responder || f.inMc.Received > 0 || f.inMc.Sent == 0
	if !outOK || !inOK {
		why := multicastWhy(f, !inOK)
		switch {
		case !outOK && !inOK && f.uniHops >= f.ttl && f.uniHops > 0:
			hops := "hops"
			if f.uniHops == 1 {
				hops = "hop"
			}
			return VerdictTTLTooLow, fmt.Sprintf("the peer is %d %s away and multicast is sent with TTL %d: raise McastService ttl (and --ttl)", f.uniHops, hops, f.ttl)
		case !outOK && !inOK:
			return VerdictMulticastBlocked, why
		case !outOK && f.responder:
			return VerdictMulticastBlocked, "multicast from here does not reach the peer (an agent: the other way is not tested): " + why
		case !outOK:
			return VerdictOneWay, "multicast from here does not reach the peer; the other way works: " + why
		default:
			return VerdictOneWay, "multicast from the peer does not arrive here; the other way works: " + why
		}
	}
	if f.stop != nil {
		return VerdictMulticastStopped, f.stop.Cause
	}
	worst := max(f.outUni.LossPct, f.outMc.LossAfterFirstPct)
	if !f.responder {
		worst = max(worst, f.inUni.LossPct, f.inMc.LossAfterFirstPct)
	}
	if worst > f.maxLoss {
		return VerdictLossy, fmt.Sprintf("%.1f%% loss (limit %.1f%%): unicast out %.1f%% in %.1f%%, multicast out %.1f%% in %.1f%% after the first packet",
			worst, f.maxLoss, f.outUni.LossPct, f.inUni.LossPct, f.outMc.LossAfterFirstPct, f.inMc.LossAfterFirstPct)
	}
	if v, why := decideTCP(f); v != "" {
		return v, why
	}
	switch {
	case f.responder:
		return VerdictOK, "unicast and multicast to the peer work; it is an agent and sends nothing of its own, so the direction from it was not tested (run mcast-test there for that)"
	case f.remoteKnown && f.inUni.Sent == 0 && f.inMc.Sent == 0:
		return VerdictOK, "unicast and multicast to the peer work; it sent nothing to this host, so the direction from it was not tested"
	case f.tcp != nil:
		return VerdictOK, "unicast and multicast work both ways, and TCP to the peer's receiver"
	}
	return VerdictOK, "unicast and multicast work both ways"
}

// decideSilent: the peer never completed the handshake. Why, from what the kernel said.
func decideSilent(f peerFacts, port int) (string, string) {
	if f.auth != 0 {
		switch {
		case f.auth == authUnkeyed:
			return VerdictAuthFailed, "the peer runs without a key and this run has one: give both the same --key-file (or neither)"
		case f.keyed:
			return VerdictAuthFailed, "the peer has another key: give both the same --key-file"
		}
		return VerdictAuthFailed, "the peer requires a key: run with the cluster's --key-file"
	}
	if m := f.icmp; m != nil {
		words := icmpWords(m)
		switch {
		case m.Origin == unix.SO_EE_ORIGIN_ICMP && m.Type == 3 && m.Code == 3:
			return VerdictNotRunning, fmt.Sprintf("port unreachable (%s): nothing listens on udp/%d there; start clusterdoctor mcast-test (or agent) there, or its firewall rejects with port-unreachable", words, port)
		case m.Origin == unix.SO_EE_ORIGIN_ICMP && m.Type == 3 && (m.Code == 9 || m.Code == 10 || m.Code == 13):
			return VerdictRejected, fmt.Sprintf("rejected by a firewall on %s (%s): open udp/%d there (firewall-cmd --add-port=%d/udp)", m.From, words, port, port)
		}
		return VerdictUnreachable, words
	}
	switch {
	case errors.Is(f.hsErr, unix.ENETUNREACH):
		return VerdictUnreachable, "unreachable: no route to it from here"
	case errors.Is(f.hsErr, unix.EHOSTUNREACH) || f.extra.arpFailed:
		return VerdictUnreachable, "unreachable: no answer to ARP on the local network (the host is down or the address is wrong)"
	case errors.Is(f.hsErr, unix.ECONNREFUSED):
		return VerdictNotRunning, fmt.Sprintf("the host answers but nothing listens on udp/%d: start clusterdoctor mcast-test (or agent) there", port)
	}
	why := fmt.Sprintf("silently dropped: no answer at all on udp/%d, not even an ICMP error (a firewall drops it on the way or there, or clusterdoctor is not running there)", port)
	if f.extra.blocked != "" {
		why += "; and this host's own firewall keeps the peer's packets out: " + f.extra.blocked
	}
	return VerdictDropped, why
}

// decideMute: a peer running mcast-test answered this host but sent it nothing of its own,
// so its requests never arrived (its report says it gave up on this host). When this
// host's firewall keeps them out, that is the cause: the replies to this host's own
// requests pass only as conntrack's established traffic.
func decideMute(f peerFacts) (string, string) {
	if f.responder || !f.remoteKnown || f.inUni.Sent > 0 || f.inMc.Sent > 0 || f.outMc.Received == 0 {
		return "", ""
	}
	if f.extra.blocked != "" {
		return VerdictOneWay, "the peer answers this host, but its own packets never arrive here: this host's firewall keeps them out: " +
			f.extra.blocked + " (the answers pass only as replies to this host's requests)"
	}
	return "", ""
}

// decideTCP: replication needs TCP to each other's receivers as much as multicast.
func decideTCP(f peerFacts) (string, string) {
	if f.tcp != nil && f.tcp.Outcome != reach.Open {
		who := "clusterdoctor's stand-in on the receiver range"
		if f.tcpOwner == ownerTomcat {
			who = "its Tomcat's receiver"
		}
		return VerdictTCPBlocked, fmt.Sprintf("multicast works but TCP to %s:%d (%s) is %s: Tomcat cannot send it sessions (open the receiver range/tcp there)",
			f.peer, f.tcpPort, who, f.tcp.Text())
	}
	if f.peerTCP != "" && f.peerTCP != reach.Open {
		return VerdictTCPBlocked, fmt.Sprintf("the peer's TCP to this host's receiver port %d was %s: it cannot send this host sessions (open the receiver range/tcp here)",
			f.ourPort, f.peerTCP)
	}
	return "", ""
}

// icmpWords says what an error queued by the kernel means.
func icmpWords(m *icmpReport) string {
	if m.Origin == unix.SO_EE_ORIGIN_ICMP {
		words := (&reach.ICMP{Type: int(m.Type), Code: int(m.Code), From: m.From}).Name()
		return fmt.Sprintf("%s reports %s", m.From, words)
	}
	switch m.Errno {
	case syscall.EHOSTUNREACH:
		return "no answer to ARP on the local network (the host is down or the address is wrong)"
	case syscall.ENETUNREACH:
		return "no route to it from here"
	}
	return m.Errno.Error()
}

// multicastWhy names the host and the cause: a route on either side, this host's
// firewall for what does not arrive here, else the network.
func multicastWhy(f peerFacts, inboundMissing bool) string {
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
	case inboundMissing && f.extra.blocked != "":
		return "this host's firewall keeps it out: " + f.extra.blocked
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
