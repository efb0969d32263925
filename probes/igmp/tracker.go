package igmp

import (
	"net/netip"
	"slices"
	"sync"
	"time"
)

// MaxQueriers is how many queriers a Tracker keeps by default: a LAN has one querier
// and a few candidates; what is beyond that is forged, and costs no more memory.
const MaxQueriers = 256

// Querier is what was heard of one querier's general queries.
type Querier struct {
	Addr    netip.Addr `json:"address"`
	Version int        `json:"version"`
	First   time.Time  `json:"firstSeen"`
	Last    time.Time  `json:"lastSeen"`
	Queries int        `json:"queries"`
	// Interval is the querier's query interval: announced (IGMPv3 QQIC), else measured
	// from the spacing of its last two queries, else 0 (one IGMPv1/v2 query heard).
	Interval time.Duration `json:"intervalNs"`
	// Measured says Interval is the spacing of queries, not the querier's own word.
	Measured   bool          `json:"measured,omitempty"`
	MaxResp    time.Duration `json:"maxRespNs"`
	Robustness int           `json:"robustness"`
}

// PresentFor is how long the querier may stay silent before the others on its LAN take
// it for gone: RFC 3376's Other Querier Present Interval, robustness × interval + half
// the response time, the interval assumed to be 125 s where it is not known.
func (q Querier) PresentFor() time.Duration {
	interval, rv := q.Interval, q.Robustness
	if interval <= 0 {
		interval = DefaultQueryInterval
	}
	if rv <= 0 {
		rv = DefaultRobustness
	}
	return time.Duration(rv)*interval + q.MaxResp/2
}

// Quiet reports whether the querier has been silent for longer than its interval allows.
func (q Querier) Quiet(now time.Time) bool { return now.Sub(q.Last) > q.PresentFor() }

// Tracker keeps the queriers heard on one interface, at most Max of them: state bounded
// by configuration, never by what arrives. When full, the querier heard least recently
// makes way, so a querier that keeps asking is never the one dropped.
type Tracker struct {
	Max int

	mu      sync.Mutex
	byAddr  map[netip.Addr]*Querier
	dropped uint64
}

// NewTracker returns a tracker of at most max queriers (0: MaxQueriers).
func NewTracker(max int) *Tracker {
	if max <= 0 {
		max = MaxQueriers
	}
	return &Tracker{Max: max, byAddr: map[netip.Addr]*Querier{}}
}

// Heard records a packet heard at time at. Only general queries count: a group-specific
// query answers a leave and says nothing of the querier's schedule.
func (t *Tracker) Heard(p Packet, at time.Time) {
	if !p.General() || !p.Src.IsValid() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.byAddr[p.Src]
	if q == nil {
		if len(t.byAddr) >= t.Max {
			t.evict()
		}
		q = &Querier{Addr: p.Src, First: at}
		t.byAddr[p.Src] = q
	} else if p.QQI == 0 && at.After(q.Last) {
		q.Interval, q.Measured = at.Sub(q.Last), true
	}
	q.Version, q.Last, q.MaxResp = p.Version, at, p.MaxResp
	q.Queries++
	q.Robustness = p.QRV
	if p.QQI > 0 {
		q.Interval, q.Measured = p.QQI, false
	}
}

// evict drops the querier heard least recently. Called with t.mu held.
func (t *Tracker) evict() {
	var oldest *Querier
	for _, q := range t.byAddr {
		if oldest == nil || q.Last.Before(oldest.Last) {
			oldest = q
		}
	}
	delete(t.byAddr, oldest.Addr)
	t.dropped++
}

// Queriers returns a copy of what is known, by address (the lowest is the elected one
// among those still present).
func (t *Tracker) Queriers() []Querier {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Querier, 0, len(t.byAddr))
	for _, q := range t.byAddr {
		out = append(out, *q)
	}
	slices.SortFunc(out, func(a, b Querier) int { return a.Addr.Compare(b.Addr) })
	return out
}

// Dropped is how many queriers were let go to keep within Max.
func (t *Tracker) Dropped() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dropped
}

// Elected is the querier in charge at now: of those not quiet, the lowest address (RFC
// 3376 section 6.6.2). ok is false when every querier heard has gone quiet, or none was.
func Elected(qs []Querier, now time.Time) (q Querier, ok bool) {
	for _, c := range qs {
		if !c.Quiet(now) && (!ok || c.Addr.Less(q.Addr)) {
			q, ok = c, true
		}
	}
	return q, ok
}
