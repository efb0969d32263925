package mcast

import "time"

// Report is one mcast-test run, the JSON document of `mcast-test -o json`.
type Report struct {
	SchemaVersion int       `json:"schemaVersion"`
	Tool          string    `json:"tool"`
	Mode          string    `json:"mode"` // mesh, listen or send
	Host          string    `json:"host"`
	Group         string    `json:"group"`
	Port          int       `json:"port"`
	TTL           int       `json:"ttl"`
	StartedAt     time.Time `json:"startedAt"`
	DurationMs    int64     `json:"durationMs"`
	// Route is this host's own multicast route as the kernel sees it.
	Route string `json:"route"`
	// Foreign counts datagrams on the port that were not this run's (Tomcat heartbeats,
	// junk, forged or unauthenticated packets): counted and ignored.
	Foreign uint64 `json:"foreign"`
	// Counts are every request this host left unanswered, by reason.
	Counts Counts `json:"counts"`
	// TCPPort is the port this host announced for its peers' TCP test, and Owner whose
	// it is ("tomcat": its running receiver; "clusterdoctor": a stand-in listener).
	TCPPort  int          `json:"tcpPort,omitempty"`
	TCPOwner string       `json:"tcpOwner,omitempty"`
	Peers    []PeerResult `json:"peers"`
	// Self are the --peer names that are this host (the same list is given on every
	// host), skipped, with how that was known.
	Self []string `json:"self,omitempty"`
	// Send is the --send mode's result; Senders the --listen mode's, one per sender seen.
	Send    *SendReport    `json:"send,omitempty"`
	Senders []SenderReport `json:"senders,omitempty"`
}

// OK is the exit code 0 condition: in mesh mode every peer ok and without problems; with --send everything
// sent; with --listen some sender heard, each within maxLoss.
func (r *Report) OK(maxLoss float64) bool {
	switch r.Mode {
	case "send":
		return r.Send != nil && r.Send.Sent > 0 && r.Send.Errors == 0
	case "listen":
		for _, s := range r.Senders {
			if s.LossPct > maxLoss {
				return false
			}
		}
		return len(r.Senders) > 0
	}
	for _, p := range r.Peers {
		if p.Verdict != VerdictOK || len(p.Problems) > 0 {
			return false
		}
	}
	return len(r.Peers) > 0
}

// RouteString is this node's route state in words, for the report.
func (n *Node) RouteString() string { return n.route.String() }
