package agent

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/members"
	"github.com/clusterdoctor/clusterdoctor/probes/tomcat"
)

// maxWatchedMembers bounds the members whose comings and goings the agent remembers: a
// cluster has a handful, and forged heartbeats must not grow the agent.
const maxWatchedMembers = 256

// memberWatch remembers, run after run, whether each member tomcat.members saw was up,
// so that a member that vanishes and comes back between two looks at a dashboard is still
// seen after the fact: in the journal (`journalctl -t clusterdoctor CLUSTERDOCTOR_EVENT=member-gone`)
// and as clusterdoctor_tomcat_member_changes_total.
type memberWatch struct {
	up      map[string]bool
	changes map[string]*memberChanges
}

type memberChanges struct {
	address string
	port    int
	count   float64
	last    time.Time
}

var descMemberChanges = prometheus.NewDesc("clusterdoctor_tomcat_member_changes_total",
	"Times a Tomcat member appeared or vanished between two runs of tomcat.members.", []string{"address", "port"}, nil)

// observe compares one run's member states with the last run's and logs each change.
// Called with the agent's lock held.
func (w *memberWatch) observe(rep *probes.Report, at time.Time, log *slog.Logger) {
	var states []members.State
	for _, r := range rep.Checks {
		if r.ID == "tomcat.members" {
			states, _ = r.Evidence[tomcat.MemberStates].([]members.State)
		}
	}
	if w.up == nil {
		w.up, w.changes = map[string]bool{}, map[string]*memberChanges{}
	}
	for _, s := range states {
		key := fmt.Sprintf("%s:%d", s.Address, s.Port)
		was, known := w.up[key]
		if !known && len(w.up) >= maxWatchedMembers {
			continue
		}
		w.up[key] = s.Up
		if !known && s.Up || known && was == s.Up {
			continue // first seen up, or unchanged
		}
		c := w.changes[key]
		if c == nil {
			c = &memberChanges{address: s.Address, port: s.Port}
			w.changes[key] = c
		}
		c.count++
		c.last = at
		if s.Up {
			log.Warn("member came back", "event", "member-back", "member", key)
		} else {
			log.Warn("member vanished", "event", "member-gone", "member", key, "heartbeat_age_s", s.AgeSeconds)
		}
	}
}

func (w *memberWatch) collect(ch chan<- prometheus.Metric) {
	for _, c := range w.changes {
		ch <- prometheus.MustNewConstMetric(descMemberChanges, prometheus.CounterValue, c.count, c.address, fmt.Sprint(c.port))
	}
}
