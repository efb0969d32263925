package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/members"
)

// MembersJSON writes a members report as one JSON document.
func MembersJSON(w io.Writer, rep *members.Report) error { return indentedJSON(w, rep) }

// MembersText writes one row per member, then each member's problems, then a verdict:
//
//	MEMBER          STATUS   ALIVE    INTERVAL ms  LOSS %  SOURCE     TTL  HEARD AS     RECEIVER
//	10.0.0.11:4000  ok       2h13m5s  500.2±1.1    0.0     10.0.0.11  1    route,iface  open
func MembersText(w io.Writer, rep *members.Report, opt Options) error {
	bw := bufio.NewWriter(w)
	if rep.Membership != "" {
		fmt.Fprintf(bw, "%s membership: Tomcat sends no heartbeats; the members it contacts, tried from here:\n", rep.Membership)
		for _, c := range rep.Contacted {
			fmt.Fprintf(bw, "  %s\n", c)
		}
		fmt.Fprintf(bw, "\n%s\n", rep.Summary)
		return bw.Flush()
	}
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tSTATUS\tALIVE\tINTERVAL ms\tLOSS %\tSOURCE\tTTL\tHEARD AS\tRECEIVER")
	for _, m := range rep.Members {
		name := fmt.Sprintf("%s:%d", m.Address, m.Port)
		if m.Self {
			name += " (this host)"
		}
		recv := m.Receiver
		if recv == "" {
			recv = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f±%.1f\t%.1f\t%s\t%d\t%s\t%s\n", name, paintVerdict(m.Status, opt),
			(time.Duration(m.AliveMs) * time.Millisecond).Round(time.Second), m.IntervalMs, m.JitterMs, m.LossPct,
			m.Source, m.TTL, strings.Join(m.HeardAs, ","), recv)
	}
	tw.Flush()
	fmt.Fprintln(bw)
	for _, m := range rep.Members {
		for _, p := range m.Problems {
			fmt.Fprintf(bw, "%s:%d: %s\n", m.Address, m.Port, p)
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(bw, "this host: %s\n", p)
	}
	if rep.Foreign > 0 {
		fmt.Fprintf(bw, "%d datagrams on udp/%d were not heartbeats (counted, not trusted)\n", rep.Foreign, rep.Port)
	}
	ok := 0
	for _, m := range rep.Members {
		if m.Status == members.StatusOK {
			ok++
		}
	}
	fmt.Fprintf(bw, "\n%d of %d members ok (group %s:%d, %d ms)\n", ok, len(rep.Members), rep.Group, rep.Port, rep.DurationMs)
	return bw.Flush()
}
