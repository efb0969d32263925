package mcast

import (
	"fmt"
	"time"
)

// StopResult is a multicast path that worked and then stopped while unicast went on: what
// IGMP snooping does when a switch or bridge forgets the group's members. The times are
// from this host's join of the group, and before the stop, from the last IGMP this host
// sent and heard (when it could watch: root, a known interface).
type StopResult struct {
	// Direction is the way that stopped: "to the peer" or "from the peer" (the earlier).
	Direction      string `json:"direction"`
	AfterJoinMs    int64  `json:"afterJoinMs"`
	UnicastUntilMs int64  `json:"unicastUntilMs"`
	// AfterReportMs: from this host's last membership report of the group (its join's,
	// or its answer to a query); -1 when none was seen.
	AfterReportMs int64 `json:"afterReportMs"`
	// AfterQueryMs: from the last query heard on the interface; -1 when none was.
	AfterQueryMs int64  `json:"afterQueryMs"`
	Querier      string `json:"querier,omitempty"`
	// Unanswered: a query came after the last report and this host did not answer it
	// (its firewall dropped it): the time from the join.
	UnansweredMs int64  `json:"unansweredMs,omitempty"`
	Cause        string `json:"cause"`
}

// stopGap is how long multicast must stay silent while unicast goes on to count as
// stopped, not lost: a few rounds, and never under 2 s.
func stopGap(interval time.Duration) time.Duration { return max(2*time.Second, 3*interval) }

// stoppedAt is when multicast stopped one way while unicast went on the same way (zero:
// it did not): by the replies to our requests (out), or by the peer's requests (in).
func stoppedAt(mc, uni time.Time, interval time.Duration) time.Time {
	if mc.IsZero() || uni.Sub(mc) < stopGap(interval) {
		return time.Time{}
	}
	return mc
}

// stopped finds a multicast path to or from ps that stopped while unicast went on, and
// says what IGMP shows of it. Called with n.mu held.
func (n *Node) stopped(ps *peerState, st *senderState) *StopResult {
	if n.joined.IsZero() {
		return nil
	}
	out := stoppedAt(ps.replies[Multicast].last, ps.replies[Unicast].last, n.cfg.Interval)
	var in time.Time
	if st != nil {
		in = stoppedAt(st.paths[Multicast].last, st.paths[Unicast].last, n.cfg.Interval)
	}
	mc, uni, way := out, ps.replies[Unicast].last, "to the peer"
	if !in.IsZero() && (mc.IsZero() || in.Before(mc)) {
		mc, uni, way = in, st.paths[Unicast].last, "from the peer"
	}
	if mc.IsZero() {
		return nil
	}
	s := &StopResult{Direction: way, AfterJoinMs: mc.Sub(n.joined).Milliseconds(), UnicastUntilMs: uni.Sub(n.joined).Milliseconds(), AfterReportMs: -1, AfterQueryMs: -1}
	cause := fmt.Sprintf("multicast %s worked for %s after this host joined the group, then stopped while unicast went on for %s more: a snooping switch or bridge forgot the group's members (IGMP snooping)",
		way, round(mc.Sub(n.joined)), round(uni.Sub(mc)))
	if r := n.cfg.IGMP; r != nil {
		q, rep := r.Before(mc)
		if !rep.At.IsZero() {
			s.AfterReportMs = mc.Sub(rep.At).Milliseconds()
			cause += fmt.Sprintf("; %s after this host's last membership report", round(mc.Sub(rep.At)))
		}
		if q.At.IsZero() {
			cause += "; no IGMP query was heard during the test, so nothing asked the members to report again (a querier that went quiet before it, or none)"
		} else {
			s.AfterQueryMs, s.Querier = mc.Sub(q.At).Milliseconds(), q.Src.String()
			cause += fmt.Sprintf("; %s after the last query heard, from %s (IGMPv%d), which then went quiet", round(mc.Sub(q.At)), q.Src, q.Version)
		}
		if u, ok := r.Unanswered(maxTime(rep.At, n.joined)); ok {
			s.UnansweredMs = u.At.Sub(n.joined).Milliseconds()
			cause += fmt.Sprintf("; a query from %s came %s after the join and this host did not answer it: its firewall drops IGMP (preflight's firewall.igmp)", u.Src, round(u.At.Sub(n.joined)))
		}
	}
	s.Cause = cause
	return s
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }
