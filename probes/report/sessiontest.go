package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/clusterdoctor/clusterdoctor/probes/replication"
)

// SessionTestJSON writes a session-test report as one JSON document.
func SessionTestJSON(w io.Writer, rep *replication.Report) error { return indentedJSON(w, rep) }

// SessionTestText writes one row per direction, one per member's stickiness, the reasons,
// then a verdict:
//
//	FROM     TO       VERDICT     SEEN ms  TRIES  SESSION            MADE
//	tomcat1  tomcat2  replicated  4.1      1      6A1F03B2….tomcat1  balancer
func SessionTestText(w io.Writer, rep *replication.Report, opt Options) error {
	bw := bufio.NewWriter(w)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FROM\tTO\tVERDICT\tSEEN ms\tTRIES\tSESSION\tMADE")
	for _, p := range rep.Pairs {
		seen := "-"
		if p.Verdict == replication.Replicated {
			seen = fmt.Sprintf("%.1f", p.SeenMs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", p.From, p.To, paintGood(p.Verdict, replication.Replicated, opt), seen, p.Attempts, dash(p.Session), dash(p.MadeVia))
	}
	tw.Flush()
	fmt.Fprintln(bw)
	fmt.Fprintln(tw, "MEMBER\tADDRESS\tJVMROUTE\tSTICKY\tLANDED")
	for i, m := range rep.Members {
		st := replication.Stickiness{Verdict: replication.NotTested}
		if i < len(rep.Stickiness) {
			st = rep.Stickiness[i]
		}
		addr := m.Scheme + "://" + m.Address
		if m.Container != "" {
			addr += " (" + m.Container + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Name, addr, dash(m.JvmRoute), paintGood(st.Verdict, replication.Sticky, opt), dash(strings.Join(st.Landed, ", ")))
	}
	tw.Flush()
	fmt.Fprintln(bw)
	var reasons []string
	for _, p := range rep.Pairs {
		if p.Reason != "" {
			reasons = append(reasons, fmt.Sprintf("%s > %s: %s: %s", p.From, p.To, p.Verdict, p.Reason))
		}
	}
	for _, s := range rep.Stickiness {
		if s.Verdict == replication.NotSticky {
			reasons = append(reasons, fmt.Sprintf("%s: %s: %s", s.Member, s.Verdict, s.Reason))
		}
	}
	for _, p := range rep.Problems {
		reasons = append(reasons, "problem: "+p)
	}
	for i := 0; i < len(rep.Untested); {
		j, dirs := i, []string{}
		for ; j < len(rep.Untested) && rep.Untested[j].Reason == rep.Untested[i].Reason; j++ {
			dirs = append(dirs, rep.Untested[j].From+" > "+rep.Untested[j].To)
		}
		reasons = append(reasons, fmt.Sprintf("not tested: %s: %s", strings.Join(dirs, ", "), rep.Untested[i].Reason))
		i = j
	}
	if len(reasons) > 0 {
		fmt.Fprintf(bw, "%s\n\n", strings.Join(reasons, "\n"))
	}
	ok := 0
	for _, p := range rep.Pairs {
		if p.Verdict == replication.Replicated {
			ok++
		}
	}
	sticky := "sessions stick to their node"
	for _, s := range rep.Stickiness {
		if s.Verdict == replication.NotSticky {
			sticky = "sessions do not stick"
		}
	}
	fmt.Fprintf(bw, "%d of %d directions replicate, %s (%s, %d requests, %d ms)\n", ok, len(rep.Pairs), sticky, rep.URL, rep.Requests, rep.DurationMs)
	return bw.Flush()
}

func paintGood(v, good string, opt Options) string {
	if !opt.Color {
		return v
	}
	c := "\x1b[31m"
	switch v {
	case good:
		c = "\x1b[32m"
	case replication.NotTested:
		c = "\x1b[33m"
	}
	return c + v + reset
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
