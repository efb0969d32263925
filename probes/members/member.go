package members

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/tribes"
)

// Member statuses.
const (
	StatusOK      = "ok"
	StatusProblem = "problem"
	StatusGone    = "gone" // a shutdown packet, or silent for dropTime at the end
)

// Report is the members command's JSON document.
type Report struct {
	SchemaVersion int      `json:"schemaVersion"`
	Tool          string   `json:"tool"`
	Mode          string   `json:"mode"`
	Group         string   `json:"group"`
	Port          int      `json:"port"`
	Iface         string   `json:"iface,omitempty"`
	DurationMs    int64    `json:"durationMs"`
	Members       []Member `json:"members"`
	// Foreign counts datagrams on the port that are not heartbeats (never trusted);
	// Overflow the heartbeats of members beyond the tracking bound.
	Foreign  uint64 `json:"foreign"`
	Overflow uint64 `json:"overflow,omitempty"`
	// Problems are this host's: a join that failed, its own Tomcat not heard.
	Problems []string `json:"problems,omitempty"`
	// Membership is set where this host's Tomcat finds its members without heartbeats
	// ("static", "cloud"): nothing is listened to, and Contacted are the members Tomcat
	// contacts, each with how its receiver answered from here (tomcat.membership's
	// evidence); Summary is that check's own.
	Membership string   `json:"membership,omitempty"`
	Contacted  []string `json:"contacted,omitempty"`
	Summary    string   `json:"summary,omitempty"`
}

// WithoutHeartbeats is the report for a membership that sends no heartbeats: the
// members Tomcat contacts instead, as the membership check found them.
func WithoutHeartbeats(cfg Config, membership string, contacted []string, summary string, ok bool) *Report {
	r := &Report{SchemaVersion: 1, Tool: "clusterdoctor", Mode: "members", Group: cfg.Group.String(), Port: cfg.Port, Iface: cfg.Iface,
		Membership: membership, Contacted: contacted, Summary: summary}
	if !ok {
		r.Problems = append(r.Problems, summary)
	}
	return r
}

// Member is one Tribes member as its heartbeats describe it.
type Member struct {
	Address    string `json:"address"`
	Port       int    `json:"port"`
	SecurePort int    `json:"securePort"`
	UDPPort    int    `json:"udpPort"`
	Domain     string `json:"domain"`
	UniqueID   string `json:"uniqueId"`
	AliveMs    int64  `json:"aliveMs"`
	StartedAt  string `json:"startedAt"`
	Heard      int    `json:"heard"`
	// LastHeardMs is how long before the end of listening its last heartbeat came.
	LastHeardMs int64   `json:"lastHeardMs"`
	IntervalMs  float64 `json:"intervalMs"`
	JitterMs    float64 `json:"jitterMs"`
	LossPct     float64 `json:"lossPct"`
	Source      string  `json:"source"`
	TTL         int     `json:"ttl"`
	// HeardAs says which sockets heard it: "route" (joined as Tomcat joins), "iface"
	// (joined on the cluster interface explicitly), or both.
	HeardAs    []string `json:"heardAs"`
	ShutdownAt string   `json:"shutdownAt,omitempty"`
	// Receiver is how a TCP connection to the advertised receiver ended.
	Receiver string   `json:"receiver,omitempty"`
	Self     bool     `json:"self,omitempty"`
	Status   string   `json:"status"`
	Problems []string `json:"problems"`

	receiver netip.AddrPort
	// silentSince is its last heartbeat's arrival, when it went silent without a
	// shutdown packet (zero otherwise).
	silentSince time.Time
}

// arrival is one datagram and how it came.
type arrival struct {
	from     netip.Addr
	ttl      int
	explicit bool // on the socket joined on the cluster interface
	onIface  bool // arrived through the cluster interface
	at       time.Time
}

// state is what is kept per member: fixed size, whatever the member sends.
type state struct {
	last          tribes.Heartbeat
	source        netip.Addr
	sources       int // how many different source addresses sent this member's heartbeats
	ttl           int
	first, latest time.Time
	heard         int
	sum, sumSq    float64 // of the intervals between heartbeats, in ms
	prevAt        time.Time
	route, iface  bool
	shutdownAt    time.Time
}

// collector gathers heartbeats from the sockets, bounded by cfg.MaxMembers.
type collector struct {
	cfg   Config
	start time.Time
	mu    sync.Mutex
	byID  map[string]*state
	order []string
	rep   Report
}

func newCollector(cfg Config, start time.Time) *collector {
	return &collector{cfg: cfg, start: start, byID: map[string]*state{},
		rep: Report{SchemaVersion: 1, Tool: "clusterdoctor", Mode: "members", Group: cfg.Group.String(), Port: cfg.Port, Iface: cfg.Iface}}
}

func (c *collector) hostProblem(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rep.Problems = append(c.rep.Problems, p)
}

// add records one datagram: a heartbeat of a known or new member, or foreign.
func (c *collector) add(b []byte, a arrival) {
	h, err := tribes.Decode(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.rep.Foreign++
		return
	}
	id := h.ID()
	st := c.byID[id]
	if st == nil {
		if len(c.byID) >= c.cfg.MaxMembers {
			c.rep.Overflow++
			return
		}
		st = &state{first: a.at, source: a.from, sources: 1}
		c.byID[id] = st
		c.order = append(c.order, id)
	}
	if a.explicit {
		st.iface = true
	} else {
		st.route = true
	}
	if h.Shutdown() {
		st.shutdownAt = a.at
	}
	if a.from != st.source {
		st.sources++
		st.source = a.from
	}
	// Both sockets may hear the same datagram: count it once, by its alive time.
	if st.heard > 0 && h.AliveMs == st.last.AliveMs {
		return
	}
	if st.heard > 0 && !h.Shutdown() {
		d := float64(a.at.Sub(st.prevAt)) / float64(time.Millisecond)
		st.sum += d
		st.sumSq += d * d
	}
	st.prevAt, st.latest, st.last, st.ttl = a.at, a.at, h, a.ttl
	st.heard++
}

// report turns the states into members, ordered by address.
func (c *collector) report(end time.Time) *Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	rep := c.rep
	rep.DurationMs = end.Sub(c.start).Milliseconds()
	rep.Members = []Member{}
	for _, id := range c.order {
		st := c.byID[id]
		h := st.last
		m := Member{Address: h.Addr().String(), Port: int(h.Port), SecurePort: int(h.SecurePort), UDPPort: int(h.UDPPort),
			Domain: string(h.Domain), UniqueID: id, AliveMs: h.AliveMs, Heard: st.heard, Source: st.source.String(), TTL: st.ttl,
			Status: StatusOK, Problems: []string{}, LastHeardMs: end.Sub(st.latest).Milliseconds()}
		m.StartedAt = st.latest.Add(-time.Duration(h.AliveMs) * time.Millisecond).UTC().Format(time.RFC3339Nano)
		if a := h.Addr(); !a.IsValid() {
			m.Address = fmt.Sprintf("%x", h.Host) // as sent: not 4 or 16 bytes
		} else if h.Port > 0 && h.Port < 65536 {
			m.receiver = netip.AddrPortFrom(a, uint16(h.Port))
		}
		// This host's own member: it advertises one of our addresses, or its heartbeats
		// come from one (a Tomcat here advertising 127.0.1.1 is still this host's).
		m.Self = slices.Contains(c.cfg.Local, h.Addr()) || slices.Contains(c.cfg.Local, st.source)
		if st.route {
			m.HeardAs = append(m.HeardAs, "route")
		}
		if st.iface {
			m.HeardAs = append(m.HeardAs, "iface")
		}
		if n := st.heard - 1; n > 0 {
			mean := st.sum / float64(n)
			m.IntervalMs = round(mean)
			m.JitterMs = round(math.Sqrt(max(0, st.sumSq/float64(n)-mean*mean)))
		}
		last := end
		if !st.shutdownAt.IsZero() {
			last = st.shutdownAt
			m.ShutdownAt = st.shutdownAt.UTC().Format(time.RFC3339Nano)
		}
		if span := last.Sub(st.first); span >= c.cfg.Frequency {
			expected := math.Floor(float64(span)/float64(c.cfg.Frequency)) + 1
			m.LossPct = round(max(0, (1-float64(st.heard)/expected)*100))
		}
		switch {
		case !st.shutdownAt.IsZero():
			m.Status = StatusGone
			m.Problems = append(m.Problems, "sent its shutdown packet (BABY-ALEX): this Tomcat stopped")
		case end.Sub(st.latest) >= c.cfg.DropTime:
			m.Status = StatusGone
			m.silentSince = st.latest
			m.Problems = append(m.Problems, fmt.Sprintf("silent for %s, past dropTime %s: the other members have dropped it", end.Sub(st.latest).Round(time.Millisecond), c.cfg.DropTime))
		}
		if st.sources > 1 {
			m.Problems = append(m.Problems, "its heartbeats came from more than one source address (two hosts share its uniqueId, or it moved)")
		}
		rep.Members = append(rep.Members, m)
	}
	sort.SliceStable(rep.Members, func(i, j int) bool {
		return rep.Members[i].Address < rep.Members[j].Address || (rep.Members[i].Address == rep.Members[j].Address && rep.Members[i].Port < rep.Members[j].Port)
	})
	return &rep
}

// finish names the problems that need every member, or this host, to see.
func (r *Report) finish(cfg Config) {
	byReceiver := map[netip.AddrPort]int{}
	domains := map[string]int{}
	for _, m := range r.Members {
		if m.Status != StatusGone {
			byReceiver[m.receiver]++
			domains[m.Domain]++
		}
	}
	common := ""
	for d, n := range domains {
		if n > domains[common] || (n == domains[common] && d < common) {
			common = d
		}
	}
	selfHeard := false
	for i := range r.Members {
		m := &r.Members[i]
		a, _ := netip.ParseAddr(m.Address)
		switch {
		case !a.IsValid() || m.Port <= 0 || m.Port > 65535:
			m.Problems = append(m.Problems, fmt.Sprintf("advertises no usable receiver (%s port %d): no peer can connect to it", m.Address, m.Port))
		case a.IsLoopback():
			m.Problems = append(m.Problems, fmt.Sprintf("advertises loopback %s: every peer connects to itself instead (the host name maps to a 127.x address; see hosts.hostname)", a))
		case len(cfg.Subnets) > 0 && !slices.ContainsFunc(cfg.Subnets, func(p netip.Prefix) bool { return p.Contains(a) }):
			m.Problems = append(m.Problems, fmt.Sprintf("advertises %s, outside the cluster subnet %s", a, prefixes(cfg.Subnets)))
		}
		if src, err := netip.ParseAddr(m.Source); err == nil && a.IsValid() && !a.IsLoopback() && src != a {
			m.Problems = append(m.Problems, fmt.Sprintf("its heartbeats come from %s but advertise %s: peers will connect to the advertised one", src, a))
		}
		if m.Status != StatusGone && byReceiver[m.receiver] > 1 {
			m.Problems = append(m.Problems, fmt.Sprintf("%d members advertise the same receiver %s: replication goes to one of them", byReceiver[m.receiver], m.receiver))
		}
		if m.Status != StatusGone && len(domains) > 1 && m.Domain != common {
			m.Problems = append(m.Problems, fmt.Sprintf("membership domain %q, not %q as the others: Tomcat ignores members of another domain", m.Domain, common))
		}
		if !slices.Contains(m.HeardAs, "route") && slices.Contains(m.HeardAs, "iface") {
			m.Problems = append(m.Problems, fmt.Sprintf("heard only with the interface %s set: the kernel's route for %s leads elsewhere, so Tomcat here does not hear it (clusterdoctor fix route)", cfg.Iface, cfg.Group))
		}
		if m.Self && slices.Contains(m.HeardAs, "iface") {
			selfHeard = true
		}
		if m.Status == StatusOK && len(m.Problems) > 0 {
			m.Status = StatusProblem
		}
	}
	if cfg.ExpectSelf && !selfHeard && cfg.Iface != "" {
		r.Problems = append(r.Problems, fmt.Sprintf("this host's own Tomcat is not heard on %s: its heartbeats leave by another interface (the route for %s) or it is not running", cfg.Iface, cfg.Group))
	}
}

// OK reports whether every member is ok and this host has no problem.
func (r *Report) OK() bool {
	if len(r.Problems) > 0 {
		return false
	}
	for _, m := range r.Members {
		if m.Status != StatusOK {
			return false
		}
	}
	return true
}

func prefixes(ps []netip.Prefix) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ", "
		}
		s += p.String()
	}
	return s
}

func round(v float64) float64 { return math.Round(v*10) / 10 }

// State is a member as a metric sees it: the agent exports one per member heard or
// expected (clusterdoctor_tomcat_member_up, _heartbeat_age_seconds).
type State struct {
	Address    string  `json:"address"`
	Port       int     `json:"port"`
	Up         bool    `json:"up"`
	AgeSeconds float64 `json:"ageSeconds"` // since its last heartbeat; -1 when never heard
}
