package members

import (
	"fmt"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/reach"
)

// snooped names the members whose heartbeats stopped while their receiver still accepts
// TCP: their Tomcat runs, and only the multicast stopped reaching this host, what IGMP
// snooping does when a switch forgets the group's members. With the IGMP seen while
// listening, it says when this host last reported and when the last query came.
func (r *Report) snooped(cfg Config, joined time.Time) {
	for i := range r.Members {
		m := &r.Members[i]
		if m.silentSince.IsZero() || m.Receiver != string(reach.Open) {
			continue
		}
		at := m.silentSince
		why := fmt.Sprintf("its heartbeats stopped %s after this host joined the group while its receiver %s still accepts TCP: its Tomcat runs and the multicast stopped, as a snooping switch or bridge does when it forgets the group's members (IGMP snooping)",
			at.Sub(joined).Round(100*time.Millisecond), m.receiver)
		if rec := cfg.IGMP; rec != nil {
			q, rep := rec.Before(at)
			if !rep.At.IsZero() {
				why += fmt.Sprintf("; %s after this host's last membership report", at.Sub(rep.At).Round(100*time.Millisecond))
			}
			if q.At.IsZero() {
				why += "; no IGMP query was heard while listening, so nothing asked the members to report again"
			} else {
				why += fmt.Sprintf("; %s after the last query heard, from %s", at.Sub(q.At).Round(100*time.Millisecond), q.Src)
			}
		}
		why += " (clusterdoctor preflight's igmp.querier and igmp.snooping)"
		// It replaces the plain "silent past dropTime": that is what the others see, this is why.
		for j, p := range m.Problems {
			if strings.HasPrefix(p, "silent ") {
				m.Problems[j] = why
			}
		}
	}
}
