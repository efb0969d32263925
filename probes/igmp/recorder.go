package igmp

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// maxEvents bounds a Recorder: a long watch of minutes sees a few queries and reports a
// minute; a flood of forged ones keeps only the latest.
const maxEvents = 4096

// Recorder keeps the IGMP a long test sees on its interface (the queries heard, this
// host's own reports), so that a multicast path that stopped can be put against them:
// "stopped 10 s after this host's last report, 25 s after the last query".
type Recorder struct {
	mu     sync.Mutex
	events []Event
	group  netip.Addr
}

// Record captures on iface until ctx ends, keeping queries and the reports that name
// group (a v3 report names it in a record). The capture is open when it returns.
func Record(ctx context.Context, iface string, group netip.Addr) (*Recorder, error) {
	c, err := Open(iface)
	if err != nil {
		return nil, err
	}
	r := &Recorder{group: group}
	go func() {
		defer c.Close()
		c.Run(ctx, r.add)
	}()
	return r, nil
}

func (r *Recorder) add(e Event) {
	if e.Type != TypeQuery && !(e.Out && r.names(e.Packet)) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == maxEvents {
		r.events = append(r.events[:0], r.events[1:]...)
	}
	r.events = append(r.events, e)
}

// names reports whether a report is about the recorder's group.
func (r *Recorder) names(p Packet) bool {
	if !p.Report() {
		return false
	}
	if p.Group == r.group {
		return true
	}
	for _, g := range p.Groups {
		if g == r.group {
			return true
		}
	}
	return false
}

// Before is what was seen up to t: the last query heard (a general one, or one about the
// group) and this host's last report of the group. Zero values: none.
func (r *Recorder) Before(t time.Time) (query, report Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.At.After(t) {
			break
		}
		switch {
		case e.Out && e.Report():
			report = e
		case !e.Out && e.Type == TypeQuery && (e.General() || e.Group == r.group):
			query = e
		}
	}
	return query, report
}

// Unanswered is the first query heard after t that this host did not answer within its
// response time (its firewall dropped it, or the query came on an address the kernel
// refuses), if any.
func (r *Recorder) Unanswered(after time.Time) (Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, e := range r.events {
		if e.Out || e.Type != TypeQuery || !e.At.After(after) || !(e.General() || e.Group == r.group) {
			continue
		}
		answered := false
		for _, f := range r.events[i+1:] {
			if f.At.Sub(e.At) > e.MaxResp+time.Second {
				break
			}
			if f.Out && f.Report() {
				answered = true
				break
			}
		}
		if !answered && time.Since(e.At) > e.MaxResp+time.Second {
			return e, true
		}
	}
	return Event{}, false
}
