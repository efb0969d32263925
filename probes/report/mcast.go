package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
)

// MeshJSON writes an mcast-test report as one JSON document.
func MeshJSON(w io.Writer, rep *mcast.Report) error { return indentedJSON(w, rep) }

// MeshText writes one row per peer (both directions of both paths, the TCP receiver
// path, the network delay and the clock), then each peer's reason and problems, then a
// verdict line:
//
//	PEER  ADDRESS    VERDICT  UNICAST out/in  MULTICAST out/in  TCP out/in  DELAY ms uni/mc  CLOCK ms  MC TTL/HOPS
//	was2  10.0.0.12  ok       30/30 30/30     30/30 30/30       open/open   0.04/0.05        +0.1      1/0
func MeshText(w io.Writer, rep *mcast.Report, opt Options) error {
	switch rep.Mode {
	case "send":
		return sendText(w, rep)
	case "listen":
		return listenText(w, rep)
	}
	bw := bufio.NewWriter(w)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tADDRESS\tVERDICT\tUNICAST out/in\tMULTICAST out/in\tTCP out/in\tDELAY ms uni/mc\tCLOCK ms\tMC TTL/HOPS")
	for _, p := range rep.Peers {
		u, m := p.Unicast, p.Multicast
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s %s\t%s\t%s/%s\t%s\t%s\n", p.Peer, p.Address, paintVerdict(p.Verdict, opt),
			frac(u.Received, u.Sent), inbound(u.Inbound), frac(m.Received, m.Sent), inbound(m.Inbound),
			tcpCell(p.TCP), ms(u.Delay.Avg), ms(m.Delay.Avg), clockCell(p.Clock), ttlHops(m))
	}
	tw.Flush()
	fmt.Fprintln(bw)
	for _, p := range rep.Peers {
		fmt.Fprintf(bw, "%s: %s: %s\n", p.Peer, p.Verdict, p.Reason)
		for _, pr := range p.Problems {
			fmt.Fprintf(bw, "%s: problem: %s\n", p.Peer, pr)
		}
		for _, d := range p.Differences {
			if !d.Breaks {
				fmt.Fprintf(bw, "%s: differs: %s: here %s, there %s: %s\n", p.Peer, d.What, d.Here, d.There, d.Why)
			}
		}
	}
	for _, s := range rep.Self {
		fmt.Fprintf(bw, "%s: this host, skipped\n", s)
	}
	if rep.Foreign > 0 {
		fmt.Fprintf(bw, "%d foreign datagrams on udp/%d were counted and ignored (Tomcat heartbeats, other tools, junk)\n", rep.Foreign, rep.Port)
	}
	if c := rep.Counts; c.Unproven+c.Replayed+c.Limited > 0 {
		fmt.Fprintf(bw, "unanswered requests: %d unproven, %d repeated, %d over the rate limits\n", c.Unproven, c.Replayed, c.Limited)
	}
	ok := 0
	for _, p := range rep.Peers {
		if p.Verdict == mcast.VerdictOK && len(p.Problems) == 0 {
			ok++
		}
	}
	fmt.Fprintf(bw, "\n%d of %d peers ok (group %s:%d, ttl %d, host %s, %d ms)\n", ok, len(rep.Peers), rep.Group, rep.Port, rep.TTL, rep.Host, rep.DurationMs)
	return bw.Flush()
}

// inbound is the peer's requests to us, or "-" when it sends none (an agent).
func inbound(d mcast.Direction) string {
	if d.NotTested {
		return "-"
	}
	return frac(d.Received, d.Sent)
}

func tcpCell(t *mcast.TCPResult) string {
	if t == nil {
		return "-"
	}
	out, in := string(t.Outcome), string(t.Inbound)
	if out == "" {
		out = "-"
	}
	if in == "" {
		in = "-"
	}
	return out + "/" + in
}

func clockCell(c *mcast.ClockResult) string {
	if c == nil {
		return "-"
	}
	if math.Abs(c.OffsetMs) < 0.05 {
		return "0.0" // no "-0.0" for an offset that rounds to nothing
	}
	return fmt.Sprintf("%+.1f", c.OffsetMs)
}

func frac(a, b uint32) string { return fmt.Sprintf("%d/%d", a, b) }

// ms shows an average RTT, or "-" when no reply came back to measure it.
func ms(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func ttlHops(p mcast.PathResult) string {
	if p.TTL == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", p.TTL, p.Hops)
}

func paintVerdict(v string, opt Options) string {
	if !opt.Color {
		return v
	}
	c := "\x1b[31m"
	if v == mcast.VerdictOK {
		c = "\x1b[32m"
	}
	return c + v + reset
}

func sendText(w io.Writer, rep *mcast.Report) error {
	s := rep.Send
	_, err := fmt.Fprintf(w, "sent %d packets of %d bytes to %s:%d (ttl %d) in %d ms: %.0f packets/s, %d send errors\n",
		s.Sent, s.Size, rep.Group, rep.Port, rep.TTL, s.DurationMs, s.RatePPS, s.Errors)
	return err
}

func listenText(w io.Writer, rep *mcast.Report) error {
	bw := bufio.NewWriter(w)
	if len(rep.Senders) == 0 {
		fmt.Fprintf(bw, "nothing from a clusterdoctor sender arrived on %s:%d (%d foreign datagrams); here %s\n", rep.Group, rep.Port, rep.Foreign, rep.Route)
		return bw.Flush()
	}
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SENDER\tRECEIVED\tLOST\tLOSS %\tDUPS\tREORDERED\tJITTER ms\tTTL")
	for _, s := range rep.Senders {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%d\t%d\t%.3f\t%d\n", s.Sender, s.Received, s.Lost, s.LossPct, s.Duplicates, s.Reordered, s.JitterMs, s.TTL)
	}
	tw.Flush()
	fmt.Fprintf(bw, "\n%d senders heard on %s:%d (host %s, %d ms, %d foreign datagrams ignored)\n", len(rep.Senders), rep.Group, rep.Port, rep.Host, rep.DurationMs, rep.Foreign)
	return bw.Flush()
}
